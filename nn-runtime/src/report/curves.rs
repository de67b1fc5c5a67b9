//! Training curves as a self-contained SVG picture (no plotting dependency):
//! one panel per figure family (loss, accuracy), training and validation.

use crate::train::history::History;

const W: f64 = 420.0;
const H: f64 = 260.0;
const PAD: f64 = 40.0;

fn panel(out: &mut String, x0: f64, title: &str, series: &[(&str, Vec<f64>, &str)]) {
    let values: Vec<f64> = series
        .iter()
        .flat_map(|(_, v, _)| v.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    if values.is_empty() {
        return;
    }
    let (mut lo, mut hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    if (hi - lo).abs() < 1e-12 {
        lo -= 0.5;
        hi += 0.5;
    }
    let epochs = series.iter().map(|(_, v, _)| v.len()).max().unwrap_or(1).max(2);
    let sx = |i: usize| x0 + PAD + (W - 2.0 * PAD) * i as f64 / (epochs - 1) as f64;
    let sy = |v: f64| H - PAD - (H - 2.0 * PAD) * (v - lo) / (hi - lo);
    out.push_str(&format!(
        "<rect x=\"{x0}\" y=\"0\" width=\"{W}\" height=\"{H}\" fill=\"white\" stroke=\"#ccc\"/>\n\
         <text x=\"{}\" y=\"20\" font-size=\"14\" text-anchor=\"middle\">{title}</text>\n\
         <line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n\
         <line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{hi:.3}</text>\n\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{lo:.3}</text>\n\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">epoch</text>\n",
        x0 + W / 2.0,
        x0 + PAD,
        H - PAD,
        x0 + W - PAD,
        H - PAD,
        x0 + PAD,
        PAD,
        x0 + PAD,
        H - PAD,
        x0 + PAD - 4.0,
        PAD + 4.0,
        x0 + PAD - 4.0,
        H - PAD,
        x0 + W / 2.0,
        H - 10.0,
    ));
    for (k, (name, v, colour)) in series.iter().enumerate() {
        if v.is_empty() {
            continue;
        }
        let points: Vec<String> = v
            .iter()
            .enumerate()
            .filter(|(_, y)| y.is_finite())
            .map(|(i, &y)| format!("{:.1},{:.1}", sx(i), sy(y)))
            .collect();
        out.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\n\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{colour}\">{name}</text>\n",
            points.join(" "),
            x0 + W - PAD - 90.0,
            PAD + 14.0 * k as f64,
        ));
    }
}

/// An SVG with a loss panel and, when accuracy was recorded, an accuracy panel.
pub fn svg(history: &History) -> String {
    let has_accuracy = history.names().iter().any(|n| n.contains("accuracy"));
    let width = if has_accuracy { 2.0 * W } else { W };
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{H}\" font-family=\"sans-serif\">\n"
    );
    panel(
        &mut out,
        0.0,
        "loss",
        &[
            ("loss", history.series("loss"), "#1f77b4"),
            ("val_loss", history.series("val_loss"), "#ff7f0e"),
        ],
    );
    if has_accuracy {
        panel(
            &mut out,
            W,
            "accuracy",
            &[
                ("accuracy", history.series("accuracy"), "#1f77b4"),
                ("val_accuracy", history.series("val_accuracy"), "#ff7f0e"),
            ],
        );
    }
    out.push_str("</svg>\n");
    out
}
