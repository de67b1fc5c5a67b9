//! What F(4x4) computes where the exact answer is a tie: outputs over
//! all-zero windows (around a ReLU's zeros) and over a flat image, for the
//! direct kernel and both Winograd tiles (issue #9; see `trajectory_gap.rs`).
//! Not built by CI; to run it:
//!
//! ```text
//! cp tools/probes/zero_windows.rs nn-runtime/examples/ &&
//!     cargo run --profile test -p nn-runtime --example zero_windows;
//!     rm nn-runtime/examples/zero_windows.rs
//! ```
use nn_runtime::conv_algorithm::{self, Choice};
use nn_runtime::winograd::Tile;
use nn_runtime::{Activation, Conv2d, Padding, Window2d, Workspace};

fn main() {
    let (h, c, f) = (14usize, 32usize, 32usize);
    let conv = Conv2d {
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
        filters: f,
        activation: Activation::Linear,
    };
    let mut seed = 12345u64;
    let mut rnd = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    };
    let kernel: Vec<f32> = (0..9 * c * f).map(|_| rnd() * 0.2).collect();
    let bias = vec![0.0f32; f];
    // Image A: data in rows/cols 0..6 (an object), zeros elsewhere.
    let mut xa = vec![0.0f32; h * h * c];
    for y in 0..6 {
        for x in 0..6 {
            for ch in 0..c {
                xa[(y * h + x) * c + ch] = rnd().max(0.0);
            }
        }
    }
    // Image B: every pixel the same values (a flat region).
    let pixel: Vec<f32> = (0..c).map(|_| rnd().max(0.0)).collect();
    let xb: Vec<f32> = (0..h * h).flat_map(|_| pixel.clone()).collect();
    for (name, choice) in [
        ("direct", Choice::Direct),
        ("F2", Choice::Winograd(Tile::F2)),
        ("F4", Choice::Winograd(Tile::F4)),
    ] {
        conv_algorithm::force(Some(choice));
        let mut ws = Workspace::new();
        let mut ya = vec![0.0f32; h * h * f];
        conv.forward(1, &xa, &kernel, Some(&bias), &mut ya, &mut ws)
            .unwrap();
        let (mut zero_windows, mut exact, mut positive, mut worst) = (0, 0, 0, 0.0f32);
        for y in 0..h {
            for x in 0..h {
                if y <= 6 && x <= 6 {
                    continue;
                } // window touches the object
                for o in 0..f {
                    let v = ya[(y * h + x) * f + o];
                    zero_windows += 1;
                    exact += usize::from(v == 0.0);
                    positive += usize::from(v > 0.0);
                    worst = worst.max(v.abs());
                }
            }
        }
        let mut yb = vec![0.0f32; h * h * f];
        conv.forward(1, &xb, &kernel, Some(&bias), &mut yb, &mut ws)
            .unwrap();
        // Interior pixels (window inside the image) should all be equal.
        let mut unequal = 0;
        let mut spread = 0.0f32;
        for o in 0..f {
            let first = yb[(h + 1) * f + o];
            for y in 1..h - 1 {
                for x in 1..h - 1 {
                    let v = yb[(y * h + x) * f + o];
                    unequal += usize::from(v != first);
                    spread = spread.max((v - first).abs() / first.abs());
                }
            }
        }
        println!("{name}: zero windows: {exact} of {zero_windows} outputs exactly 0, {positive} > 0, largest |y| {worst:.1e}; flat image: {unequal} of {} interior outputs differ from the first, by up to {spread:.1e} relative",
            f * (h - 2) * (h - 2));
    }
}
