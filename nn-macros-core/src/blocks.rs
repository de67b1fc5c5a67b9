//! Checks on block definitions that would otherwise change a network
//! silently: a second block of the same name (only one of them would be
//! used), a block named like a built-in layer or function (the built-in
//! would be called instead), a parameter named twice (the second would
//! hide the first).

use std::collections::HashSet;

use crate::ast::{BlockDef, Invocation, Stmt};
use crate::errors::Errors;
use crate::graph::is_function;
use crate::layers;

/// Reports every problem with the blocks of `invocation`: the shared ones
/// and those of each network, each scope on its own.
pub fn check(invocation: &Invocation, errors: &mut Errors) {
    check_scope(invocation.blocks.iter(), errors);
    for network in &invocation.networks {
        let local = network.body.iter().filter_map(|stmt| match stmt {
            Stmt::Block(b) => Some(b),
            _ => None,
        });
        check_scope(local, errors);
    }
}

fn check_scope<'a>(blocks: impl Iterator<Item = &'a BlockDef>, errors: &mut Errors) {
    let mut seen = HashSet::new();
    for block in blocks {
        let name = block.name.to_string();
        if !seen.insert(name.clone()) {
            errors.push(
                block.name.span(),
                format!("block `{name}` is defined twice here; only one would be used: rename one of them"),
            );
        }
        if layers::is_layer(&name) || is_function(&name) {
            errors.push(
                block.name.span(),
                format!("block `{name}` has the name of a built-in layer or function, which calls would reach instead; rename the block"),
            );
        }
        let mut params = HashSet::new();
        for param in &block.params {
            if !params.insert(param.to_string()) {
                errors.push(
                    param.span(),
                    format!("parameter `{param}` of block `{name}` is named twice; give each parameter its own name"),
                );
            }
        }
    }
}
