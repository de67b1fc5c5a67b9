//! The convolution family against plain Conv2D in the same run: forward and
//! backward medians of the general (grouped/dilated) kernel at groups 1
//! (its overhead over `Conv2d`), grouped, dilated, depthwise (direct loops),
//! separable and transposed, at MobileNet-like sizes, batch 8.
//!
//! Run: `cargo run --release -p nn-runtime --example conv_family_bench`

use nn_runtime::{
    Activation, Conv2d, Conv2dTranspose, ConvAxis, GroupedConv2d, Padding, SeparableConv2d, Window2d,
    Workspace,
};

mod bench_support;
use bench_support::{filled, median_seconds};

const BATCH: usize = 8;
const REPEATS: usize = 7;

/// Forward and backward (with input gradient) medians in ms.
fn time_grouped(conv: &GroupedConv2d) -> (f64, f64) {
    let x = filled(BATCH * conv.in_len());
    let k = filled(conv.kernel_len());
    let b = filled(conv.filters);
    let mut y = vec![0.0; BATCH * conv.out_len()];
    let mut ws = Workspace::new();
    let fwd = median_seconds(REPEATS, || {
        conv.forward(BATCH, &x, &k, Some(&b), &mut y, &mut ws).unwrap()
    });
    let (mut dy, mut dk, mut db, mut dx) = (
        y.clone(),
        vec![0.0; k.len()],
        vec![0.0; b.len()],
        vec![0.0; x.len()],
    );
    let bwd = median_seconds(REPEATS, || {
        dy.copy_from_slice(&y);
        conv.backward(
            BATCH,
            &x,
            &k,
            &y,
            &mut dy,
            &mut dk,
            Some(&mut db),
            Some(&mut dx),
            &mut ws,
        )
        .unwrap()
    });
    (fwd * 1e3, bwd * 1e3)
}

fn time_plain(conv: &Conv2d) -> (f64, f64) {
    let x = filled(BATCH * conv.in_len());
    let k = filled(conv.kernel_len());
    let b = filled(conv.filters);
    let mut y = vec![0.0; BATCH * conv.out_len()];
    let mut ws = Workspace::new();
    let fwd = median_seconds(REPEATS, || {
        conv.forward(BATCH, &x, &k, Some(&b), &mut y, &mut ws).unwrap()
    });
    let (mut dy, mut dk, mut db, mut dx) = (
        y.clone(),
        vec![0.0; k.len()],
        vec![0.0; b.len()],
        vec![0.0; x.len()],
    );
    let bwd = median_seconds(REPEATS, || {
        dy.copy_from_slice(&y);
        conv.backward(
            BATCH,
            &x,
            &k,
            &y,
            &mut dy,
            &mut dk,
            Some(&mut db),
            Some(&mut dx),
            &mut ws,
        )
        .unwrap()
    });
    (fwd * 1e3, bwd * 1e3)
}

fn row(label: &str, (fwd, bwd): (f64, f64), (base_fwd, base_bwd): (f64, f64)) {
    println!(
        "| {label} | {fwd:.2} | {:.2}x | {bwd:.2} | {:.2}x |",
        fwd / base_fwd,
        bwd / base_bwd
    );
}

fn main() {
    let (h, c) = (28, 64);
    let same = |k, s, d| ConvAxis::new(h, k, s, d, Padding::Same).unwrap();
    let plain = Conv2d {
        window: Window2d {
            in_h: h,
            in_w: h,
            kernel_h: 3,
            kernel_w: 3,
            stride_h: 1,
            stride_w: 1,
            padding: Padding::Same,
        },
        in_channels: c,
        filters: c,
        activation: Activation::Relu,
    };
    let grouped = |groups, d| GroupedConv2d {
        rows: same(3, 1, d),
        cols: same(3, 1, d),
        in_channels: c,
        filters: c,
        groups,
        activation: Activation::Relu,
    };
    println!("{h}x{h}x{c} input, 3x3 kernels, same padding, batch {BATCH}, median of {REPEATS} runs");
    println!("ratios against plain Conv2d (3x3, {c} -> {c}) measured in this run");
    println!("| layer | fwd ms | fwd ratio | bwd ms | bwd ratio |");
    println!("|---|---:|---:|---:|---:|");
    let base = time_plain(&plain);
    row("Conv2d (plain)", base, base);
    row("GroupedConv2d, groups 1", time_grouped(&grouped(1, 1)), base);
    row("GroupedConv2d, dilation 2", time_grouped(&grouped(1, 2)), base);
    row("GroupedConv2d, groups 4", time_grouped(&grouped(4, 1)), base);
    let depthwise = GroupedConv2d::depthwise(same(3, 1, 1), same(3, 1, 1), c, 1, Activation::Relu);
    row("DepthwiseConv2D", time_grouped(&depthwise), base);

    let sep = SeparableConv2d::new(same(3, 1, 1), same(3, 1, 1), c, 1, c, Activation::Relu);
    let x = filled(BATCH * sep.in_len());
    let (dk, pk, b) = (
        filled(sep.depthwise_kernel_len()),
        filled(sep.pointwise_kernel_len()),
        filled(c),
    );
    let mut y = vec![0.0; BATCH * sep.out_len()];
    let mut ws = Workspace::new();
    let fwd = median_seconds(REPEATS, || {
        sep.forward(BATCH, &x, &dk, &pk, Some(&b), &mut y, &mut ws)
            .unwrap()
    });
    let (mut dy, mut ddk, mut dpk, mut db, mut dx) = (
        y.clone(),
        vec![0.0; dk.len()],
        vec![0.0; pk.len()],
        vec![0.0; c],
        vec![0.0; x.len()],
    );
    let bwd = median_seconds(REPEATS, || {
        dy.copy_from_slice(&y);
        sep.backward(
            BATCH,
            &x,
            &dk,
            &pk,
            &y,
            &mut dy,
            &mut ddk,
            &mut dpk,
            Some(&mut db),
            Some(&mut dx),
            &mut ws,
        )
        .unwrap()
    });
    row("SeparableConv2D", (fwd * 1e3, bwd * 1e3), base);

    let half = h / 2;
    let up = |n| ConvAxis::transposed(n, 3, 2, 1, Padding::Same, None).unwrap();
    let t = Conv2dTranspose::new(up(half), up(half), c, c, Activation::Relu);
    let x = filled(BATCH * t.in_len());
    let (k, b) = (filled(t.kernel_len()), filled(c));
    let mut y = vec![0.0; BATCH * t.out_len()];
    let fwd = median_seconds(REPEATS, || {
        t.forward(BATCH, &x, &k, Some(&b), &mut y, &mut ws).unwrap()
    });
    let (mut dy, mut dkt, mut db, mut dx) = (y.clone(), vec![0.0; k.len()], vec![0.0; c], vec![0.0; x.len()]);
    let bwd = median_seconds(REPEATS, || {
        dy.copy_from_slice(&y);
        t.backward(
            BATCH,
            &x,
            &k,
            &y,
            &mut dy,
            &mut dkt,
            Some(&mut db),
            Some(&mut dx),
            &mut ws,
        )
        .unwrap()
    });
    row(
        &format!("Conv2DTranspose {half}->{h}, stride 2"),
        (fwd * 1e3, bwd * 1e3),
        base,
    );
}
