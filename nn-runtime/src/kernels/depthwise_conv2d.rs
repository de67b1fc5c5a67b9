//! The per-image products of a depthwise convolution (one input channel per
//! group), as direct loops over contiguous channels.
//!
//! A depthwise group is a 1-column product, where the gathered GEMM would
//! spend its time on tile edges; here every pixel and tap is one
//! multiply-add over all channels at once, which the compiler vectorises.
//! Called by [`GroupedConv2d`] when `groups == in_channels`; the kernel
//! layout is the same (`[kh, kw, channels, depth_multiplier]`).

use crate::grouped_conv2d::{GroupedConv2d, Tables};

/// `out (= or +=) plane ⋆ kernel + bias` for one image.
pub(crate) fn correlate(
    conv: &GroupedConv2d,
    t: &Tables,
    plane: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    accumulate: bool,
) {
    let (c, f) = (conv.in_channels, conv.filters);
    let multiplier = f / c;
    for (p, &origin) in t.pixels.iter().enumerate() {
        let row = &mut out[p * f..(p + 1) * f];
        if !accumulate {
            row.fill(0.0);
        }
        if let Some(b) = bias {
            row.iter_mut().zip(b).for_each(|(o, b)| *o += b);
        }
        for (tap, &offset) in t.taps.iter().enumerate() {
            let x = &plane[origin + offset..origin + offset + c];
            let k = &kernel[tap * f..(tap + 1) * f];
            if multiplier == 1 {
                row.iter_mut()
                    .zip(x.iter().zip(k))
                    .for_each(|(o, (x, k))| *o += x * k);
            } else {
                for ((o, k), &x) in row
                    .chunks_exact_mut(multiplier)
                    .zip(k.chunks_exact(multiplier))
                    .zip(x)
                {
                    o.iter_mut().zip(k).for_each(|(o, k)| *o += x * k);
                }
            }
        }
    }
}

/// `dkernel += plane ⋆ dz` for one image.
pub(crate) fn kernel_grad(conv: &GroupedConv2d, t: &Tables, plane: &[f32], dz: &[f32], dkernel: &mut [f32]) {
    let (c, f) = (conv.in_channels, conv.filters);
    let multiplier = f / c;
    for (p, &origin) in t.pixels.iter().enumerate() {
        let g = &dz[p * f..(p + 1) * f];
        for (tap, &offset) in t.taps.iter().enumerate() {
            let x = &plane[origin + offset..origin + offset + c];
            let dk = &mut dkernel[tap * f..(tap + 1) * f];
            if multiplier == 1 {
                dk.iter_mut()
                    .zip(x.iter().zip(g))
                    .for_each(|(d, (x, g))| *d += x * g);
            } else {
                for ((d, g), &x) in dk
                    .chunks_exact_mut(multiplier)
                    .zip(g.chunks_exact(multiplier))
                    .zip(x)
                {
                    d.iter_mut().zip(g).for_each(|(d, g)| *d += x * g);
                }
            }
        }
    }
}

/// `dimage += dz ⋆ᵀ kernel` for one image: each output pixel's gradient goes
/// back to the input pixels its taps read; taps over the padding drop out.
pub(crate) fn input_grad(conv: &GroupedConv2d, dz: &[f32], kernel: &[f32], dimage: &mut [f32]) {
    let (r, cl) = (&conv.rows, &conv.cols);
    let (c, f) = (conv.in_channels, conv.filters);
    let multiplier = f / c;
    let input_at = |o: usize, k: usize, a: &crate::conv_axis::ConvAxis| {
        (o * a.stride + k * a.dilation)
            .checked_sub(a.pad_before)
            .filter(|&i| i < a.input)
    };
    for oy in 0..r.output {
        for ox in 0..cl.output {
            let g = &dz[(oy * cl.output + ox) * f..][..f];
            for ky in 0..r.kernel {
                let Some(iy) = input_at(oy, ky, r) else { continue };
                for kx in 0..cl.kernel {
                    let Some(ix) = input_at(ox, kx, cl) else { continue };
                    let d = &mut dimage[(iy * cl.input + ix) * c..][..c];
                    let k = &kernel[(ky * cl.kernel + kx) * f..][..f];
                    if multiplier == 1 {
                        d.iter_mut()
                            .zip(g.iter().zip(k))
                            .for_each(|(d, (g, k))| *d += g * k);
                    } else {
                        for ((d, g), k) in d
                            .iter_mut()
                            .zip(g.chunks_exact(multiplier))
                            .zip(k.chunks_exact(multiplier))
                        {
                            *d += g.iter().zip(k).map(|(g, k)| g * k).sum::<f32>();
                        }
                    }
                }
            }
        }
    }
}
