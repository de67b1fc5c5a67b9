//! [`CustomLayer`]: a layer written by the user, used inside `network!` as
//! `Custom(value, output = [..])(x)`.
//!
//! The macro knows only the declared output shape: later layers, the
//! activation arena and the summary are laid out from it at compile time.
//! The network's constructor (`try_new`) creates the value once, asks it for
//! its output shape for the actual input shape and refuses the network
//! ([`NnError::CustomLayer`]) when that differs from the declaration or is
//! an error. Custom layers have no weights (yet): a learnable layer is not
//! expressible with this trait.

use std::fmt;

use crate::NnError;

/// A user-defined layer without weights.
///
/// Shapes are per sample (no batch axis), NHWC as everywhere in `nn`;
/// buffers hold `batch` samples one after another.
///
/// `Send + Sync`: the network holding it may move between threads and is
/// shared by reference with the prediction helpers; keep per-call scratch
/// inside `forward`/`backward`, not in the value.
pub trait CustomLayer: Send + Sync + 'static {
    /// A name for messages (the summary, known at compile time, shows the
    /// class `Custom`).
    fn class_name(&self) -> &str;

    /// The output shape for one sample's input shape, or what does not fit.
    /// Called once, when the network is constructed.
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, String>;

    /// `y = f(x)` for `batch` samples. `x` holds `batch` times the input's
    /// elements, `y` `batch` times the declared output's; every element of
    /// `y` must be written (its previous contents are unspecified).
    fn forward(&self, batch: usize, x: &[f32], y: &mut [f32]);

    /// Given `dy`, the loss gradient of `y`, **adds** the gradient of `x`
    /// into `dx` (`dx[i] += ...`, never `=`): a tensor read by several
    /// layers collects every reader's contribution there, as with the
    /// built-in kernels. `x` and `y` are the values of the last training
    /// forward pass.
    fn backward(&self, batch: usize, x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]);
}

/// The custom layers of one network, in the order the macro numbered them.
#[derive(Default)]
pub struct CustomLayers {
    layers: Vec<Box<dyn CustomLayer>>,
}

impl fmt::Debug for CustomLayers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.layers.iter().map(|l| l.class_name()))
            .finish()
    }
}

impl CustomLayers {
    /// Checks `layer` (the network's layer `name`, applied to inputs of
    /// shape `input`) against the `declared` output shape and keeps it.
    pub fn add(
        &mut self,
        network: &'static str,
        name: &str,
        layer: Box<dyn CustomLayer>,
        input: &[usize],
        declared: &[usize],
    ) -> Result<(), NnError> {
        let refuse = |message: String| NnError::CustomLayer {
            network,
            layer: name.to_string(),
            message,
        };
        let class = layer.class_name().to_string();
        match layer.output_shape(input) {
            Err(message) => {
                return Err(refuse(format!(
                    "{class} rejects its input shape {input:?}: {message}"
                )))
            }
            Ok(actual) if actual != declared => {
                return Err(refuse(format!(
                    "{class} gives output shape {actual:?} for input shape {input:?}, \
                     but the network declares `output = {declared:?}`"
                )))
            }
            Ok(_) => {}
        }
        self.layers.push(layer);
        Ok(())
    }

    /// The layer the macro numbered `index`; an error if the network was
    /// made without its custom layers (`Model::init` instead of `try_new`).
    pub fn get(&self, network: &'static str, name: &str, index: usize) -> Result<&dyn CustomLayer, NnError> {
        self.layers
            .get(index)
            .map(|l| &**l)
            .ok_or_else(|| NnError::CustomLayer {
                network,
                layer: name.to_string(),
                message: "the network was made without its custom layers; make it with `new` or `try_new`"
                    .to_string(),
            })
    }
}
