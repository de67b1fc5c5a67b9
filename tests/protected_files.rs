//! Saving replaces a file by renaming a new one over it, which the file's
//! own permissions do not stop: a read-only weights file must still be
//! refused, and a replaced file keeps its permissions.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;

use nn::prelude::*;

network! {
    struct Small {
        input x: [4];
        output y = Dense(3)(x);
    }
}

fn scratch(name: &str) -> common::TempPath {
    common::TempPath::new(&format!("protected-{name}"), "w.safetensors")
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_read_only_weights_file_is_not_replaced() {
    let path = scratch("readonly");
    Small::new(&mut common::rng(1)).save_weights(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let err = Small::new(&mut common::rng(2))
        .save_weights(&path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("read-only") && err.contains(&path.display().to_string()),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the protected file was replaced"
    );
    assert_eq!(mode(&path), 0o444);
    let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
    assert_eq!(leftovers, 1, "a failed save left files behind");
}

#[test]
fn a_replaced_file_keeps_its_permissions() {
    let path = scratch("private");
    Small::new(&mut common::rng(1)).save_weights(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let net = Small::new(&mut common::rng(2));
    net.save_weights(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
    let mut loaded = Small::new(&mut common::rng(3));
    loaded.load_weights(&path).unwrap();
    assert_eq!(loaded.params(), net.params());
}
