//! Keras's `model.summary()` table for a [`ModelSpec`].

use crate::spec::ModelSpec;

const WIDTHS: [usize; 4] = [31, 22, 10, 0];

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `(None, 64, 64, 16)`.
pub fn shape_text(shape: &[usize]) -> String {
    let mut s = String::from("(None");
    for d in shape {
        s.push_str(&format!(", {d}"));
    }
    s.push(')');
    s
}

fn row(cells: [&str; 4]) -> String {
    let mut line = String::new();
    for (cell, width) in cells.iter().zip(WIDTHS) {
        line.push_str(cell);
        if width > 0 {
            let pad = width.saturating_sub(cell.chars().count()).max(1);
            line.push_str(&" ".repeat(pad));
        }
    }
    line.trim_end().to_string()
}

/// The summary as Keras 2 prints it: one row per layer, `Connected to` with
/// `layer[node][tensor]` references, totals with thousands separators.
pub fn summary(spec: &ModelSpec) -> String {
    let width = 98;
    let mut out = format!("Model: \"{}\"\n", spec.name);
    out.push_str(&"_".repeat(width));
    out.push('\n');
    out.push_str(&row(["Layer (type)", "Output Shape", "Param #", "Connected to"]));
    out.push('\n');
    out.push_str(&"=".repeat(width));
    out.push('\n');
    // A network used as a layer is one row, where its first layer would be.
    let mut rows: Vec<(String, &[usize], usize, &[&str])> = Vec::new();
    for (i, layer) in spec.layers.iter().enumerate() {
        match spec.nested.iter().find(|n| n.layers.contains(&i)) {
            Some(nested) if nested.layers.first() == Some(&i) => rows.push((
                format!("{} ({})", nested.name, nested.kind),
                nested.output_shape,
                nested.params,
                nested.connected_to,
            )),
            Some(_) => {}
            None => rows.push((
                format!("{} ({})", layer.name, layer.kind),
                layer.output_shape,
                layer.params,
                layer.connected_to,
            )),
        }
    }
    for (i, (title, shape, params, connected_to)) in rows.iter().enumerate() {
        let shape = shape_text(shape);
        let params = thousands(*params);
        let first = connected_to.first().copied().unwrap_or("");
        out.push_str(&row([title, &shape, &params, first]));
        out.push('\n');
        for more in connected_to.iter().skip(1) {
            out.push_str(&row(["", "", "", more]));
            out.push('\n');
        }
        let rule = if i + 1 == rows.len() { "=" } else { "_" };
        out.push_str(&rule.repeat(width));
        out.push('\n');
    }
    out.push_str(&format!("Total params: {}\n", thousands(spec.total_count())));
    out.push_str(&format!(
        "Trainable params: {}\n",
        thousands(spec.trainable_count())
    ));
    out.push_str(&format!(
        "Non-trainable params: {}\n",
        thousands(spec.non_trainable_count())
    ));
    out.push_str(&"_".repeat(width));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(77382), "77,382");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
