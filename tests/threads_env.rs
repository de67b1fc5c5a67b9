//! `NN_NUM_THREADS` that is not a whole number of at least 1 is reported as
//! an error by the first network call, not silently replaced by every
//! core. Each value runs in a child process (the variable is read once per
//! process).

use std::process::Command;

use nn::ndarray::Array2;
use nn::prelude::*;
use nn::runtime::threads;

network! {
    struct Tiny {
        input x: [3];
        output y = Dense(2)(x);
    }

    /// A 32 -> 32 3x3 convolution on 8x8: Winograd under the cost rule.
    struct WideConv {
        input x: [8, 8, 32];
        output y = Conv2D(32, 3, padding = same)(x);
    }
}

/// The child: one prediction, its outcome printed for the parent.
#[test]
#[ignore = "run by its parent test in a child process"]
fn threads_env_child() {
    if std::env::var_os("NN_THREADS_CHILD").is_none() {
        return;
    }
    let mut net = Tiny::new(&mut <nn::rand::rngs::StdRng as nn::rand::SeedableRng>::seed_from_u64(1));
    let outcome = match net.predict(Array2::<f32>::zeros((2, 3)).view()) {
        Ok(_) => format!("ok with {} threads", threads::current()),
        Err(e) => format!("error {e:?} / {e}"),
    };
    println!("OUTCOME: {outcome}");
}

/// The `NN_CONV` child: one convolution's prediction, printed.
#[test]
#[ignore = "run by its parent test in a child process"]
fn conv_env_child() {
    if std::env::var_os("NN_CONV_CHILD").is_none() {
        return;
    }
    let mut net = WideConv::new(&mut <nn::rand::rngs::StdRng as nn::rand::SeedableRng>::seed_from_u64(1));
    let x = nn::ndarray::Array4::from_shape_fn((2, 8, 8, 32), |(n, i, j, c)| {
        ((n * 7 + i * 5 + j * 3 + c) % 11) as f32 / 11.0 - 0.5
    });
    let outcome = match net.predict(x.view()) {
        Ok(y) => format!("ok {:?}", y.iter().step_by(97).collect::<Vec<_>>()),
        Err(e) => format!("error {e}"),
    };
    println!("OUTCOME: {outcome}");
}

fn run_conv_child(value: &str) -> String {
    run_child_process("conv_env_child", "NN_CONV_CHILD", "NN_CONV", value)
}

/// Every accepted `NN_CONV` value (empty meaning the cost rule) gives the
/// same outputs within Winograd's rounding; an unknown one is an error
/// naming the variable from the first call, not a panic.
#[test]
fn conv_algorithm_environment_values() {
    let values = |outcome: &str| -> Vec<f32> {
        let list = outcome.strip_prefix("ok [").and_then(|o| o.strip_suffix(']'));
        let list = list.unwrap_or_else(|| panic!("not ok: {outcome}"));
        list.split(", ").map(|v| v.parse().unwrap()).collect()
    };
    let direct = values(&run_conv_child("direct"));
    assert!(direct.len() > 10);
    for value in ["", "auto", " winograd ", "winograd4", "winograd2"] {
        let got = values(&run_conv_child(value));
        let scale = direct.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for (a, d) in got.iter().zip(&direct) {
            assert!(
                (a - d).abs() <= 5e-5 * scale,
                "NN_CONV={value:?}: {a} vs direct {d}"
            );
        }
    }
    for bad in ["fast", "Direct", "winograd3"] {
        let outcome = run_conv_child(bad);
        assert!(
            outcome.starts_with("error") && outcome.contains(&format!("NN_CONV={bad:?}")),
            "{bad:?}: {outcome}"
        );
    }
}

fn run_child(value: &str) -> String {
    run_child_process("threads_env_child", "NN_THREADS_CHILD", "NN_NUM_THREADS", value)
}

/// Runs the ignored test `child` of this binary in a child process with
/// `marker` set (so it does its work) and `variable=value`, and returns the
/// `OUTCOME: ` line it printed.
fn run_child_process(child: &str, marker: &str, variable: &str, value: &str) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([child, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(marker, "1")
        .env(variable, value)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed for {value:?}: {stdout}");
    stdout
        .lines()
        .find_map(|l| l.split_once("OUTCOME: ").map(|(_, o)| o))
        .unwrap_or_else(|| panic!("no outcome for {value:?}: {stdout}"))
        .to_string()
}

#[test]
fn invalid_thread_counts_are_reported_by_the_first_network_call() {
    for value in ["-1", "abc", "", "0", "2.5"] {
        let outcome = run_child(value);
        assert!(outcome.starts_with("error Environment"), "{value:?}: {outcome}");
        assert!(
            outcome.contains(&format!(
                "NN_NUM_THREADS={value:?} is not valid: expected a whole number"
            )),
            "{value:?}: {outcome}"
        );
    }
    assert_eq!(run_child(" 3 "), "ok with 3 threads");
    assert_eq!(
        run_child("100000"),
        format!("ok with {} threads", threads::MAX_THREADS)
    );
}

#[test]
fn parse_env_accepts_only_whole_numbers_of_at_least_one() {
    assert_eq!(threads::parse_env("4").unwrap(), 4);
    assert_eq!(threads::parse_env(" 7\n").unwrap(), 7);
    for bad in ["-1", "abc", "", " ", "0", "1e3", "+-2"] {
        let err = threads::parse_env(bad).unwrap_err();
        assert!(
            matches!(
                err,
                NnError::Environment {
                    variable: "NN_NUM_THREADS",
                    ..
                }
            ),
            "{bad:?}"
        );
    }
}
