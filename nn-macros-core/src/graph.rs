//! Phase 2, graph: runs a network's statements at compile time — blocks
//! inlined, loops unrolled, shared layers resolved — into a graph of layers
//! and nodes whose shapes are inferred as they are created.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Ident, Lit, UnOp};

use crate::ast::{BlockDef, NetworkDef, Stmt};
use crate::dimensions;
use crate::errors::Errors;
use crate::keras;
use crate::layers;
use crate::shape::{self, Operand, Shape};
use crate::suggest::did_you_mean;
use nn_vocab::{layer as kind, LayerConfig};

mod custom;
mod nested;

/// A summary row: one layer, applied at one or more nodes.
pub struct Layer {
    pub name: String,
    pub config: LayerConfig,
    pub nodes: Vec<usize>,
    /// Input shape of the first application (shared layers must match it).
    pub input_shape: Option<Shape>,
    /// False for `trainable = false`: its weights are frozen.
    pub trainable: bool,
    /// The tokens that constructed it, for messages.
    origin: TokenStream,
    /// The network used as a layer it belongs to (index into
    /// [`Graph::nested`]): the summary shows that network as one row.
    pub within: Option<usize>,
    /// A custom layer's value expression, evaluated by the constructor.
    pub custom: Option<Expr>,
}

/// One application of a layer, producing one tensor.
pub struct Node {
    pub layer: usize,
    pub inputs: Vec<usize>,
    pub shape: Shape,
    /// The expression that applied the layer, for messages.
    origin: TokenStream,
}

/// A named input or output of the network.
pub struct Port {
    pub name: Ident,
    pub node: usize,
}

pub struct Graph {
    pub layers: Vec<Layer>,
    pub nodes: Vec<Node>,
    pub inputs: Vec<Port>,
    pub outputs: Vec<Port>,
    /// Networks used as layers (outermost instances only).
    pub nested: Vec<NestedRow>,
}

/// A network used as a layer, as its summary row: `tower_1 (Tower)`.
pub struct NestedRow {
    pub name: String,
    pub class: String,
    /// Per call: the tensors it was given and the tensor it returned.
    pub calls: Vec<(Vec<usize>, usize)>,
}

impl Graph {
    /// Position of `node` among its layer's applications (Keras's node index).
    pub fn node_index(&self, node: usize) -> usize {
        let layer = &self.layers[self.nodes[node].layer];
        layer.nodes.iter().position(|&n| n == node).unwrap_or(0)
    }

    /// `conv2d_1[0][0]`: how Keras names a node's output tensor (the
    /// output of a network used as a layer is `tower_1[call][0]`).
    pub fn tensor_ref(&self, node: usize) -> String {
        let layer = &self.layers[self.nodes[node].layer];
        if let Some(row) = layer.within.and_then(|k| self.nested.get(k)) {
            if let Some(call) = row.calls.iter().position(|(_, out)| *out == node) {
                return format!("{}[{call}][0]", row.name);
            }
        }
        format!("{}[{}][0]", layer.name, self.node_index(node))
    }
}

#[derive(Clone)]
enum Value {
    Tensor(usize),
    Int(i64),
    Layer(usize),
    /// An instance of a network used as a layer (see `nested`).
    Network(usize),
    /// The result of an expression that already reported an error: using it
    /// reports nothing more, so one mistake gives one message.
    Poison,
}

const MAX_BLOCK_DEPTH: usize = 32;
const MAX_UNROLL: i64 = 1000;
/// Most layer applications one network may generate: deep networks have
/// hundreds; beyond this the generated code would take rustc minutes.
const MAX_NODES: usize = 10_000;
/// Most loop iterations and block calls one network may run at compile
/// time (nested loops and blocks calling blocks multiply).
const MAX_STEPS: usize = 100_000;
/// Most parameters (or activations per sample) of a whole network.
const MAX_TOTAL: usize = shape::MAX_ELEMENTS;

struct Builder<'a> {
    errors: &'a mut Errors,
    blocks: Vec<&'a BlockDef>,
    /// The networks of the invocation, usable as layers, and this one's name.
    networks: &'a [NetworkDef],
    this: &'a Ident,
    instances: Vec<nested::Instance<'a>>,
    instance_counters: HashMap<String, usize>,
    /// Calls of network instances in progress, innermost last.
    calls: Vec<nested::Call>,
    layers: Vec<Layer>,
    nodes: Vec<Node>,
    inputs: Vec<(Port, Span)>,
    outputs: Vec<Port>,
    counters: HashMap<&'static str, usize>,
    user_names: Vec<(String, Span)>,
    /// Whether any `output` statement was written (even one with an error).
    output_declared: bool,
    depth: usize,
    /// Loop iterations and block calls run so far (see [`MAX_STEPS`]).
    steps: usize,
    /// Set after an error that makes going on pointless (a budget is
    /// exhausted, a block recurses): everything after evaluates to poison.
    halted: bool,
    /// `let name = ...` in a loop body that shadows a binding from outside
    /// the loop, with the tensor it bound: if that tensor reaches no output,
    /// the user most likely meant `name = ...`.
    loop_shadows: Vec<(Ident, usize)>,
}

type Scope = Vec<HashMap<String, Value>>;

/// Builds the graph of one network. Errors go to `errors`; a graph is
/// returned only when this network had none.
pub fn build(
    def: &NetworkDef,
    shared_blocks: &[BlockDef],
    networks: &[NetworkDef],
    errors: &mut Errors,
) -> Option<Graph> {
    let before = errors.count();
    let mut blocks: Vec<&BlockDef> = shared_blocks.iter().collect();
    for stmt in &def.body {
        if let Stmt::Block(b) = stmt {
            blocks.push(b);
        }
    }
    let mut builder = Builder {
        errors,
        blocks,
        networks,
        this: &def.name,
        instances: Vec::new(),
        instance_counters: HashMap::new(),
        calls: Vec::new(),
        layers: Vec::new(),
        nodes: Vec::new(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        counters: HashMap::new(),
        user_names: Vec::new(),
        output_declared: false,
        depth: 0,
        steps: 0,
        halted: false,
        loop_shadows: Vec::new(),
    };
    let mut scope: Scope = vec![HashMap::new()];
    builder.exec(&def.body, &mut scope, Context::Network);
    let graph = builder.finish(def, before);
    if errors.count() > before {
        None
    } else {
        graph
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Context {
    Network,
    Block,
    /// The statements of a network used as a layer, run at one of its calls.
    Nested,
    /// `base`: index of the loop body's scope frame.
    Loop {
        in_block: bool,
        base: usize,
    },
}

impl Context {
    fn in_block(self) -> bool {
        matches!(self, Context::Block | Context::Loop { in_block: true, .. })
    }
}

impl<'a> Builder<'a> {
    /// Runs statements; returns the value of a `return` (or tail expression).
    fn exec(&mut self, stmts: &'a [Stmt], scope: &mut Scope, ctx: Context) -> Option<Value> {
        let mut result = None;
        for stmt in stmts {
            if self.halted {
                return None;
            }
            match stmt {
                Stmt::Input { name, .. } if ctx == Context::Nested => self.nested_input(name, scope),
                Stmt::Output { name, expr } if ctx == Context::Nested => {
                    self.nested_output(name, expr, scope)
                }
                Stmt::Input { name, dims, span } => {
                    if ctx != Context::Network {
                        self.errors.push(
                            *span,
                            "`input` is declared at the top of a network, not in a block or loop",
                        );
                        continue;
                    }
                    self.input(name, dims, *span, scope);
                }
                Stmt::Output { name, expr } => {
                    if ctx != Context::Network {
                        self.errors.push(
                            name.span(),
                            "`output` is declared at the top of a network, not in a block or loop",
                        );
                        continue;
                    }
                    self.output_declared = true;
                    if let Some(hint) = keras::outputs_hint(name, expr) {
                        self.errors.push_spanned(expr, hint);
                        continue;
                    }
                    let value = self.eval(expr, scope);
                    if let Some(node) = self.expect_tensor(&value, expr) {
                        if self.outputs.iter().any(|o| o.name == *name) {
                            self.errors
                                .push(name.span(), format!("output `{name}` is declared twice"));
                        } else {
                            self.outputs.push(Port {
                                name: name.clone(),
                                node,
                            });
                        }
                    }
                }
                Stmt::Let { name, expr } => {
                    let value = self.eval(expr, scope);
                    if let (Context::Loop { base, .. }, Value::Tensor(node)) = (ctx, &value) {
                        let key = name.to_string();
                        if scope[..base].iter().any(|m| m.contains_key(&key)) {
                            self.loop_shadows.push((name.clone(), *node));
                        }
                    }
                    if let Some(top) = scope.last_mut() {
                        top.insert(name.to_string(), value);
                    }
                }
                Stmt::Assign { name, expr } => {
                    let value = self.eval(expr, scope);
                    let key = name.to_string();
                    match scope.iter_mut().rev().find(|m| m.contains_key(&key)) {
                        Some(map) => {
                            map.insert(key, value);
                        }
                        None => self.errors.push(
                            name.span(),
                            format!(
                                "cannot assign to `{name}`: it is not defined yet; write `let {name} = ...;`"
                            ),
                        ),
                    }
                }
                Stmt::For { var, range, body } => {
                    let Some((from, to)) = self.loop_bounds(range) else {
                        continue;
                    };
                    for i in from..to {
                        // `to` may be one past i64::MAX (`..=i64::MAX`).
                        let Ok(i) = i64::try_from(i) else { break };
                        if !self.step(range) {
                            break;
                        }
                        let mut frame = HashMap::new();
                        if let Some(v) = var {
                            frame.insert(v.to_string(), Value::Int(i));
                        }
                        scope.push(frame);
                        let errors_before = self.errors.count();
                        self.exec(
                            body,
                            scope,
                            Context::Loop {
                                in_block: ctx.in_block(),
                                base: scope.len() - 1,
                            },
                        );
                        scope.pop();
                        // Later iterations would repeat the same messages.
                        if self.errors.count() > errors_before {
                            break;
                        }
                    }
                }
                Stmt::Block(def) => {
                    if ctx != Context::Network && ctx != Context::Nested {
                        self.errors.push(
                            def.name.span(),
                            "define blocks at the top of the invocation or of a network, not inside a block or loop",
                        );
                    }
                }
                Stmt::Return(expr) => {
                    let value = self.eval(expr, scope);
                    match ctx {
                        Context::Block => result = Some(value),
                        Context::Network | Context::Nested => self.errors.push_spanned(
                            expr,
                            "a network ends with `output name = ...;`; only blocks return a value",
                        ),
                        Context::Loop { .. } => self
                            .errors
                            .push_spanned(expr, "a loop body cannot return a value; assign it instead"),
                    }
                }
                Stmt::Discarded(expr) => {
                    let value = self.eval(expr, scope);
                    if !matches!(value, Value::Poison) {
                        self.errors.push_spanned(expr,
                            "this value is computed and dropped; bind it with `let` or return it from the block",
                        );
                    }
                }
            }
        }
        result
    }

    fn input(&mut self, name: &Ident, dims: &'a [Expr], span: Span, scope: &mut Scope) {
        if self.inputs.iter().any(|(p, _)| p.name == *name) {
            self.errors.push(
                name.span(),
                format!("input `{name}` is declared twice; give the second input another name"),
            );
            return;
        }
        let mut shape = Vec::new();
        let mut ok = true;
        for (i, d) in dims.iter().enumerate() {
            match input_dim(d) {
                Ok(v) => shape.push(v),
                Err(message) => {
                    let message = if i == 0 && keras::is_batch_axis(d) {
                        let rest: Vec<String> =
                            dims[1..].iter().map(|d| quote::quote!(#d).to_string()).collect();
                        format!(
                            "the batch axis is not part of an input's shape (any batch size works); \
                             write `input {name}: [{}];`",
                            rest.join(", ")
                        )
                    } else {
                        message
                    };
                    self.errors.push_spanned(d, message);
                    ok = false;
                }
            }
        }
        if dims.is_empty() {
            self.errors.push(
                span,
                "an input needs at least one dimension, e.g. `[64, 64, 3]` or `[784]`",
            );
            ok = false;
        }
        if ok && shape::checked_len(&shape).is_none() {
            self.errors.push(
                span,
                format!(
                    "input `{name}` has more than {} elements per sample",
                    shape::MAX_ELEMENTS
                ),
            );
            ok = false;
        }
        if !ok {
            scope[0].insert(name.to_string(), Value::Poison);
            return;
        }
        let layer = self.new_layer(LayerConfig::Input(kind::Input), None, name.to_token_stream());
        self.layers[layer].input_shape = Some(shape.clone());
        let node = self.nodes.len();
        self.nodes.push(Node {
            layer,
            inputs: Vec::new(),
            shape,
            origin: name.to_token_stream(),
        });
        self.layers[layer].nodes.push(node);
        self.inputs.push((
            Port {
                name: name.clone(),
                node,
            },
            name.span(),
        ));
        scope[0].insert(name.to_string(), Value::Tensor(node));
    }

    /// The loop's first value and one past its last (as i128, so that
    /// `..=i64::MAX` has an end).
    fn loop_bounds(&mut self, range: &Expr) -> Option<(i128, i128)> {
        let literal = |e: &Option<Box<Expr>>| -> Option<i64> {
            match e.as_deref() {
                Some(Expr::Lit(l)) => match &l.lit {
                    Lit::Int(i) => i.base10_parse::<i64>().ok(),
                    _ => None,
                },
                Some(Expr::Unary(u)) if matches!(u.op, UnOp::Neg(_)) => match &*u.expr {
                    Expr::Lit(l) => match &l.lit {
                        Lit::Int(i) => i.base10_parse::<i64>().ok().and_then(i64::checked_neg),
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            }
        };
        let bounds = match range {
            Expr::Range(r) => match (literal(&r.start), literal(&r.end)) {
                (Some(a), Some(b)) => match r.limits {
                    syn::RangeLimits::HalfOpen(_) => Some((i128::from(a), i128::from(b))),
                    syn::RangeLimits::Closed(_) => Some((i128::from(a), i128::from(b) + 1)),
                },
                _ => None,
            },
            _ => None,
        };
        match bounds {
            Some((a, b)) if b - a > i128::from(MAX_UNROLL) => {
                self.errors
                    .push_spanned(range, format!("a loop unrolls at most {MAX_UNROLL} times"));
                None
            }
            Some(bounds) => Some(bounds),
            None => {
                self.errors.push_spanned(
                    range,
                    "loop bounds must be integer literals, like `0..3`: the loop is unrolled at compile time",
                );
                None
            }
        }
    }

    /// Counts one loop iteration or block call against [`MAX_STEPS`];
    /// `false` (after one error at `at`) once the budget is spent.
    fn step(&mut self, at: &dyn quote::ToTokens) -> bool {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            self.errors.push_spanned(
                at,
                format!(
                    "this network runs more than {MAX_STEPS} loop iterations and block calls at \
                     compile time; nested loops and blocks multiply: unroll less"
                ),
            );
            self.halted = true;
        }
        !self.halted
    }

    fn new_layer(
        &mut self,
        config: LayerConfig,
        user_name: Option<(String, Span)>,
        origin: TokenStream,
    ) -> usize {
        // A later call of a network used as a layer reuses its layers.
        if let Some(layer) = self.replayed_layer() {
            return layer;
        }
        let name = match user_name {
            Some((name, span)) => {
                let name = self.prefixed(&name);
                self.user_names.push((name.clone(), span));
                name
            }
            None => {
                let counter = self.counters_mut().entry(config.name_prefix()).or_insert(0);
                *counter += 1;
                let local = format!("{}_{}", config.name_prefix(), counter);
                self.prefixed(&local)
            }
        };
        self.layers.push(Layer {
            name,
            config,
            nodes: Vec::new(),
            input_shape: None,
            trainable: true,
            origin,
            within: self.outermost_instance(),
            custom: None,
        });
        let layer = self.layers.len() - 1;
        self.created_layer(layer);
        layer
    }

    fn eval(&mut self, expr: &'a Expr, scope: &mut Scope) -> Value {
        if self.halted {
            return Value::Poison;
        }
        if let Some(hint) = self.keras_expression_hint(expr, scope) {
            self.errors.push_spanned(expr, hint);
            return Value::Poison;
        }
        match expr {
            Expr::Paren(p) => self.eval(&p.expr, scope),
            Expr::Group(g) => self.eval(&g.expr, scope),
            Expr::Lit(l) => match &l.lit {
                Lit::Int(i) => match i.base10_parse::<i64>() {
                    Ok(v) => Value::Int(v),
                    Err(e) => {
                        self.errors.push_error(e);
                        Value::Poison
                    }
                },
                _ => self.unsupported(expr),
            },
            Expr::Path(p) => match p.path.get_ident() {
                Some(ident) => self.lookup(ident, scope),
                None => self.unsupported(expr),
            },
            Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match self.eval(&u.expr, scope) {
                Value::Int(v) => match v.checked_neg() {
                    Some(v) => Value::Int(v),
                    None => {
                        self.errors.push_spanned(expr, "integer overflow");
                        Value::Poison
                    }
                },
                Value::Poison => Value::Poison,
                _ => self.unsupported(expr),
            },
            Expr::Binary(b) => self.arithmetic(b, scope),
            Expr::Call(call) => self.call(expr, &call.func, call.args.iter().collect(), scope),
            _ => self.unsupported(expr),
        }
    }

    fn unsupported(&mut self, expr: &Expr) -> Value {
        self.errors.push_spanned(
            expr,
            "unsupported expression: expected a tensor name, a layer applied to tensors \
             (`Conv2D(16, 3)(x)`), a block call, `add(...)`, `concat(...)` or an integer",
        );
        Value::Poison
    }

    fn lookup(&mut self, ident: &Ident, scope: &Scope) -> Value {
        let key = ident.to_string();
        if let Some(v) = scope.iter().rev().find_map(|m| m.get(&key)) {
            return v.clone();
        }
        let hint = if layers::is_layer(&key) {
            format!("; `{key}` is a layer: construct and apply it, e.g. `{key}(...)(x)`")
        } else if self.blocks.iter().any(|b| b.name == key) || is_function(&key) {
            format!("; `{key}` is a function: call it, e.g. `{key}(x)`")
        } else {
            let mut names: Vec<&String> = scope.iter().flat_map(|m| m.keys()).collect();
            names.sort();
            names.dedup();
            if let Some(close) = did_you_mean(&key, names.iter().map(|n| n.as_str())) {
                format!("; did you mean `{close}`?")
            } else if names.is_empty() {
                String::new()
            } else {
                let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                format!("; defined here: {}", list.join(", "))
            }
        };
        self.errors
            .push(ident.span(), format!("cannot find tensor `{key}`{hint}"));
        Value::Poison
    }

    fn arithmetic(&mut self, b: &'a syn::ExprBinary, scope: &mut Scope) -> Value {
        let (l, r) = (self.eval(&b.left, scope), self.eval(&b.right, scope));
        let (l, r) = match (l, r) {
            (Value::Int(l), Value::Int(r)) => (l, r),
            (Value::Poison, _) | (_, Value::Poison) => return Value::Poison,
            _ => {
                self.errors.push_spanned(
                    b,
                    "arithmetic works on integers only (block parameters, loop variables)",
                );
                return Value::Poison;
            }
        };
        let result = match b.op {
            BinOp::Add(_) => l.checked_add(r),
            BinOp::Sub(_) => l.checked_sub(r),
            BinOp::Mul(_) => l.checked_mul(r),
            BinOp::Div(_) => l.checked_div(r),
            BinOp::Rem(_) => l.checked_rem(r),
            _ => {
                self.errors
                    .push(b.op.span(), "only + - * / % are supported on integers");
                return Value::Poison;
            }
        };
        match result {
            Some(v) => Value::Int(v),
            None => {
                self.errors
                    .push_spanned(b, "integer overflow or division by zero");
                Value::Poison
            }
        }
    }

    fn call(&mut self, whole: &'a Expr, func: &'a Expr, args: Vec<&'a Expr>, scope: &mut Scope) -> Value {
        // `Layer(config)(tensors)` or `(expr)(tensors)`: apply what `func` evaluates to.
        let ident = match func {
            Expr::Path(p) => p.path.get_ident(),
            _ => None,
        };
        let Some(ident) = ident else {
            return match self.eval(func, scope) {
                Value::Layer(layer) => self.apply(layer, &args, whole, scope),
                Value::Network(instance) => self.call_instance(instance, &args, whole, scope),
                Value::Poison => Value::Poison,
                _ => {
                    self.errors
                        .push_spanned(func, "this is not a layer, so it cannot be applied to tensors");
                    Value::Poison
                }
            };
        };
        let name = ident.to_string();
        // A variable holding a layer: apply it (shared weights).
        if let Some(v) = scope.iter().rev().find_map(|m| m.get(&name)).cloned() {
            return match v {
                Value::Layer(layer) => self.apply(layer, &args, whole, scope),
                Value::Network(instance) => self.call_instance(instance, &args, whole, scope),
                Value::Poison => Value::Poison,
                Value::Tensor(_) => {
                    self.errors.push(
                        ident.span(),
                        format!("`{name}` is a tensor, not a layer or block"),
                    );
                    Value::Poison
                }
                Value::Int(_) => {
                    self.errors.push(
                        ident.span(),
                        format!("`{name}` is an integer, not a layer or block"),
                    );
                    Value::Poison
                }
            };
        }
        if let Some(value) = dimensions::query(&name, &args, whole, |t| self.dimension_operand(t, scope)) {
            return match value {
                Ok(v) => Value::Int(v),
                Err(e) => {
                    self.errors.push_error(e);
                    Value::Poison
                }
            };
        }
        if name == "Custom" {
            return self.custom_layer(ident, &args, whole, scope);
        }
        if layers::is_layer(&name) {
            let owned: Vec<Expr> = args.iter().map(|e| (*e).clone()).collect();
            let mut int_errors = Vec::new();
            let constructed = {
                let mut eval_int =
                    |e: &Expr| -> Result<i64, syn::Error> { self.eval_int_pure(e, scope, &mut int_errors) };
                layers::construct(ident, &owned, &mut eval_int)
            };
            return match constructed {
                Ok(c) => {
                    let layer = self.new_layer(c.config, c.user_name, whole.to_token_stream());
                    self.layers[layer].trainable = c.trainable;
                    Value::Layer(layer)
                }
                Err(errs) => {
                    for e in errs {
                        self.errors.push_error(e);
                    }
                    Value::Poison
                }
            };
        }
        if let Some(config) = LayerConfig::from_function(&name) {
            let layer = self.new_layer(config, None, whole.to_token_stream());
            return self.apply(layer, &args, whole, scope);
        }
        if let Some(block) = self.blocks.iter().rev().find(|b| b.name == name).copied() {
            return self.inline_block(block, ident, &args, whole, scope);
        }
        if let Some(network) = self.network_def(&name) {
            return self.network_call(network, ident, &args, whole, scope);
        }
        let message = match keras::callable_hint(&name, &args) {
            Some(hint) => hint,
            None => {
                let blocks: Vec<String> = self.blocks.iter().map(|b| b.name.to_string()).collect();
                let mut candidates: Vec<&str> = LayerConfig::constructor_names()
                    .chain(LayerConfig::function_names())
                    .collect();
                candidates.extend(blocks.iter().map(|b| b.as_str()));
                match did_you_mean(&name, candidates.into_iter()) {
                    Some(close) => format!("unknown layer or block `{name}`; did you mean `{close}`?"),
                    None => format!(
                        "unknown layer or block `{name}`; layers: {}; functions: {}{}",
                        layers::layer_names(),
                        LayerConfig::function_names().collect::<Vec<_>>().join(", "),
                        self.block_list()
                    ),
                }
            }
        };
        self.errors.push(ident.span(), message);
        Value::Poison
    }

    fn block_list(&self) -> String {
        if self.blocks.is_empty() {
            return String::new();
        }
        let names: Vec<String> = self.blocks.iter().map(|b| b.name.to_string()).collect();
        format!("; blocks: {}", names.join(", "))
    }

    /// What `channels(name)` and the other dimension functions read.
    fn dimension_operand(&self, tensor: &Ident, scope: &Scope) -> dimensions::Operand {
        let key = tensor.to_string();
        match scope.iter().rev().find_map(|m| m.get(&key)) {
            Some(Value::Tensor(node)) => dimensions::Operand::Tensor(self.nodes[*node].shape.clone()),
            Some(Value::Int(_)) => dimensions::Operand::Not(format!("`{key}` is an integer, not a tensor")),
            Some(Value::Layer(_)) => dimensions::Operand::Not(format!(
                "`{key}` is a layer, not a tensor; apply it first: `let y = {key}(x);`"
            )),
            Some(Value::Network(_)) => dimensions::Operand::Not(format!(
                "`{key}` is a network used as a layer, not a tensor; apply it first: `let y = {key}(x);`"
            )),
            Some(Value::Poison) => dimensions::Operand::Not(format!("`{key}` has an error above")),
            None => dimensions::Operand::Not(format!("cannot find tensor `{key}`")),
        }
    }

    /// Integer evaluation for layer arguments, without creating layers.
    fn eval_int_pure(
        &self,
        expr: &Expr,
        scope: &Scope,
        _errs: &mut Vec<syn::Error>,
    ) -> Result<i64, syn::Error> {
        let err = |msg: String| syn::Error::new_spanned(expr, msg);
        match expr {
            Expr::Paren(p) => self.eval_int_pure(&p.expr, scope, _errs),
            Expr::Group(g) => self.eval_int_pure(&g.expr, scope, _errs),
            Expr::Lit(l) => match &l.lit {
                Lit::Int(i) => i.base10_parse::<i64>(),
                _ => Err(err("expected an integer".into())),
            },
            Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => self
                .eval_int_pure(&u.expr, scope, _errs)?
                .checked_neg()
                .ok_or_else(|| err("integer overflow".into())),
            Expr::Path(p) => {
                let Some(ident) = p.path.get_ident() else {
                    return Err(err("expected an integer".into()));
                };
                match scope.iter().rev().find_map(|m| m.get(&ident.to_string())) {
                    Some(Value::Int(v)) => Ok(*v),
                    Some(Value::Tensor(_)) => Err(err(format!(
                        "`{ident}` is a tensor, but an integer is expected here"
                    ))),
                    Some(Value::Layer(_)) => Err(err(format!(
                        "`{ident}` is a layer, but an integer is expected here"
                    ))),
                    Some(Value::Network(_)) => Err(err(format!(
                        "`{ident}` is a network used as a layer, but an integer is expected here"
                    ))),
                    Some(Value::Poison) => Err(err(format!("`{ident}` has an error above"))),
                    None => Err(err(format!("cannot find integer `{ident}`"))),
                }
            }
            Expr::Call(call) => {
                let name = match &*call.func {
                    Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
                    _ => None,
                };
                let args: Vec<&Expr> = call.args.iter().collect();
                let query = name.as_deref().and_then(|name| {
                    dimensions::query(name, &args, expr, |t| self.dimension_operand(t, scope))
                });
                query.unwrap_or_else(|| {
                    Err(err(self
                        .keras_expression_hint(expr, scope)
                        .unwrap_or_else(|| "expected an integer".into())))
                })
            }
            Expr::Binary(b) => {
                let l = self.eval_int_pure(&b.left, scope, _errs)?;
                let r = self.eval_int_pure(&b.right, scope, _errs)?;
                let v = match b.op {
                    BinOp::Add(_) => l.checked_add(r),
                    BinOp::Sub(_) => l.checked_sub(r),
                    BinOp::Mul(_) => l.checked_mul(r),
                    BinOp::Div(_) => l.checked_div(r),
                    BinOp::Rem(_) => l.checked_rem(r),
                    _ => return Err(err("only + - * / % are supported on integers".into())),
                };
                v.ok_or_else(|| err("integer overflow or division by zero".into()))
            }
            _ => Err(err(self
                .keras_expression_hint(expr, scope)
                .unwrap_or_else(|| "expected an integer".into()))),
        }
    }

    fn inline_block(
        &mut self,
        block: &'a BlockDef,
        ident: &Ident,
        args: &[&'a Expr],
        whole: &Expr,
        scope: &mut Scope,
    ) -> Value {
        if args.len() != block.params.len() {
            let params: Vec<String> = block.params.iter().map(|p| p.to_string()).collect();
            self.errors.push_spanned(
                whole,
                format!(
                    "block `{}` takes {} argument{} ({}) but {} {} given",
                    block.name,
                    params.len(),
                    if params.len() == 1 { "" } else { "s" },
                    params.join(", "),
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
            );
            return Value::Poison;
        }
        if self.depth >= MAX_BLOCK_DEPTH {
            self.errors.push(
                ident.span(),
                format!(
                    "block calls nest deeper than {MAX_BLOCK_DEPTH}; is `{ident}` recursive? \
                     Blocks are inlined at compile time, so a block cannot call itself"
                ),
            );
            // Every caller up the chain would report the same.
            self.halted = true;
            return Value::Poison;
        }
        if !self.step(ident) {
            return Value::Poison;
        }
        let values: Vec<Value> = args.iter().map(|a| self.eval(a, scope)).collect();
        if values.iter().any(|v| matches!(v, Value::Poison)) {
            return Value::Poison;
        }
        let described: Vec<String> = block
            .params
            .iter()
            .zip(&values)
            .map(|(p, v)| format!("{p} = {}", self.describe(v)))
            .collect();
        let mut frame = HashMap::new();
        for (param, value) in block.params.iter().zip(values) {
            frame.insert(param.to_string(), value);
        }
        let mut inner: Scope = vec![frame];
        let errors_before = self.errors.count();
        self.depth += 1;
        let result = self.exec(&block.body, &mut inner, Context::Block);
        self.depth -= 1;
        if self.errors.count() > errors_before && !self.halted {
            // The errors point into the block; this points at the call that
            // gave it the arguments (swapped arguments show up here).
            self.errors.push_spanned(
                whole,
                format!(
                    "in this call of block `{}`, with {}",
                    block.name,
                    described.join(", ")
                ),
            );
            return Value::Poison;
        }
        match result {
            Some(v) => v,
            None if self.halted => Value::Poison,
            None => {
                self.errors.push(
                    block.name.span(),
                    format!(
                        "block `{}` returns nothing; end it with the tensor it returns",
                        block.name
                    ),
                );
                Value::Poison
            }
        }
    }

    /// Evaluates `value` as a tensor, reporting what it is otherwise.
    fn expect_tensor(&mut self, value: &Value, expr: &Expr) -> Option<usize> {
        match value {
            Value::Tensor(n) => Some(*n),
            Value::Poison => None,
            Value::Int(_) => {
                self.errors
                    .push_spanned(expr, "expected a tensor, found an integer");
                None
            }
            Value::Layer(_) => {
                self.errors.push_spanned(
                    expr,
                    "expected a tensor, found a layer that is not applied; apply it: `layer(x)`",
                );
                None
            }
            Value::Network(_) => {
                self.errors.push_spanned(
                    expr,
                    "expected a tensor, found a network that is not applied; apply it: `tower(x)`",
                );
                None
            }
        }
    }

    fn apply(&mut self, layer: usize, args: &[&'a Expr], whole: &Expr, scope: &mut Scope) -> Value {
        // Merges accept `add(a, b)` and Keras's `add([a, b])`.
        let mut operand_exprs: Vec<&'a Expr> = Vec::new();
        for a in args {
            match a {
                Expr::Array(arr) => operand_exprs.extend(arr.elems.iter()),
                other => operand_exprs.push(other),
            }
        }
        let mut nodes = Vec::new();
        let mut poisoned = false;
        for e in &operand_exprs {
            let v = self.eval(e, scope);
            match self.expect_tensor(&v, e) {
                Some(n) => nodes.push(n),
                None => poisoned = true,
            }
        }
        if poisoned {
            return Value::Poison;
        }
        let config = self.layers[layer].config;
        let display = display_name(&config, &self.layers[layer].name);
        if config.is_merge() && nodes.len() < 2 {
            self.errors.push_spanned(
                whole,
                format!("{display} needs at least two tensors, got {}", nodes.len()),
            );
            return Value::Poison;
        }
        if !config.is_merge() && nodes.len() != 1 {
            self.errors.push_spanned(
                whole,
                format!("{display} is applied to one tensor, got {}", nodes.len()),
            );
            return Value::Poison;
        }
        let operands: Vec<Operand> = nodes
            .iter()
            .zip(&operand_exprs)
            .map(|(&n, e)| Operand {
                shape: &self.nodes[n].shape,
                label: label(e, &self.layers[self.nodes[n].layer].name),
            })
            .collect();
        let shape = match shape::infer(&display, &config, &operands) {
            Ok(s) => s,
            Err(message) => {
                self.errors.push_spanned(whole, message);
                return Value::Poison;
            }
        };
        let params = shape::checked_param_counts(&config, operands[0].shape)
            .and_then(|(trainable, state)| trainable.checked_add(state));
        if shape::checked_len(&shape).is_none() || params.is_none_or(|p| p > shape::MAX_ELEMENTS) {
            self.errors.push_spanned(
                whole,
                format!(
                    "{display} would have an output of shape {} with {} parameters; more than {} \
                     elements or parameters is out of range",
                    shape::show(&shape),
                    params.map_or("more than 2^64".to_string(), |p| p.to_string()),
                    shape::MAX_ELEMENTS
                ),
            );
            return Value::Poison;
        }
        let work = shape::work(&config, operands[0].shape, &shape);
        if work > shape::MAX_WORK {
            let window = match &config {
                LayerConfig::Conv2D(kind::Conv2D { kernel_size: w, .. })
                | LayerConfig::MaxPooling2D(kind::MaxPooling2D { pool_size: w, .. })
                | LayerConfig::AveragePooling2D(kind::AveragePooling2D { pool_size: w, .. }) => {
                    let (h, wd) = (operands[0].shape[0], operands[0].shape[1]);
                    if w[0] > h || w[1] > wd {
                        format!(
                            " its {}x{} window is larger than {} ({h}x{wd}), so most of it reads padding;",
                            w[0], w[1], operands[0].label
                        )
                    } else {
                        String::new()
                    }
                }
                _ => String::new(),
            };
            self.errors.push_spanned(
                whole,
                format!(
                    "{display} would do about {work} multiply-adds per sample, more than {} (2^40): \
                     a forward pass would not finish;{window} use a smaller window or input",
                    shape::MAX_WORK
                ),
            );
            return Value::Poison;
        }
        if self.nodes.len() >= MAX_NODES {
            self.errors.push_spanned(
                whole,
                format!(
                    "this network applies more than {MAX_NODES} layers; loops and blocks multiply, \
                     so unroll less"
                ),
            );
            self.halted = true;
            return Value::Poison;
        }
        let input_shape = self.nodes[nodes[0]].shape.clone();
        match &self.layers[layer].input_shape {
            Some(first) if !config.is_merge() && *first != input_shape => {
                self.errors.push_spanned(
                    whole,
                    format!(
                        "shared layer {display} was first applied to a {} tensor, but {} is {}; \
                         a shared layer needs the same input shape every time",
                        shape::show(first),
                        operands[0].label,
                        shape::show(&input_shape)
                    ),
                );
                return Value::Poison;
            }
            Some(_) => {}
            None => self.layers[layer].input_shape = Some(input_shape),
        }
        let node = self.nodes.len();
        self.nodes.push(Node {
            layer,
            inputs: nodes,
            shape,
            origin: whole.to_token_stream(),
        });
        self.layers[layer].nodes.push(node);
        Value::Tensor(node)
    }

    /// How an argument value is described in a block call's note.
    fn describe(&self, value: &Value) -> String {
        match value {
            Value::Int(v) => format!("the integer {v}"),
            Value::Tensor(n) => format!("a {} tensor", shape::show(&self.nodes[*n].shape)),
            Value::Layer(l) => format!("the layer `{}`", self.layers[*l].name),
            Value::Network(i) => format!("the network `{}`", self.instances[*i].name),
            Value::Poison => "a value with an error".into(),
        }
    }

    /// Messages for Keras (Python) expressions the DSL writes differently.
    fn keras_expression_hint(&self, expr: &Expr, scope: &Scope) -> Option<String> {
        // `x.shape[-1]`, `x.shape`: shapes are compile-time facts, not values.
        let field = match expr {
            Expr::Index(i) => match &*i.expr {
                Expr::Field(f) => Some(f),
                _ => None,
            },
            Expr::Field(f) => Some(f),
            _ => None,
        };
        if let Some(f) = field {
            if let syn::Member::Named(member) = &f.member {
                if member == "shape" {
                    let known = match &*f.base {
                        Expr::Path(p) => p.path.get_ident().and_then(|id| {
                            match scope.iter().rev().find_map(|m| m.get(&id.to_string())) {
                                Some(Value::Tensor(n)) => Some(format!(
                                    "; `{id}` is {} here: write `channels({id})`, `height({id})` or \
                                     `width({id})`, or the number",
                                    shape::show(&self.nodes[*n].shape)
                                )),
                                _ => None,
                            }
                        }),
                        _ => None,
                    };
                    return Some(format!(
                        "`.shape` is not available in `network!`: shapes are fixed at compile time, \
                         read with `channels(x)`, `height(x)` and `width(x)`{}",
                        known.unwrap_or_default()
                    ));
                }
            }
        }
        // `layers.Conv2D(...)`, `keras.layers.Dense(...)`, `layers::Dense(...)`.
        let qualified = match expr {
            Expr::MethodCall(m) if layers::is_layer(&m.method.to_string()) => Some(m.method.to_string()),
            Expr::Path(p) if p.path.segments.len() > 1 => p
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .filter(|n| layers::is_layer(n)),
            _ => None,
        };
        qualified.map(|layer| {
            format!(
                "layers are in scope by name in `network!`: write `{layer}(...)` without a `layers.` prefix"
            )
        })
    }

    /// Checks the whole network and prunes what no output depends on.
    /// `errors_before`: the error count before this network was built.
    fn finish(self, def: &NetworkDef, errors_before: usize) -> Option<Graph> {
        let Builder {
            errors,
            layers,
            nodes,
            inputs,
            outputs,
            user_names,
            output_declared,
            loop_shadows,
            halted,
            instances,
            ..
        } = self;
        // With other errors (or a stop), a missing output is most likely a
        // consequence: say it only on its own.
        if !output_declared && !halted && errors.count() == errors_before {
            errors.push(
                def.name.span(),
                format!(
                    "network `{}` has no output; declare one with `output y = ...;`",
                    def.name
                ),
            );
        }
        // Duplicate layer names (user names colliding with each other or with automatic ones).
        for (i, (name, span)) in user_names.iter().enumerate() {
            let clashes = layers.iter().filter(|l| &l.name == name).count() > 1
                || user_names[..i].iter().any(|(n, _)| n == name);
            if clashes {
                errors.push(
                    *span,
                    format!("layer name \"{name}\" is used twice; layer names must be unique"),
                );
            }
        }
        for (i, instance) in instances.iter().enumerate() {
            if instance.calls.is_empty() && !halted && errors.count() == errors_before {
                errors.push_spanned(
                    &instance.origin,
                    format!(
                        "network `{}` (`{}`) is made here but never applied to a tensor; apply it (`{}(x)`) or remove it",
                        instance.def.name,
                        instance.name,
                        instance.def.name
                    ),
                );
            }
            // A name the user gave is checked with the layers' names above.
            let clashes = !instance.named_by_user
                && (layers.iter().any(|l| l.name == instance.name)
                    || instances[..i].iter().any(|other| other.name == instance.name));
            if clashes {
                errors.push_spanned(
                    &instance.origin,
                    format!(
                        "the name `{}` is used twice, by a layer and a network used as a layer; \
                         layer and network names must be unique: give one `name = \"...\"`",
                        instance.name
                    ),
                );
            }
        }
        let mut reachable = vec![false; nodes.len()];
        let mut stack: Vec<usize> = outputs.iter().map(|o| o.node).collect();
        while let Some(n) = stack.pop() {
            if !reachable[n] {
                reachable[n] = true;
                stack.extend(nodes[n].inputs.iter().copied());
            }
        }
        // Silent changes are errors: a layer that reaches no output would be
        // dropped. Checked only on an otherwise correct network, where an
        // unreachable layer is the user's mistake and not a consequence.
        if errors.count() == errors_before && !outputs.is_empty() {
            report_dead_layers(errors, &layers, &nodes, &reachable, &loop_shadows);
            check_totals(errors, def, &layers, &nodes, &reachable);
        }
        for (port, span) in &inputs {
            if !outputs.is_empty() && !reachable[port.node] {
                errors.push(
                    *span,
                    format!(
                        "input `{}` is not used by any output; remove it or use it",
                        port.name
                    ),
                );
            }
        }
        // Renumber the kept nodes (creation order is already topological).
        let mut new_index = vec![usize::MAX; nodes.len()];
        let mut kept_nodes = Vec::new();
        for (i, node) in nodes.into_iter().enumerate() {
            if reachable[i] {
                new_index[i] = kept_nodes.len();
                kept_nodes.push(node);
            }
        }
        // Layers in order of first use, as Keras lists them (a layer is
        // constructed before its arguments are evaluated, so creation order
        // can differ).
        let layer_total = layers.len();
        let mut kept: Vec<(usize, Layer)> = Vec::new();
        for (i, mut layer) in layers.into_iter().enumerate() {
            layer.nodes = layer
                .nodes
                .iter()
                .filter(|&&n| reachable[n])
                .map(|&n| new_index[n])
                .collect();
            if !layer.nodes.is_empty() {
                kept.push((i, layer));
            }
        }
        kept.sort_by_key(|(_, layer)| layer.nodes[0]);
        let mut layer_index = vec![usize::MAX; layer_total];
        let mut kept_layers = Vec::new();
        for (old, layer) in kept {
            layer_index[old] = kept_layers.len();
            kept_layers.push(layer);
        }
        // Custom layers are numbered in summary order: the constructor keeps
        // their values in that order.
        let mut customs = 0;
        for layer in &mut kept_layers {
            if let LayerConfig::Custom(custom) = &mut layer.config {
                custom.index = customs;
                customs += 1;
            }
        }
        for node in &mut kept_nodes {
            node.layer = layer_index[node.layer];
            node.inputs = node.inputs.iter().map(|&n| new_index[n]).collect();
        }
        let remap = |p: Port| Port {
            node: new_index[p.node],
            name: p.name,
        };
        // Summary rows of the outermost networks used as layers, numbered
        // in order of their first use.
        let mut row_of = vec![usize::MAX; instances.len()];
        let mut nested = Vec::new();
        for layer in &mut kept_layers {
            if let Some(instance) = layer.within {
                if row_of[instance] == usize::MAX {
                    row_of[instance] = nested.len();
                    let outer = &instances[instance];
                    nested.push(NestedRow {
                        name: outer.name.clone(),
                        class: outer.def.name.to_string(),
                        calls: outer
                            .calls
                            .iter()
                            .filter(|(_, out)| reachable[*out])
                            .map(|(args, out)| {
                                (args.iter().map(|&n| new_index[n]).collect(), new_index[*out])
                            })
                            .collect(),
                    });
                }
                layer.within = Some(row_of[instance]);
            }
        }
        Some(Graph {
            layers: kept_layers,
            nodes: kept_nodes,
            inputs: inputs.into_iter().map(|(p, _)| remap(p)).collect(),
            outputs: outputs.into_iter().map(remap).collect(),
            nested,
        })
    }
}

/// Reports each layer whose result reaches no output (once per source
/// location: a loop repeats them), and each layer never applied.
fn report_dead_layers(
    errors: &mut Errors,
    layers: &[Layer],
    nodes: &[Node],
    reachable: &[bool],
    loop_shadows: &[(Ident, usize)],
) {
    let mut reported: Vec<String> = Vec::new();
    let mut once = |errors: &mut Errors, origin: &TokenStream, message: String| {
        let spans: Vec<String> = origin
            .clone()
            .into_iter()
            .map(|t| format!("{:?}", t.span()))
            .collect();
        let key = spans.join(",");
        if !reported.contains(&key) {
            reported.push(key);
            errors.push_spanned(origin, message);
        }
    };
    let consumed: Vec<bool> = {
        let mut c = vec![false; nodes.len()];
        for node in nodes {
            for &i in &node.inputs {
                c[i] = true;
            }
        }
        c
    };
    for (n, node) in nodes.iter().enumerate() {
        // Report the last unreachable layer of each chain (what feeds it is
        // unreachable because of it); unused inputs have their own message.
        if reachable[n] || consumed[n] || matches!(layers[node.layer].config, LayerConfig::Input(_)) {
            continue;
        }
        let layer = &layers[node.layer];
        match loop_shadows.iter().find(|(_, bound)| *bound == n) {
            Some((name, _)) => once(
                errors,
                &name.to_token_stream(),
                format!(
                    "`let {name}` in a loop body makes a new `{name}` that ends with the iteration, so \
                     the layers computed here reach no output and the outer `{name}` never changes; \
                     write `{name} = ...;` to update the outer `{name}`"
                ),
            ),
            None => once(
                errors,
                &node.origin,
                format!(
                    "the result of {} reaches no output, so this layer (and any layer feeding only \
                     it) would be silently dropped; use it in an output or remove it",
                    display_name(&layer.config, &layer.name)
                ),
            ),
        }
    }
    for layer in layers {
        if layer.nodes.is_empty() {
            once(
                errors,
                &layer.origin,
                format!(
                    "{} is constructed but never applied to a tensor; apply it (`layer(x)`) or remove it",
                    display_name(&layer.config, &layer.name)
                ),
            );
        }
    }
}

/// Parameters and activations per sample of the whole network stay within
/// [`MAX_TOTAL`], so every offset generated code computes fits.
fn check_totals(errors: &mut Errors, def: &NetworkDef, layers: &[Layer], nodes: &[Node], reachable: &[bool]) {
    let params = layers.iter().try_fold(0usize, |total, layer| {
        let input = layer.input_shape.as_deref().unwrap_or(&[]);
        let (t, s) = shape::checked_param_counts(&layer.config, input)?;
        total.checked_add(t)?.checked_add(s)
    });
    let activations = nodes
        .iter()
        .zip(reachable)
        .filter(|(_, &r)| r)
        .try_fold(0usize, |total, (node, _)| {
            total.checked_add(shape::checked_len(&node.shape)?)
        });
    if params.is_none_or(|p| p > MAX_TOTAL) {
        errors.push(
            def.name.span(),
            format!(
                "network `{}` has more than {MAX_TOTAL} parameters in total; use fewer or smaller layers",
                def.name
            ),
        );
    }
    if activations.is_none_or(|a| a > MAX_TOTAL) {
        errors.push(
            def.name.span(),
            format!(
                "network `{}` has more than {MAX_TOTAL} activations per sample in total; use fewer or \
                 smaller layers",
                def.name
            ),
        );
    }
}

/// An input dimension: a positive integer literal.
fn input_dim(expr: &Expr) -> Result<usize, String> {
    let negative = matches!(expr, Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)));
    match expr {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => match i.base10_parse::<usize>() {
                Ok(v) if v > 0 => Ok(v),
                Ok(_) => Err("an input dimension must be a positive integer".into()),
                Err(_) => Err(format!(
                    "input dimension {} is out of range (at most {})",
                    i.base10_digits(),
                    shape::MAX_ELEMENTS
                )),
            },
            _ => Err("an input dimension must be a positive integer".into()),
        },
        _ if negative => Err(format!(
            "an input dimension must be a positive integer (≥ 1), got {}",
            quote::quote!(#expr).to_string().replace("- ", "-")
        )),
        _ => Err("an input dimension must be a positive integer literal".into()),
    }
}

/// Whether `name` is a function form of a layer (`add`, `relu`, ...) or a
/// dimension query (`channels(x)`).
pub(crate) fn is_function(name: &str) -> bool {
    LayerConfig::function_names().any(|f| f == name) || dimensions::NAMES.contains(&name)
}

/// How messages name a layer: `Conv2D \`conv2d_3\``, or `add` for the
/// layers Keras shows as operations.
fn display_name(config: &LayerConfig, name: &str) -> String {
    let description = config.description();
    match description.functions.first() {
        Some(function) if description.named_by_function => function.to_string(),
        _ => format!("{} `{name}`", description.class),
    }
}

/// How messages name an operand: its variable, or the layer that made it.
fn label(expr: &Expr, producer: &str) -> String {
    match expr {
        Expr::Path(p) if p.path.get_ident().is_some() => {
            format!("`{}`", p.path.segments[0].ident)
        }
        _ => format!("the output of `{producer}`"),
    }
}
