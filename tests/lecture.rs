//! The lecture's two networks, written with `network!`, reproduce the Keras
//! summaries printed in the lecture: every layer's output shape and
//! parameter count, and the totals 77,382 and 790,246. (They are defined in
//! `examples/networks/lecture.rs`, shared with the examples and tests.)

#[path = "../examples/networks/lecture.rs"]
mod lecture;

use lecture::{InceptionNet, ResidualNet};
use nn::runtime::Model;

/// (name, type, output shape, params) for each layer, in the order the
/// lecture's table lists them.
type Row = (&'static str, &'static str, &'static [usize], usize);

fn assert_layers(spec: &nn::runtime::ModelSpec, expected: &[Row]) {
    for &(name, kind, shape, params) in expected {
        let layer = spec
            .layers
            .iter()
            .find(|l| l.name == name)
            .unwrap_or_else(|| panic!("no layer named {name} in {}", spec.name));
        assert_eq!(layer.kind, kind, "{name}: type");
        assert_eq!(layer.output_shape, shape, "{name}: output shape");
        assert_eq!(layer.params, params, "{name}: parameters");
    }
    assert_eq!(spec.layers.len(), expected.len(), "layer count of {}", spec.name);
}

fn assert_order(spec: &nn::runtime::ModelSpec, expected: &[Row]) {
    let names: Vec<&str> = spec.layers.iter().map(|l| l.name).collect();
    let wanted: Vec<&str> = expected.iter().map(|r| r.0).collect();
    assert_eq!(names, wanted, "layer order of {}", spec.name);
}

#[test]
fn residual_network_matches_the_lecture_summary() {
    let rows: &[Row] = &[
        ("input_1", "InputLayer", &[64, 64, 3], 0),
        ("conv2d_1", "Conv2D", &[64, 64, 16], 448),
        ("conv2d_2", "Conv2D", &[64, 64, 16], 2320),
        ("conv2d_3", "Conv2D", &[64, 64, 16], 2320),
        ("add_1", "Add", &[64, 64, 16], 0),
        ("activation_1", "Activation", &[64, 64, 16], 0),
        ("conv2d_4", "Conv2D", &[64, 64, 32], 4640),
        ("max_pooling2d_1", "MaxPooling2D", &[32, 32, 32], 0),
        ("conv2d_5", "Conv2D", &[32, 32, 32], 9248),
        ("conv2d_6", "Conv2D", &[32, 32, 32], 9248),
        ("add_2", "Add", &[32, 32, 32], 0),
        ("activation_2", "Activation", &[32, 32, 32], 0),
        ("max_pooling2d_2", "MaxPooling2D", &[16, 16, 32], 0),
        ("flatten_1", "Flatten", &[8192], 0),
        ("dense_1", "Dense", &[6], 49158),
    ];
    assert_layers(&ResidualNet::SPEC, rows);
    assert_order(&ResidualNet::SPEC, rows);
    assert_eq!(ResidualNet::PARAM_COUNT, 77_382);
    assert_eq!(ResidualNet::TRAINABLE_PARAM_COUNT, 77_382);
    let summary = ResidualNet::summary();
    assert!(summary.contains("Total params: 77,382"), "{summary}");
    assert!(summary.contains("Non-trainable params: 0"), "{summary}");
    let add = summary.lines().find(|l| l.starts_with("add_1 (Add)")).unwrap();
    assert!(add.contains("conv2d_3[0][0]"), "{add}");
    let next = summary
        .lines()
        .skip_while(|l| !l.starts_with("add_1"))
        .nth(1)
        .unwrap();
    assert!(
        next.trim() == "conv2d_1[0][0]",
        "second inbound of add_1 on its own line: {next}"
    );
}

#[test]
fn inception_network_matches_the_lecture_summary() {
    assert_layers(
        &InceptionNet::SPEC,
        &[
            ("input_1", "InputLayer", &[64, 64, 3], 0),
            ("conv2d_1", "Conv2D", &[64, 64, 16], 64),
            ("conv2d_2", "Conv2D", &[64, 64, 16], 64),
            ("conv2d_3", "Conv2D", &[64, 64, 16], 2320),
            ("conv2d_4", "Conv2D", &[64, 64, 16], 64),
            ("conv2d_5", "Conv2D", &[64, 64, 16], 6416),
            ("max_pooling2d_1", "MaxPooling2D", &[64, 64, 3], 0),
            ("conv2d_6", "Conv2D", &[64, 64, 16], 64),
            ("concatenate_1", "Concatenate", &[64, 64, 64], 0),
            ("max_pooling2d_2", "MaxPooling2D", &[31, 31, 64], 0),
            ("conv2d_7", "Conv2D", &[31, 31, 32], 2080),
            ("conv2d_8", "Conv2D", &[31, 31, 32], 2080),
            ("conv2d_9", "Conv2D", &[31, 31, 32], 9248),
            ("conv2d_10", "Conv2D", &[31, 31, 32], 2080),
            ("conv2d_11", "Conv2D", &[31, 31, 32], 25632),
            ("max_pooling2d_3", "MaxPooling2D", &[31, 31, 64], 0),
            ("conv2d_12", "Conv2D", &[31, 31, 32], 2080),
            ("concatenate_2", "Concatenate", &[31, 31, 128], 0),
            ("flatten_1", "Flatten", &[123008], 0),
            ("dense_1", "Dense", &[6], 738054),
        ],
    );
    assert_eq!(InceptionNet::PARAM_COUNT, 790_246);
    assert!(InceptionNet::summary().contains("Total params: 790,246"));
}

#[test]
fn lecture_networks_run_forward_and_give_probabilities() {
    use nn::rand::SeedableRng;
    let mut rng = nn::rand::rngs::StdRng::seed_from_u64(1);
    let mut net = ResidualNet::new(&mut rng);
    let x = nn::ndarray::Array4::<f32>::from_shape_fn((2, 64, 64, 3), |(n, h, w, c)| {
        ((n + h * 3 + w * 7 + c * 11) % 17) as f32 / 17.0
    });
    let y = net.predict(x.view()).unwrap();
    assert_eq!(y.shape(), &[2, 6]);
    for row in y.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-5, "softmax rows sum to 1: {row}");
    }
    let mut inception = InceptionNet::new(&mut rng);
    let y = inception.predict(x.view()).unwrap();
    assert_eq!(y.shape(), &[2, 6]);
}

#[test]
fn wrong_input_shape_is_an_error_naming_both_shapes() {
    use nn::rand::SeedableRng;
    let mut net = ResidualNet::new(&mut nn::rand::rngs::StdRng::seed_from_u64(1));
    let x = nn::ndarray::Array4::<f32>::zeros((1, 28, 28, 1));
    let err = net.predict(x.view()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ResidualNet: `x` expects shape [batch, 64, 64, 3] but received [1, 28, 28, 1]"
    );
}

#[test]
fn graph_has_every_layer_with_its_shape_and_every_connection() {
    let dot = ResidualNet::dot();
    assert!(dot.starts_with("digraph \"ResidualNet\" {"), "{dot}");
    assert!(
        dot.contains("\"add_1\" [label=\"{add_1: Add|output: (None, 64, 64, 16)}\"];"),
        "{dot}"
    );
    assert!(dot.contains("\"conv2d_3\" -> \"add_1\";"), "{dot}");
    assert!(dot.contains("\"conv2d_1\" -> \"add_1\";"), "residual edge: {dot}");
    assert!(dot.contains("\"flatten_1\" -> \"dense_1\";"), "{dot}");
    assert_eq!(
        dot.matches(" -> ").count(),
        16,
        "one edge per inbound tensor: {dot}"
    );
}
