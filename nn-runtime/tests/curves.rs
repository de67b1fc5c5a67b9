//! Training curves: rounded ticks, 1-based epoch labels, lines inside the
//! plot area, the legend outside it, and the same picture as SVG and PNG.

use nn_runtime::report::curves::{figure, save, svg, tick_step, ticks};
use nn_runtime::report::figure::Item;
use nn_runtime::train::history::{History, Logs};

fn history(epochs: usize) -> History {
    let mut h = History::default();
    for e in 0..epochs {
        let mut logs = Logs::default();
        logs.set("loss", 2.0 / (e as f64 + 1.0));
        logs.set("accuracy", 0.5 + 0.04 * e as f64);
        logs.set("val_loss", 2.2 / (e as f64 + 1.0) + 0.1);
        logs.set("val_accuracy", 0.45 + 0.04 * e as f64);
        logs.set("learning_rate", 1e-3 * 0.5f64.powi(e as i32));
        h.epochs.push(logs);
    }
    h
}

#[test]
fn ticks_are_one_two_or_five_times_a_power_of_ten() {
    assert_eq!(tick_step(1.0, 5), 0.2);
    assert_eq!(tick_step(0.37, 5), 0.1);
    assert_eq!(tick_step(2.3, 5), 0.5);
    assert_eq!(tick_step(73.0, 10), 10.0);
    let (t, lo, hi) = ticks(0.13, 0.92, 5);
    assert_eq!((lo, hi), (0.0, 1.0));
    assert_eq!(t.len(), 6);
}

#[test]
fn the_svg_has_epoch_numbers_panels_and_the_legend_right_of_the_plot() {
    let h = history(12);
    let text = svg(&h);
    for panel in [">loss<", ">accuracy<", ">learning_rate<", ">val_loss<", ">epoch<"] {
        assert!(text.contains(panel), "{panel}");
    }
    // Epochs 1..12 with a tick step of 2: 1, 2, 4, ..., 12.
    for epoch in [">1<", ">2<", ">4<", ">12<"] {
        assert!(text.contains(epoch), "{epoch}");
    }
    let fig = figure(&h);
    // The plot areas are the stroked rectangles; every line point lies in
    // one, and every legend label starts right of its panel's area.
    let areas: Vec<(f64, f64, f64, f64)> = fig
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Rect {
                x,
                y,
                w,
                h,
                fill: None,
                ..
            } => Some((*x, *y, x + w, y + h)),
            _ => None,
        })
        .collect();
    assert_eq!(areas.len(), 3);
    let inside = |(x, y): (f64, f64)| {
        areas
            .iter()
            .any(|a| x >= a.0 - 0.01 && x <= a.2 + 0.01 && y >= a.1 - 0.01 && y <= a.3 + 0.01)
    };
    let mut lines = 0;
    for item in &fig.items {
        match item {
            Item::Polyline { points, .. } => {
                lines += 1;
                assert!(points.iter().all(|&p| inside(p)), "{points:?}");
            }
            Item::Text { at, text, .. } if text.starts_with("val_") => {
                assert!(
                    areas.iter().any(|a| at.0 > a.2 && at.1 >= a.1 && at.1 <= a.3),
                    "{text} at {at:?}"
                );
            }
            _ => {}
        }
    }
    assert_eq!(lines, 5, "loss, val_loss, accuracy, val_accuracy, learning_rate");
}

#[test]
fn the_png_shows_both_lines_and_save_writes_both_files() {
    let dir = std::env::temp_dir().join(format!("nn_curves_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let h = history(8);
    save(&h, &dir.join("curves")).unwrap();
    let png = image::open(dir.join("curves.png")).unwrap().into_rgb8();
    let fig = figure(&h);
    assert_eq!(
        (png.width() as usize, png.height() as usize),
        (fig.width, fig.height)
    );
    let count = |c: [u8; 3]| png.pixels().filter(|p| p.0 == c).count();
    assert!(count([31, 119, 180]) > 200, "training lines drawn");
    assert!(count([255, 127, 14]) > 200, "validation lines drawn");
    assert!(count([0, 0, 0]) > 500, "axes and text drawn");
    let svg_text = std::fs::read_to_string(dir.join("curves.svg")).unwrap();
    assert_eq!(svg_text, svg(&h));
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    std::fs::remove_dir_all(&dir).ok();
    // Small steps get enough digits to tell ticks apart.
    let mut tiny = History::default();
    for lr in [1.1e-3, 1.0e-3, 0.9e-3] {
        let mut logs = Logs::default();
        logs.set("learning_rate", lr);
        tiny.epochs.push(logs);
    }
    let text = svg(&tiny);
    for tick in [">9.00e-4<", ">9.50e-4<", ">1.00e-3<", ">1.05e-3<", ">1.10e-3<"] {
        assert!(text.contains(tick), "{tick}");
    }
    // One epoch and a NaN value still draw.
    let mut one = history(1);
    one.epochs[0].set("val_loss", f64::NAN);
    assert!(svg(&one).contains(">1<"));
}
