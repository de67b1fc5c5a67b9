//! Weight files nobody here wrote: another network's file of the same
//! shapes, hand-made safetensors with non-finite values,
//! wrong dtypes, overlapping offsets, truncated data or absurd headers. Each is a clear error
//! naming the file, and the network is left exactly as it was.

mod common;

use std::path::Path;

use nn::prelude::*;

network! {
    /// Two twins: the same layers and shapes under different names.
    struct Twin {
        input x: [3];
        output y = Dense(2)(x);
    }

    struct OtherTwin {
        input x: [3];
        output y = Dense(2)(x);
    }
}

fn scratch(name: &str) -> common::TempPath {
    common::TempPath::new("hostile-weights", name)
}

/// A safetensors file from its JSON header and data bytes, built by hand so
/// that it can be anything a hostile writer makes.
fn safetensors(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Loads `bytes` from a file into a fresh `Twin` and checks that the error
/// names the file and the network kept its parameters.
fn rejected(name: &str, bytes: &[u8]) -> String {
    let path = scratch(name);
    std::fs::write(&path, bytes).unwrap();
    let mut net = Twin::new(&mut common::rng(3));
    let before = net.params().to_vec();
    let err = net
        .load_weights(&path)
        .expect_err("a hostile file was loaded")
        .to_string();
    assert_eq!(net.params(), &before[..], "a failed load changed the network");
    assert!(
        err.contains(&path.display().to_string()),
        "error does not name the file: {err}"
    );
    err
}

fn valid_header(kernel: &str, bias: &str) -> String {
    format!(
        r#"{{"dense_1.kernel":{{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]}},{kernel}"dense_1.bias":{{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}{bias}}}"#
    )
}

#[test]
fn the_hand_made_file_format_is_right() {
    // Guards the helpers: a well-formed hand-made file loads.
    let path = scratch("valid.safetensors");
    let values: Vec<f32> = (0..8).map(|i| i as f32).collect();
    std::fs::write(&path, safetensors(&valid_header("", ""), &f32_bytes(&values))).unwrap();
    let mut net = Twin::new(&mut common::rng(3));
    net.load_weights(&path).unwrap();
    let mut sorted = net.params().to_vec();
    sorted.sort_by(f32::total_cmp);
    assert_eq!(sorted, values);
}

#[test]
fn another_networks_file_of_the_same_shapes_is_reported() {
    let path = scratch("other.safetensors");
    OtherTwin::new(&mut common::rng(1)).save_weights(&path).unwrap();
    let mut net = Twin::new(&mut common::rng(2));
    let before = net.params().to_vec();
    let err = net
        .load_weights(&path)
        .expect_err("loaded another network's weights")
        .to_string();
    assert!(err.contains("OtherTwin") && err.contains("Twin"), "{err}");
    assert_eq!(net.params(), &before[..]);
    // Deliberately loading them (a renamed network) is one call.
    net.load_weights_of_other_network(&path).unwrap();
    let mut other = OtherTwin::new(&mut common::rng(1));
    other.load_weights(&path).unwrap();
    assert_eq!(net.params(), other.params());
}

#[test]
fn non_finite_weights_are_rejected() {
    let mut values: Vec<f32> = vec![0.5; 8];
    values[2] = f32::NAN;
    values[7] = f32::INFINITY;
    let err = rejected(
        "nan.safetensors",
        &safetensors(&valid_header("", ""), &f32_bytes(&values)),
    );
    assert!(
        err.contains("dense_1.kernel") && err.contains("dense_1.bias"),
        "{err}"
    );
}

#[test]
fn malformed_files_are_errors_that_name_the_file() {
    let good = f32_bytes(&[0.5; 8]);
    // Truncated data.
    rejected(
        "truncated.safetensors",
        &safetensors(&valid_header("", ""), &good[..20]),
    );
    // Truncated header, and a header length larger than the file.
    rejected("short.safetensors", &[1, 2, 3]);
    rejected("huge-header.safetensors", &u64::MAX.to_le_bytes());
    let mut claims_more = safetensors(&valid_header("", ""), &good);
    claims_more[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    rejected("claims-more.safetensors", &claims_more);
    // Garbage.
    rejected("garbage.safetensors", b"this is not a weights file at all");
    rejected("empty.safetensors", b"");
    // Wrong dtype with the right byte count.
    let f64_header = r#"{"dense_1.kernel":{"dtype":"F64","shape":[3],"data_offsets":[0,24]},"dense_1.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}"#;
    let err = rejected("f64.safetensors", &safetensors(f64_header, &good));
    assert!(err.contains("F64"), "{err}");
    // Offsets that overlap or leave holes.
    let overlap = r#"{"dense_1.kernel":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},"dense_1.bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#;
    rejected("overlap.safetensors", &safetensors(overlap, &good[..24]));
}

#[test]
fn a_directory_or_a_missing_file_is_an_error_naming_the_path() {
    let dir = scratch("a-directory");
    std::fs::create_dir_all(&dir).unwrap();
    let mut net = Twin::new(&mut common::rng(3));
    for path in [dir.as_path(), Path::new("/nonexistent/dir/w.safetensors")] {
        let err = net.load_weights(path).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        let err = net.save_weights(path).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
    }
    assert!(dir.is_dir(), "saving over a directory removed it");
}

/// Runs `load` on a thread and waits at most 20 s for it: a load that
/// blocks (opening a FIFO with no writer) fails the test instead of hanging.
fn within_seconds(what: &str, load: impl FnOnce() -> Result<(), NnError> + Send + 'static) -> NnError {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(load()).ok());
    match result.recv_timeout(std::time::Duration::from_secs(20)) {
        Ok(outcome) => outcome.expect_err(what),
        Err(_) => panic!("loading {what} did not return"),
    }
}

#[test]
fn devices_and_pipes_are_refused_without_reading_them() {
    // `/dev/zero` never ends (reading it exhausted memory and aborted);
    // opening a FIFO with no writer blocked forever.
    let dir = common::TempDir::new("hostile-pipes");
    let fifo = dir.join("weights.safetensors");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo failed");
    for path in [Path::new("/dev/zero").to_path_buf(), fifo] {
        let shown = path.display().to_string();
        let load_path = path.clone();
        let err = within_seconds(&shown, move || {
            Twin::new(&mut common::rng(3)).load_weights(&load_path)
        });
        assert!(matches!(err, NnError::InvalidFile { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("`{shown}` is a device, pipe or socket, not a file")
        );
        let keras_path = path.clone();
        let err = within_seconds(&shown, move || {
            Twin::new(&mut common::rng(3)).load_keras_weights(&keras_path)
        });
        assert!(err.to_string().contains("not a file"), "{err}");
    }
}
