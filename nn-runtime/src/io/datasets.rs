//! Loaders for the real datasets the examples and tests use.

use std::path::Path;

use ndarray::{Array1, Array4};

use crate::io::idx;
use crate::model_error::NnError;

/// Images scaled to [0, 1] as `[n, h, w, 1]` and their labels.
#[derive(Debug, Clone)]
pub struct LabelledImages {
    pub images: Array4<f32>,
    pub labels: Vec<usize>,
}

impl LabelledImages {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Labels as floats, for sparse losses.
    pub fn label_array(&self) -> Array1<f32> {
        self.labels.iter().map(|&l| l as f32).collect()
    }
}

/// An IDX image file and its IDX label file (MNIST layout, gzip or not).
pub fn idx_pair(images: &Path, labels: &Path) -> Result<LabelledImages, NnError> {
    let img = idx::read(images)?;
    let lab = idx::read(labels)?;
    let [n, h, w] = img.dims[..] else {
        return Err(NnError::invalid_file(
            images.display(),
            None,
            format!(
                "holds an array of dimensions {:?}; expected images [count, rows, cols]",
                img.dims
            ),
        ));
    };
    if lab.dims != [n] {
        return Err(NnError::invalid_file(
            labels.display(),
            None,
            format!(
                "holds {:?} labels but `{}` holds {n} images",
                lab.dims,
                images.display()
            ),
        ));
    }
    let data: Vec<f32> = img.data.iter().map(|&p| p as f32 / 255.0).collect();
    let images = Array4::from_shape_vec((n, h, w, 1), data).map_err(|e| {
        NnError::invalid_file(
            images.display(),
            None,
            format!("cannot be arranged as images: {e}"),
        )
    })?;
    Ok(LabelledImages {
        images,
        labels: lab.data.iter().map(|&l| l as usize).collect(),
    })
}

/// Fashion-MNIST from a folder with the four standard files
/// (`train-images-idx3-ubyte.gz`, ...): (train, test).
pub fn fashion_mnist(dir: &Path) -> Result<(LabelledImages, LabelledImages), NnError> {
    let train = idx_pair(
        &dir.join("train-images-idx3-ubyte.gz"),
        &dir.join("train-labels-idx1-ubyte.gz"),
    )?;
    let test = idx_pair(
        &dir.join("t10k-images-idx3-ubyte.gz"),
        &dir.join("t10k-labels-idx1-ubyte.gz"),
    )?;
    Ok((train, test))
}

/// Classes of the digits dataset.
const DIGIT_CLASSES: usize = 10;
/// The largest pixel value of the digits dataset (4x4 blocks of 0/1 pixels summed).
const DIGIT_MAX_PIXEL: f32 = 16.0;

/// scikit-learn's 8x8 digits (`digits.csv.gz`: 64 pixels 0..=16, then the
/// label 0..=9), scaled to [0, 1] as `[n, 8, 8, 1]`. A value that is not a
/// number, a pixel outside 0..=16 (NaN and infinities included) or a label
/// that is not a whole number in 0..=9 is an error naming the file and line.
pub fn digits(path: &Path) -> Result<LabelledImages, NnError> {
    let bytes = idx::read_maybe_gzip(path)?;
    let text =
        String::from_utf8(bytes).map_err(|_| NnError::invalid_file(path.display(), None, "is not text"))?;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (line_no, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |message: String| NnError::invalid_file(path.display(), Some(line_no + 1), message);
        let values: Vec<&str> = line.split(',').map(str::trim).collect();
        if values.len() != 65 {
            return Err(bad(format!(
                "{} values, expected 64 pixels and a label",
                values.len()
            )));
        }
        for (column, text) in values[..64].iter().enumerate() {
            let value: f32 = text
                .parse()
                .map_err(|e| bad(format!("pixel {} `{text}`: {e}", column + 1)))?;
            if !(0.0..=DIGIT_MAX_PIXEL).contains(&value) {
                return Err(bad(format!(
                    "pixel {} is {value}, expected a value in 0..=16",
                    column + 1
                )));
            }
            pixels.push(value / DIGIT_MAX_PIXEL);
        }
        let label = values[64];
        match label.parse::<f64>() {
            Ok(v) if v.fract() == 0.0 && (0.0..DIGIT_CLASSES as f64).contains(&v) => labels.push(v as usize),
            _ => {
                return Err(bad(format!(
                    "label `{label}` is not a class: expected a whole number in 0..={}",
                    DIGIT_CLASSES - 1
                )))
            }
        }
    }
    let n = labels.len();
    let images = Array4::from_shape_vec((n, 8, 8, 1), pixels).map_err(|e| {
        NnError::invalid_file(path.display(), None, format!("cannot be arranged as images: {e}"))
    })?;
    Ok(LabelledImages { images, labels })
}
