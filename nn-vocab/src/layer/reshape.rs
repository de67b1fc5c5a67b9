//! Keras's `Reshape` and `Permute`: the same values under another shape, or
//! with their axes reordered. Neither touches the batch axis.

use crate::argument::{required, ArgumentError, Arguments, ValueKind};
use crate::description::{Description, Layer};
use crate::rust_source::layer_to_rust;
use crate::shape::{show, single, Operand, ShapeResult};

/// Most axes (after the batch axis) `Reshape` and `Permute` handle.
pub const MAX_AXES: usize = 6;

/// `Reshape(target_shape)`: one entry may be -1, inferred from the element
/// count. Entries past `rank` are unused (0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reshape {
    pub target_shape: [i64; MAX_AXES],
    pub rank: usize,
}
layer_to_rust!(Reshape { target_shape, rank });

/// `Permute(dims)`: output axis `i` is input axis `dims[i]`, counted from 1
/// as in Keras. Entries past `rank` are unused (0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Permute {
    pub dims: [usize; MAX_AXES],
    pub rank: usize,
}
layer_to_rust!(Permute { dims, rank });

impl Reshape {
    pub fn target(&self) -> &[i64] {
        &self.target_shape[..self.rank]
    }
}

impl Permute {
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.rank]
    }

    /// 0-based axes: output axis `i` is input axis `axes()[i]`.
    pub fn axes(&self) -> Vec<usize> {
        self.dims().iter().map(|d| d - 1).collect()
    }
}

fn tuple(values: &[i64]) -> String {
    let parts: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

impl Layer for Reshape {
    const DESCRIPTION: Description =
        Description::layer("Reshape", "reshape", &[required("target_shape", ValueKind::Ints)]);

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let target = args.ints("target_shape").unwrap_or_default();
        let at = |message: String| vec![ArgumentError::at("target_shape", message)];
        if target.is_empty() || target.len() > MAX_AXES {
            return Err(at(format!(
                "Reshape: `target_shape` needs 1 to {MAX_AXES} dimensions (without the batch axis), got {}",
                target.len()
            )));
        }
        if let Some(bad) = target.iter().find(|&&d| d == 0 || d < -1) {
            return Err(at(format!(
                "Reshape: every dimension of `target_shape` must be positive (or one -1 to infer), got {bad} in {}",
                tuple(&target)
            )));
        }
        if target.iter().filter(|&&d| d == -1).count() > 1 {
            return Err(at(format!(
                "Reshape: only one dimension of `target_shape` may be -1, got {}",
                tuple(&target)
            )));
        }
        let mut target_shape = [0; MAX_AXES];
        target_shape[..target.len()].copy_from_slice(&target);
        Ok(Reshape {
            target_shape,
            rank: target.len(),
        })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let x = single(layer, inputs)?;
        let count: usize = x.shape.iter().product();
        let known: usize = self
            .target()
            .iter()
            .filter(|&&d| d > 0)
            .map(|&d| d as usize)
            .product();
        let target = tuple(self.target());
        let inferred = self.target().contains(&-1);
        if (inferred && (known == 0 || !count.is_multiple_of(known))) || (!inferred && known != count) {
            return Err(format!(
                "{layer}: cannot reshape {} {} ({count} elements) to {target} ({}); the element \
                 count must stay the same",
                x.label,
                show(x.shape),
                if inferred {
                    format!("a multiple of {known} elements")
                } else {
                    format!("{known} elements")
                }
            ));
        }
        Ok(self
            .target()
            .iter()
            .map(|&d| if d == -1 { count / known } else { d as usize })
            .collect())
    }

    fn detail(&self) -> String {
        tuple(self.target())
    }

    fn work(&self, input: &[usize], _output: &[usize]) -> u64 {
        input.iter().fold(1u64, |a, &d| a.saturating_mul(d as u64))
    }
}

impl Layer for Permute {
    const DESCRIPTION: Description =
        Description::layer("Permute", "permute", &[required("dims", ValueKind::Ints)]);

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let dims = args.ints("dims").unwrap_or_default();
        let at = |message: String| vec![ArgumentError::at("dims", message)];
        let n = dims.len();
        if n == 0 || n > MAX_AXES {
            return Err(at(format!(
                "Permute: `dims` needs 1 to {MAX_AXES} axes (counted from 1, without the batch axis), got {n}"
            )));
        }
        for (i, &d) in dims.iter().enumerate() {
            if d < 1 || d > n as i64 {
                return Err(at(format!(
                    "Permute: `dims` {} must list the axes 1 to {n} (the batch axis 0 cannot move), got {d}",
                    tuple(&dims)
                )));
            }
            if dims[..i].contains(&d) {
                return Err(at(format!(
                    "Permute: `dims` {} names axis {d} twice; each of the axes 1 to {n} must appear once",
                    tuple(&dims)
                )));
            }
        }
        let mut out = [0; MAX_AXES];
        for (o, &d) in out.iter_mut().zip(&dims) {
            *o = d as usize;
        }
        Ok(Permute { dims: out, rank: n })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let x = single(layer, inputs)?;
        if x.shape.len() != self.rank {
            let dims: Vec<i64> = self.dims().iter().map(|&d| d as i64).collect();
            return Err(format!(
                "{layer}: `dims` {} reorders {} axes, but {} is {} with {}",
                tuple(&dims),
                self.rank,
                x.label,
                show(x.shape),
                x.shape.len()
            ));
        }
        Ok(self.dims().iter().map(|&d| x.shape[d - 1]).collect())
    }

    fn detail(&self) -> String {
        let dims: Vec<i64> = self.dims().iter().map(|&d| d as i64).collect();
        tuple(&dims)
    }
}
