//! Builds the ONNX graph of a network from its [`ModelSpec`]: one or a few
//! ONNX operators per node, read off each layer's [`LayerConfig`].
//!
//! Layout: nn's tensors are NHWC, ONNX's convolutions and pools are NCHW.
//! Every image tensor (rank 3 per sample) is kept in whichever layout its
//! producer made, and converted with a `Transpose` only where a consumer
//! needs the other one (convolutions and pools want NCHW; `Flatten`, `Dense`
//! and the graph's outputs want nn's NHWC, so flattening keeps Keras's
//! height, width, channels order). Each conversion is made once per tensor.

use std::collections::{HashMap, HashSet};

use super::proto::{
    attribute_type, AttributeProto, Dimension, GraphProto, NodeProto, TensorProto, TensorShapeProto,
    TensorTypeProto, TypeProto, ValueInfoProto, FLOAT, INT64,
};
use crate::activation::{Activation, SELU_ALPHA, SELU_SCALE};
use crate::conv_axis::ConvAxis;
use crate::layer_config::LayerConfig;
use crate::model_error::NnError;
use crate::spec::{LayerSpec, ModelSpec};
use crate::vocab::layer;
use crate::vocab::{MergeOp, UnaryOp};
use crate::window::{output_len, pad_before, Padding};

/// Name of the symbolic batch dimension of every input and output.
pub const BATCH: &str = "batch";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Layout {
    /// nn's own order: `[batch, ..., channels]`.
    ChannelsLast,
    /// `[batch, channels, height, width]`, for image tensors only.
    ChannelsFirst,
}

/// An ONNX value holding one nn node's output.
#[derive(Clone)]
struct Value {
    name: String,
    layout: Layout,
}

struct Builder<'a> {
    spec: &'a ModelSpec,
    params: &'a [f32],
    state: &'a [f32],
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    initializer_names: HashSet<String>,
    /// Every value name in use: the graph's inputs and outputs (reserved
    /// from the start) and every operator's output.
    value_names: HashSet<String>,
    /// Per nn node, its value once emitted.
    values: Vec<Option<Value>>,
    /// Converted copies: (nn node, layout) → value name.
    converted: HashMap<(usize, Layout), String>,
}

/// The graph of `spec` with these weights.
pub fn graph(spec: &ModelSpec, params: &[f32], state: &[f32]) -> Result<GraphProto, NnError> {
    check_names(spec)?;
    let mut b = Builder {
        spec,
        params,
        state,
        nodes: Vec::new(),
        initializers: Vec::new(),
        initializer_names: HashSet::new(),
        value_names: spec
            .inputs
            .iter()
            .chain(spec.outputs)
            .map(|p| p.name.to_string())
            .collect(),
        values: vec![None; spec.nodes.len()],
        converted: HashMap::new(),
    };
    for i in 0..spec.nodes.len() {
        let value = b.node(i)?;
        b.values[i] = Some(value);
    }
    let mut outputs = Vec::new();
    for port in spec.outputs {
        let source = b.value_in(port.node, Layout::ChannelsLast)?;
        b.push_op("Identity", &[&source], port.name, Vec::new());
        outputs.push(value_info(port.name, port.shape));
    }
    Ok(GraphProto {
        node: b.nodes,
        name: spec.name.to_string(),
        initializer: b.initializers,
        input: spec.inputs.iter().map(|p| value_info(p.name, p.shape)).collect(),
        output: outputs,
    })
}

/// Inputs and outputs become ONNX value names: they must be distinct.
fn check_names(spec: &ModelSpec) -> Result<(), NnError> {
    let mut seen = HashSet::new();
    for port in spec.inputs.iter().chain(spec.outputs) {
        if !seen.insert(port.name) {
            return Err(NnError::Other(format!(
                "{}: cannot export to ONNX: `{}` names two of the network's inputs and outputs, \
                 and ONNX needs one name per graph input or output",
                spec.name, port.name
            )));
        }
    }
    Ok(())
}

fn value_info(name: &str, shape: &[usize]) -> ValueInfoProto {
    let mut dim = vec![Dimension {
        dim_value: None,
        dim_param: Some(BATCH.to_string()),
    }];
    dim.extend(shape.iter().map(|&d| Dimension {
        dim_value: Some(d as i64),
        dim_param: None,
    }));
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: FLOAT,
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
    }
}

fn ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: attribute_type::INTS,
        ints: values.to_vec(),
        ..Default::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: attribute_type::INT,
        i: value,
        ..Default::default()
    }
}

fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: attribute_type::FLOAT,
        f: value,
        ..Default::default()
    }
}

fn string(name: &str, value: &str) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: attribute_type::STRING,
        s: value.as_bytes().to_vec(),
        ..Default::default()
    }
}

fn pair(p: [usize; 2]) -> Vec<i64> {
    vec![p[0] as i64, p[1] as i64]
}

/// ONNX `pads` (`[top, left, bottom, right]`) for TensorFlow's rule: `same`
/// puts the odd extra row or column at the bottom or right.
fn pads(input: &[usize], window: [usize; 2], strides: [usize; 2], padding: Padding) -> Vec<i64> {
    let mut before = [0; 2];
    let mut after = [0; 2];
    for axis in 0..2 {
        if padding == Padding::Same {
            let out = output_len(input[axis], window[axis], strides[axis], padding).unwrap_or(0);
            let total = ((out.max(1) - 1) * strides[axis] + window[axis]).saturating_sub(input[axis]);
            before[axis] = pad_before(input[axis], window[axis], strides[axis], padding);
            after[axis] = total - before[axis];
        }
    }
    [before[0], before[1], after[0], after[1]]
        .iter()
        .map(|&p| p as i64)
        .collect()
}

impl Builder<'_> {
    /// An int64 vector initializer (shapes and indices for Pad and Slice).
    fn int64s(&mut self, name: &str, values: &[i64]) -> String {
        if self.initializer_names.insert(name.to_string()) {
            self.value_names.insert(name.to_string());
            self.initializers.push(TensorProto {
                dims: vec![values.len() as i64],
                data_type: INT64,
                name: name.to_string(),
                raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            });
        }
        name.to_string()
    }

    /// A scalar float initializer holding `value` (shared by every use).
    fn scalar(&mut self, value: f32) -> String {
        let name = format!("const/{value:?}");
        self.initializer(&name, &[], [value])
    }

    /// Appends one operator and returns its output's name: `output`, or
    /// `output~k` when that name is taken (a layer named like an input or
    /// output of the network).
    fn op(&mut self, op_type: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> String {
        let mut unique = output.to_string();
        let mut k = 0;
        while !self.value_names.insert(unique.clone()) {
            k += 1;
            unique = format!("{output}~{k}");
        }
        self.push_op(op_type, inputs, &unique, attribute)
    }

    /// Appends one operator writing exactly `output`.
    fn push_op(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        output: &str,
        attribute: Vec<AttributeProto>,
    ) -> String {
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            name: output.to_string(),
            op_type: op_type.to_string(),
            attribute,
        });
        output.to_string()
    }

    /// Adds a float initializer once (a shared layer's weights are used by
    /// every application).
    fn initializer(&mut self, name: &str, dims: &[usize], values: impl IntoIterator<Item = f32>) -> String {
        if self.initializer_names.insert(name.to_string()) {
            self.value_names.insert(name.to_string());
            self.initializers.push(TensorProto {
                dims: dims.iter().map(|&d| d as i64).collect(),
                data_type: FLOAT,
                name: name.to_string(),
                raw_data: values.into_iter().flat_map(f32::to_le_bytes).collect(),
            });
        }
        name.to_string()
    }

    /// Weight `k` of `layer` (in [`LayerConfig::weights`] order): its
    /// key, shape and values.
    fn weight(
        &self,
        layer: &LayerSpec,
        k: usize,
    ) -> Result<(&'static str, &'static [usize], &[f32]), NnError> {
        let missing = || {
            NnError::Other(format!(
                "{}: layer `{}` has no weight #{k} in its spec",
                self.spec.name, layer.name
            ))
        };
        let p = layer
            .weights
            .get(k)
            .and_then(|&i| self.spec.params.get(i))
            .ok_or_else(missing)?;
        let source = if p.trainable { self.params } else { self.state };
        let values = source.get(p.offset..p.offset + p.len).ok_or_else(|| {
            NnError::Other(format!(
                "{}: weight `{}` lies outside the parameter buffers ({} and {} floats)",
                self.spec.name,
                p.key,
                self.params.len(),
                self.state.len()
            ))
        })?;
        Ok((p.key, p.shape, values))
    }

    /// An ONNX `Conv` from `layer`'s weight `kernel`, a Keras kernel
    /// `[spatial.., in / groups, filters]` (`shape` overrides the stored
    /// shape: a depthwise kernel read as a grouped one), with its weight
    /// `bias` if any, and pads and dilations from `axes`.
    #[allow(clippy::too_many_arguments)]
    fn conv(
        &mut self,
        x: &str,
        layer: &LayerSpec,
        kernel: usize,
        shape: Option<&[usize]>,
        bias: Option<usize>,
        axes: &[ConvAxis],
        groups: usize,
        output: &str,
    ) -> Result<String, NnError> {
        let (key, stored, values) = self.weight(layer, kernel)?;
        let shape = shape.unwrap_or(stored);
        let n = shape.len();
        let (spatial, cg, f) = (&shape[..n - 2], shape[n - 2], shape[n - 1]);
        let field: usize = spatial.iter().product();
        // Keras [spatial.., cg, f] → ONNX [f, cg, spatial..].
        let w: Vec<f32> = (0..f)
            .flat_map(|o| (0..cg).flat_map(move |c| (0..field).map(move |s| values[(s * cg + c) * f + o])))
            .collect();
        let dims: Vec<usize> = [f, cg].into_iter().chain(spatial.iter().copied()).collect();
        let w = self.initializer(key, &dims, w);
        let mut inputs = vec![x.to_string(), w];
        if let Some(k) = bias {
            let (key, shape, values) = self.weight(layer, k)?;
            let values = values.to_vec();
            inputs.push(self.initializer(key, shape, values));
        }
        let before = axes.iter().map(|a| a.pad_before as i64);
        let after = axes
            .iter()
            .map(|a| (a.padded_len() as i64 - a.input as i64 - a.pad_before as i64).max(0));
        let attributes = vec![
            ints(
                "kernel_shape",
                &axes.iter().map(|a| a.kernel as i64).collect::<Vec<_>>(),
            ),
            ints(
                "strides",
                &axes.iter().map(|a| a.stride as i64).collect::<Vec<_>>(),
            ),
            ints(
                "dilations",
                &axes.iter().map(|a| a.dilation as i64).collect::<Vec<_>>(),
            ),
            ints("pads", &before.chain(after).collect::<Vec<_>>()),
            int("group", groups as i64),
        ];
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        Ok(self.op("Conv", &refs, output, attributes))
    }

    /// The value of nn node `node` in layout `want` (image tensors only;
    /// others have one layout), converting once if needed.
    fn value_in(&mut self, node: usize, want: Layout) -> Result<String, NnError> {
        let value = self.values[node].clone().ok_or_else(|| {
            NnError::Other(format!(
                "{}: node {node} is read before it is computed; the spec's nodes are out of order",
                self.spec.name
            ))
        })?;
        if value.layout == want || self.spec.nodes[node].shape.len() != 3 {
            return Ok(value.name);
        }
        if let Some(name) = self.converted.get(&(node, want)) {
            return Ok(name.clone());
        }
        let (perm, suffix) = match want {
            Layout::ChannelsFirst => ([0, 3, 1, 2], "nchw"),
            Layout::ChannelsLast => ([0, 2, 3, 1], "nhwc"),
        };
        let out = format!("{}/{suffix}", value.name);
        self.op("Transpose", &[&value.name], &out, vec![ints("perm", &perm)]);
        self.converted.insert((node, want), out.clone());
        Ok(out)
    }

    /// The layout of `node`'s first input: element-wise layers and merges
    /// keep whatever layout they are given.
    fn input_layout(&self, node: usize) -> Layout {
        let first = self.spec.nodes[node].inputs[0];
        self.values[first]
            .as_ref()
            .map_or(Layout::ChannelsLast, |v| v.layout)
    }

    /// Emits the operators of nn node `i` and returns its value.
    fn node(&mut self, i: usize) -> Result<Value, NnError> {
        let spec = self.spec;
        let node = spec.nodes[i];
        let layer = &spec.layers[node.layer];
        // A shared layer's later applications get `name:1`, `name:2`, ...
        let application = spec.nodes[..i].iter().filter(|n| n.layer == node.layer).count();
        let name = if application == 0 {
            layer.name.to_string()
        } else {
            format!("{}:{application}", layer.name)
        };
        let input_shape: &[usize] = node.inputs.first().map_or(&[], |&x| spec.nodes[x].shape);
        let last = |v: String| Value {
            name: v,
            layout: Layout::ChannelsLast,
        };
        let first = |v: String| Value {
            name: v,
            layout: Layout::ChannelsFirst,
        };
        Ok(match layer.config {
            LayerConfig::Custom(_) => {
                // Its computation is user Rust code, which ONNX cannot hold.
                return Err(NnError::Other(format!(
                    "{}: cannot export to ONNX: `{}` is a custom layer (user Rust code)",
                    spec.name, layer.name
                )));
            }
            LayerConfig::Input(_) => {
                let port = spec.inputs.iter().find(|p| p.node == i).ok_or_else(|| {
                    NnError::Other(format!(
                        "{}: input layer `{}` has no input port",
                        spec.name, layer.name
                    ))
                })?;
                last(port.name.to_string())
            }
            LayerConfig::Conv2D(
                l @ layer::Conv2D {
                    activation,
                    use_bias,
                    groups,
                    ..
                },
            ) if !l.is_plain() => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsFirst)?;
                let axes = l.axes(input_shape).ok_or_else(|| unchecked_shape(spec, layer))?;
                let bias = use_bias.then_some(1);
                let pre = pre_activation(&name, activation);
                let conv = self.conv(&x, layer, 0, None, bias, &axes, groups, &pre)?;
                first(self.activation(activation, &conv, &name, Layout::ChannelsFirst))
            }
            LayerConfig::DepthwiseConv2D(
                l @ layer::DepthwiseConv2D {
                    activation, use_bias, ..
                },
            ) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsFirst)?;
                let axes = l.axes(input_shape).ok_or_else(|| unchecked_shape(spec, layer))?;
                let bias = use_bias.then_some(1);
                // [kh, kw, c, m] is the grouped kernel [kh, kw, 1, c * m].
                let channels = *input_shape.get(2).ok_or_else(|| unchecked_shape(spec, layer))?;
                let grouped = [
                    l.kernel_size[0],
                    l.kernel_size[1],
                    1,
                    channels * l.depth_multiplier,
                ];
                let pre = pre_activation(&name, activation);
                let conv = self.conv(&x, layer, 0, Some(&grouped), bias, &axes, channels, &pre)?;
                first(self.activation(activation, &conv, &name, Layout::ChannelsFirst))
            }
            LayerConfig::SeparableConv2D(
                l @ layer::SeparableConv2D {
                    activation, use_bias, ..
                },
            ) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsFirst)?;
                let axes = l.axes(input_shape).ok_or_else(|| unchecked_shape(spec, layer))?;
                let bias = use_bias.then_some(2);
                let channels = *input_shape.get(2).ok_or_else(|| unchecked_shape(spec, layer))?;
                let grouped = [
                    l.kernel_size[0],
                    l.kernel_size[1],
                    1,
                    channels * l.depth_multiplier,
                ];
                let depthwise = format!("{name}/depthwise");
                let mid = self.conv(&x, layer, 0, Some(&grouped), None, &axes, channels, &depthwise)?;
                let ones = [one_by_one(axes[0].output), one_by_one(axes[1].output)];
                let pre = pre_activation(&name, activation);
                let conv = self.conv(&mid, layer, 1, None, bias, &ones, 1, &pre)?;
                first(self.activation(activation, &conv, &name, Layout::ChannelsFirst))
            }
            LayerConfig::Conv2DTranspose(
                l @ layer::Conv2DTranspose {
                    activation, use_bias, ..
                },
            ) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsFirst)?;
                let axes = l
                    .axes(match input_shape {
                        [h, w, _] => (*h, *w),
                        _ => return Err(unchecked_shape(spec, layer)),
                    })
                    .ok_or_else(|| unchecked_shape(spec, layer))?;
                let (key, shape, values) = self.weight(layer, 0)?;
                // Keras [kh, kw, out, in] → ONNX ConvTranspose [in, out, kh, kw].
                let (kh, kw, cout, cin) = (shape[0], shape[1], shape[2], shape[3]);
                let w = (0..cin).flat_map(|c| {
                    (0..cout).flat_map(move |o| (0..kh * kw).map(move |s| values[(s * cout + o) * cin + c]))
                });
                let w = self.initializer(key, &[cin, cout, kh, kw], w.collect::<Vec<_>>());
                let mut inputs = vec![x, w];
                if use_bias {
                    let (key, shape, values) = self.weight(layer, 1)?;
                    inputs.push(self.initializer(key, shape, values.to_vec()));
                }
                // The full scattered output is cropped by `pad_before` at the
                // start and cut (or, below zero, extended by output_padding)
                // at the end.
                let mut pads = [0i64; 4];
                let mut extra = [0i64; 2];
                for (k, a) in axes.iter().enumerate() {
                    let full = ((a.output - 1) * a.stride + a.span()) as i64;
                    let end = full - a.pad_before as i64 - a.input as i64;
                    pads[k] = a.pad_before as i64;
                    pads[k + 2] = end.max(0);
                    extra[k] = (-end).max(0);
                }
                let attributes = vec![
                    ints("kernel_shape", &[kh as i64, kw as i64]),
                    ints("strides", &[axes[0].stride as i64, axes[1].stride as i64]),
                    ints("dilations", &[axes[0].dilation as i64, axes[1].dilation as i64]),
                    ints("pads", &pads),
                    ints("output_padding", &extra),
                ];
                let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                let conv = self.op(
                    "ConvTranspose",
                    &refs,
                    &pre_activation(&name, activation),
                    attributes,
                );
                first(self.activation(activation, &conv, &name, Layout::ChannelsFirst))
            }
            LayerConfig::Conv1D(
                l @ layer::Conv1D {
                    activation,
                    use_bias,
                    groups,
                    ..
                },
            ) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsLast)?;
                let axis = l
                    .axis(*input_shape.first().ok_or_else(|| unchecked_shape(spec, layer))?)
                    .ok_or_else(|| unchecked_shape(spec, layer))?;
                let bias = use_bias.then_some(1);
                let steps_last = self.op(
                    "Transpose",
                    &[&x],
                    &format!("{name}/ncw"),
                    vec![ints("perm", &[0, 2, 1])],
                );
                let conv = self.conv(
                    &steps_last,
                    layer,
                    0,
                    None,
                    bias,
                    &[axis],
                    groups,
                    &format!("{name}/conv"),
                )?;
                let pre = pre_activation(&name, activation);
                let back = self.op("Transpose", &[&conv], &pre, vec![ints("perm", &[0, 2, 1])]);
                last(self.activation(activation, &back, &name, Layout::ChannelsLast))
            }
            LayerConfig::MaxPooling1D(layer::MaxPooling1D {
                pool_size,
                strides,
                padding,
            })
            | LayerConfig::AveragePooling1D(layer::AveragePooling1D {
                pool_size,
                strides,
                padding,
            }) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsLast)?;
                let ncw = self.op(
                    "Transpose",
                    &[&x],
                    &format!("{name}/ncw"),
                    vec![ints("perm", &[0, 2, 1])],
                );
                let steps = *input_shape.first().ok_or_else(|| unchecked_shape(spec, layer))?;
                let p = pads(&[steps, 1], [pool_size, 1], [strides, 1], padding);
                let mut attributes = vec![
                    ints("kernel_shape", &[pool_size as i64]),
                    ints("strides", &[strides as i64]),
                    ints("pads", &[p[0], p[2]]),
                ];
                let op = if matches!(layer.config, LayerConfig::MaxPooling1D(_)) {
                    "MaxPool"
                } else {
                    attributes.push(int("count_include_pad", 0));
                    "AveragePool"
                };
                let pooled = self.op(op, &[&ncw], &format!("{name}/pool"), attributes);
                last(self.op("Transpose", &[&pooled], &name, vec![ints("perm", &[0, 2, 1])]))
            }
            LayerConfig::GlobalAveragePooling1D(_) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsLast)?;
                last(self.op(
                    "ReduceMean",
                    &[&x],
                    &name,
                    vec![ints("axes", &[1]), int("keepdims", 0)],
                ))
            }
            LayerConfig::Conv2D(layer::Conv2D {
                kernel_size,
                strides,
                padding,
                activation,
                use_bias,
                ..
            }) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsFirst)?;
                let (key, shape, values) = self.weight(layer, 0)?;
                // Keras [kh, kw, cin, cout] → ONNX [cout, cin, kh, kw].
                let (kh, kw, cin, cout) = (shape[0], shape[1], shape[2], shape[3]);
                let oihw = (0..cout).flat_map(|o| {
                    (0..cin).flat_map(move |c| {
                        (0..kh).flat_map(move |y| {
                            (0..kw).map(move |x| values[((y * kw + x) * cin + c) * cout + o])
                        })
                    })
                });
                let w = self.initializer(key, &[cout, cin, kh, kw], oihw.collect::<Vec<_>>());
                let mut inputs = vec![x, w];
                if use_bias {
                    let (key, shape, values) = self.weight(layer, 1)?;
                    inputs.push(self.initializer(key, shape, values.to_vec()));
                }
                let attributes = vec![
                    ints("kernel_shape", &pair(kernel_size)),
                    ints("strides", &pair(strides)),
                    ints("pads", &pads(input_shape, kernel_size, strides, padding)),
                    ints("dilations", &[1, 1]),
                    int("group", 1),
                ];
                let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                let conv = self.op("Conv", &refs, &pre_activation(&name, activation), attributes);
                first(self.activation(activation, &conv, &name, Layout::ChannelsFirst))
            }
            LayerConfig::Dense(layer::Dense {
                activation, use_bias, ..
            }) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsLast)?;
                let (key, shape, values) = self.weight(layer, 0)?;
                let w = self.initializer(key, shape, values.to_vec());
                let pre = pre_activation(&name, activation);
                let out = if use_bias {
                    let product = self.op("MatMul", &[&x, &w], &format!("{name}/matmul"), Vec::new());
                    let (key, shape, values) = self.weight(layer, 1)?;
                    let b = self.initializer(key, shape, values.to_vec());
                    self.op("Add", &[&product, &b], &pre, Vec::new())
                } else {
                    self.op("MatMul", &[&x, &w], &pre, Vec::new())
                };
                last(self.activation(activation, &out, &name, Layout::ChannelsLast))
            }
            LayerConfig::MaxPooling2D(layer::MaxPooling2D {
                pool_size,
                strides,
                padding,
            })
            | LayerConfig::AveragePooling2D(layer::AveragePooling2D {
                pool_size,
                strides,
                padding,
            }) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsFirst)?;
                let mut attributes = vec![
                    ints("kernel_shape", &pair(pool_size)),
                    ints("strides", &pair(strides)),
                    ints("pads", &pads(input_shape, pool_size, strides, padding)),
                ];
                let op = if matches!(layer.config, LayerConfig::MaxPooling2D(_)) {
                    "MaxPool"
                } else {
                    // Keras averages over the in-bounds elements only.
                    attributes.push(int("count_include_pad", 0));
                    "AveragePool"
                };
                first(self.op(op, &[&x], &name, attributes))
            }
            LayerConfig::GlobalAveragePooling2D(_) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsFirst)?;
                let pooled = self.op("GlobalAveragePool", &[&x], &format!("{name}/pool"), Vec::new());
                last(self.op("Flatten", &[&pooled], &name, vec![int("axis", 1)]))
            }
            LayerConfig::GlobalMaxPooling2D(_) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsFirst)?;
                let pooled = self.op("GlobalMaxPool", &[&x], &format!("{name}/pool"), Vec::new());
                last(self.op("Flatten", &[&pooled], &name, vec![int("axis", 1)]))
            }
            LayerConfig::UpSampling2D(layer::UpSampling2D { size, interpolation }) => {
                let bilinear = interpolation == layer::Interpolation::Bilinear;
                self.up_sampling(i, &name, size, bilinear)?
            }
            LayerConfig::Reshape(_) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsLast)?;
                // 0 keeps the batch dimension as it is.
                let dims: Vec<i64> = [0]
                    .into_iter()
                    .chain(node.shape.iter().map(|&d| d as i64))
                    .collect();
                let shape = self.int64s(&format!("{name}/shape"), &dims);
                last(self.op("Reshape", &[&x, &shape], &name, Vec::new()))
            }
            LayerConfig::Permute(permute) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsLast)?;
                let perm: Vec<i64> = [0]
                    .into_iter()
                    .chain(permute.dims().iter().map(|&d| d as i64))
                    .collect();
                last(self.op("Transpose", &[&x], &name, vec![ints("perm", &perm)]))
            }
            LayerConfig::LayerNormalization(layer::LayerNormalization { epsilon, .. }) => {
                self.layer_norm(i, layer, &name, epsilon)?
            }
            LayerConfig::Identity(_) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsLast)?;
                last(self.op("Identity", &[&x], &name, Vec::new()))
            }
            LayerConfig::Flatten(_) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsLast)?;
                last(self.op("Flatten", &[&x], &name, vec![int("axis", 1)]))
            }
            LayerConfig::Activation(layer::Activation(activation)) => {
                self.activation_layer(i, activation, &name)?
            }
            LayerConfig::LeakyReLU(l) => self.activation_layer(i, l.function(), &name)?,
            LayerConfig::ReLU(l) => self.activation_layer(i, l.function(), &name)?,
            LayerConfig::BatchNormalization(layer::BatchNormalization { epsilon, .. }) => {
                self.batch_norm(i, layer, &name, epsilon)?
            }
            LayerConfig::Dropout(_) => {
                let layout = self.input_layout(i);
                let x = self.value_in(node.inputs[0], layout)?;
                Value {
                    name: self.op("Identity", &[&x], &name, Vec::new()),
                    layout,
                }
            }
            LayerConfig::Subtract(_) => self.elementwise_merge(i, MergeOp::Subtract, &name)?,
            LayerConfig::Multiply(_) => self.elementwise_merge(i, MergeOp::Multiply, &name)?,
            LayerConfig::Average(_) => self.elementwise_merge(i, MergeOp::Average, &name)?,
            LayerConfig::Maximum(_) => self.elementwise_merge(i, MergeOp::Maximum, &name)?,
            LayerConfig::Minimum(_) => self.elementwise_merge(i, MergeOp::Minimum, &name)?,
            LayerConfig::Abs(_) => self.elementwise_unary(i, UnaryOp::Abs, &name)?,
            LayerConfig::Square(_) => self.elementwise_unary(i, UnaryOp::Square, &name)?,
            LayerConfig::Sqrt(_) => self.elementwise_unary(i, UnaryOp::Sqrt, &name)?,
            LayerConfig::ZeroPadding2D(layer::ZeroPadding2D {
                padding: [[t, b], [l, r]],
            }) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsFirst)?;
                let pads = self.int64s(
                    &format!("{name}/pads"),
                    &[0, 0, t as i64, l as i64, 0, 0, b as i64, r as i64],
                );
                first(self.op("Pad", &[&x, &pads], &name, Vec::new()))
            }
            LayerConfig::Cropping2D(layer::Cropping2D {
                cropping: [[t, b], [l, r]],
            }) => {
                let x = self.value_in(node.inputs[0], Layout::ChannelsFirst)?;
                let (h, w) = (input_shape[0] as i64, input_shape[1] as i64);
                let starts = self.int64s(&format!("{name}/starts"), &[t as i64, l as i64]);
                let ends = self.int64s(&format!("{name}/ends"), &[h - b as i64, w - r as i64]);
                let axes = self.int64s(&format!("{name}/axes"), &[2, 3]);
                first(self.op("Slice", &[&x, &starts, &ends, &axes], &name, Vec::new()))
            }
            LayerConfig::Add(_) | LayerConfig::Concatenate(_) => {
                let layout = self.input_layout(i);
                let mut inputs = Vec::new();
                for &x in node.inputs {
                    inputs.push(self.value_in(x, layout)?);
                }
                let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                let out = if matches!(layer.config, LayerConfig::Add(_)) {
                    self.op("Sum", &refs, &name, Vec::new())
                } else {
                    let axis = match layout {
                        Layout::ChannelsFirst => 1,
                        Layout::ChannelsLast => input_shape.len() as i64,
                    };
                    self.op("Concat", &refs, &name, vec![int("axis", axis)])
                };
                Value { name: out, layout }
            }
        })
    }

    /// An activation layer (`Activation`, `LeakyReLU`, `ReLU`): in the
    /// layout its input has.
    fn activation_layer(&mut self, i: usize, activation: Activation, name: &str) -> Result<Value, NnError> {
        let layout = self.input_layout(i);
        let x = self.value_in(self.spec.nodes[i].inputs[0], layout)?;
        let out = self.activation_op(activation, &x, name, layout);
        Ok(Value { name: out, layout })
    }

    /// `Sub`, `Mean`, `Max`, `Min`, or a chain of `Mul` (ONNX's takes two
    /// operands), in the layout of the first input.
    fn elementwise_merge(&mut self, i: usize, op: MergeOp, name: &str) -> Result<Value, NnError> {
        let layout = self.input_layout(i);
        let mut inputs = Vec::new();
        for &x in self.spec.nodes[i].inputs {
            inputs.push(self.value_in(x, layout)?);
        }
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let out = match op {
            MergeOp::Subtract => self.op("Sub", &refs, name, Vec::new()),
            MergeOp::Average => self.op("Mean", &refs, name, Vec::new()),
            MergeOp::Maximum => self.op("Max", &refs, name, Vec::new()),
            MergeOp::Minimum => self.op("Min", &refs, name, Vec::new()),
            MergeOp::Multiply => {
                let mut product = refs[0].to_string();
                for (k, x) in refs.iter().enumerate().skip(1) {
                    let target = if k + 1 == refs.len() {
                        name.to_string()
                    } else {
                        format!("{name}/product{k}")
                    };
                    product = self.op("Mul", &[&product, x], &target, Vec::new());
                }
                product
            }
        };
        Ok(Value { name: out, layout })
    }

    /// `Abs`, `Sqrt`, or `x * x` for `square`.
    fn elementwise_unary(&mut self, i: usize, op: UnaryOp, name: &str) -> Result<Value, NnError> {
        let layout = self.input_layout(i);
        let x = self.value_in(self.spec.nodes[i].inputs[0], layout)?;
        let out = match op {
            UnaryOp::Abs => self.op("Abs", &[&x], name, Vec::new()),
            UnaryOp::Sqrt => self.op("Sqrt", &[&x], name, Vec::new()),
            UnaryOp::Square => self.op("Mul", &[&x, &x], name, Vec::new()),
        };
        Ok(Value { name: out, layout })
    }

    /// Inference batch norm over the channel axis: ONNX's
    /// `BatchNormalization` wants channels at axis 1, so image tensors are
    /// taken in NCHW, vectors as they are, and other ranks are transposed
    /// there and back.
    fn batch_norm(
        &mut self,
        i: usize,
        layer: &LayerSpec,
        name: &str,
        epsilon: f32,
    ) -> Result<Value, NnError> {
        let x_node = self.spec.nodes[i].inputs[0];
        let rank = self.spec.nodes[x_node].shape.len();
        let mut inputs = Vec::new();
        let names = layer.config.weight_names();
        let channels = *self.spec.nodes[x_node].shape.last().unwrap_or(&0);
        // `scale=False` / `center=False`: ONNX wants gamma 1 and beta 0.
        for (wanted, fill) in [
            ("gamma", 1.0),
            ("beta", 0.0),
            ("moving_mean", 0.0),
            ("moving_variance", 1.0),
        ] {
            match names.iter().position(|n| *n == wanted) {
                Some(k) => {
                    let (key, shape, values) = self.weight(layer, k)?;
                    inputs.push(self.initializer(key, shape, values.to_vec()));
                }
                None => {
                    let key = format!("{name}/{wanted}");
                    inputs.push(self.initializer(&key, &[channels], vec![fill; channels]));
                }
            }
        }
        let attributes = || vec![float("epsilon", epsilon)];
        if rank == 1 || rank == 3 {
            let layout = if rank == 3 {
                Layout::ChannelsFirst
            } else {
                Layout::ChannelsLast
            };
            let x = self.value_in(x_node, layout)?;
            let refs = [x.as_str(), &inputs[0], &inputs[1], &inputs[2], &inputs[3]];
            return Ok(Value {
                name: self.op("BatchNormalization", &refs, name, attributes()),
                layout,
            });
        }
        let x = self.value_in(x_node, Layout::ChannelsLast)?;
        let r = rank as i64;
        // [batch, d1 .. d(r-1), c] → [batch, c, d1 .. d(r-1)] and back.
        let forward: Vec<i64> = [0, r].into_iter().chain(1..r).collect();
        let back: Vec<i64> = [0].into_iter().chain(2..=r).chain([1]).collect();
        let moved = self.op(
            "Transpose",
            &[&x],
            &format!("{name}/channels_first"),
            vec![ints("perm", &forward)],
        );
        let refs = [moved.as_str(), &inputs[0], &inputs[1], &inputs[2], &inputs[3]];
        let normed = self.op(
            "BatchNormalization",
            &refs,
            &format!("{name}/normalized"),
            attributes(),
        );
        Ok(Value {
            name: self.op("Transpose", &[&normed], name, vec![ints("perm", &back)]),
            layout: Layout::ChannelsLast,
        })
    }

    /// Keras's `UpSampling2D`: `nearest` repeats each pixel (a reshape, a
    /// broadcast and a reshape back, exact in every runtime); `bilinear` is
    /// ONNX's `Resize` with half-pixel centres, as Keras 3 resizes.
    fn up_sampling(
        &mut self,
        i: usize,
        name: &str,
        size: [usize; 2],
        bilinear: bool,
    ) -> Result<Value, NnError> {
        let x_node = self.spec.nodes[i].inputs[0];
        let [h, w, c] = match *self.spec.nodes[x_node].shape {
            [h, w, c] => [h as i64, w as i64, c as i64],
            _ => {
                return Err(NnError::Other(format!(
                    "{}: `{name}` needs an image input",
                    self.spec.name
                )))
            }
        };
        let (sh, sw) = (size[0] as i64, size[1] as i64);
        if bilinear {
            let x = self.value_in(x_node, Layout::ChannelsFirst)?;
            let roi = self.initializer(&format!("{name}/roi"), &[0], []);
            let scales = self.initializer(&format!("{name}/scales"), &[4], [1.0, 1.0, sh as f32, sw as f32]);
            let attributes = vec![
                string("mode", "linear"),
                string("coordinate_transformation_mode", "half_pixel"),
            ];
            return Ok(Value {
                name: self.op("Resize", &[&x, &roi, &scales], name, attributes),
                layout: Layout::ChannelsFirst,
            });
        }
        let x = self.value_in(x_node, Layout::ChannelsLast)?;
        let split = self.int64s(&format!("{name}/split"), &[-1, h, 1, w, 1, c]);
        let spread = self.int64s(&format!("{name}/spread"), &[1, 1, sh, 1, sw, 1]);
        let joined = self.int64s(&format!("{name}/joined"), &[-1, h * sh, w * sw, c]);
        let cells = self.op("Reshape", &[&x, &split], &format!("{name}/cells"), Vec::new());
        let repeated = self.op(
            "Expand",
            &[&cells, &spread],
            &format!("{name}/repeated"),
            Vec::new(),
        );
        Ok(Value {
            name: self.op("Reshape", &[&repeated, &joined], name, Vec::new()),
            layout: Layout::ChannelsLast,
        })
    }

    /// Keras's `LayerNormalization` over the last axis, from opset-13 ops
    /// (ONNX's own `LayerNormalization` needs opset 17).
    fn layer_norm(
        &mut self,
        i: usize,
        layer: &LayerSpec,
        name: &str,
        epsilon: f32,
    ) -> Result<Value, NnError> {
        let x = self.value_in(self.spec.nodes[i].inputs[0], Layout::ChannelsLast)?;
        let axes = vec![ints("axes", &[-1])];
        let mean = self.op("ReduceMean", &[&x], &format!("{name}/mean"), axes.clone());
        let centred = self.op("Sub", &[&x, &mean], &format!("{name}/centred"), Vec::new());
        let squared = self.op(
            "Mul",
            &[&centred, &centred],
            &format!("{name}/squared"),
            Vec::new(),
        );
        let variance = self.op("ReduceMean", &[&squared], &format!("{name}/variance"), axes);
        let eps = self.scalar(epsilon);
        let shifted = self.op(
            "Add",
            &[&variance, &eps],
            &format!("{name}/variance_eps"),
            Vec::new(),
        );
        let std = self.op("Sqrt", &[&shifted], &format!("{name}/std"), Vec::new());
        let mut out = self.op(
            "Div",
            &[&centred, &std],
            &format!("{name}/normalized"),
            Vec::new(),
        );
        let names = layer.config.weight_names();
        for (k, weight) in names.iter().enumerate() {
            let (key, shape, values) = self.weight(layer, k)?;
            let v = self.initializer(key, shape, values.to_vec());
            let (op, step) = if *weight == "gamma" {
                ("Mul", "scaled")
            } else {
                ("Add", "shifted")
            };
            let target = if k + 1 == names.len() {
                name.to_string()
            } else {
                format!("{name}/{step}")
            };
            out = self.op(op, &[&out, &v], &target, Vec::new());
        }
        if names.is_empty() {
            out = self.op("Identity", &[&out], name, Vec::new());
        }
        Ok(Value {
            name: out,
            layout: Layout::ChannelsLast,
        })
    }

    /// A fused activation after a convolution or dense product named
    /// [`pre_activation`]`(name)`; returns the layer's output name.
    fn activation(&mut self, act: Activation, pre: &str, name: &str, layout: Layout) -> String {
        if act == Activation::Linear {
            pre.to_string()
        } else {
            self.activation_op(act, pre, name, layout)
        }
    }

    fn activation_op(&mut self, act: Activation, x: &str, out: &str, layout: Layout) -> String {
        match act {
            Activation::Linear => self.op("Identity", &[x], out, Vec::new()),
            Activation::Relu => self.op("Relu", &[x], out, Vec::new()),
            Activation::Relu6 => {
                let lo = self.initializer("relu6/min", &[], [0.0]);
                let hi = self.initializer("relu6/max", &[], [6.0]);
                self.op("Clip", &[x, &lo, &hi], out, Vec::new())
            }
            Activation::LeakyRelu(alpha) => self.op("LeakyRelu", &[x], out, vec![float("alpha", alpha)]),
            Activation::Sigmoid => self.op("Sigmoid", &[x], out, Vec::new()),
            Activation::Tanh => self.op("Tanh", &[x], out, Vec::new()),
            Activation::Elu => self.op("Elu", &[x], out, vec![float("alpha", 1.0)]),
            Activation::Selu => self.op(
                "Selu",
                &[x],
                out,
                vec![float("alpha", SELU_ALPHA), float("gamma", SELU_SCALE)],
            ),
            Activation::Softplus => self.op("Softplus", &[x], out, Vec::new()),
            // Keras 3: relu6(x + 3) / 6 = clip(x / 6 + 1 / 2, 0, 1).
            Activation::HardSigmoid => self.op(
                "HardSigmoid",
                &[x],
                out,
                vec![float("alpha", 1.0 / 6.0), float("beta", 0.5)],
            ),
            Activation::ReluWith {
                negative_slope,
                max_value,
                threshold,
            } => {
                // x < threshold ? negative_slope * (x - threshold) : min(x, max_value)
                let t = self.scalar(threshold);
                let slope = self.scalar(negative_slope);
                let top = self.scalar(max_value);
                let shifted = self.op("Sub", &[x, &t], &format!("{out}/shifted"), Vec::new());
                let below = self.op("Mul", &[&shifted, &slope], &format!("{out}/below"), Vec::new());
                let above = self.op("Min", &[x, &top], &format!("{out}/above"), Vec::new());
                let low = self.op("Less", &[x, &t], &format!("{out}/is_below"), Vec::new());
                self.op("Where", &[&low, &below, &above], out, Vec::new())
            }
            Activation::Softmax => {
                // nn's softmax runs over channels, the last axis in nn's layout.
                let axis = match layout {
                    Layout::ChannelsFirst => 1,
                    Layout::ChannelsLast => -1,
                };
                self.op("Softmax", &[x], out, vec![int("axis", axis)])
            }
            // x · (1 + erf(x / √2)) / 2, from ops every opset since 9 has
            // (ONNX's own Gelu needs opset 20).
            Activation::Gelu => {
                let inv_sqrt2 = self.scalar(std::f32::consts::FRAC_1_SQRT_2);
                let one = self.scalar(1.0);
                let half = self.scalar(0.5);
                let scaled = self.op("Mul", &[x, &inv_sqrt2], &format!("{out}/scaled"), Vec::new());
                let erf = self.op("Erf", &[&scaled], &format!("{out}/erf"), Vec::new());
                let cdf = self.op("Add", &[&erf, &one], &format!("{out}/one_plus_erf"), Vec::new());
                let halved = self.op("Mul", &[&cdf, &half], &format!("{out}/cdf"), Vec::new());
                self.op("Mul", &[x, &halved], out, Vec::new())
            }
            Activation::Swish => {
                let gate = self.op("Sigmoid", &[x], &format!("{out}/sigmoid"), Vec::new());
                self.op("Mul", &[x, &gate], out, Vec::new())
            }
        }
    }
}

/// A 1x1 kernel over `n` positions.
fn one_by_one(n: usize) -> ConvAxis {
    ConvAxis {
        input: n,
        kernel: 1,
        stride: 1,
        dilation: 1,
        pad_before: 0,
        output: n,
    }
}

/// A convolution whose geometry the macro did not check (a hand-built spec).
fn unchecked_shape(spec: &ModelSpec, layer: &LayerSpec) -> NnError {
    NnError::Other(format!(
        "{}: layer `{}` does not fit its input's shape in the spec",
        spec.name, layer.name
    ))
}

/// Name of a convolution's or dense layer's value before its activation:
/// the layer's own name when there is no activation.
fn pre_activation(name: &str, act: Activation) -> String {
    if act == Activation::Linear {
        name.to_string()
    } else {
        format!("{name}/linear")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_the_odd_extra_at_the_bottom_and_right() {
        // 10 → 5 with a 3-window and stride 2 needs 1 padding row: below.
        assert_eq!(pads(&[10, 10, 8], [3, 3], [2, 2], Padding::Same), [0, 0, 1, 1]);
        // 5 → 5 with a 3-window and stride 1 needs 2: one on each side.
        assert_eq!(pads(&[5, 5, 1], [3, 3], [1, 1], Padding::Same), [1, 1, 1, 1]);
        // Height and width are padded independently.
        assert_eq!(pads(&[5, 6, 1], [2, 2], [2, 2], Padding::Same), [0, 0, 1, 0]);
        assert_eq!(pads(&[9, 9, 1], [3, 3], [2, 2], Padding::Valid), [0, 0, 0, 0]);
    }
}
