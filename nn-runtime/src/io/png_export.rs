//! Writes labelled greyscale images as a folder of PNG files, one
//! sub-folder per class: the layout [`crate::io::image_folder`] reads. Used
//! to turn the vendored Fashion-MNIST subset into an image folder for the
//! `folder` example, its benchmark and the tests.

use std::path::Path;

use crate::io::datasets::LabelledImages;
use crate::model_error::NnError;

/// Writes the first `per_class` images of each class to
/// `dir/<class_names[label]>/<index>.png` (pixels in [0, 1] as 8-bit
/// greyscale); returns how many files were written. Existing files of the
/// same names are replaced.
pub fn export_png_folder(
    dir: &Path,
    images: &LabelledImages,
    class_names: &[&str],
    per_class: usize,
) -> Result<usize, NnError> {
    let shape = images.images.shape();
    let (h, w) = (shape[1], shape[2]);
    if shape[3] != 1 {
        return Err(NnError::Other(format!(
            "export_png_folder writes greyscale images; these have {} channels",
            shape[3]
        )));
    }
    let mut written = vec![0usize; class_names.len()];
    for (i, &label) in images.labels.iter().enumerate() {
        let Some(name) = class_names.get(label) else {
            return Err(NnError::Other(format!(
                "label {label} of image {i} has no class name ({} given)",
                class_names.len()
            )));
        };
        if written[label] >= per_class {
            continue;
        }
        let folder = dir.join(name);
        std::fs::create_dir_all(&folder)
            .map_err(|e| NnError::Other(format!("cannot create `{}`: {e}", folder.display())))?;
        let pixels: Vec<u8> = images
            .images
            .slice(ndarray::s![i, .., .., 0])
            .iter()
            .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect();
        let path = folder.join(format!("{i:05}.png"));
        image::save_buffer(&path, &pixels, w as u32, h as u32, image::ExtendedColorType::L8)
            .map_err(|e| NnError::Other(format!("cannot write `{}`: {e}", path.display())))?;
        written[label] += 1;
    }
    Ok(written.iter().sum())
}
