//! Keras's `image_dataset_from_directory`: a folder with one sub-folder per
//! class (classes in sorted name order) of PNG or JPEG files, resized
//! bilinearly to the network's input, greyscale or RGB, with a seeded
//! validation split. Pixels are scaled to [0, 1] (Keras yields 0..255 and
//! leaves scaling to a `Rescaling` layer, which `network!` does not have).
//!
//! [`ImageFolder::load`] decodes every file into an in-memory [`Dataset`];
//! [`crate::train::Trainer::fit_folder`] decodes batches on a background thread
//! while the network trains, for sets larger than memory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::io::bilinear;
use crate::model_error::NnError;
use crate::train::dataset::Dataset;

/// Colour channels of the decoded images (Keras's `color_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// One channel (luma of colour files, Rec. 709 weights as libpng's).
    Grayscale,
    /// Three channels (greyscale files are repeated).
    Rgb,
}

impl ColorMode {
    pub fn channels(self) -> usize {
        match self {
            ColorMode::Grayscale => 1,
            ColorMode::Rgb => 3,
        }
    }
}

/// How labels are given (Keras's `label_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelMode {
    /// The class index (for sparse categorical cross-entropy).
    Int,
    /// A one-hot row (for categorical cross-entropy).
    Categorical,
}

/// What to do with a file that cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadFiles {
    /// Stop with an error naming the file (the default).
    Fail,
    /// Skip it and count it ([`ImageFolder::load`] reports the count).
    Skip,
}

/// Keras's `image_dataset_from_directory` arguments that apply here.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFolderOptions {
    /// `(height, width)` to resize to; Keras's default is 256 x 256.
    pub image_size: (usize, usize),
    pub color_mode: ColorMode,
    pub label_mode: LabelMode,
    /// Shuffle the file list (with `seed`) before the validation split, as
    /// Keras does; the split is then the last `validation_split` of it.
    pub shuffle: bool,
    pub seed: u64,
    pub validation_split: Option<f32>,
    pub bad_files: BadFiles,
}

impl Default for ImageFolderOptions {
    fn default() -> Self {
        Self {
            image_size: (256, 256),
            color_mode: ColorMode::Rgb,
            label_mode: LabelMode::Int,
            shuffle: true,
            seed: 0,
            validation_split: None,
            bad_files: BadFiles::Fail,
        }
    }
}

/// The image files of a folder with their class indices.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFolder {
    /// Sub-folder names in sorted order: class `i` is `class_names[i]`.
    pub class_names: Vec<String>,
    pub files: Vec<(PathBuf, usize)>,
    pub options: ImageFolderOptions,
}

const EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

fn io_error(path: &Path, what: &str, e: std::io::Error) -> NnError {
    NnError::Other(format!("cannot {what} `{}`: {e}", path.display()))
}

impl ImageFolder {
    /// Lists `dir`: every sub-folder is a class, every `.png`, `.jpg` or
    /// `.jpeg` file in it (any depth, not through links to folders) an
    /// example. Files directly in `dir`
    /// and other extensions are ignored, as in Keras.
    pub fn open(dir: impl AsRef<Path>, options: ImageFolderOptions) -> Result<Self, NnError> {
        let dir = dir.as_ref();
        let (h, w) = options.image_size;
        if h == 0 || w == 0 {
            return Err(NnError::Other(format!(
                "image_size must be at least 1 x 1, got {h} x {w}"
            )));
        }
        if let Some(split) = options.validation_split {
            if !(split > 0.0 && split < 1.0) {
                return Err(NnError::Other(format!(
                    "validation_split must be in (0, 1), got {split}"
                )));
            }
        }
        let mut class_names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, "read the folder", e))? {
            let entry = entry.map_err(|e| io_error(dir, "read the folder", e))?;
            if entry.path().is_dir() {
                class_names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        class_names.sort();
        if class_names.is_empty() {
            return Err(NnError::Other(format!(
                "`{}` has no sub-folders; expected one folder of images per class",
                dir.display()
            )));
        }
        let mut files = Vec::new();
        for (class, name) in class_names.iter().enumerate() {
            let mut found = Vec::new();
            list_images(&dir.join(name), &mut found)?;
            found.sort();
            files.extend(found.into_iter().map(|p| (p, class)));
        }
        if files.is_empty() {
            return Err(NnError::Other(format!(
                "`{}` has class folders ({}) but no .png, .jpg or .jpeg files",
                dir.display(),
                class_names.join(", ")
            )));
        }
        if options.shuffle {
            files.shuffle(&mut StdRng::seed_from_u64(options.seed));
        }
        Ok(Self {
            class_names,
            files,
            options,
        })
    }

    /// `(training, validation)` by `options.validation_split` (Keras's
    /// `subset="both"`): validation is the last `floor(split * n)` files of
    /// the (seeded) shuffled list.
    pub fn split(&self) -> Result<(ImageFolder, ImageFolder), NnError> {
        let Some(fraction) = self.options.validation_split else {
            return Err(NnError::Other("split needs options.validation_split".into()));
        };
        let val = (fraction as f64 * self.files.len() as f64) as usize;
        if val == 0 || val == self.files.len() {
            return Err(NnError::Other(format!(
                "validation_split {fraction} of {} files leaves an empty part",
                self.files.len()
            )));
        }
        let cut = self.files.len() - val;
        let part = |files: &[(PathBuf, usize)]| ImageFolder {
            class_names: self.class_names.clone(),
            files: files.to_vec(),
            options: self.options.clone(),
        };
        Ok((part(&self.files[..cut]), part(&self.files[cut..])))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Floats per image: height x width x channels.
    pub fn image_len(&self) -> usize {
        let (h, w) = self.options.image_size;
        h * w * self.options.color_mode.channels()
    }

    /// Floats per label.
    pub fn label_len(&self) -> usize {
        match self.options.label_mode {
            LabelMode::Int => 1,
            LabelMode::Categorical => self.class_names.len(),
        }
    }

    /// Writes `class`'s label into `dst` (`label_len()` floats).
    pub fn write_label(&self, class: usize, dst: &mut [f32]) {
        match self.options.label_mode {
            LabelMode::Int => dst[0] = class as f32,
            LabelMode::Categorical => {
                dst.fill(0.0);
                dst[class] = 1.0;
            }
        }
    }

    /// Decodes file `i` into `dst` (`image_len()` floats).
    pub fn decode_into(&self, i: usize, dst: &mut [f32]) -> Result<(), NnError> {
        decode(
            &self.files[i].0,
            self.options.image_size,
            self.options.color_mode,
            dst,
        )
    }

    /// Decodes every file into a dataset of `[n, height, width, channels]`
    /// images and their labels; returns it with the number of skipped
    /// files (always 0 with `BadFiles::Fail`).
    pub fn load(&self) -> Result<(Dataset, usize), NnError> {
        let (h, w) = self.options.image_size;
        let c = self.options.color_mode.channels();
        let (image_len, label_len) = (self.image_len(), self.label_len());
        let mut images = Vec::with_capacity(self.len() * image_len);
        let mut labels = Vec::with_capacity(self.len() * label_len);
        let mut pixels = vec![0.0; image_len];
        let mut label = vec![0.0; label_len];
        let mut skipped = 0;
        for (i, &(_, class)) in self.files.iter().enumerate() {
            match self.decode_into(i, &mut pixels) {
                Ok(()) => {
                    images.extend_from_slice(&pixels);
                    self.write_label(class, &mut label);
                    labels.extend_from_slice(&label);
                }
                Err(_) if self.options.bad_files == BadFiles::Skip => skipped += 1,
                Err(e) => return Err(e),
            }
        }
        let n = labels.len() / label_len;
        if n == 0 {
            return Err(NnError::Other(format!(
                "all {} image files failed to decode",
                self.len()
            )));
        }
        let images = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[n, h, w, c]), images)
            .map_err(|e| NnError::Other(format!("internal error: {e}")))?;
        let label_shape: Vec<usize> = match self.options.label_mode {
            LabelMode::Int => vec![n],
            LabelMode::Categorical => vec![n, label_len],
        };
        let labels = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&label_shape), labels)
            .map_err(|e| NnError::Other(format!("internal error: {e}")))?;
        Ok((Dataset::from_arrays(vec![images], vec![labels])?, skipped))
    }

    /// Files per class name.
    pub fn class_counts(&self) -> HashMap<&str, usize> {
        let mut counts = HashMap::new();
        for &(_, class) in &self.files {
            *counts.entry(self.class_names[class].as_str()).or_insert(0) += 1;
        }
        counts
    }
}

fn list_images(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), NnError> {
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, "read the folder", e))? {
        let entry = entry.map_err(|e| io_error(dir, "read the folder", e))?;
        let path = entry.path();
        // Links to folders are not followed (Keras's `follow_links=False`),
        // so a link loop cannot recurse forever.
        let is_dir = entry
            .file_type()
            .map_err(|e| io_error(&path, "read", e))?
            .is_dir();
        if is_dir {
            list_images(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Decodes one PNG or JPEG file, converts its colours and resizes it into
/// `dst`, scaled to [0, 1]. The error names the file.
pub fn decode(path: &Path, size: (usize, usize), mode: ColorMode, dst: &mut [f32]) -> Result<(), NnError> {
    let bad = |e: &dyn std::fmt::Display| {
        NnError::Other(format!(
            "cannot decode `{}` as a PNG or JPEG image: {e}",
            path.display()
        ))
    };
    let wanted = size
        .0
        .checked_mul(size.1)
        .and_then(|n| n.checked_mul(mode.channels()));
    if wanted != Some(dst.len()) || dst.is_empty() {
        return Err(NnError::invalid_argument(
            "image_folder::decode",
            format!(
                "the destination holds {} floats, not one {}x{}x{} image",
                dst.len(),
                size.0,
                size.1,
                mode.channels()
            ),
        ));
    }
    let image = image::ImageReader::open(path)
        .map_err(|e| io_error(path, "open", e))?
        .with_guessed_format()
        .map_err(|e| io_error(path, "read", e))?
        .decode()
        .map_err(|e| bad(&e))?;
    let (width, height) = (image.width() as usize, image.height() as usize);
    let pixels: Vec<f32> = match mode {
        ColorMode::Grayscale => image
            .into_luma8()
            .into_raw()
            .into_iter()
            .map(|v| v as f32 / 255.0)
            .collect(),
        ColorMode::Rgb => image
            .into_rgb8()
            .into_raw()
            .into_iter()
            .map(|v| v as f32 / 255.0)
            .collect(),
    };
    if (height, width) == size {
        dst.copy_from_slice(&pixels);
    } else {
        bilinear::resize(&pixels, (height, width), mode.channels(), dst, size);
    }
    Ok(())
}
