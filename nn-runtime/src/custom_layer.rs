//! [`CustomLayer`]: a layer written by the user, used inside `network!` as
//! `Custom(value, output = [..])(x)`.
//!
//! The macro knows only the declared output shape: later layers, the
//! activation arena and the summary are laid out from it at compile time.
//! The network's constructor (`try_new`) creates the value once, asks it for
//! its output shape for the actual input shape and refuses the network
//! ([`NnError::CustomLayer`]) when that differs from the declaration or is
//! an error, or when its weights (`CustomLayer::weights`) differ from the
//! declared `weights = [name = [..], ..]`; then it initialises the weights.
//! The weights live in the network's parameter buffer like every other
//! layer's: optimizers train them, weight files save them
//! (`custom_1.scale`), the summary counts them.

use std::fmt;

use rand::RngCore;

use crate::NnError;

/// A user-defined layer.
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

    /// The weight tensors (name, shape) for this input shape, in the order
    /// `forward` receives them. Called once, when the network is
    /// constructed, and compared with the declared `weights = [..]`.
    /// Default: none.
    fn weights(&self, _input: &[usize]) -> Vec<(String, Vec<usize>)> {
        Vec::new()
    }

    /// Initial values of weight `index` (its elements row-major), called
    /// once when the network is constructed. Default: left at zero.
    fn initialize(&self, _index: usize, _values: &mut [f32], _rng: &mut dyn RngCore) {}

    /// `y = f(x)` for `batch` samples. `x` holds `batch` times the input's
    /// elements, `y` `batch` times the declared output's; every element of
    /// `y` must be written (its previous contents are unspecified).
    /// `weights[k]` holds weight `k`'s current values.
    fn forward(&self, batch: usize, x: &[f32], weights: &[&[f32]], y: &mut [f32]);

    /// Given `dy`, the loss gradient of `y`, **adds** the gradient of `x`
    /// into `dx` and of weight `k` into `dweights[k]` (`+=`, never `=`): a
    /// tensor read by several layers, or a layer applied several times,
    /// collects every contribution there, as with the built-in kernels.
    /// `x` and `y` are the values of the last training forward pass. When
    /// the input's gradient is not wanted (it is a network input), `dx` is
    /// scratch and its contents are discarded.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        batch: usize,
        x: &[f32],
        weights: &[&[f32]],
        y: &[f32],
        dy: &[f32],
        dx: &mut [f32],
        dweights: &mut [&mut [f32]],
    );
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
    /// shape `input`) against the `declared` output shape and weights,
    /// initialises its weights in `params` (the layer's region, the
    /// declared weights one after another) and keeps it.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        network: &'static str,
        name: &str,
        layer: Box<dyn CustomLayer>,
        input: &[usize],
        declared: &[usize],
        declared_weights: &[(&str, &[usize])],
        params: &mut [f32],
        rng: &mut dyn RngCore,
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
        let actual = layer.weights(input);
        let same = actual.len() == declared_weights.len()
            && actual
                .iter()
                .zip(declared_weights)
                .all(|((name, shape), (d_name, d_shape))| name == d_name && shape == d_shape);
        if !same {
            let show = |weights: Vec<String>| format!("[{}]", weights.join(", "));
            return Err(refuse(format!(
                "{class} has weights {} for input shape {input:?}, but the network declares `weights = {}`",
                show(actual.iter().map(|(n, s)| format!("{n} = {s:?}")).collect()),
                show(
                    declared_weights
                        .iter()
                        .map(|(n, s)| format!("{n} = {s:?}"))
                        .collect()
                ),
            )));
        }
        let total: usize = declared_weights
            .iter()
            .map(|(_, s)| s.iter().product::<usize>())
            .sum();
        if params.len() != total {
            return Err(refuse(format!(
                "its weights need {total} parameters, but {} were set aside for them",
                params.len()
            )));
        }
        let mut rest = params;
        for (index, (_, shape)) in declared_weights.iter().enumerate() {
            let (values, after) = std::mem::take(&mut rest).split_at_mut(shape.iter().product());
            layer.initialize(index, values, rng);
            rest = after;
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
