//! A confusion matrix: how often each true class was predicted as each
//! class. Printable as a table and drawable as an SVG heat map.

use std::fmt;

use crate::model_error::NnError;
use crate::train::loss::Loss;
use crate::train::metric::argmax;

/// `counts[true_class * classes + predicted_class]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    pub class_names: Vec<String>,
    counts: Vec<u64>,
    /// Rows whose prediction (or one-hot target) held a NaN, never counted
    /// as any class.
    pub unpredictable: u64,
}

impl ConfusionMatrix {
    /// An empty matrix over these classes.
    pub fn new(class_names: Vec<String>) -> Self {
        let n = class_names.len();
        Self {
            class_names,
            counts: vec![0; n * n],
            unpredictable: 0,
        }
    }

    /// Classes named `0`, `1`, ...
    pub fn numbered(classes: usize) -> Self {
        Self::new((0..classes).map(|c| c.to_string()).collect())
    }

    pub fn classes(&self) -> usize {
        self.class_names.len()
    }

    /// How often true class `actual` was predicted as `predicted`: 0 for a
    /// class the matrix does not have, which no row can have been.
    pub fn count(&self, actual: usize, predicted: usize) -> u64 {
        let n = self.classes();
        if actual < n && predicted < n {
            self.counts[actual * n + predicted]
        } else {
            0
        }
    }

    /// Samples counted (excluding unpredictable ones).
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The diagonal's share of the total.
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.classes()).map(|c| self.count(c, c)).sum();
        correct as f64 / self.total().max(1) as f64
    }

    /// Adds a batch of predictions (rows of `width`) and targets as `loss`
    /// expects them. A single unit is a binary output: classes 0 and 1 at a
    /// threshold of 0.5.
    ///
    /// Fails, counting nothing, when the buffers are not whole rows of
    /// `width`, when `width` does not give this matrix's classes, or when a
    /// class index is not one.
    pub fn add(&mut self, loss: Loss, width: usize, pred: &[f32], target: &[f32]) -> Result<(), NnError> {
        let context = "ConfusionMatrix::add";
        let classes = if width == 1 { 2 } else { width };
        if width == 0 || classes != self.classes() {
            return Err(NnError::invalid_argument(
                context,
                format!(
                    "outputs of width {width} give {classes} classes, the matrix has {}",
                    self.classes()
                ),
            ));
        }
        let rows = pred.len() / width;
        if !pred.len().is_multiple_of(width) || target.len() != loss.target_len(rows, width) {
            return Err(NnError::invalid_argument(
                context,
                format!(
                    "{} predictions and {} targets are not whole rows of width {width} for {}",
                    pred.len(),
                    target.len(),
                    loss.name()
                ),
            ));
        }
        let class_index =
            |v: f32| (v >= 0.0 && v.fract() == 0.0 && (v as usize) < classes).then_some(v as usize);
        if loss == Loss::SparseCategoricalCrossentropy {
            if let Some(r) = target.iter().position(|&v| class_index(v).is_none()) {
                return Err(NnError::Label {
                    context: context.into(),
                    label: target[r] as f64,
                    sample: None,
                    classes,
                });
            }
        }
        for r in 0..rows {
            let row = &pred[r * width..(r + 1) * width];
            let predicted = if width == 1 {
                (!row[0].is_nan()).then_some((row[0] > 0.5) as usize)
            } else {
                argmax(row)
            };
            let actual = match loss {
                Loss::SparseCategoricalCrossentropy => class_index(target[r]),
                _ if width == 1 => (!target[r].is_nan()).then_some((target[r] > 0.5) as usize),
                _ => argmax(&target[r * width..(r + 1) * width]),
            };
            match (actual, predicted) {
                (Some(a), Some(p)) => self.counts[a * classes + p] += 1,
                _ => self.unpredictable += 1,
            }
        }
        Ok(())
    }

    /// A heat map: rows are true classes, columns predictions, each cell
    /// shaded by its share of the row and labelled with its count.
    pub fn svg(&self) -> String {
        let n = self.classes();
        let cell = 36.0;
        let label = 110.0;
        let size = label + cell * n as f64 + 20.0;
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{size}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
             <text x=\"{}\" y=\"14\" text-anchor=\"middle\">predicted</text>\n\
             <text x=\"12\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 12 {})\">true class</text>\n",
            size + 10.0,
            label + cell * n as f64 / 2.0,
            label + cell * n as f64 / 2.0,
            label + cell * n as f64 / 2.0,
        );
        for (c, name) in self.class_names.iter().enumerate() {
            let name = escape(name);
            let mid = label + cell * (c as f64 + 0.5);
            out.push_str(&format!(
                "<text x=\"{mid}\" y=\"{}\" text-anchor=\"start\" transform=\"rotate(-45 {mid} {})\">{name}</text>\n\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{name}</text>\n",
                label - 6.0,
                label - 6.0,
                label - 6.0,
                mid + 4.0
            ));
        }
        for a in 0..n {
            let row_total: u64 = (0..n).map(|p| self.count(a, p)).sum();
            for p in 0..n {
                let count = self.count(a, p);
                let share = count as f64 / row_total.max(1) as f64;
                let shade = (255.0 * (1.0 - share)).round() as u8;
                let (x, y) = (label + cell * p as f64, label + cell * a as f64);
                let ink = if share > 0.5 { "white" } else { "black" };
                out.push_str(&format!(
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{cell}\" height=\"{cell}\" fill=\"rgb({shade},{shade},255)\" stroke=\"#999\"/>\n\
                     <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{ink}\">{count}</text>\n",
                    x + cell / 2.0,
                    y + cell / 2.0 + 4.0
                ));
            }
        }
        out.push_str("</svg>\n");
        out
    }
}

const HEADER: &str = "true \\ pred";

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl fmt::Display for ConfusionMatrix {
    /// Rows are true classes, columns predictions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.classes();
        let name_width = self
            .class_names
            .iter()
            .map(|s| s.len())
            .max()
            .unwrap_or(0)
            .max(HEADER.len());
        let cell = self
            .class_names
            .iter()
            .map(|s| s.len())
            .chain(self.counts.iter().map(|c| c.to_string().len()))
            .max()
            .unwrap_or(1)
            .max(5);
        write!(f, "{HEADER:>name_width$} |")?;
        for name in &self.class_names {
            write!(f, " {name:>cell$}")?;
        }
        writeln!(f)?;
        writeln!(f, "{}", "-".repeat(name_width + 2 + (cell + 1) * n))?;
        for (a, name) in self.class_names.iter().enumerate() {
            write!(f, "{name:>name_width$} |")?;
            for p in 0..n {
                write!(f, " {:>cell$}", self.count(a, p))?;
            }
            writeln!(f)?;
        }
        if self.unpredictable > 0 {
            writeln!(
                f,
                "({} rows with NaN predictions not counted)",
                self.unpredictable
            )?;
        }
        Ok(())
    }
}
