//! The localization task's data: a Fashion-MNIST item pasted at a random
//! place on a larger empty canvas, the box around its ink, and how well a
//! predicted box overlaps it (intersection over union).

use nn::ndarray::{s, Array2, Array4, ArrayView2, ArrayViewMut2};
use nn::rand::Rng;
use nn::runtime::io::datasets::LabelledImages;

/// Pixels at least this bright count as the item's ink; Fashion-MNIST's
/// 28x28 tiles have dark margins that are not part of the item.
pub const INK: f32 = 0.1;

/// An axis-aligned box in pixels: columns `left..right`, rows `top..bottom`
/// (right and bottom edges excluded, so a one-pixel box has width 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelBox {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
}

impl PixelBox {
    /// Zero when the box is empty or inverted (a prediction may be).
    pub fn area(&self) -> f32 {
        (self.right - self.left).max(0.0) * (self.bottom - self.top).max(0.0)
    }

    /// Intersection over union; 0 when the boxes do not overlap or both
    /// are empty.
    pub fn iou(&self, other: &PixelBox) -> f32 {
        let overlap = PixelBox {
            left: self.left.max(other.left),
            top: self.top.max(other.top),
            right: self.right.min(other.right),
            bottom: self.bottom.min(other.bottom),
        }
        .area();
        let union = self.area() + other.area() - overlap;
        if union > 0.0 {
            overlap / union
        } else {
            0.0
        }
    }

    /// The network's four regression targets: `[left, top, right, bottom]`
    /// over the canvas side, so they lie in [0, 1] (Keras users scale box
    /// targets the same way so the MSE does not swamp the class loss).
    pub fn to_targets(self, side: usize) -> [f32; 4] {
        let side = side as f32;
        [
            self.left / side,
            self.top / side,
            self.right / side,
            self.bottom / side,
        ]
    }

    /// The inverse of `to_targets`, for the network's box output.
    pub fn from_targets(values: &[f32], side: usize) -> Result<PixelBox, String> {
        let [left, top, right, bottom] = values else {
            return Err(format!("a box has 4 numbers, got {}", values.len()));
        };
        let side = side as f32;
        Ok(PixelBox {
            left: left * side,
            top: top * side,
            right: right * side,
            bottom: bottom * side,
        })
    }
}

/// The tight box around the pixels of `image` at least `INK` bright, or
/// the whole image when none is (a blank item is all box).
pub fn ink_box(image: ArrayView2<f32>) -> PixelBox {
    let (rows, cols) = image.dim();
    let (mut top, mut left, mut bottom, mut right) = (rows, cols, 0, 0);
    for ((r, c), &v) in image.indexed_iter() {
        if v >= INK {
            top = top.min(r);
            left = left.min(c);
            bottom = bottom.max(r + 1);
            right = right.max(c + 1);
        }
    }
    if bottom == 0 {
        return PixelBox {
            left: 0.0,
            top: 0.0,
            right: cols as f32,
            bottom: rows as f32,
        };
    }
    PixelBox {
        left: left as f32,
        top: top as f32,
        right: right as f32,
        bottom: bottom as f32,
    }
}

/// Copies `item` onto `canvas` with its top-left corner at `(top, left)`
/// and returns the item's ink box in canvas pixels. An item that would not
/// fit is an error naming both sizes and the position.
pub fn place(
    item: ArrayView2<f32>,
    mut canvas: ArrayViewMut2<f32>,
    top: usize,
    left: usize,
) -> Result<PixelBox, String> {
    let (h, w) = item.dim();
    let (rows, cols) = canvas.dim();
    if top + h > rows || left + w > cols {
        return Err(format!(
            "a {h}x{w} item at row {top}, column {left} does not fit on a {rows}x{cols} canvas"
        ));
    }
    canvas.slice_mut(s![top..top + h, left..left + w]).assign(&item);
    let ink = ink_box(item);
    Ok(PixelBox {
        left: ink.left + left as f32,
        top: ink.top + top as f32,
        right: ink.right + left as f32,
        bottom: ink.bottom + top as f32,
    })
}

/// Items on canvases: the images `[n, side, side, 1]`, the box targets
/// `[n, 4]` (see `PixelBox::to_targets`) and the boxes.
pub struct Canvases {
    pub images: Array4<f32>,
    pub targets: Array2<f32>,
    pub boxes: Vec<PixelBox>,
}

/// Every image of `images` at a uniformly random position on its own
/// `side` x `side` canvas.
pub fn canvases<R: Rng>(images: &LabelledImages, side: usize, rng: &mut R) -> Result<Canvases, String> {
    let (n, h, w, channels) = images.images.dim();
    if channels != 1 || h > side || w > side {
        return Err(format!(
            "canvases of side {side} take greyscale items of at most {side}x{side}, got {h}x{w}x{channels}"
        ));
    }
    let mut canvas = Array4::<f32>::zeros((n, side, side, 1));
    let mut targets = Array2::<f32>::zeros((n, 4));
    let mut boxes = Vec::with_capacity(n);
    for i in 0..n {
        let top = rng.random_range(0..=side - h);
        let left = rng.random_range(0..=side - w);
        let item = images.images.slice(s![i, .., .., 0]);
        let placed = place(item, canvas.slice_mut(s![i, .., .., 0]), top, left)?;
        targets
            .row_mut(i)
            .assign(&nn::ndarray::arr1(&placed.to_targets(side)));
        boxes.push(placed);
    }
    Ok(Canvases {
        images: canvas,
        targets,
        boxes,
    })
}

/// The mean IoU of predicted box targets `[n, 4]` against `truth`.
pub fn mean_iou(predicted: ArrayView2<f32>, truth: &[PixelBox], side: usize) -> Result<f32, String> {
    if predicted.nrows() != truth.len() || truth.is_empty() {
        return Err(format!(
            "{} predicted boxes for {} true ones (need the same, non-zero number)",
            predicted.nrows(),
            truth.len()
        ));
    }
    let mut sum = 0.0;
    for (row, truth) in predicted.rows().into_iter().zip(truth) {
        let values: Vec<f32> = row.iter().copied().collect();
        sum += PixelBox::from_targets(&values, side)?.iou(truth);
    }
    Ok(sum / truth.len() as f32)
}
