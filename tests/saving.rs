//! Saving weights replaces the file atomically: threads saving one path at
//! once all succeed and readers only ever see a whole file; a process
//! killed mid-save leaves the previous file intact and its temporary file
//! is removed later; a failed save leaves nothing behind; a file name of
//! the maximum legal length can be saved.

mod common;

use std::path::Path;
use std::process::Command;

use nn::prelude::*;

network! {
    /// 2 million parameters (8 MB): a save takes long enough to be caught
    /// half-way.
    struct Wide {
        input x: [2000];
        output y = Dense(1000)(x);
    }
}

/// A directory of its own, removed when the result is dropped (also when
/// the test fails).
fn scratch_dir(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("saving-{name}"))
}

/// Temporary files of saves (ours are `.nn-*.tmp`) in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.contains(".tmp"))
        .collect()
}

/// A network whose every parameter is `value`.
fn filled(value: f32) -> Wide {
    let mut net = Wide::new(&mut common::rng(1));
    net.params_mut().fill(value);
    net
}

/// Loads `path` and returns the value every parameter has (panics on a
/// torn file: mixed values).
fn loaded_value(path: &Path) -> f32 {
    let mut net = filled(0.0);
    net.load_weights(path).unwrap();
    let first = net.params()[0];
    assert!(net.params().iter().all(|&p| p == first), "a torn file");
    first
}

#[test]
fn threads_saving_one_path_all_succeed_and_readers_see_whole_files() {
    let dir = scratch_dir("threads");
    let path = dir.join("w.safetensors");
    filled(1.0).save_weights(&path).unwrap();
    let nets = [filled(1.0), filled(2.0), filled(3.0)];
    std::thread::scope(|s| {
        for net in &nets[1..] {
            let path = &path;
            s.spawn(move || {
                for _ in 0..15 {
                    net.save_weights(path).unwrap();
                }
            });
        }
        s.spawn(|| {
            for _ in 0..30 {
                let v = loaded_value(&path);
                assert!([1.0, 2.0, 3.0].contains(&v), "{v}");
            }
        });
    });
    assert!([2.0, 3.0].contains(&loaded_value(&path)));
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
}

#[test]
fn a_file_name_of_255_bytes_can_be_saved() {
    let dir = scratch_dir("long");
    let name = format!("{}.safetensors", "w".repeat(255 - ".safetensors".len()));
    assert_eq!(name.len(), 255);
    let path = dir.join(&name);
    filled(4.0).save_weights(&path).unwrap();
    assert_eq!(loaded_value(&path), 4.0);
}

#[test]
fn a_failed_save_leaves_no_temporary_file_and_the_old_file_intact() {
    let dir = scratch_dir("failed");
    // The target is a directory: writing succeeds, the final rename fails.
    let target = dir.join("taken");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"x").unwrap();
    let err = filled(5.0).save_weights(&target).unwrap_err();
    assert!(matches!(err, NnError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("taken"), "{err}");
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
    assert_eq!(std::fs::read(target.join("keep")).unwrap(), b"x");
    // A directory that does not exist: nothing is created.
    let err = filled(5.0)
        .save_weights(dir.join("missing/w.safetensors"))
        .unwrap_err();
    assert!(matches!(err, NnError::Io { .. }), "{err:?}");
}

/// The saving process of `killed_mid_save_leaves_the_old_file_intact`:
/// saves alternating weights to `NN_SAVER_PATH` until killed.
#[test]
#[ignore = "run by its parent test in a child process"]
fn saver_child_process() {
    let Some(path) = std::env::var_os("NN_SAVER_PATH") else {
        return;
    };
    let nets = [filled(6.0), filled(7.0)];
    for i in 0.. {
        nets[i % 2].save_weights(&path).unwrap();
    }
}

#[test]
fn killed_mid_save_leaves_the_old_file_intact() {
    let dir = scratch_dir("killed");
    let path = dir.join("w.safetensors");
    filled(6.0).save_weights(&path).unwrap();
    let mut caught_mid_save = 0;
    let mut dead_pid = 0;
    for round in 0..6 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "saver_child_process",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("NN_SAVER_PATH", &path)
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(150 + 37 * round));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        dead_pid = child.id();
        caught_mid_save += temporaries(dir.path()).len();
        let v = loaded_value(&path);
        assert!(v == 6.0 || v == 7.0, "{v}");
    }
    // However the kills fell, one temporary file of a dead process for sure.
    std::fs::write(dir.join(format!(".nn-{dead_pid}-3-0badf00d.tmp")), b"half").unwrap();
    // Someone else's file that merely looks similar stays.
    std::fs::write(dir.join("notes.tmp"), b"mine").unwrap();
    // A save here removes the files the killed processes left.
    filled(8.0).save_weights(&path).unwrap();
    assert_eq!(loaded_value(&path), 8.0);
    assert_eq!(temporaries(dir.path()), vec!["notes.tmp".to_string()]);
    eprintln!("{caught_mid_save} temporary files left by killed saves were removed");
}

#[test]
fn non_finite_weights_are_not_saved_over_a_good_file() {
    // `load_weights` refuses NaN weights, so saving them replaced a
    // loadable file with one that is not.
    let dir = scratch_dir("non-finite");
    let path = dir.join("w.safetensors");
    filled(0.5).save_weights(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    for bad in [f32::NAN, f32::INFINITY] {
        let mut net = filled(0.5);
        net.params_mut()[1234] = bad;
        let err = net.save_weights(&path).unwrap_err();
        assert!(matches!(err, NnError::InvalidArgument { .. }), "{err:?}");
        assert!(err.to_string().contains(&format!("holds {bad}")), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "the good file changed");
        assert!(temporaries(dir.path()).is_empty());
    }
    assert_eq!(loaded_value(&path), 0.5);
}
