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
        return Err(NnError::Other(format!(
            "`{}` holds an array of dimensions {:?}; expected images [count, rows, cols]",
            images.display(),
            img.dims
        )));
    };
    if lab.dims != [n] {
        return Err(NnError::Other(format!(
            "`{}` holds {:?} labels but `{}` holds {n} images",
            labels.display(),
            lab.dims,
            images.display()
        )));
    }
    let data: Vec<f32> = img.data.iter().map(|&p| p as f32 / 255.0).collect();
    let images = Array4::from_shape_vec((n, h, w, 1), data).map_err(|e| NnError::Other(e.to_string()))?;
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

/// scikit-learn's 8x8 digits (`digits.csv.gz`: 64 pixels 0..16, then the
/// label), scaled to [0, 1] as `[n, 8, 8, 1]`.
pub fn digits(path: &Path) -> Result<LabelledImages, NnError> {
    let bytes = idx::read_maybe_gzip(path)?;
    let text =
        String::from_utf8(bytes).map_err(|_| NnError::Other(format!("`{}` is not text", path.display())))?;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (line_no, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let values: Result<Vec<f32>, _> = line.split(',').map(|v| v.trim().parse::<f32>()).collect();
        let values =
            values.map_err(|e| NnError::Other(format!("`{}` line {}: {e}", path.display(), line_no + 1)))?;
        if values.len() != 65 {
            return Err(NnError::Other(format!(
                "`{}` line {}: {} values, expected 64 pixels and a label",
                path.display(),
                line_no + 1,
                values.len()
            )));
        }
        pixels.extend(values[..64].iter().map(|v| v / 16.0));
        labels.push(values[64] as usize);
    }
    let n = labels.len();
    let images = Array4::from_shape_vec((n, 8, 8, 1), pixels).map_err(|e| NnError::Other(e.to_string()))?;
    Ok(LabelledImages { images, labels })
}
