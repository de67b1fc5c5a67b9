//! Training curves from a [`History`]: one panel per figure (`loss`,
//! `accuracy`, `auc`, `learning_rate`, ...) with training and validation
//! lines, axes with rounded ticks, epoch numbers from 1 as Keras prints
//! them, and the legend to the right of the plot area where it cannot cover
//! a line. Drawn as SVG and as PNG from one [`Figure`].

use std::path::Path;

use crate::model_error::NnError;
use crate::report::figure::{Anchor, Figure, Item, Rgb, BLACK, GREY, LIGHT_GREY};
use crate::train::history::History;

const PANEL_W: f64 = 520.0;
const PANEL_H: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 140.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 50.0;
const COLUMNS: usize = 2;
const TRAIN: Rgb = [31, 119, 180];
const VALIDATION: Rgb = [255, 127, 14];

/// A "nice" tick step (1, 2 or 5 times a power of ten) giving about
/// `target` intervals over `span`.
pub fn tick_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let unit = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|m| m * power >= raw)
        .unwrap_or(10.0);
    unit * power
}

/// Tick values covering `[lo, hi]` and the rounded range they span.
pub fn ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64, f64) {
    let step = tick_step(hi - lo, target);
    let (first, last) = ((lo / step).floor(), (hi / step).ceil());
    let ticks = (0..=(last - first) as usize)
        .map(|i| (first + i as f64) * step)
        .collect();
    (ticks, first * step, last * step)
}

/// A tick label with as many digits as the step needs to tell ticks apart
/// (`largest` is the largest tick's magnitude, so all labels match).
fn label(value: f64, step: f64, largest: f64) -> String {
    if step.abs() < 1e-4 || largest >= 1e6 {
        let magnitude = |v: f64| v.abs().log10().floor();
        let digits = (magnitude(largest.max(step)) - magnitude(step)).max(1.0) as usize;
        return format!("{value:.digits$e}");
    }
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{value:.decimals$}")
}

/// The panels: figure names without `val_`, in order of first appearance.
fn panel_names(history: &History) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in history.names() {
        let base = name.strip_prefix("val_").unwrap_or(&name).to_string();
        if !names.contains(&base) {
            names.push(base);
        }
    }
    names
}

fn panel(fig: &mut Figure, history: &History, name: &str, origin: (f64, f64)) {
    let (px, py) = origin;
    let (x0, x1) = (px + LEFT, px + PANEL_W - RIGHT);
    let (y0, y1) = (py + TOP, py + PANEL_H - BOTTOM);
    let series: Vec<(String, Vec<f64>, Rgb)> =
        [(name.to_string(), TRAIN), (format!("val_{name}"), VALIDATION)]
            .into_iter()
            .map(|(n, c)| {
                let values = history
                    .epochs
                    .iter()
                    .map(|l| l.get(&n).unwrap_or(f64::NAN))
                    .collect();
                (n, values, c)
            })
            .filter(|(n, _, _)| history.names().contains(n))
            .collect();
    let finite: Vec<f64> = series
        .iter()
        .flat_map(|(_, v, _)| v.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    let (mut lo, mut hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    if finite.is_empty() {
        (lo, hi) = (0.0, 1.0);
    } else if hi - lo < 1e-12 * hi.abs().max(1e-12) {
        let pad = (hi.abs() * 0.1).max(1e-6);
        (lo, hi) = (lo - pad, hi + pad);
    }
    let (y_ticks, lo, hi) = ticks(lo, hi, 5);
    let y_step = y_ticks.get(1).map_or(1.0, |t| t - y_ticks[0]);
    let largest = y_ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    let epochs = history.epochs.len().max(1);
    let sx = |epoch: usize| {
        if epochs == 1 {
            (x0 + x1) / 2.0
        } else {
            x0 + (x1 - x0) * (epoch - 1) as f64 / (epochs - 1) as f64
        }
    };
    let sy = |v: f64| y1 - (y1 - y0) * (v - lo) / (hi - lo);

    let text = |fig: &mut Figure, at: (f64, f64), s: String, anchor: Anchor| {
        fig.items.push(Item::Text {
            at,
            text: s,
            anchor,
            color: BLACK,
        })
    };
    text(
        fig,
        ((x0 + x1) / 2.0, py + TOP / 2.0),
        name.to_string(),
        Anchor::Middle,
    );
    // Grid and y ticks.
    for &t in &y_ticks {
        let y = sy(t);
        fig.items.push(Item::Line {
            from: (x0, y),
            to: (x1, y),
            color: LIGHT_GREY,
            width: 1.0,
        });
        fig.items.push(Item::Line {
            from: (x0 - 5.0, y),
            to: (x0, y),
            color: BLACK,
            width: 1.0,
        });
        text(fig, (x0 - 8.0, y), label(t, y_step, largest), Anchor::End);
    }
    // Epoch ticks, 1-based, thinned to at most about ten.
    let every = tick_step(epochs as f64, 10).max(1.0) as usize;
    for epoch in (1..=epochs).filter(|e| *e == 1 || e % every == 0) {
        let x = sx(epoch);
        fig.items.push(Item::Line {
            from: (x, y1),
            to: (x, y1 + 5.0),
            color: BLACK,
            width: 1.0,
        });
        text(fig, (x, y1 + 14.0), epoch.to_string(), Anchor::Middle);
    }
    text(fig, ((x0 + x1) / 2.0, y1 + 34.0), "epoch".into(), Anchor::Middle);
    fig.items.push(Item::Rect {
        x: x0,
        y: y0,
        w: x1 - x0,
        h: y1 - y0,
        fill: None,
        stroke: Some(GREY),
    });
    // Lines (breaking at non-finite values), then the legend outside.
    for (k, (n, values, color)) in series.iter().enumerate() {
        let mut run = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            if v.is_finite() {
                run.push((sx(i + 1), sy(v)));
            } else if !run.is_empty() {
                fig.items.push(Item::Polyline {
                    points: std::mem::take(&mut run),
                    color: *color,
                    width: 2.0,
                });
            }
        }
        if !run.is_empty() {
            fig.items.push(Item::Polyline {
                points: run,
                color: *color,
                width: 2.0,
            });
        }
        let ly = y0 + 10.0 + 20.0 * k as f64;
        fig.items.push(Item::Line {
            from: (x1 + 12.0, ly),
            to: (x1 + 32.0, ly),
            color: *color,
            width: 2.0,
        });
        text(fig, (x1 + 38.0, ly), n.clone(), Anchor::Start);
    }
}

/// The curves as a figure: panels in rows of two.
pub fn figure(history: &History) -> Figure {
    let names = panel_names(history);
    let columns = names.len().clamp(1, COLUMNS);
    let rows = names.len().div_ceil(COLUMNS).max(1);
    let mut fig = Figure::new(
        (PANEL_W * columns as f64) as usize,
        (PANEL_H * rows as f64) as usize,
    );
    for (i, name) in names.iter().enumerate() {
        let origin = (PANEL_W * (i % COLUMNS) as f64, PANEL_H * (i / COLUMNS) as f64);
        panel(&mut fig, history, name, origin);
    }
    fig
}

/// The curves as SVG text.
pub fn svg(history: &History) -> String {
    figure(history).svg()
}

/// Writes `<stem>.svg` and `<stem>.png`.
pub fn save(history: &History, stem: &Path) -> Result<(), NnError> {
    let fig = figure(history);
    fig.save_svg(&stem.with_extension("svg"))?;
    fig.save_png(&stem.with_extension("png"))
}
