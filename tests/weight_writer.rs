//! Weight files say which network wrote them: the network's name and an
//! architecture fingerprint are in the safetensors metadata, and loading a
//! file written by a different network is an error naming the writer, even
//! when every tensor name and shape matches.

mod common;

use nn::prelude::*;
use nn::runtime::fingerprint::fingerprint;

network! {
    /// Max pooling.
    struct Sharp {
        input image: [8, 8, 1];
        let c = Conv2D(4, 3, padding = same, activation = relu)(image);
        let c = MaxPooling2D(2)(c);
        output y = Dense(3, activation = softmax)(flatten(c));
    }

    /// The same tensors (keys and shapes), but average pooling.
    struct Smooth {
        input image: [8, 8, 1];
        let c = Conv2D(4, 3, padding = same, activation = relu)(image);
        let c = AveragePooling2D(2)(c);
        output y = Dense(3, activation = softmax)(flatten(c));
    }

    /// Sharp under another name: the same architecture.
    struct SharpRenamed {
        input image: [8, 8, 1];
        let c = Conv2D(4, 3, padding = same, activation = relu)(image);
        let c = MaxPooling2D(2)(c);
        output y = Dense(3, activation = softmax)(flatten(c));
    }
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nn-writer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn the_file_records_the_network_name_and_fingerprint() {
    let path = temp_path("sharp.safetensors");
    Sharp::new(&mut common::rng(1)).save_weights(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().clone().unwrap();
    assert_eq!(meta["format"], "nn");
    assert_eq!(meta["model"], "Sharp");
    assert_eq!(meta["architecture_fingerprint"], fingerprint(&Sharp::SPEC));
    assert_eq!(fingerprint(&Sharp::SPEC).len(), 16);
    assert_ne!(fingerprint(&Sharp::SPEC), fingerprint(&Smooth::SPEC));
    assert_eq!(fingerprint(&Sharp::SPEC), fingerprint(&SharpRenamed::SPEC));
}

#[test]
fn a_same_shaped_file_from_another_network_is_refused_naming_the_writer() {
    let path = temp_path("sharp-for-smooth.safetensors");
    let sharp = Sharp::new(&mut common::rng(1));
    sharp.save_weights(&path).unwrap();
    let mut smooth = Smooth::new(&mut common::rng(2));
    let before = smooth.params().to_vec();
    let err = smooth.load_weights(&path).unwrap_err().to_string();
    let expected = format!(
        "`{}` does not match network Smooth:\n  - written by network `Sharp` (architecture \
         fingerprint {}, this network's is {}): its weights belong to a different architecture. \
         Load the file into `Sharp`, or, if the tensors are meant for this network, use \
         `load_weights_any_writer`, which checks only names and shapes",
        path.display(),
        fingerprint(&Sharp::SPEC),
        fingerprint(&Smooth::SPEC)
    );
    assert_eq!(err, expected);
    assert_eq!(smooth.params(), &before[..], "a refused load changes nothing");

    // Asked for explicitly, the same tensors load.
    smooth.load_weights_any_writer(&path).unwrap();
    assert_eq!(smooth.params(), sharp.params());
}

#[test]
fn the_same_architecture_loads_under_another_name_and_foreign_files_by_tensors() {
    let path = temp_path("sharp-renamed.safetensors");
    let sharp = Sharp::new(&mut common::rng(1));
    sharp.save_weights(&path).unwrap();
    let mut renamed = SharpRenamed::new(&mut common::rng(2));
    renamed.load_weights(&path).unwrap();
    assert_eq!(renamed.params(), sharp.params());

    // A file another tool wrote (no nn metadata) is checked by its tensors.
    let spec = Sharp::SPEC;
    let raw: Vec<(String, Vec<usize>, Vec<u8>)> = spec
        .params
        .iter()
        .map(|p| {
            let values = &sharp.params()[p.offset..p.offset + p.len];
            (
                p.key.to_string(),
                p.shape.to_vec(),
                values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = raw
        .iter()
        .map(|(k, s, d)| {
            (
                k.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), d).unwrap(),
            )
        })
        .collect();
    let foreign = temp_path("foreign.safetensors");
    std::fs::write(&foreign, safetensors::serialize(views, None).unwrap()).unwrap();
    let mut smooth = Smooth::new(&mut common::rng(3));
    smooth.load_weights(&foreign).unwrap();
    assert_eq!(smooth.params(), sharp.params());
}
