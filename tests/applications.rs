//! `nn::applications` against keras.applications: every network's total,
//! trainable and non-trainable parameter counts, and every row of its
//! summary (layer class, output shape, parameter count) against the rows
//! Keras 3 lists for `keras.applications.X(weights=None)`, and which rows
//! feed each row (Keras's "Connected to", in argument order), so a
//! concatenation of the right layers in the wrong order is caught too.
//!
//! The Keras rows are in `tests/fixtures/keras_applications/*.tsv`, made by
//! `tools/keras/make_applications_fixture.py`. Layer names are not compared:
//! Keras's application names (`conv1_conv`) are chosen by hand in its
//! source, nn's are Keras's automatic ones (`conv2d_1`).
//!
//! Row order: nn lists layers in order of first use; Keras 3 lists them by
//! depth (longest path to an output, deepest first), ties broken by the
//! order a depth-first walk from the outputs meets them
//! (`keras/src/ops/function.py`, `map_graph`). [`keras_order`] applies
//! Keras's rule to nn's layer graph, so the comparison is row by row in
//! Keras's order and also checks that the layers are wired as Keras wires
//! them (a branch of the wrong length moves its rows).

use nn::applications::{DenseNet121, InceptionV3, MobileNetV2, ResNet50, VGG16};
use nn::runtime::{LayerSpec, Model, ModelSpec};

/// One summary row: layer class, output shape without the batch axis,
/// parameter count, and the rows (indices in Keras's order) it reads.
#[derive(Debug, PartialEq, Eq)]
struct Row {
    class: String,
    shape: Vec<usize>,
    params: usize,
    inbound: Vec<usize>,
}

/// Keras's rows and its (total, trainable, non-trainable) counts.
fn keras_rows(fixture: &str) -> (Vec<Row>, [usize; 3]) {
    let mut lines = fixture.lines();
    let header = lines.next().expect("fixture has a header line");
    let counts: Vec<usize> = header
        .trim_start_matches('#')
        .split_whitespace()
        .map(|n| n.parse().expect("count"))
        .collect();
    let rows = lines
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            assert_eq!(cells.len(), 4, "fixture row `{line}`");
            let numbers = |cell: &str| -> Vec<usize> {
                cell.split(',')
                    .filter(|n| !n.is_empty())
                    .map(|n| n.parse().expect("number"))
                    .collect()
            };
            Row {
                class: cells[0].to_string(),
                shape: numbers(cells[1]),
                params: cells[2].parse().expect("param count"),
                inbound: numbers(cells[3]),
            }
        })
        .collect();
    (rows, [counts[0], counts[1], counts[2]])
}

/// Layer `layer`'s row; `position[l]` is layer `l`'s row in Keras's order.
fn row_of(spec: &ModelSpec, layer: usize, position: &[usize]) -> Row {
    let node = spec
        .nodes
        .iter()
        .find(|n| n.layer == layer)
        .expect("every layer is applied");
    assert_eq!(
        spec.nodes.iter().filter(|n| n.layer == layer).count(),
        1,
        "applications apply each layer once"
    );
    let spec_layer: &LayerSpec = &spec.layers[layer];
    Row {
        class: spec_layer.kind.to_string(),
        shape: spec_layer.output_shape.to_vec(),
        params: spec_layer.params,
        inbound: node
            .inputs
            .iter()
            .map(|&n| position[spec.nodes[n].layer])
            .collect(),
    }
}

/// The indices of `spec.layers` in the order Keras 3 lists a functional
/// model's layers (see the module comment).
fn keras_order(spec: &ModelSpec) -> Vec<usize> {
    // Depth-first from each output, inputs in argument order: the first
    // visit numbers a layer; nodes are appended when finished, so inputs
    // come before their readers.
    fn visit(
        spec: &ModelSpec,
        node: usize,
        seen: &mut [Option<usize>],
        finished: &mut Vec<bool>,
        post: &mut Vec<usize>,
    ) {
        if finished[node] {
            return;
        }
        let layer = spec.nodes[node].layer;
        if seen[layer].is_none() {
            seen[layer] = Some(seen.iter().flatten().count());
        }
        for &input in spec.nodes[node].inputs {
            visit(spec, input, seen, finished, post);
        }
        finished[node] = true;
        post.push(node);
    }
    let mut seen = vec![None; spec.layers.len()];
    let mut finished = vec![false; spec.nodes.len()];
    let mut post = Vec::new();
    for output in spec.outputs {
        visit(spec, output.node, &mut seen, &mut finished, &mut post);
    }
    // Depth: 0 at the outputs, one more than the deepest reader.
    let mut node_depth = vec![0usize; spec.nodes.len()];
    let mut layer_depth = vec![0usize; spec.layers.len()];
    for &node in post.iter().rev() {
        let layer = spec.nodes[node].layer;
        let depth = node_depth[node].max(layer_depth[layer]);
        layer_depth[layer] = depth;
        node_depth[node] = depth;
        for &input in spec.nodes[node].inputs {
            node_depth[input] = node_depth[input].max(depth + 1);
        }
    }
    let mut order: Vec<usize> = (0..spec.layers.len()).collect();
    order.sort_by_key(|&l| {
        (
            std::cmp::Reverse(layer_depth[l]),
            seen[l].expect("every layer reaches an output"),
        )
    });
    order
}

/// Asserts the counts (Keras's fixture and the figures keras.applications
/// documents) and every row in Keras's order.
fn assert_matches_keras(spec: &ModelSpec, counts: [usize; 3], fixture: &str) {
    let (expected, keras_counts) = keras_rows(fixture);
    assert_eq!(keras_counts, counts, "{}: the fixture's counts", spec.name);
    let ours = [
        spec.total_count(),
        spec.trainable_count(),
        spec.non_trainable_count(),
    ];
    assert_eq!(ours, counts, "{}: total, trainable, non-trainable", spec.name);
    assert_eq!(spec.layers.len(), expected.len(), "{}: layer count", spec.name);
    let order = keras_order(spec);
    let mut position = vec![0; order.len()];
    for (row, &layer) in order.iter().enumerate() {
        position[layer] = row;
    }
    for (i, (&layer, keras)) in order.iter().zip(&expected).enumerate() {
        assert_eq!(
            row_of(spec, layer, &position),
            *keras,
            "{}: row {i} of Keras's summary, nn's layer `{}`",
            spec.name,
            spec.layers[layer].name
        );
    }
}

#[test]
fn vgg16_matches_keras_applications() {
    assert_matches_keras(
        &VGG16::SPEC,
        [138_357_544, 138_357_544, 0],
        include_str!("fixtures/keras_applications/vgg16.tsv"),
    );
    let summary = VGG16::summary();
    assert!(summary.contains("Total params: 138,357,544"), "{summary}");
}

#[test]
fn resnet50_matches_keras_applications() {
    assert_matches_keras(
        &ResNet50::SPEC,
        [25_636_712, 25_583_592, 53_120],
        include_str!("fixtures/keras_applications/resnet50.tsv"),
    );
    assert_eq!(ResNet50::SPEC.layers.len(), 177);
    let summary = ResNet50::summary();
    assert!(summary.contains("Total params: 25,636,712"), "{summary}");
    assert!(summary.contains("Trainable params: 25,583,592"), "{summary}");
    assert!(summary.contains("Non-trainable params: 53,120"), "{summary}");
}

#[test]
fn inception_v3_matches_keras_applications() {
    assert_matches_keras(
        &InceptionV3::SPEC,
        [23_851_784, 23_817_352, 34_432],
        include_str!("fixtures/keras_applications/inception_v3.tsv"),
    );
    let summary = InceptionV3::summary();
    assert!(summary.contains("Total params: 23,851,784"), "{summary}");
    assert!(summary.contains("Non-trainable params: 34,432"), "{summary}");
}

#[test]
fn mobilenet_v2_matches_keras_applications() {
    assert_matches_keras(
        &MobileNetV2::SPEC,
        [3_538_984, 3_504_872, 34_112],
        include_str!("fixtures/keras_applications/mobilenet_v2.tsv"),
    );
    let summary = MobileNetV2::summary();
    assert!(summary.contains("Total params: 3,538,984"), "{summary}");
    assert!(summary.contains("Non-trainable params: 34,112"), "{summary}");
}

#[test]
fn densenet121_matches_keras_applications() {
    assert_matches_keras(
        &DenseNet121::SPEC,
        [8_062_504, 7_978_856, 83_648],
        include_str!("fixtures/keras_applications/densenet121.tsv"),
    );
    let summary = DenseNet121::summary();
    assert!(summary.contains("Total params: 8,062,504"), "{summary}");
}

/// One image through ResNet50, DenseNet121 and MobileNetV2 (VGG16's 138 million
/// parameters are left out to keep CI light): 1000 finite probabilities
/// summing to 1, and a wrong input size refused with both shapes named.
#[test]
fn applications_predict_one_image() {
    use nn::ndarray::Array4;
    use nn::rand::SeedableRng;
    let mut rng = nn::rand::rngs::StdRng::seed_from_u64(3);
    let image = Array4::<f32>::from_shape_fn((1, 224, 224, 3), |(_, h, w, c)| {
        ((h * 31 + w * 17 + c * 7) % 256) as f32 / 256.0
    });
    let check = |name: &str, probabilities: nn::ndarray::Array2<f32>| {
        assert_eq!(probabilities.shape(), &[1, 1000], "{name}");
        assert!(probabilities.iter().all(|p| p.is_finite() && *p >= 0.0), "{name}");
        let sum: f32 = probabilities.sum();
        assert!((sum - 1.0).abs() < 1e-4, "{name}: probabilities sum to {sum}");
    };
    let mut resnet = ResNet50::new(&mut rng);
    check("ResNet50", resnet.predict(image.view()).unwrap());
    let mut densenet = DenseNet121::new(&mut rng);
    check("DenseNet121", densenet.predict(image.view()).unwrap());
    let mut mobilenet = MobileNetV2::new(&mut rng);
    check("MobileNetV2", mobilenet.predict(image.view()).unwrap());
    let small = Array4::<f32>::zeros((1, 299, 299, 3));
    let err = resnet.predict(small.view()).unwrap_err().to_string();
    assert!(
        err.contains("[batch, 224, 224, 3]") && err.contains("[1, 299, 299, 3]"),
        "{err}"
    );
}
