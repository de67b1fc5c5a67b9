//! Keras's `keras.applications` networks, written with [`network!`](crate::network):
//! the same layers, output shapes and parameter counts (total, trainable and
//! non-trainable) as Keras builds with `include_top=True` and the ImageNet
//! head of 1000 classes, wired as Keras wires them (`tests/applications.rs`
//! compares every summary row and its inbound layers with Keras's).
//! Keras-saved weights load with `Model::load_keras_weights` and give
//! Keras's outputs: `tools/keras/make_application_outputs.py` writes them and
//! `examples/applications.rs --keras DIR` compares (not in CI: the files are
//! 30-550 MB).
//!
//! | network | input | parameters | of which non-trainable |
//! |---|---|---:|---:|
//! | [`VGG16`] | 224x224x3 | 138,357,544 | 0 |
//! | [`ResNet50`] | 224x224x3 | 25,636,712 | 53,120 |
//! | [`InceptionV3`] | 299x299x3 | 23,851,784 | 34,432 |
//! | [`MobileNetV2`] | 224x224x3 | 3,538,984 | 34,112 |
//! | [`DenseNet121`] | 224x224x3 | 8,062,504 | 83,648 |
//!
//! Each is a plain `network!` in its own file: read it as an example of a
//! large network, or copy it to change the head (e.g. `Dense(10)` for ten
//! classes). Inputs are NHWC `f32` preprocessed as the Keras application
//! expects (`keras.applications.resnet50.preprocess_input` and so on); the
//! networks do no preprocessing themselves.
//!
//! Behind the cargo feature `applications`, since these expansions are large
//! and most programs need none of them.

mod densenet121;
mod inception_v3;
mod mobilenet_v2;
mod resnet50;
mod vgg16;

pub use densenet121::DenseNet121;
pub use inception_v3::InceptionV3;
pub use mobilenet_v2::MobileNetV2;
pub use resnet50::ResNet50;
pub use vgg16::VGG16;
