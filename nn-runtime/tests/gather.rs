//! The gathered GEMM micro-kernels, every path this CPU supports, against a
//! naive triple loop: odd row and column counts (tile remainders, masked
//! columns), accumulation, bias and an added residual.

mod common;

use common::*;
use nn_runtime::gather::{self, Gather, Output, Path};

fn naive(
    g: &Gather,
    out: &mut [f32],
    ldo: usize,
    accumulate: bool,
    bias: Option<&[f32]>,
    addend: Option<&[f32]>,
) {
    for (r, &ro) in g.row_off.iter().enumerate() {
        for n in 0..g.cols {
            let mut acc = bias.map_or(0.0, |b| b[n] as f64);
            acc += addend.map_or(0.0, |a| a[r * ldo + n] as f64);
            let steps = g.k_off.iter().flat_map(|&start| start..start + g.k_run);
            for (k, ko) in steps.enumerate() {
                acc += g.x[ro + ko] as f64 * g.b[k * g.ldb + n] as f64;
            }
            let d = &mut out[r * ldo + n];
            *d = if accumulate { *d + acc as f32 } else { acc as f32 };
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn case(
    rows: usize,
    k: usize,
    run: usize,
    cols: usize,
    accumulate: bool,
    with_bias: bool,
    with_addend: bool,
) {
    let mut rng = rng((rows * 1000 + k * 10 + cols) as u64);
    let x = random_vec(&mut rng, 500);
    let row_off: Vec<usize> = (0..rows).map(|r| (r * 37) % 300).collect();
    let k_off: Vec<usize> = (0..k).map(|i| (i * 13) % 190).collect();
    let ldb = cols + 3;
    let b = random_vec(&mut rng, k * run * ldb);
    let bias = random_vec(&mut rng, cols);
    let ldo = cols + 1;
    let start = random_vec(&mut rng, rows * ldo);
    let residual = random_vec(&mut rng, rows * ldo);
    let addend = with_addend.then_some(&residual[..]);
    let g = Gather {
        x: &x,
        row_off: &row_off,
        k_off: &k_off,
        k_run: run,
        b: &b,
        ldb,
        cols,
    };
    let mut expected = start.clone();
    naive(
        &g,
        &mut expected,
        ldo,
        accumulate,
        with_bias.then_some(&bias[..]),
        addend,
    );
    for path in [Path::Portable, Path::Avx2, Path::Avx512] {
        if !gather::supported(path) {
            continue;
        }
        gather::force(Some(path));
        let mut out = start.clone();
        let bias_arg = with_bias.then_some(&bias[..]);
        gather::run(
            &g,
            &mut Output {
                out: &mut out,
                ldo,
                accumulate,
                bias: bias_arg,
                addend,
            },
        )
        .unwrap();
        // Untouched padding column between rows stays as it was.
        for r in 0..rows {
            for n in cols..ldo {
                assert_eq!(
                    out[r * ldo + n],
                    start[r * ldo + n],
                    "{path:?} wrote outside its columns"
                );
            }
        }
        assert_close(
            &format!("{path:?} rows {rows} k {k} run {run} cols {cols}"),
            &out,
            &expected,
            1e-4,
        );
    }
    gather::force(None);
}

#[test]
fn gather_tiles_and_remainders_on_every_path() {
    for &(rows, k, cols) in &[
        (1, 1, 1),
        (7, 5, 3),
        (8, 9, 16),
        (13, 27, 17),
        (25, 30, 32),
        (9, 12, 33),
        (30, 7, 48),
        (5, 4, 70),
    ] {
        for run in [1, 3] {
            case(rows, k, run, cols, false, false, false);
            case(rows, k, run, cols, true, true, false);
            case(rows, k, run, cols, false, true, true);
            case(rows, k, run, cols, true, false, true);
        }
    }
}

#[test]
fn gather_rejects_out_of_range_offsets() {
    let x = vec![0.0; 10];
    let g = Gather {
        x: &x,
        row_off: &[0, 5],
        k_off: &[0, 5],
        k_run: 1,
        b: &[0.0; 4],
        ldb: 2,
        cols: 2,
    };
    let mut out = vec![0.0; 4];
    let err = gather::run(
        &g,
        &mut Output {
            out: &mut out,
            ldo: 2,
            accumulate: false,
            bias: None,
            addend: None,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("gather index 10 beyond x of 10"),
        "{err}"
    );
}
