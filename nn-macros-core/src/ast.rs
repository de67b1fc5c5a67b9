//! Phase 1, parse: the tokens of a `network!` invocation into a typed AST
//! that keeps the user's tokens for spans. No meaning is checked here beyond
//! the grammar.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::{braced, bracketed, parenthesized, Attribute, Expr, Ident, Token, Visibility};

mod kw {
    syn::custom_keyword!(input);
    syn::custom_keyword!(output);
}

/// The whole invocation: shared blocks and networks, in any order.
pub struct Invocation {
    pub blocks: Vec<BlockDef>,
    pub networks: Vec<NetworkDef>,
}

/// `pub struct Name { statements }`.
pub struct NetworkDef {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub body: Vec<Stmt>,
}

/// `fn name(a, b) { statements; tail }`: a block, inlined at each call with
/// fresh layers.
pub struct BlockDef {
    pub name: Ident,
    pub params: Vec<Ident>,
    pub body: Vec<Stmt>,
}

pub enum Stmt {
    /// `input x: [64, 64, 3];`. Dimensions are parsed as expressions so
    /// that `-3` or a batch axis `None` get a message saying what to write.
    Input {
        name: Ident,
        dims: Vec<Expr>,
        span: Span,
    },
    /// `output y = expr;`
    Output { name: Ident, expr: Expr },
    /// `let x = expr;`
    Let { name: Ident, expr: Expr },
    /// `x = expr;`
    Assign { name: Ident, expr: Expr },
    /// `for i in 0..3 { ... }`
    For {
        var: Option<Ident>,
        range: Expr,
        body: Vec<Stmt>,
    },
    /// A block defined inside a network (visible to that network only).
    Block(BlockDef),
    /// `return expr;` or a trailing expression: a block's result.
    Return(Expr),
    /// `expr;`: a value computed and dropped (an error unless it is a return).
    Discarded(Expr),
}

impl Parse for Invocation {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut blocks = Vec::new();
        let mut networks = Vec::new();
        while !input.is_empty() {
            let attrs = input.call(Attribute::parse_outer)?;
            if input.peek(Token![fn]) {
                blocks.push(input.parse()?);
                continue;
            }
            let vis: Visibility = input.parse()?;
            if !input.peek(Token![struct]) {
                return Err(input.error(
                    "expected a network (`pub struct Name { ... }`) or a block (`fn name(x, n) { ... }`)",
                ));
            }
            input.parse::<Token![struct]>()?;
            let name: Ident = input.parse()?;
            let content;
            braced!(content in input);
            let body = parse_stmts(&content)?;
            networks.push(NetworkDef {
                attrs,
                vis,
                name,
                body,
            });
        }
        Ok(Invocation { blocks, networks })
    }
}

impl Parse for BlockDef {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        input.parse::<Token![fn]>()?;
        let name: Ident = input.parse()?;
        let args;
        parenthesized!(args in input);
        let params = args.parse_terminated(Ident::parse, Token![,])?;
        let content;
        braced!(content in input);
        let body = parse_stmts(&content)?;
        Ok(BlockDef {
            name,
            params: params.into_iter().collect(),
            body,
        })
    }
}

fn parse_stmts(input: ParseStream) -> syn::Result<Vec<Stmt>> {
    let mut stmts = Vec::new();
    while !input.is_empty() {
        stmts.push(parse_stmt(input)?);
    }
    Ok(stmts)
}

fn parse_stmt(input: ParseStream) -> syn::Result<Stmt> {
    if input.peek(kw::input) && input.peek2(Ident) {
        let keyword: kw::input = input.parse()?;
        let name: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        if !input.peek(syn::token::Bracket) {
            return Err(input.error(format!(
                "expected the shape of `{name}` in brackets, without the batch axis: `input {name}: [28, 28, 1];`"
            )));
        }
        let content;
        let bracket = bracketed!(content in input);
        let dims = content.parse_terminated(Expr::parse, Token![,])?;
        input.parse::<Token![;]>()?;
        let span = keyword.span.join(bracket.span.close()).unwrap_or(keyword.span);
        return Ok(Stmt::Input {
            name,
            dims: dims.into_iter().collect(),
            span,
        });
    }
    if input.peek(kw::output) && input.peek2(Ident) {
        input.parse::<kw::output>()?;
        let name: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let expr: Expr = input.parse()?;
        input.parse::<Token![;]>()?;
        return Ok(Stmt::Output { name, expr });
    }
    if input.peek(Token![let]) {
        input.parse::<Token![let]>()?;
        let _mutability: Option<Token![mut]> = input.parse()?;
        let name: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let expr: Expr = input.parse()?;
        input.parse::<Token![;]>()?;
        return Ok(Stmt::Let { name, expr });
    }
    if input.peek(Token![for]) {
        input.parse::<Token![for]>()?;
        let var = if input.peek(Token![_]) {
            input.parse::<Token![_]>()?;
            None
        } else {
            Some(input.parse::<Ident>()?)
        };
        input.parse::<Token![in]>()?;
        let range = Expr::parse_without_eager_brace(input)?;
        let content;
        braced!(content in input);
        let body = parse_stmts(&content)?;
        return Ok(Stmt::For { var, range, body });
    }
    if input.peek(Token![fn]) {
        return Ok(Stmt::Block(input.parse()?));
    }
    if input.peek(Token![return]) {
        input.parse::<Token![return]>()?;
        let expr: Expr = input.parse()?;
        input.parse::<Option<Token![;]>>()?;
        return Ok(Stmt::Return(expr));
    }
    if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
        let name: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let expr: Expr = input.parse()?;
        input.parse::<Token![;]>()?;
        return Ok(Stmt::Assign { name, expr });
    }
    let expr: Expr = input.parse()?;
    if input.peek(Token![;]) {
        input.parse::<Token![;]>()?;
        Ok(Stmt::Discarded(expr))
    } else if input.is_empty() {
        Ok(Stmt::Return(expr))
    } else {
        Err(input.error("expected `;` after this statement"))
    }
}
