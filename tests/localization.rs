//! The localization example's pieces (`examples/common/localization.rs`):
//! IoU against boxes worked out by hand, the ink box, placing items on the
//! canvas, and a brief training of a class + box network on the vendored
//! Fashion-MNIST whose boxes must beat always predicting the mean box.

#[path = "../examples/common/localization.rs"]
mod localization;

use localization::{canvases, ink_box, mean_iou, place, PixelBox};
use nn::ndarray::{s, Array2, Axis, Ix2};
use nn::prelude::*;
use nn::rand::rngs::StdRng;
use nn::rand::SeedableRng;

fn pixel_box(left: f32, top: f32, right: f32, bottom: f32) -> PixelBox {
    PixelBox {
        left,
        top,
        right,
        bottom,
    }
}

fn vendored() -> (datasets::LabelledImages, datasets::LabelledImages) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/fashion-mnist-subset");
    datasets::fashion_mnist(std::path::Path::new(dir)).unwrap()
}

#[test]
fn iou_of_boxes_worked_out_by_hand() {
    let a = pixel_box(0.0, 0.0, 4.0, 4.0);
    // Overlap 2x2 = 4, union 16 + 16 - 4 = 28.
    assert_eq!(a.iou(&pixel_box(2.0, 2.0, 6.0, 6.0)), 4.0 / 28.0);
    assert_eq!(a.iou(&a), 1.0);
    // Inside: 2x2 of a 10x10.
    assert_eq!(
        pixel_box(0.0, 0.0, 10.0, 10.0).iou(&pixel_box(2.0, 2.0, 4.0, 4.0)),
        4.0 / 100.0
    );
    // Sharing an edge only, or apart.
    assert_eq!(a.iou(&pixel_box(4.0, 0.0, 8.0, 4.0)), 0.0);
    assert_eq!(a.iou(&pixel_box(10.0, 10.0, 12.0, 12.0)), 0.0);
    // A 2x4 strip across a 4x2 strip: overlap 2x2 = 4, union 8 + 8 - 4 = 12.
    assert_eq!(
        pixel_box(0.0, 1.0, 4.0, 3.0).iou(&pixel_box(1.0, 0.0, 3.0, 4.0)),
        4.0 / 12.0
    );
    // An inverted prediction has no area; two empty boxes overlap nowhere.
    let inverted = pixel_box(3.0, 3.0, 1.0, 1.0);
    assert_eq!(inverted.area(), 0.0);
    assert_eq!(a.iou(&inverted), 0.0);
    assert_eq!(inverted.iou(&inverted), 0.0);
    // Symmetric.
    let b = pixel_box(1.5, 0.5, 5.0, 3.0);
    assert_eq!(a.iou(&b), b.iou(&a));
}

#[test]
fn box_targets_are_edges_over_the_canvas_side_and_back() {
    let b = pixel_box(16.0, 8.0, 48.0, 64.0);
    assert_eq!(b.to_targets(64), [0.25, 0.125, 0.75, 1.0]);
    assert_eq!(PixelBox::from_targets(&b.to_targets(64), 64).unwrap(), b);
    let err = PixelBox::from_targets(&[0.1, 0.2, 0.3], 64).unwrap_err();
    assert!(err.contains("4 numbers, got 3"), "{err}");
    let predicted =
        Array2::from_shape_vec((2, 4), vec![0.0, 0.0, 0.0625, 0.0625, 0.0, 0.0, 0.0625, 0.0625]).unwrap();
    // Box 0..4 against itself (1) and against 2..6 (4/28).
    let truth = [pixel_box(0.0, 0.0, 4.0, 4.0), pixel_box(2.0, 2.0, 6.0, 6.0)];
    assert_eq!(
        mean_iou(predicted.view(), &truth, 64).unwrap(),
        (1.0 + 4.0 / 28.0) / 2.0
    );
    assert!(mean_iou(predicted.view(), &truth[..1], 64).is_err());
}

#[test]
fn the_ink_box_is_tight_and_a_blank_item_is_all_box() {
    let mut item = Array2::<f32>::zeros((28, 28));
    item.slice_mut(s![3..6, 10..21]).fill(0.5);
    item[[4, 12]] = localization::INK / 2.0; // too faint to widen anything
    item[[27, 0]] = localization::INK / 2.0;
    assert_eq!(ink_box(item.view()), pixel_box(10.0, 3.0, 21.0, 6.0));
    item[[27, 0]] = localization::INK;
    assert_eq!(ink_box(item.view()), pixel_box(0.0, 3.0, 21.0, 28.0));
    assert_eq!(
        ink_box(Array2::zeros((28, 28)).view()),
        pixel_box(0.0, 0.0, 28.0, 28.0)
    );
}

#[test]
fn placing_copies_the_item_and_moves_its_box() {
    let mut item = Array2::<f32>::zeros((28, 28));
    item.slice_mut(s![2..20, 5..9]).fill(1.0);
    let mut canvas = Array2::<f32>::zeros((64, 64));
    let placed = place(item.view(), canvas.view_mut(), 30, 36).unwrap();
    assert_eq!(placed, pixel_box(41.0, 32.0, 45.0, 50.0));
    assert_eq!(canvas.slice(s![30..58, 36..64]), item);
    assert_eq!(canvas.sum(), item.sum());
    // One row or column further would leave the canvas: an error, nothing written.
    let mut other = Array2::<f32>::zeros((64, 64));
    let err = place(item.view(), other.view_mut(), 37, 0).unwrap_err();
    assert!(
        err.contains("28x28 item at row 37, column 0 does not fit on a 64x64 canvas"),
        "{err}"
    );
    assert!(place(item.view(), other.view_mut(), 0, 37).is_err());
    assert_eq!(other.sum(), 0.0);
}

#[test]
fn canvases_of_the_vendored_data_hold_each_item_whole_at_varied_places() {
    let (_, test) = vendored();
    let mut rng = StdRng::seed_from_u64(3);
    let placed = canvases(&test, 64, &mut rng).unwrap();
    let (canvas, targets, boxes) = (placed.images, placed.targets, placed.boxes);
    assert_eq!(canvas.dim(), (test.len(), 64, 64, 1));
    assert_eq!(targets.dim(), (test.len(), 4));
    let mut lefts = std::collections::BTreeSet::new();
    for (i, b) in boxes.iter().enumerate() {
        assert!(0.0 <= b.left && b.left < b.right && b.right <= 64.0, "{b:?}");
        assert!(0.0 <= b.top && b.top < b.bottom && b.bottom <= 64.0, "{b:?}");
        assert_eq!(targets.row(i).to_vec(), b.to_targets(64).to_vec());
        // The whole item is on the canvas (nothing clipped) and in its box.
        let on_canvas = canvas.index_axis(Axis(0), i).sum();
        let item = test.images.index_axis(Axis(0), i).sum();
        assert!((on_canvas - item).abs() <= 1e-3 * item.max(1.0));
        let inside = canvas
            .slice(s![
                i,
                b.top as usize..b.bottom as usize,
                b.left as usize..b.right as usize,
                0
            ])
            .iter()
            .filter(|&&v| v >= localization::INK)
            .count();
        let ink = canvas
            .index_axis(Axis(0), i)
            .iter()
            .filter(|&&v| v >= localization::INK)
            .count();
        assert_eq!(inside, ink);
        lefts.insert(b.left as usize);
    }
    // Positions are spread over the canvas, not one place.
    assert!(lefts.len() > 30, "only {} distinct left edges", lefts.len());
    // A canvas smaller than the items is an error.
    let err = canvases(&test, 20, &mut rng).err().unwrap();
    assert!(err.contains("at most 20x20"), "{err}");
}

network! {
    /// A small class + box network (the example's, narrower).
    struct SmallLocalizer {
        input canvas: [64, 64, 1];
        let x = MaxPooling2D(2)(Conv2D(8, 3, padding = same, activation = relu)(canvas));
        let x = MaxPooling2D(2)(Conv2D(16, 3, padding = same, activation = relu)(x));
        let x = MaxPooling2D(2)(Conv2D(16, 3, padding = same, activation = relu)(x));
        let features = Dense(64, activation = relu)(flatten(x));
        output class = Dense(10, activation = softmax)(features);
        output bbox = Dense(4)(features);
    }
}

#[test]
fn brief_training_finds_the_boxes_better_than_the_mean_box() {
    let (train, test) = vendored();
    let mut rng = StdRng::seed_from_u64(7);
    let train = datasets::LabelledImages {
        images: train.images.slice(s![..3000, .., .., ..]).to_owned(),
        labels: train.labels[..3000].to_vec(),
    };
    let train_placed = canvases(&train, 64, &mut rng).unwrap();
    let (train_canvas, train_targets) = (train_placed.images, train_placed.targets);
    let test_placed = canvases(&test, 64, &mut rng).unwrap();
    let (test_canvas, test_boxes) = (test_placed.images, test_placed.boxes);
    let mean_box = train_targets.mean_axis(Axis(0)).unwrap();
    let baseline = Array2::from_shape_fn((test.len(), 4), |(_, j)| mean_box[j]);
    let baseline_iou = mean_iou(baseline.view(), &test_boxes, 64).unwrap();

    let data = Dataset::from_arrays(
        vec![train_canvas.into_dyn()],
        vec![
            one_hot(&train.labels, 10).unwrap().into_dyn(),
            train_targets.into_dyn(),
        ],
    )
    .unwrap();
    let mut net = SmallLocalizer::new(&mut rng);
    let mut trainer = Trainer::with_losses(
        Adam::new(2e-3),
        vec![Loss::CategoricalCrossentropy, Loss::MeanSquaredError],
        vec![1.0, 10.0],
    )
    .with_output_metrics("class", &["accuracy"])
    .unwrap();
    let config = FitConfig {
        epochs: 2,
        batch_size: 32,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    let history = trainer.fit(&mut net, &data, None, &config, &mut []).unwrap();
    // The total is the weighted sum (Keras's loss_weights).
    let last = history.epochs.last().unwrap();
    let weighted = last.get("class_loss").unwrap() + 10.0 * last.get("bbox_loss").unwrap();
    assert!((last.get("loss").unwrap() - weighted).abs() < 1e-4 * weighted);

    let outputs = predict(&mut net, &[test_canvas.into_dyn().view()], 256).unwrap();
    let boxes = outputs[1].clone().into_dimensionality::<Ix2>().unwrap();
    let trained_iou = mean_iou(boxes.view(), &test_boxes, 64).unwrap();
    let classes = outputs[0].clone().into_dimensionality::<Ix2>().unwrap();
    let correct = classes
        .rows()
        .into_iter()
        .zip(&test.labels)
        .filter(|(row, &label)| {
            let best = row
                .iter()
                .enumerate()
                .fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
            best.0 == label
        })
        .count();
    let accuracy = correct as f32 / test.len() as f32;
    eprintln!("mean IoU {trained_iou:.3} (mean box {baseline_iou:.3}), class accuracy {accuracy:.3}");
    assert!(
        trained_iou > baseline_iou + 0.15,
        "mean IoU {trained_iou:.3} after training, {baseline_iou:.3} for the mean box"
    );
    // Two short epochs: the class head is well above chance, not yet good.
    assert!(accuracy > 0.2, "class accuracy {accuracy:.3} (chance 0.1)");
}
