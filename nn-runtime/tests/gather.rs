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

        // The same product with `b` packed into column panels.
        let mut packed = vec![f32::NAN; gather::packed_len(k * run, cols)];
        gather::pack(&b, ldb, k * run, cols, &mut packed);
        let packed_g = Gather {
            x: &x,
            row_off: &row_off,
            k_off: &k_off,
            k_run: run,
            b: &packed,
            ldb: 0,
            cols,
        };
        let mut out = start.clone();
        gather::run_packed(
            &packed_g,
            &mut Output {
                out: &mut out,
                ldo,
                accumulate,
                bias: bias_arg,
                addend,
            },
        )
        .unwrap();
        for r in 0..rows {
            for n in cols..ldo {
                assert_eq!(
                    out[r * ldo + n],
                    start[r * ldo + n],
                    "packed {path:?} wrote outside"
                );
            }
        }
        assert_close(
            &format!("packed {path:?} rows {rows} k {k} run {run} cols {cols}"),
            &out,
            &expected,
            1e-4,
        );
    }
    gather::force(None);
}

#[test]
fn packed_b_shorter_than_its_panels_is_an_error() {
    let x = vec![1.0; 8];
    let g = Gather {
        x: &x,
        row_off: &[0],
        k_off: &[0, 1],
        k_run: 1,
        b: &[0.0; 63],
        ldb: 0,
        cols: 33,
    };
    let mut out = vec![0.0; 33];
    let err = gather::run_packed(
        &g,
        &mut Output {
            out: &mut out,
            ldo: 33,
            accumulate: false,
            bias: None,
            addend: None,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("packed b of 63 floats, expected 128"),
        "{err}"
    );
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
        (11, 6, 97),
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

/// Runs `g` into a fresh output of `out_len` floats on every path and
/// returns the (identical) outcome.
fn outcome(g: &Gather, out_len: usize, ldo: usize, bias: Option<&[f32]>, addend: Option<&[f32]>) -> String {
    let mut seen = None;
    for path in [Path::Portable, Path::Avx2, Path::Avx512] {
        if !gather::supported(path) {
            continue;
        }
        gather::force(Some(path));
        let mut out = vec![0.0; out_len];
        let result = gather::run(
            g,
            &mut Output {
                out: &mut out,
                ldo,
                accumulate: true,
                bias,
                addend,
            },
        );
        let text = match result {
            Ok(()) => format!("ok {out:?}"),
            Err(e) => e.to_string(),
        };
        if let Some(previous) = &seen {
            assert_eq!(&text, previous, "{path:?} disagrees");
        }
        seen = Some(text);
    }
    gather::force(None);
    seen.unwrap()
}

fn rejects(text: String, needle: &str) {
    assert!(
        text.contains(needle),
        "expected an error containing {needle:?}, got {text}"
    );
}

// Contract 3: the checks count every step of a run, not only its first
// (a 1-float `x` with runs of 4 used to be read past its end on AVX paths).
#[test]
fn gather_contract_runs_stay_inside_x() {
    let b = vec![1.0; 4 * 8];
    let mut g = Gather {
        x: &[1.0],
        row_off: &[0],
        k_off: &[0],
        k_run: 4,
        b: &b,
        ldb: 8,
        cols: 8,
    };
    rejects(outcome(&g, 8, 8, None, None), "gather index 3 beyond x of 1");
    let x = [1.0, 2.0, 3.0, 4.0];
    g.x = &x;
    assert!(outcome(&g, 8, 8, None, None).starts_with("ok [10.0"));
    // Offsets near usize::MAX are an error, not an overflow.
    g.row_off = &[usize::MAX];
    rejects(outcome(&g, 8, 8, None, None), "overflow");
}

// Contract 2: a run has at least one step.
#[test]
fn gather_contract_runs_are_not_empty() {
    let g = Gather {
        x: &[1.0; 4],
        row_off: &[0],
        k_off: &[0],
        k_run: 0,
        b: &[1.0; 8],
        ldb: 8,
        cols: 8,
    };
    rejects(outcome(&g, 8, 8, None, None), "k_run is 0");
}

// Contract 4: `b` holds a row for every step (runs included) and `ldb >= cols`.
#[test]
fn gather_contract_b_covers_every_step() {
    let x = [1.0; 8];
    let b = vec![1.0; 3 * 5 + 5];
    let mut g = Gather {
        x: &x,
        row_off: &[0],
        k_off: &[0],
        k_run: 5,
        b: &b,
        ldb: 5,
        cols: 5,
    };
    // 5 steps need 4 * 5 + 5 = 25 floats; 20 given.
    rejects(
        outcome(&g, 5, 5, None, None),
        "b of 20 floats too short for 5 rows",
    );
    g.k_run = 4;
    assert!(outcome(&g, 5, 5, None, None).starts_with("ok [4.0"));
    g.ldb = 4;
    rejects(outcome(&g, 5, 5, None, None), "ldb 4");
}

// Contract 5: the output holds every row, `ldo >= cols`.
#[test]
fn gather_contract_output_holds_every_row() {
    let g = Gather {
        x: &[1.0; 4],
        row_off: &[0, 1, 2],
        k_off: &[0],
        k_run: 1,
        b: &[1.0; 3],
        ldb: 3,
        cols: 3,
    };
    rejects(
        outcome(&g, 8, 3, None, None),
        "out of 8 floats too short for 3 rows",
    );
    rejects(outcome(&g, 9, 2, None, None), "ldo 2");
    assert!(outcome(&g, 9, 3, None, None).starts_with("ok"));
}

// Contract 6: bias and addend cover every column and row.
#[test]
fn gather_contract_bias_and_addend_cover_the_output() {
    let g = Gather {
        x: &[1.0; 4],
        row_off: &[0, 1],
        k_off: &[0],
        k_run: 1,
        b: &[1.0; 3],
        ldb: 3,
        cols: 3,
    };
    rejects(
        outcome(&g, 6, 3, Some(&[1.0; 2]), None),
        "bias of 2 for 3 columns",
    );
    rejects(outcome(&g, 6, 3, None, Some(&[1.0; 5])), "addend of 5 floats");
    assert_eq!(
        outcome(&g, 6, 3, Some(&[1.0; 3]), Some(&[2.0; 6])),
        format!("ok {:?}", [4.0f32; 6])
    );
}

// Slices sized exactly (no slack after the last column, row or step) and
// column counts below one vector: the masked tails stay inside them and
// every path agrees with the naive product.
#[test]
fn gather_exactly_sized_operands_on_every_path() {
    for cols in [1, 3, 7, 8, 9, 15, 17] {
        for run in [1, 2] {
            let rows = 7;
            let k = 3;
            let mut rng = rng(cols as u64 * 10 + run as u64);
            let row_off: Vec<usize> = (0..rows).map(|r| r * 2).collect();
            let k_off: Vec<usize> = (0..k).map(|t| t * 3).collect();
            let x = random_vec(&mut rng, (rows - 1) * 2 + (k - 1) * 3 + run);
            let ldb = cols;
            let b = random_vec(&mut rng, (k * run - 1) * ldb + cols);
            let bias = random_vec(&mut rng, cols);
            let addend = random_vec(&mut rng, (rows - 1) * cols + cols);
            let g = Gather {
                x: &x,
                row_off: &row_off,
                k_off: &k_off,
                k_run: run,
                b: &b,
                ldb,
                cols,
            };
            let mut expected = vec![0.0; rows * cols];
            naive(&g, &mut expected, cols, true, Some(&bias), Some(&addend));
            for path in [Path::Portable, Path::Avx2, Path::Avx512] {
                if !gather::supported(path) {
                    continue;
                }
                gather::force(Some(path));
                let mut out = vec![0.0; rows * cols];
                gather::run(
                    &g,
                    &mut Output {
                        out: &mut out,
                        ldo: cols,
                        accumulate: true,
                        bias: Some(&bias),
                        addend: Some(&addend),
                    },
                )
                .unwrap();
                assert_close(&format!("{path:?} cols {cols} run {run}"), &out, &expected, 1e-4);
            }
            gather::force(None);
        }
    }
}
