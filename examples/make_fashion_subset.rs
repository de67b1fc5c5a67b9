//! Builds the balanced Fashion-MNIST subset vendored in
//! `data/fashion-mnist-subset/` from the full set (Debian package
//! `dataset-fashion-mnist`, installed under /usr/share/datasets/fashion-mnist).
//!
//! The first N training and M test images of each class, in file order, so
//! the subset is reproducible:
//! `cargo run --release --example make_fashion_subset -- [full-dir] [N] [M]`

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use nn::runtime::io::idx::{self, IdxArray};

fn pick(images: &IdxArray, labels: &IdxArray, per_class: usize) -> (IdxArray, IdxArray) {
    let pixels: usize = images.dims[1..].iter().product();
    let mut taken = [0usize; 10];
    let (mut img, mut lab) = (Vec::new(), Vec::new());
    for (i, &l) in labels.data.iter().enumerate() {
        if taken[l as usize] < per_class {
            taken[l as usize] += 1;
            img.extend_from_slice(&images.data[i * pixels..(i + 1) * pixels]);
            lab.push(l);
        }
    }
    let n = lab.len();
    let mut dims = images.dims.clone();
    dims[0] = n;
    (
        IdxArray { dims, data: img },
        IdxArray {
            dims: vec![n],
            data: lab,
        },
    )
}

fn write_gz(path: &Path, array: &IdxArray) {
    let file = std::fs::File::create(path).expect("create output file");
    let mut gz = GzEncoder::new(file, Compression::best());
    gz.write_all(&idx::encode(array)).expect("write");
    gz.finish().expect("finish gzip");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = PathBuf::from(
        args.get(1)
            .map_or("/usr/share/datasets/fashion-mnist", |s| s.as_str()),
    );
    let train_per_class: usize = args.get(2).map_or(1000, |s| s.parse().expect("N"));
    let test_per_class: usize = args.get(3).map_or(200, |s| s.parse().expect("M"));
    let out = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/fashion-mnist-subset"));
    std::fs::create_dir_all(&out).expect("create output folder");
    for (split, per_class) in [("train", train_per_class), ("t10k", test_per_class)] {
        let images = idx::read(&full.join(format!("{split}-images-idx3-ubyte.gz"))).expect("read images");
        let labels = idx::read(&full.join(format!("{split}-labels-idx1-ubyte.gz"))).expect("read labels");
        let (img, lab) = pick(&images, &labels, per_class);
        write_gz(&out.join(format!("{split}-images-idx3-ubyte.gz")), &img);
        write_gz(&out.join(format!("{split}-labels-idx1-ubyte.gz")), &lab);
        println!("{split}: {} images ({per_class} per class)", lab.dims[0]);
    }
}
