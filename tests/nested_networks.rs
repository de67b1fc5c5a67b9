//! A network used as a layer inside another (Keras's nested `Model`):
//! `let tower = Tower(); tower(a); tower(b)` shares one set of weights
//! between the calls. Checked: gradients against finite differences, the
//! calls computing exactly what the network alone computes with the same
//! weights, weight names, the summary row, and misuse as spanned errors.

mod common;

use std::str::FromStr;

use nn::prelude::*;
use proc_macro2::TokenStream;

network! {
    /// A small tower: a convolution, pooling and an embedding (average
    /// pooling: max pooling's kinks would blur the finite differences).
    struct Tower {
        input image: [6, 6, 2];
        let x = AveragePooling2D(2)(Conv2D(3, 3, padding = same, activation = tanh)(image));
        output embedding = Dense(4, activation = tanh)(flatten(x));
    }

    /// The tower twice, compared as the lecture's siamese head does.
    struct Pair {
        input left: [6, 6, 2];
        input right: [6, 6, 2];
        let tower = Tower();
        let a = tower(left);
        let b = tower(right);
        output same = Dense(1, activation = sigmoid)(abs(subtract(a, b)));
    }

    /// Both embeddings as outputs, to compare with `Tower` alone.
    struct BothEmbeddings {
        input left: [6, 6, 2];
        input right: [6, 6, 2];
        let tower = Tower(name = "tower");
        output a = tower(left);
        output b = tower(right);
    }

    /// `Tower(x)` makes a new instance each time: two sets of weights.
    struct TwoTowers {
        input left: [6, 6, 2];
        input right: [6, 6, 2];
        output joined = concat(Tower(left), Tower(right));
    }

    /// A tower with max pooling, used twice: every kernel weight moves every
    /// pooling window of both calls, so a step of 1e-2 crosses kinks often.
    struct MaxTower {
        input image: [6, 6, 2];
        let x = MaxPooling2D(2)(Conv2D(3, 3, padding = same, activation = tanh)(image));
        output embedding = Dense(4, activation = tanh)(flatten(x));
    }

    struct MaxPair {
        input left: [6, 6, 2];
        input right: [6, 6, 2];
        let tower = MaxTower();
        output same = Dense(1, activation = sigmoid)(abs(subtract(tower(left), tower(right))));
    }

    /// A network using a network that uses a network.
    struct Outer {
        input left: [6, 6, 2];
        input right: [6, 6, 2];
        let pair = Pair();
        output score = add(pair(left, right), pair(right, left));
    }
}

#[test]
fn a_network_used_twice_has_the_gradients_of_finite_differences() {
    let mut net = Pair::new(&mut common::rng(1));
    common::check_network(&mut net, 3, 2);
    let mut outer = Outer::new(&mut common::rng(3));
    common::check_network(&mut outer, 2, 4);
}

/// The open question of the last stop: with max pooling the check at a step
/// of 1e-2 skipped too many points. At 1e-3 kinks are rare and every checked
/// gradient, shared kernel included, agrees with finite differences.
#[test]
fn a_shared_tower_with_max_pooling_has_the_gradients_of_finite_differences() {
    for seed in 0..4 {
        let mut t = MaxTower::new(&mut common::rng(10 + seed));
        common::check_network(&mut t, 3, 20 + seed);
        let mut net = MaxPair::new(&mut common::rng(10 + seed));
        common::check_network(&mut net, 3, 20 + seed);
    }
}

#[test]
fn both_calls_share_one_set_of_weights() {
    let head = 4 + 1;
    assert_eq!(Pair::PARAM_COUNT, Tower::PARAM_COUNT + head);
    assert_eq!(TwoTowers::PARAM_COUNT, 2 * Tower::PARAM_COUNT);
    assert_eq!(Outer::PARAM_COUNT, Pair::PARAM_COUNT);
    let keys: Vec<&str> = Pair::SPEC.params.iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        [
            "tower_1/conv2d_1.kernel",
            "tower_1/conv2d_1.bias",
            "tower_1/dense_1.kernel",
            "tower_1/dense_1.bias",
            "dense_1.kernel",
            "dense_1.bias"
        ]
    );
    let keys: Vec<&str> = TwoTowers::SPEC.params.iter().map(|p| p.key).collect();
    assert!(
        keys.contains(&"tower_1/dense_1.bias") && keys.contains(&"tower_2/dense_1.bias"),
        "{keys:?}"
    );
    let keys: Vec<&str> = Outer::SPEC.params.iter().map(|p| p.key).collect();
    assert_eq!(keys[0], "pair_1/tower_1/conv2d_1.kernel");
}

#[test]
fn each_call_computes_what_the_network_alone_computes() {
    let mut both = BothEmbeddings::new(&mut common::rng(5));
    let mut alone = Tower::new(&mut common::rng(6));
    // The same weights, by name.
    for p in Tower::SPEC.params {
        let nested = BothEmbeddings::SPEC
            .params
            .iter()
            .find(|q| q.key == format!("tower/{}", p.key))
            .unwrap_or_else(|| panic!("no weight tower/{}", p.key));
        let value = both.params()[nested.offset..nested.offset + nested.len].to_vec();
        alone.params_mut()[p.offset..p.offset + p.len].copy_from_slice(&value);
    }
    let mut rng = common::rng(7);
    let left = common::random_vec(&mut rng, 4 * 72);
    let right = common::random_vec(&mut rng, 4 * 72);
    both.forward_slices(4, &[&left, &right], Mode::Infer).unwrap();
    for (i, image) in [&left, &right].into_iter().enumerate() {
        alone.forward_slices(4, &[image], Mode::Infer).unwrap();
        assert_eq!(both.output(i).unwrap(), alone.output(0).unwrap(), "call {i}");
    }
    assert_ne!(both.output(0).unwrap(), both.output(1).unwrap());
}

#[test]
fn weights_round_trip_under_their_nested_names() {
    let dir = common::TempDir::new("nested");
    let path = dir.join("pair.safetensors");
    let net = Pair::new(&mut common::rng(8));
    net.save_weights(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = file.names().into_iter().map(|s| s.to_string()).collect();
    names.sort();
    assert!(names.iter().any(|n| n == "tower_1/conv2d_1.kernel"), "{names:?}");
    let mut other = Pair::new(&mut common::rng(9));
    other.load_weights(&path).unwrap();
    assert_eq!(other.params(), net.params());
}

#[test]
fn the_summary_shows_a_nested_network_as_one_row() {
    let summary = Pair::summary();
    let rows: Vec<&str> = summary
        .lines()
        .filter(|l| !l.starts_with('_') && !l.starts_with('='))
        .collect();
    assert_eq!(Tower::PARAM_COUNT, 169);
    assert!(
        rows.contains(&"tower_1 (Tower)                (None, 4)             169       input_1[0][0]"),
        "{summary}"
    );
    assert!(rows.iter().any(|r| r.trim() == "input_2[0][0]"), "{summary}");
    assert!(rows.iter().any(|r| r.ends_with("tower_1[0][0]")), "{summary}");
    assert!(rows.iter().any(|r| r.trim() == "tower_1[1][0]"), "{summary}");
    assert!(!summary.contains("conv2d_1"), "{summary}");
    assert!(
        summary.contains(&format!("Total params: {}", Pair::PARAM_COUNT)),
        "{summary}"
    );
}

/// The expansion's `compile_error!` messages for `text`.
fn errors(text: &str) -> Vec<String> {
    let out = nn_macros_core::expand(TokenStream::from_str(text).unwrap()).to_string();
    let mut found = Vec::new();
    let mut rest = out.as_str();
    while let Some(at) = rest.find("compile_error") {
        rest = &rest[at..];
        let start = rest.find('"').unwrap() + 1;
        let end = start + rest[start..].find("\" ").unwrap();
        found.push(rest[start..end].to_string());
        rest = &rest[end..];
    }
    found
}

const TOWER: &str = "struct T { input x: [4]; output y = Dense(4)(x); }";

fn assert_error(body: &str, expected: &str) {
    let text = format!("{TOWER} {body}");
    let errs = errors(&text);
    assert!(
        errs.iter().any(|m| m.contains(expected)),
        "expected an error containing {expected:?} for\n{text}\ngot {errs:?}"
    );
}

#[test]
fn misuse_of_a_nested_network_is_a_spanned_error() {
    assert!(errors(&format!(
        "{TOWER} struct A {{ input a: [4]; let t = T(); output y = t(t(a)); }}"
    ))
    .is_empty());
    assert_error(
        "struct A { input a: [5]; let t = T(); output y = t(a); }",
        "network `T` takes `x` as [4], but it is given a [5] tensor",
    );
    assert_error(
        "struct A { input a: [4]; let t = T(); output y = t(a, a); }",
        "network `T` (`t_1`) takes 1 input but 2 were given",
    );
    assert_error(
        "struct A { input a: [4]; let t = T(); output y = Dense(2)(a); }",
        "network `T` (`t_1`) is made here but never applied",
    );
    assert_error(
        "struct A { input a: [4]; let t = T(); output y = Dense(2)(t); }",
        "found a network that is not applied",
    );
    assert_error(
        "struct A { input a: [4]; output y = A()(a); }",
        "network `A` would contain itself (A → A)",
    );
    assert_error(
        "struct A { input a: [4]; output y = B()(a); } struct B { input b: [4]; output y = A()(b); }",
        "network `A` would contain itself (A → B → A)",
    );
    assert_error(
        "struct A { input a: [4]; output y = T(name = 3)(a); }",
        "a network's `name` is a non-empty string",
    );
    assert_error(
        "struct A { input a: [4]; output y = T(units = 3)(a); }",
        "takes only `name = \\\"...\\\"`",
    );
    // A name used twice is one error, whichever of the two was given.
    let given = errors(&format!(
        "{TOWER} struct A {{ input a: [4]; let t = T(name = \"d\"); output y = Dense(2, name = \"d\")(t(a)); }}"
    ));
    assert!(
        given.len() == 1 && given[0].starts_with("layer name"),
        "{given:?}"
    );
    assert_error(
        "struct A { input a: [4]; let t = T(); output y = Dense(2, name = \"t_1\")(t(a)); }",
        "the name `t_1` is used twice, by a layer and a network used as a layer",
    );
    assert_error(
        "struct Two { input x: [4]; output y = Dense(2)(x); output z = Dense(2)(x); } \
         struct A { input a: [4]; output y = Two()(a); }",
        "network `Two` has 2 outputs; a network used as a layer has one",
    );
    // An error inside the network is reported once, at its definition, and
    // the call says it cannot be used.
    let errs = errors("struct Bad { input x: [4]; output y = Dense(0)(x); } struct A { input a: [4]; output y = Bad()(a); }");
    assert!(
        errs.iter()
            .any(|m| m.contains("network `Bad` has errors (reported at its definition)")),
        "{errs:?}"
    );
    let repeated = errs
        .iter()
        .filter(|m| !m.contains("network `Bad` has errors"))
        .count();
    assert_eq!(repeated, 1, "{errs:?}");
}
