//! A convolution followed by an inference-mode batch normalization, in one
//! pass: the normalization is folded into the convolution's weights.
//!
//! Inference normalization is a per-channel affine map of the convolution's
//! output, `(z - mean) * s + beta` with `s = gamma / sqrt(variance + epsilon)`,
//! so with `kernel'[.., f] = kernel[.., f] * s[f]` and
//! `bias'[f] = (bias[f] - mean[f]) * s[f] + beta[f]` the convolution writes the
//! normalized tensor directly, and the pass that would read and rewrite the
//! whole output is gone (TensorFlow folds the same way). Results differ from
//! convolving then normalizing only by rounding (`nn-runtime/tests/conv2d.rs`
//! bounds the difference).

use crate::batch_norm::{BatchNorm, BatchNormParams};
use crate::conv2d::Conv2d;
use crate::error::{expect_len, KernelError};
use crate::workspace::Workspace;

impl Conv2d {
    /// `y = batch_norm_inference(conv(x) + bias)`, where the convolution's own
    /// activation applies after the normalization (the generated code folds
    /// only linear convolutions, whose activation is then a separate layer).
    #[allow(clippy::too_many_arguments)]
    pub fn forward_batch_norm(
        &self,
        batch: usize,
        x: &[f32],
        kernel: &[f32],
        bias: Option<&[f32]>,
        norm: &BatchNorm,
        params: BatchNormParams,
        y: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        const NAME: &str = "conv2d + batch_normalization";
        let f = self.filters;
        if norm.channels != f {
            return Err(KernelError::InvalidArgument {
                kernel: NAME,
                message: format!(
                    "batch normalization over {} channels after a convolution with {f} filters",
                    norm.channels
                ),
            });
        }
        norm.check(NAME, batch, &params)?;
        expect_len(NAME, "kernel", kernel, self.kernel_len())?;
        if let Some(b) = bias {
            expect_len(NAME, "bias", b, f)?;
        }
        ws.with_derived(self.kernel_len() + f, |derived, ws| {
            let (folded_kernel, folded_bias) = derived.split_at_mut(self.kernel_len());
            for (ch, b) in folded_bias.iter_mut().enumerate() {
                let gamma = params.gamma.map_or(1.0, |g| g[ch]);
                *b = gamma / (params.moving_variance[ch] + norm.epsilon).sqrt();
            }
            let scale = &*folded_bias;
            for (out, row) in folded_kernel.chunks_exact_mut(f).zip(kernel.chunks_exact(f)) {
                out.iter_mut()
                    .zip(row)
                    .zip(scale)
                    .for_each(|((o, &k), &s)| *o = k * s);
            }
            for (ch, b) in folded_bias.iter_mut().enumerate() {
                let conv_bias = bias.map_or(0.0, |b| b[ch]);
                let beta = params.beta.map_or(0.0, |b| b[ch]);
                *b = (conv_bias - params.moving_mean[ch]) * *b + beta;
            }
            self.forward_fused(
                batch,
                x,
                folded_kernel,
                Some(folded_bias),
                None,
                self.activation,
                y,
                ws,
            )
        })
    }
}
