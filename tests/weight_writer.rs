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

fn temp_path(name: &str) -> common::TempPath {
    common::TempPath::new("writer", name)
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
        "`{}` does not match network Smooth:\n  - it was saved by network Sharp, not Smooth; if \
         Smooth is Sharp renamed or rebuilt, load it with `load_weights_of_other_network`",
        path.display()
    );
    assert_eq!(err, expected);
    assert_eq!(smooth.params(), &before[..], "a refused load changes nothing");

    // Asked for explicitly, the same tensors load.
    smooth.load_weights_of_other_network(&path).unwrap();
    assert_eq!(smooth.params(), sharp.params());
}

mod v1 {
    nn::network! {
        /// Max pooling.
        pub struct Net {
            input image: [8, 8, 1];
            let c = Conv2D(4, 3, padding = same, activation = relu)(image);
            let c = MaxPooling2D(2)(c);
            output y = Dense(3, activation = softmax)(flatten(c));
        }
    }
}

mod v2 {
    nn::network! {
        /// The same name and tensors; the pooling changed.
        pub struct Net {
            input image: [8, 8, 1];
            let c = Conv2D(4, 3, padding = same, activation = relu)(image);
            let c = AveragePooling2D(2)(c);
            output y = Dense(3, activation = softmax)(flatten(c));
        }
    }
}

/// The fingerprint catches what the name cannot: a network that kept its
/// name but changed its layers.
#[test]
fn a_file_from_a_changed_network_of_the_same_name_is_refused() {
    let path = temp_path("net-v1.safetensors");
    let old = v1::Net::new(&mut common::rng(1));
    old.save_weights(&path).unwrap();
    let mut new = v2::Net::new(&mut common::rng(2));
    let before = new.params().to_vec();
    let err = new.load_weights(&path).unwrap_err().to_string();
    let expected = format!(
        "`{}` does not match network Net:\n  - it was saved by a network Net of another \
         architecture (fingerprint {}, this one's is {}): same name, different layers or \
         connections; if the tensors are meant for this one, load it with \
         `load_weights_of_other_network`",
        path.display(),
        fingerprint(&<v1::Net as Model>::SPEC),
        fingerprint(&<v2::Net as Model>::SPEC)
    );
    assert_eq!(err, expected);
    assert_eq!(new.params(), &before[..]);
    new.load_weights_of_other_network(&path).unwrap();
    assert_eq!(new.params(), old.params());
    // The unchanged network loads its own file.
    let mut same = v1::Net::new(&mut common::rng(3));
    same.load_weights(&path).unwrap();
    assert_eq!(same.params(), old.params());
}

#[test]
fn files_other_tools_wrote_are_checked_by_their_tensors() {
    let sharp = Sharp::new(&mut common::rng(1));
    // A file another tool wrote (no nn metadata) is checked by its tensors.
    let spec = <Sharp as Model>::SPEC;
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
