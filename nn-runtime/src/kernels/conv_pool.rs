//! A convolution and the pooling after it, run a few images at a time in
//! inference: each group's convolution output is pooled while it is still
//! in cache, and the full batch's convolution output is never stored.

use crate::conv2d::Conv2d;
use crate::conv_algorithm::{self, Algorithm};
use crate::error::{expect_len, expect_nonzero, KernelError};
use crate::pool2d::Pool2d;
use crate::threads;
use crate::workspace::Workspace;

/// Images per thread in one group: enough to give every thread whole
/// images, few enough that a group's convolution output stays in cache.
const IMAGES_PER_THREAD: usize = 2;

/// `y = pool(conv(x))`, bit-identical to `conv.forward` over the whole
/// batch followed by `pool.forward`: every group holds at least as many
/// images as there are threads, so each image is one task of the
/// convolution either way. The convolution's output exists for one group
/// at a time, in the workspace's staging.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_then_pool(
    conv: &Conv2d,
    pool: &Pool2d,
    batch: usize,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    ws: &mut Workspace,
) -> Result<(), KernelError> {
    const NAME: &str = "conv2d then pooling";
    if pool.in_len() != conv.out_len() {
        return Err(KernelError::InvalidArgument {
            kernel: NAME,
            message: format!(
                "the pooling reads {} floats per image, the convolution writes {}",
                pool.in_len(),
                conv.out_len()
            ),
        });
    }
    expect_nonzero(NAME, "batch", batch)?;
    expect_len(NAME, "x", x, batch * conv.in_len())?;
    expect_len(NAME, "y", y, batch * pool.out_len())?;
    // Winograd splits its work over the whole batch: keep it whole.
    let group = match conv_algorithm::choose(conv)? {
        Algorithm::Winograd(_) => batch,
        Algorithm::Direct => (threads::current().max(1) * IMAGES_PER_THREAD).min(batch),
    };
    // The last group takes the remainder rather than run short.
    let largest = if batch.is_multiple_of(group) {
        group
    } else {
        group + batch % group
    };
    let (cin, cout, pout) = (conv.in_len(), conv.out_len(), pool.out_len());
    ws.with_staging(largest * cout, |staging, ws| {
        let mut first = 0;
        while first < batch {
            let end = if batch - first < 2 * group {
                batch
            } else {
                first + group
            };
            let out = &mut staging[..(end - first) * cout];
            conv.forward(end - first, &x[first * cin..end * cin], kernel, bias, out, ws)?;
            pool.forward(end - first, out, &mut y[first * pout..end * pout])?;
            first = end;
        }
        Ok(())
    })
}
