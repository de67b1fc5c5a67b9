//! In-memory training data: one array per network input and per output
//! target, all with the same number of samples.

use ndarray::{ArrayD, IxDyn};

use crate::model_error::NnError;

/// One tensor of a dataset, flat, with its per-sample shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub sample_shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Column {
    /// Floats per sample. An edited shape whose product overflows gives
    /// `usize::MAX`, which no column's data can match.
    pub fn sample_len(&self) -> usize {
        self.sample_shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .unwrap_or(usize::MAX)
    }

    fn from_array(array: ArrayD<f32>, name: impl FnOnce() -> String) -> Result<(usize, Column), NnError> {
        let shape = array.shape().to_vec();
        let Some((&n, rest)) = shape.split_first() else {
            return Err(NnError::NoBatchAxis { array: name() });
        };
        let data = match array.as_slice() {
            Some(s) => s.to_vec(),
            None => array.iter().copied().collect(),
        };
        Ok((
            n,
            Column {
                sample_shape: rest.to_vec(),
                data,
            },
        ))
    }

    /// Copies sample `i` into `dst`.
    pub(crate) fn copy_sample(&self, i: usize, dst: &mut [f32]) {
        let len = self.sample_len();
        dst.copy_from_slice(&self.data[i * len..(i + 1) * len]);
    }

    /// The column as an array `[n, sample_shape...]`. Fails when the data
    /// is not a whole number of samples (a column edited after the dataset
    /// was built).
    pub fn to_array(&self) -> Result<ArrayD<f32>, NnError> {
        let len = self.sample_len();
        let whole = if len == 0 {
            self.data.is_empty()
        } else {
            self.data.len().is_multiple_of(len)
        };
        let length_error = || NnError::ColumnLength {
            context: "Column::to_array".into(),
            column: "column".into(),
            floats: self.data.len(),
            samples: self.data.len().checked_div(len).unwrap_or(0),
            sample_shape: self.sample_shape.clone(),
        };
        if !whole {
            return Err(length_error());
        }
        // A zero-sized sample holds no floats: its sample count is unknown, 0.
        let n = self.data.len().checked_div(len).unwrap_or(0);
        let mut shape = vec![n];
        shape.extend_from_slice(&self.sample_shape);
        ArrayD::from_shape_vec(IxDyn(&shape), self.data.clone()).map_err(|_| length_error())
    }
}

/// Inputs and targets of `len()` samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub inputs: Vec<Column>,
    pub targets: Vec<Column>,
    /// One weight per sample for the loss (Keras's `sample_weight`).
    sample_weight: Option<Vec<f32>>,
    len: usize,
}

impl Dataset {
    /// A dataset for a network with one input and one output.
    pub fn new<D1: ndarray::Dimension, D2: ndarray::Dimension>(
        x: ndarray::Array<f32, D1>,
        y: ndarray::Array<f32, D2>,
    ) -> Result<Self, NnError> {
        Self::from_arrays(vec![x.into_dyn()], vec![y.into_dyn()])
    }

    /// A dataset for several inputs and outputs, in the network's order.
    pub fn from_arrays(inputs: Vec<ArrayD<f32>>, targets: Vec<ArrayD<f32>>) -> Result<Self, NnError> {
        let mut len = None;
        let mut columns = |arrays: Vec<ArrayD<f32>>, what: &str| -> Result<Vec<Column>, NnError> {
            arrays
                .into_iter()
                .enumerate()
                .map(|(i, a)| {
                    let (n, column) = Column::from_array(a, || format!("{what} {i}"))?;
                    match len {
                        None => len = Some(n),
                        Some(m) if m != n => {
                            return Err(NnError::SampleCountMismatch {
                                array: format!("{what} {i}"),
                                expected: m,
                                actual: n,
                            })
                        }
                        Some(_) => {}
                    }
                    Ok(column)
                })
                .collect()
        };
        let inputs = columns(inputs, "input")?;
        let targets = columns(targets, "target")?;
        match len {
            Some(0) | None => Err(NnError::EmptyDataset),
            Some(len) => Ok(Dataset {
                inputs,
                targets,
                sample_weight: None,
                len,
            }),
        }
    }

    /// A dataset with arrays given by the network's input and output names,
    /// in any order: `Dataset::named::<Net>(vec![("image", x)], vec![("class", y)])`.
    /// Unknown, missing and repeated names are reported together.
    pub fn named<M: crate::model::Model>(
        inputs: Vec<(&str, ArrayD<f32>)>,
        targets: Vec<(&str, ArrayD<f32>)>,
    ) -> Result<Self, NnError> {
        let spec = M::SPEC;
        let inputs = order_by_name(spec.name, "input", spec.inputs, inputs)?;
        let targets = order_by_name(spec.name, "output", spec.outputs, targets)?;
        Self::from_arrays(inputs, targets)
    }

    /// The dataset with a loss weight per sample (Keras's `sample_weight`
    /// in `fit` and `evaluate`): each sample's loss is multiplied by its
    /// weight, and a batch's loss is the sum divided by the batch size.
    /// Weights must be finite and not negative, one per sample.
    pub fn with_sample_weight(mut self, weights: Vec<f32>) -> Result<Self, NnError> {
        if weights.len() != self.len {
            return Err(NnError::invalid_argument(
                "Dataset::with_sample_weight",
                format!(
                    "{} sample weights given for {} samples; give one per sample",
                    weights.len(),
                    self.len
                ),
            ));
        }
        if let Some((i, w)) = weights
            .iter()
            .enumerate()
            .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
        {
            return Err(NnError::invalid_argument(
                "Dataset::with_sample_weight",
                format!("sample weight {w} at sample {i} is not a finite number >= 0"),
            ));
        }
        self.sample_weight = Some(weights);
        Ok(self)
    }

    /// The per-sample loss weights, if any.
    pub fn sample_weight(&self) -> Option<&[f32]> {
        self.sample_weight.as_deref()
    }

    /// Samples in the dataset.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The samples at `indices`, in that order (repeats allowed). Fails for
    /// an index `>= len()`, for no indices (a dataset has samples), and for
    /// a column edited after construction.
    pub fn select(&self, indices: &[usize]) -> Result<Dataset, NnError> {
        self.check_columns("Dataset::select")?;
        if indices.is_empty() {
            return Err(NnError::EmptyDataset);
        }
        if let Some(&index) = indices.iter().find(|&&i| i >= self.len) {
            return Err(NnError::IndexOutOfRange {
                context: "Dataset::select".into(),
                what: "sample",
                index,
                len: self.len,
            });
        }
        let pick = |c: &Column| {
            let len = c.sample_len();
            let mut data = Vec::with_capacity(indices.len().saturating_mul(len));
            for &i in indices {
                data.extend_from_slice(&c.data[i * len..(i + 1) * len]);
            }
            Column {
                sample_shape: c.sample_shape.clone(),
                data,
            }
        };
        Ok(Dataset {
            inputs: self.inputs.iter().map(pick).collect(),
            targets: self.targets.iter().map(pick).collect(),
            sample_weight: self
                .sample_weight
                .as_ref()
                .map(|w| indices.iter().map(|&i| w[i]).collect()),
            len: indices.len(),
        })
    }

    /// Checks that every column still holds `len()` samples: the columns
    /// are public, and one edited after construction may not. `context`
    /// leads the message ("DigitsNet: training data").
    pub(crate) fn check_columns(&self, context: &str) -> Result<(), NnError> {
        let mismatch = |column: String, floats: usize, sample_shape: &[usize]| NnError::ColumnLength {
            context: context.to_string(),
            column,
            floats,
            samples: self.len,
            sample_shape: sample_shape.to_vec(),
        };
        for (kind, columns) in [("input", &self.inputs), ("target", &self.targets)] {
            for (i, column) in columns.iter().enumerate() {
                if self.len.checked_mul(column.sample_len()) != Some(column.data.len()) {
                    return Err(mismatch(
                        format!("{kind} array {i}"),
                        column.data.len(),
                        &column.sample_shape,
                    ));
                }
            }
        }
        match &self.sample_weight {
            Some(w) if w.len() != self.len => Err(mismatch("sample weights".into(), w.len(), &[])),
            _ => Ok(()),
        }
    }

    /// Keras's `validation_split`: the last `fraction` of the samples (before
    /// any shuffling) become the validation set.
    pub fn split_validation(&self, fraction: f32) -> Result<(Dataset, Dataset), NnError> {
        self.check_columns("validation_split")?;
        if !(0.0..1.0).contains(&fraction) || fraction == 0.0 {
            return Err(NnError::invalid_argument(
                "validation_split",
                format!("must be in (0, 1), got {fraction}"),
            ));
        }
        let val = ((self.len as f32) * fraction).round() as usize;
        if val == 0 || val >= self.len {
            return Err(NnError::invalid_argument(
                "validation_split",
                format!("{fraction} of {} samples leaves an empty part", self.len),
            ));
        }
        let cut = self.len - val;
        let train: Vec<usize> = (0..cut).collect();
        let valid: Vec<usize> = (cut..self.len).collect();
        Ok((self.select(&train)?, self.select(&valid)?))
    }
}

/// Arrays sorted into `specs` order by name, or every naming problem at once.
pub(crate) fn order_by_name<A>(
    network: &str,
    what: &str,
    specs: &[crate::spec::TensorSpec],
    named: Vec<(&str, A)>,
) -> Result<Vec<A>, NnError> {
    let mut slots: Vec<Option<A>> = specs.iter().map(|_| None).collect();
    let mut problems = Vec::new();
    for (name, array) in named {
        match specs.iter().position(|s| s.name == name) {
            Some(i) if slots[i].is_some() => problems.push(format!("{what} `{name}` is given twice")),
            Some(i) => slots[i] = Some(array),
            None => {
                let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
                problems.push(format!(
                    "no {what} named `{name}` (the {what}s are: {})",
                    known.join(", ")
                ))
            }
        }
    }
    for (spec, slot) in specs.iter().zip(&slots) {
        if slot.is_none() {
            problems.push(format!("{what} `{}` is missing", spec.name));
        }
    }
    if !problems.is_empty() {
        return Err(NnError::Names {
            network: network.to_string(),
            problems,
        });
    }
    Ok(slots.into_iter().flatten().collect())
}

/// One-hot rows for class labels: `[n]` labels → `[n, classes]`.
pub fn one_hot(labels: &[usize], classes: usize) -> Result<ndarray::Array2<f32>, NnError> {
    // An absurd class count is an error, not an abort.
    let len = labels
        .len()
        .checked_mul(classes)
        .filter(|&len| len <= isize::MAX as usize / 4);
    let mut zeros = Vec::new();
    if len.is_none_or(|len| zeros.try_reserve_exact(len).is_err()) {
        return Err(NnError::OutOfMemory {
            what: format!("one-hot rows of {} labels and {classes} classes", labels.len()),
            bytes: len.map_or(usize::MAX, |len| len * 4),
        });
    }
    zeros.resize(labels.len() * classes, 0.0);
    let mut out = ndarray::Array2::from_shape_vec((labels.len(), classes), zeros)
        .map_err(|e| NnError::invalid_argument("one_hot", e.to_string()))?;
    for (i, &l) in labels.iter().enumerate() {
        if l >= classes {
            return Err(NnError::Label {
                context: "one_hot".into(),
                label: l as f64,
                sample: Some(i),
                classes,
            });
        }
        out[[i, l]] = 1.0;
    }
    Ok(out)
}
