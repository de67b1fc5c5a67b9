//! Random image augmentation for training batches, seeded: Keras's
//! `RandomFlip`, `RandomRotation`, `RandomTranslation`, `RandomZoom` and
//! `RandomContrast`, with their arguments and Keras's default
//! `fill_mode="reflect"` and bilinear interpolation.
//!
//! These are dataset transforms, applied to a batch between loading and the
//! forward pass of *training* steps only (`FitConfig::augmentation` for
//! `fit`, `StreamConfig::augmentation` for `fit_folder`), rather than layers inside
//! `network!`. Keras offers both; as layers they would need a new layer kind
//! through the macro's parser, shape rules, code generation, summaries and
//! weight files, and a backward pass that is never used (augmentation has no
//! parameters and sits before the first layer). As a transform it is one
//! file, runs on the loader's side of the batch, and inference (`predict`,
//! `evaluate`, validation) never sees it, which is what Keras's layers do
//! in inference mode.

use rand::Rng;

use crate::model_error::NnError;

/// Which flips `RandomFlip` may apply (each with probability 1/2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flip {
    Horizontal,
    Vertical,
    HorizontalAndVertical,
}

/// The random transforms to apply; `None` or 0 leaves a transform out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Augmentation {
    pub flip: Option<Flip>,
    /// `RandomRotation(factor)`: an angle in `[-factor, factor] * 2π`.
    pub rotation: f32,
    /// `RandomTranslation(height_factor, width_factor)`: shifts of up to
    /// these fractions of the height and width.
    pub translation: (f32, f32),
    /// `RandomZoom(factor)`: zoom by `1 + z` with `z` in `[-factor, factor]`
    /// (positive zooms out, negative in), the same for both axes.
    pub zoom: f32,
    /// `RandomContrast(factor)`: `(x - mean) * c + mean` per image and
    /// channel with `c` in `[1 - factor, 1 + factor]`, clipped to [0, 1].
    pub contrast: f32,
}

/// `i` reflected into `0..n` as `d c b a | a b c d | d c b a`.
fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    let period = 2 * n;
    let m = i.rem_euclid(period);
    (if m < n { m } else { period - 1 - m }) as usize
}

impl Augmentation {
    /// Whether any geometric transform is on.
    fn moves_pixels(&self) -> bool {
        self.rotation != 0.0 || self.translation != (0.0, 0.0) || self.zoom != 0.0
    }

    /// Checks every factor against its range, as Keras's layers do:
    /// finite and not negative, translations at most 1 (the whole image),
    /// zoom below 1 (a zoom of `1 - 1` would shrink the image to nothing).
    pub fn check(&self) -> Result<(), NnError> {
        // (name, value, largest allowed, whether the largest itself is allowed)
        let factors = [
            ("rotation", self.rotation, f32::MAX, true),
            ("translation height factor", self.translation.0, 1.0, true),
            ("translation width factor", self.translation.1, 1.0, true),
            ("zoom", self.zoom, 1.0, false),
            ("contrast", self.contrast, f32::MAX, true),
        ];
        for (name, value, max, inclusive) in factors {
            let below = if inclusive { value <= max } else { value < max };
            // NaN fails both comparisons; infinity is above f32::MAX.
            if !(value >= 0.0 && below) {
                let range = match (max == f32::MAX, inclusive) {
                    (true, _) => "a finite number >= 0".to_string(),
                    (false, true) => format!("a number in [0, {max}]"),
                    (false, false) => format!("a number in [0, {max})"),
                };
                return Err(NnError::invalid_argument(
                    "Augmentation",
                    format!("{name} {value} is not {range}"),
                ));
            }
        }
        Ok(())
    }

    /// Transforms each image of `images` (`[n, h, w, c]`, flat) in place.
    /// Fails, changing nothing, for a factor out of range (see
    /// [`Augmentation::check`]) or a buffer that is not whole images.
    pub fn apply<R: Rng>(
        &self,
        images: &mut [f32],
        (h, w, c): (usize, usize, usize),
        rng: &mut R,
    ) -> Result<(), NnError> {
        self.check()?;
        let len = h
            .checked_mul(w)
            .and_then(|hw| hw.checked_mul(c))
            .unwrap_or(usize::MAX);
        if len == 0 || !images.len().is_multiple_of(len) {
            return Err(NnError::invalid_argument(
                "Augmentation",
                format!("{} values are not whole images of {h}x{w}x{c}", images.len()),
            ));
        }
        let mut scratch = if self.moves_pixels() {
            vec![0.0; len]
        } else {
            Vec::new()
        };
        for image in images.chunks_exact_mut(len) {
            if let Some(flip) = self.flip {
                let horizontal =
                    matches!(flip, Flip::Horizontal | Flip::HorizontalAndVertical) && rng.random_bool(0.5);
                let vertical =
                    matches!(flip, Flip::Vertical | Flip::HorizontalAndVertical) && rng.random_bool(0.5);
                flip_image(image, (h, w, c), horizontal, vertical);
            }
            if self.moves_pixels() {
                let angle = if self.rotation != 0.0 {
                    rng.random_range(-self.rotation..=self.rotation) * std::f32::consts::TAU
                } else {
                    0.0
                };
                let shift = |f: f32, size: usize, rng: &mut R| {
                    if f != 0.0 {
                        rng.random_range(-f..=f) * size as f32
                    } else {
                        0.0
                    }
                };
                let dy = shift(self.translation.0, h, rng);
                let dx = shift(self.translation.1, w, rng);
                let zoom = if self.zoom != 0.0 {
                    1.0 + rng.random_range(-self.zoom..=self.zoom)
                } else {
                    1.0
                };
                scratch.copy_from_slice(image);
                warp(&scratch, image, (h, w, c), angle, zoom, (dy, dx));
            }
            if self.contrast != 0.0 {
                let factor = rng.random_range((1.0 - self.contrast).max(0.0)..=1.0 + self.contrast);
                adjust_contrast(image, c, factor);
            }
        }
        Ok(())
    }
}

fn flip_image(image: &mut [f32], (h, w, c): (usize, usize, usize), horizontal: bool, vertical: bool) {
    if horizontal {
        for row in image.chunks_exact_mut(w * c) {
            for x in 0..w / 2 {
                for k in 0..c {
                    row.swap(x * c + k, (w - 1 - x) * c + k);
                }
            }
        }
    }
    if vertical {
        for y in 0..h / 2 {
            let (top, bottom) = image.split_at_mut((h - 1 - y) * w * c);
            top[y * w * c..(y + 1) * w * c].swap_with_slice(&mut bottom[..w * c]);
        }
    }
}

/// Each output pixel samples the source at the inverse transform of its
/// position: rotate by `angle` and scale by `zoom` about the centre, then
/// shift by `(dy, dx)`; bilinear, reflected at the edges.
fn warp(
    src: &[f32],
    dst: &mut [f32],
    (h, w, c): (usize, usize, usize),
    angle: f32,
    zoom: f32,
    (dy, dx): (f32, f32),
) {
    let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
    let (sin, cos) = angle.sin_cos();
    for y in 0..h {
        for x in 0..w {
            // Undo the shift, then the rotation and zoom about the centre.
            let (py, px) = (y as f32 - dy - cy, x as f32 - dx - cx);
            let sy = (cos * py - sin * px) * zoom + cy;
            let sx = (sin * py + cos * px) * zoom + cx;
            let (y0, x0) = (sy.floor(), sx.floor());
            let (fy, fx) = (sy - y0, sx - x0);
            let (y0, x0) = (y0 as isize, x0 as isize);
            let (ya, yb) = (reflect(y0, h), reflect(y0 + 1, h));
            let (xa, xb) = (reflect(x0, w), reflect(x0 + 1, w));
            for k in 0..c {
                let at = |yy: usize, xx: usize| src[(yy * w + xx) * c + k];
                let top = at(ya, xa) + (at(ya, xb) - at(ya, xa)) * fx;
                let bottom = at(yb, xa) + (at(yb, xb) - at(yb, xa)) * fx;
                dst[(y * w + x) * c + k] = top + (bottom - top) * fy;
            }
        }
    }
}

fn adjust_contrast(image: &mut [f32], c: usize, factor: f32) {
    let pixels = (image.len() / c) as f32;
    for k in 0..c {
        let mean = image.iter().skip(k).step_by(c).sum::<f32>() / pixels;
        for v in image.iter_mut().skip(k).step_by(c) {
            *v = ((*v - mean) * factor + mean).clamp(0.0, 1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    fn close(a: &[f32], b: &[f32]) {
        assert!(
            a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5),
            "{a:?} vs {b:?}"
        );
    }

    #[test]
    fn reflect_mirrors_including_the_edge_pixel() {
        let got: Vec<usize> = (-4..8).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, vec![3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0]);
    }

    #[test]
    fn warp_shifts_rotates_and_zooms() {
        let src: Vec<f32> = (0..9).map(|v| v as f32).collect();
        let mut dst = vec![0.0; 9];
        // Shift right by one pixel: column 0 reflects column 0.
        warp(&src, &mut dst, (3, 3, 1), 0.0, 1.0, (0.0, 1.0));
        assert_eq!(dst, vec![0., 0., 1., 3., 3., 4., 6., 6., 7.]);
        // Half a turn about the centre is both flips.
        warp(&src, &mut dst, (3, 3, 1), std::f32::consts::PI, 1.0, (0.0, 0.0));
        close(&dst, &[8., 7., 6., 5., 4., 3., 2., 1., 0.]);
        // Zooming in 2x (scale 0.5) keeps the centre and halves distances.
        warp(&src, &mut dst, (3, 3, 1), 0.0, 0.5, (0.0, 0.0));
        close(&dst, &[2., 2.5, 3., 3.5, 4., 4.5, 5., 5.5, 6.]);
    }

    #[test]
    fn flips_and_contrast() {
        let mut image: Vec<f32> = (0..6).map(|v| v as f32 / 10.0).collect(); // 2 x 3, 1 channel
        flip_image(&mut image, (2, 3, 1), true, false);
        close(&image, &[0.2, 0.1, 0.0, 0.5, 0.4, 0.3]);
        flip_image(&mut image, (2, 3, 1), false, true);
        close(&image, &[0.5, 0.4, 0.3, 0.2, 0.1, 0.0]);
        // Contrast 0 collapses to the mean; 2 doubles distances (clipped).
        let mut flat = vec![0.2, 0.4, 0.6, 0.8];
        adjust_contrast(&mut flat, 1, 0.0);
        close(&flat, &[0.5; 4]);
        let mut wide = vec![0.2, 0.4, 0.6, 0.8];
        adjust_contrast(&mut wide, 1, 2.0);
        close(&wide, &[0.0, 0.3, 0.7, 1.0]);
    }

    #[test]
    fn apply_is_seeded_and_flips_some_images() {
        let aug = Augmentation {
            flip: Some(Flip::Horizontal),
            rotation: 0.05,
            translation: (0.1, 0.1),
            zoom: 0.1,
            contrast: 0.2,
        };
        let batch: Vec<f32> = (0..16 * 6 * 6).map(|v| ((v * 37) % 101) as f32 / 101.0).collect();
        let run = |seed| {
            let mut b = batch.clone();
            aug.apply(&mut b, (6, 6, 1), &mut StdRng::seed_from_u64(seed))
                .unwrap();
            b
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        assert!(run(1).iter().all(|v| (0.0..=1.0).contains(v)));
        // Flip only: each image is itself or its mirror, and both happen.
        let flip = Augmentation {
            flip: Some(Flip::Horizontal),
            ..Augmentation::default()
        };
        let mut b = batch.clone();
        flip.apply(&mut b, (6, 6, 1), &mut StdRng::seed_from_u64(3))
            .unwrap();
        let mut flipped = 0;
        for (out, orig) in b.chunks(36).zip(batch.chunks(36)) {
            let mut mirror = orig.to_vec();
            flip_image(&mut mirror, (6, 6, 1), true, false);
            assert!(out == orig || out == &mirror[..]);
            flipped += (out == &mirror[..]) as usize;
        }
        assert!(flipped > 0 && flipped < 16, "{flipped} of 16 flipped");
        // Nothing on: unchanged.
        let mut same = batch.clone();
        Augmentation::default()
            .apply(&mut same, (6, 6, 1), &mut StdRng::seed_from_u64(3))
            .unwrap();
        assert_eq!(same, batch);
    }
}
