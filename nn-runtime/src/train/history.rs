//! Per-epoch figures, as Keras's `History.history`.

/// Named figures of one epoch or one evaluation: `loss`, `accuracy`,
/// `val_loss`, ... in the order they were added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Logs {
    pub values: Vec<(String, f64)>,
}

impl Logs {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    pub fn set(&mut self, name: &str, value: f64) {
        match self.values.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = value,
            None => self.values.push((name.to_string(), value)),
        }
    }

    /// `loss: 0.1234 - accuracy: 0.9876`.
    pub fn line(&self) -> String {
        self.values
            .iter()
            .map(|(n, v)| format!("{n}: {v:.4}"))
            .collect::<Vec<_>>()
            .join(" - ")
    }
}

/// What `fit` returns: every epoch's logs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub epochs: Vec<Logs>,
}

impl History {
    /// One figure across epochs, e.g. `history.series("val_accuracy")`.
    pub fn series(&self, name: &str) -> Vec<f64> {
        self.epochs.iter().filter_map(|l| l.get(name)).collect()
    }

    /// The figures' names, in order.
    pub fn names(&self) -> Vec<String> {
        self.epochs
            .first()
            .map(|l| l.values.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default()
    }

    /// CSV with an `epoch` column, as Keras's CSVLogger writes.
    pub fn to_csv(&self) -> String {
        let names = self.names();
        let mut out = format!("epoch,{}\n", names.join(","));
        for (i, logs) in self.epochs.iter().enumerate() {
            let row: Vec<String> = names
                .iter()
                .map(|n| logs.get(n).map_or(String::new(), |v| v.to_string()))
                .collect();
            out.push_str(&format!("{i},{}\n", row.join(",")));
        }
        out
    }
}
