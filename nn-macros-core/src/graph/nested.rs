//! A network used as a layer inside another (Keras's nested `Model`):
//! `let tower = Tower();` makes one instance of the network `Tower` of the
//! same invocation, and every `tower(x)` runs `Tower`'s statements on `x`
//! with the same layers, so all calls share its weights. `Tower(x)` makes
//! an instance and applies it once.
//!
//! The instance's statements are interpreted at each call like a block's,
//! but its layers are created on the first call only: later calls replay
//! them in creation order (the statements are the same, so the order is),
//! which makes every layer inside a shared layer. Inside, layers are named
//! `tower_1/conv2d_1`: their weights keep the instance's name, and the
//! summary shows the instance as one row, as Keras does.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{Expr, Ident};

use super::{input_dim, Builder, Context, Scope, Value, MAX_BLOCK_DEPTH};
use crate::ast::{NetworkDef, Stmt};
use crate::shape;

/// One instance of a network used as a layer.
pub(super) struct Instance<'a> {
    pub(super) def: &'a NetworkDef,
    /// `tower_1`, or the `name = "..."` given; inner layers are `name/...`.
    pub(super) name: String,
    /// Whether `name = "..."` gave the name (checked with the layers' names).
    pub(super) named_by_user: bool,
    /// What the first call created (layers and inner instances), in order;
    /// later calls take them from here instead of creating new ones.
    created: Vec<Created>,
    /// Layer-name counters inside this instance (`conv2d_1`, ...).
    counters: HashMap<&'static str, usize>,
    /// Per call: the tensors it was given and the tensor it returned.
    pub(super) calls: Vec<(Vec<usize>, usize)>,
    /// The tokens that made it, for messages.
    pub(super) origin: TokenStream,
}

#[derive(Clone, Copy)]
enum Created {
    Layer(usize),
    Instance(usize),
}

/// A call in progress: which instance, its arguments, what it returned.
pub(super) struct Call {
    instance: usize,
    args: Vec<usize>,
    next_input: usize,
    output: Option<usize>,
    /// While replaying (not the first call), the position in `created`.
    replay: Option<usize>,
}

/// `TowerNet` → `tower_net`: an instance's default name, as Keras derives
/// layer names from class names.
fn snake_case(class: &str) -> String {
    let mut out = String::new();
    for (i, c) in class.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl<'a> Builder<'a> {
    /// The network `name` of this invocation, when it is not the one being
    /// built.
    pub(super) fn network_def(&self, name: &str) -> Option<&'a NetworkDef> {
        self.networks.iter().find(|n| n.name == name)
    }

    /// `Tower()` or `Tower(name = "tower")`: a new instance. `Tower(x, ...)`
    /// with tensors: a new instance applied to them.
    pub(super) fn network_call(
        &mut self,
        def: &'a NetworkDef,
        ident: &Ident,
        args: &[&'a Expr],
        whole: &'a Expr,
        scope: &mut Scope,
    ) -> Value {
        let calling = |b: &Self, name: &Ident| {
            *b.this == *name || b.calls.iter().any(|c| b.instances[c.instance].def.name == *name)
        };
        if calling(self, &def.name) {
            let mut chain = vec![self.this.to_string()];
            chain.extend(
                self.calls
                    .iter()
                    .map(|c| self.instances[c.instance].def.name.to_string()),
            );
            chain.push(ident.to_string());
            self.errors.push(
                ident.span(),
                format!(
                    "network `{ident}` would contain itself ({}); a network cannot be used as a layer inside itself",
                    chain.join(" → ")
                ),
            );
            // Keeps this message when it is found inside another network's call.
            self.halted = true;
            return Value::Poison;
        }
        let mut user_name = None;
        let mut tensors = Vec::new();
        for arg in args {
            match arg {
                Expr::Assign(a) if matches!(&*a.left, Expr::Path(p) if p.path.is_ident("name")) => {
                    match &*a.right {
                        Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) if !s.value().is_empty() => user_name = Some((s.value(), s.span())),
                        other => {
                            self.errors.push_spanned(
                                other,
                                "a network's `name` is a non-empty string, like `name = \"tower\"`",
                            );
                            return Value::Poison;
                        }
                    }
                }
                Expr::Assign(a) => {
                    self.errors.push_spanned(
                        &a.left,
                        format!("a network used as a layer takes only `name = \"...\"`; `{ident}`'s settings are in its definition"),
                    );
                    return Value::Poison;
                }
                other => tensors.push(*other),
            }
        }
        let instance = match self.replayed_instance() {
            Some(existing) => existing,
            None => self.new_instance(def, user_name, whole.to_token_stream()),
        };
        if tensors.is_empty() {
            Value::Network(instance)
        } else {
            self.call_instance(instance, &tensors, whole, scope)
        }
    }

    fn new_instance(
        &mut self,
        def: &'a NetworkDef,
        user_name: Option<(String, Span)>,
        origin: TokenStream,
    ) -> usize {
        let named_by_user = user_name.is_some();
        let local = match user_name {
            Some((name, span)) => {
                self.user_names.push((self.prefixed(&name), span));
                name
            }
            None => {
                let base = snake_case(&def.name.to_string());
                let counter = self.instance_counters.entry(self.prefixed(&base)).or_insert(0);
                *counter += 1;
                format!("{base}_{counter}")
            }
        };
        let name = self.prefixed(&local);
        let index = self.instances.len();
        self.instances.push(Instance {
            def,
            name,
            named_by_user,
            created: Vec::new(),
            counters: HashMap::new(),
            calls: Vec::new(),
            origin,
        });
        self.record(Created::Instance(index));
        index
    }

    /// `name` inside the instance being called, if any: `tower_1/name`.
    pub(super) fn prefixed(&self, name: &str) -> String {
        match self.calls.last() {
            Some(call) => format!("{}/{name}", self.instances[call.instance].name),
            None => name.to_string(),
        }
    }

    /// Remembers what the first call of the innermost instance created.
    fn record(&mut self, created: Created) {
        if let Some(call) = self.calls.last() {
            if call.replay.is_none() {
                self.instances[call.instance].created.push(created);
            }
        }
    }

    /// The next thing a replaying call created on its first run.
    fn replayed(&mut self) -> Option<Created> {
        let call = self.calls.last_mut()?;
        let position = call.replay.as_mut()?;
        let created = self.instances[call.instance].created.get(*position).copied();
        *position += 1;
        created
    }

    fn replayed_instance(&mut self) -> Option<usize> {
        match self.replayed()? {
            Created::Instance(i) => Some(i),
            Created::Layer(_) => None,
        }
    }

    /// A new layer's index when a call replays (its layer from the first
    /// call); otherwise `None`, and the caller creates one.
    pub(super) fn replayed_layer(&mut self) -> Option<usize> {
        match self.replayed()? {
            Created::Layer(l) => Some(l),
            Created::Instance(_) => None,
        }
    }

    /// Notes a layer just created inside an instance; it is named inside
    /// the instance (`tower_1/dense_1`) and counted by the instance.
    pub(super) fn created_layer(&mut self, layer: usize) {
        self.record(Created::Layer(layer));
    }

    /// The layer counters to use: the innermost instance's, or the network's.
    pub(super) fn counters_mut(&mut self) -> &mut HashMap<&'static str, usize> {
        match self.calls.last() {
            Some(call) => &mut self.instances[call.instance].counters,
            None => &mut self.counters,
        }
    }

    /// The outermost instance being called: the summary row a new layer
    /// belongs to.
    pub(super) fn outermost_instance(&self) -> Option<usize> {
        self.calls.first().map(|c| c.instance)
    }

    /// `tower(a)`: runs the instance's network on `args`.
    pub(super) fn call_instance(
        &mut self,
        instance: usize,
        args: &[&'a Expr],
        whole: &'a Expr,
        scope: &mut Scope,
    ) -> Value {
        let def = self.instances[instance].def;
        let expected = def
            .body
            .iter()
            .filter(|s| matches!(s, Stmt::Input { .. }))
            .count();
        let mut nodes = Vec::new();
        for arg in args {
            let value = self.eval(arg, scope);
            match self.expect_tensor(&value, arg) {
                Some(n) => nodes.push(n),
                None => return Value::Poison,
            }
        }
        let name = self.instances[instance].name.clone();
        let outputs = def
            .body
            .iter()
            .filter(|s| matches!(s, Stmt::Output { .. }))
            .count();
        if outputs != 1 {
            self.errors.push_spanned(
                whole,
                format!(
                    "network `{}` has {outputs} outputs; a network used as a layer has one",
                    def.name
                ),
            );
            return Value::Poison;
        }
        if nodes.len() != expected {
            self.errors.push_spanned(
                whole,
                format!(
                    "network `{}` (`{name}`) takes {expected} input{} but {} {} given",
                    def.name,
                    if expected == 1 { "" } else { "s" },
                    nodes.len(),
                    if nodes.len() == 1 { "was" } else { "were" }
                ),
            );
            return Value::Poison;
        }
        if self.calls.len() >= MAX_BLOCK_DEPTH {
            self.errors.push_spanned(
                whole,
                format!("networks used as layers nest deeper than {MAX_BLOCK_DEPTH}"),
            );
            self.halted = true;
            return Value::Poison;
        }
        if !self.step(whole) {
            return Value::Poison;
        }
        // The arguments' shapes are checked here, so that the statements run
        // on the shapes the network was built (and checked) with: an error
        // inside was already reported at its definition.
        let declared_inputs = def.body.iter().filter_map(|s| match s {
            Stmt::Input { name, dims, .. } => Some((name, dims)),
            _ => None,
        });
        for ((input, dims), &arg) in declared_inputs.zip(&nodes) {
            let declared: Option<Vec<usize>> = dims.iter().map(|d| input_dim(d).ok()).collect();
            let given = &self.nodes[arg].shape;
            if declared.as_ref().is_some_and(|d| d != given) {
                self.errors.push_spanned(
                    whole,
                    format!(
                        "network `{}` takes `{input}` as {}, but it is given a {} tensor",
                        def.name,
                        shape::show(&declared.unwrap_or_default()),
                        shape::show(given)
                    ),
                );
                return Value::Poison;
            }
        }
        let first_call = self.instances[instance].calls.is_empty();
        self.calls.push(Call {
            instance,
            args: nodes.clone(),
            next_input: 0,
            output: None,
            replay: (!first_call).then_some(0),
        });
        let blocks_before = self.blocks.len();
        self.blocks.extend(def.body.iter().filter_map(|s| match s {
            Stmt::Block(b) => Some(b),
            _ => None,
        }));
        let errors_before = self.errors.count();
        let mut inner: Scope = vec![HashMap::new()];
        self.exec(&def.body, &mut inner, Context::Nested);
        self.blocks.truncate(blocks_before);
        let call = self.calls.pop();
        if self.errors.count() > errors_before {
            if !self.halted {
                // Reported where the network is defined; one note here.
                self.errors.truncate(errors_before);
                self.errors.push_spanned(
                    whole,
                    format!(
                        "network `{}` has errors (reported at its definition), so it cannot be used here",
                        def.name
                    ),
                );
            }
            return Value::Poison;
        }
        match call.and_then(|c| c.output) {
            Some(output) => {
                self.instances[instance].calls.push((nodes, output));
                Value::Tensor(output)
            }
            None => {
                self.errors.push(
                    def.name.span(),
                    format!(
                        "network `{}` has no output, so it cannot be used as a layer",
                        def.name
                    ),
                );
                Value::Poison
            }
        }
    }

    /// `input x: [..];` inside a call: binds the next argument (its shape
    /// was checked by `call_instance`).
    pub(super) fn nested_input(&mut self, name: &Ident, scope: &mut Scope) {
        let Some(call) = self.calls.last_mut() else { return };
        let Some(&arg) = call.args.get(call.next_input) else {
            return;
        };
        call.next_input += 1;
        scope[0].insert(name.to_string(), Value::Tensor(arg));
    }

    /// `output y = ...;` inside a call: the call's result.
    pub(super) fn nested_output(&mut self, name: &Ident, expr: &'a Expr, scope: &mut Scope) {
        let value = self.eval(expr, scope);
        let Some(node) = self.expect_tensor(&value, expr) else {
            return;
        };
        let Some(call) = self.calls.last_mut() else { return };
        if call.output.is_some() {
            let def = self.instances[call.instance].def;
            self.errors.push(
                name.span(),
                format!(
                    "network `{}` has more than one output; a network used as a layer has one",
                    def.name
                ),
            );
            return;
        }
        call.output = Some(node);
    }
}
