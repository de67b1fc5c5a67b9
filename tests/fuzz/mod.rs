//! A mutation fuzzer for the `network!` expansion, shared by
//! `tests/macro_fuzz.rs` (10,000 cases in CI) and `examples/macro_fuzz.rs`
//! (a million, with counts).
//!
//! Seeds are every `network!` body in the repository's tests, examples and
//! guide. Each case applies a few seeded token-level mutations to one seed,
//! lexes the result (text that does not lex never reaches a macro), and runs
//! `nn_macros_core::expand` on it under `catch_unwind`. A case passes when
//! the expansion returns, its output is valid Rust syntax, and every
//! `compile_error!` it emits is spanned on the input's own tokens.

#![allow(dead_code)]

use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::str::FromStr;

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Files whose `network!` bodies are valid programs to mutate.
const SOURCES: &[(&str, &str)] = &[
    ("src/lib.rs", include_str!("../../src/lib.rs")),
    ("src/guide.rs", include_str!("../../src/guide.rs")),
    ("tests/lecture.rs", include_str!("../lecture.rs")),
    ("tests/edge_networks.rs", include_str!("../edge_networks.rs")),
    ("tests/fused_loss.rs", include_str!("../fused_loss.rs")),
    ("tests/multi_output.rs", include_str!("../multi_output.rs")),
    ("tests/network_forward.rs", include_str!("../network_forward.rs")),
    (
        "tests/network_gradients.rs",
        include_str!("../network_gradients.rs"),
    ),
    ("tests/training.rs", include_str!("../training.rs")),
    ("tests/custom_layers.rs", include_str!("../custom_layers.rs")),
    ("examples/residual.rs", include_str!("../../examples/residual.rs")),
    (
        "examples/inception.rs",
        include_str!("../../examples/inception.rs"),
    ),
    ("examples/deep50.rs", include_str!("../../examples/deep50.rs")),
];

/// Words an identifier may be swapped for: the DSL's own vocabulary, Keras
/// habits, Rust keywords and names that collide with generated code.
const VOCABULARY: &[&str] = &[
    "input",
    "output",
    "let",
    "fn",
    "for",
    "in",
    "return",
    "pub",
    "struct",
    "mut",
    "Conv2D",
    "Dense",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalAveragePooling2D",
    "Flatten",
    "Activation",
    "BatchNormalization",
    "Dropout",
    "Add",
    "Concatenate",
    "Custom",
    "weights",
    "add",
    "concat",
    "flatten",
    "relu",
    "softmax",
    "same",
    "valid",
    "true",
    "None",
    "Some",
    "Result",
    "Option",
    "String",
    "mode",
    "self",
    "Self",
    "n",
    "x",
    "h",
    "Input",
    "Model",
    "Sequential",
    "layers",
    "shape",
    "name",
    "strides",
    "padding",
    "activation",
    "filters",
    "units",
    "rate",
    "kernel_size",
    "pool_size",
    "Conv2d",
];

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "-3",
    "2.5",
    "1e40",
    "0.0",
    "99999999",
    "4294967296",
    "4294967295",
    "65536",
    "9223372036854775807",
    "18446744073709551616",
    "-9223372036854775808",
    "340282366920938463463374607431768211456",
];

/// The `network! { ... }` bodies found in `text` (module-doc examples
/// included, with their `//!` prefix removed).
fn bodies(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let stripped = trimmed.strip_prefix("//!").unwrap_or(line);
            format!("{}\n", stripped.strip_prefix(' ').unwrap_or(stripped))
        })
        .collect();
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("network! {") {
        let body_start = at + "network! {".len();
        let mut depth = 1;
        let mut end = None;
        for (i, c) in rest[body_start..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(body_start + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        found.push(rest[body_start..end].to_string());
        rest = &rest[end..];
    }
    found
}

/// Every seed program, as (where it comes from, text).
pub fn seeds() -> Vec<(String, String)> {
    let mut seeds = Vec::new();
    for (file, text) in SOURCES {
        for (i, body) in bodies(text).into_iter().enumerate() {
            seeds.push((format!("{file} #{i}"), body));
        }
    }
    seeds
}

/// One lexed token as text, with whether it must touch the next one
/// (`..`, `::`, `=>` are joint punctuation).
#[derive(Clone)]
struct Atom {
    text: String,
    joint: bool,
}

fn atoms(stream: TokenStream, out: &mut Vec<Atom>) {
    for tree in stream {
        match tree {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                out.push(Atom {
                    text: open.into(),
                    joint: false,
                });
                atoms(g.stream(), out);
                out.push(Atom {
                    text: close.into(),
                    joint: false,
                });
            }
            TokenTree::Punct(p) => out.push(Atom {
                text: p.as_char().to_string(),
                joint: p.spacing() == Spacing::Joint,
            }),
            other => out.push(Atom {
                text: other.to_string(),
                joint: false,
            }),
        }
    }
}

fn join(atoms: &[Atom]) -> String {
    let mut text = String::new();
    for a in atoms {
        text.push_str(&a.text);
        if !a.joint {
            text.push(' ');
        }
    }
    text
}

fn is_number(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit())
}

fn is_ident(text: &str) -> bool {
    text.starts_with(|c: char| c.is_alphabetic() || c == '_')
}

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// The index of the bracket matching the one at `i`, if `i` opens or closes one.
fn partner(atoms: &[Atom], i: usize) -> Option<usize> {
    let (open, close) = match atoms[i].text.as_str() {
        "(" | ")" => ("(", ")"),
        "[" | "]" => ("[", "]"),
        "{" | "}" => ("{", "}"),
        _ => return None,
    };
    let forward = atoms[i].text == open;
    let mut depth = 0i32;
    let range: Box<dyn Iterator<Item = usize>> = if forward {
        Box::new(i..atoms.len())
    } else {
        Box::new((0..=i).rev())
    };
    for j in range {
        let t = atoms[j].text.as_str();
        if t == open {
            depth += if forward { 1 } else { -1 };
        } else if t == close {
            depth += if forward { -1 } else { 1 };
        }
        if depth == 0 {
            return Some(j);
        }
    }
    None
}

/// Applies one random mutation in place.
fn mutate(atoms: &mut Vec<Atom>, rng: &mut StdRng) {
    if atoms.is_empty() {
        return;
    }
    let i = rng.random_range(0..atoms.len());
    match rng.random_range(0..10) {
        0 => {
            atoms.remove(i);
        }
        1 => {
            // Duplicate a run of up to 12 tokens (a statement, a call, ...).
            let len = rng.random_range(1..=12).min(atoms.len() - i);
            let run: Vec<Atom> = atoms[i..i + len].to_vec();
            let at = rng.random_range(0..=atoms.len());
            atoms.splice(at..at, run);
        }
        2 => {
            let j = rng.random_range(0..atoms.len());
            atoms.swap(i, j);
        }
        3 | 4 => {
            let numbers: Vec<usize> = (0..atoms.len()).filter(|&k| is_number(&atoms[k].text)).collect();
            if let Some(&k) = numbers.get(rng.random_range(0..numbers.len().max(1))) {
                atoms[k].text = pick(rng, NUMBERS).to_string();
            }
        }
        5 | 6 => {
            let idents: Vec<usize> = (0..atoms.len()).filter(|&k| is_ident(&atoms[k].text)).collect();
            if idents.is_empty() {
                return;
            }
            let k = idents[rng.random_range(0..idents.len())];
            atoms[k].text = if rng.random_bool(0.5) {
                atoms[idents[rng.random_range(0..idents.len())]].text.clone()
            } else {
                pick(rng, VOCABULARY).to_string()
            };
        }
        7 => {
            // Broken brackets: change a pair's kind, or drop the pair.
            let brackets: Vec<usize> = (0..atoms.len())
                .filter(|&k| partner(atoms, k).is_some())
                .collect();
            if brackets.is_empty() {
                return;
            }
            let k = brackets[rng.random_range(0..brackets.len())];
            let Some(p) = partner(atoms, k) else { return };
            let (a, b) = (k.min(p), k.max(p));
            if rng.random_bool(0.5) {
                let (open, close) = *[("(", ")"), ("[", "]"), ("{", "}")]
                    .get(rng.random_range(0..3))
                    .unwrap_or(&("(", ")"));
                atoms[a].text = open.into();
                atoms[b].text = close.into();
            } else {
                atoms.remove(b);
                atoms.remove(a);
            }
        }
        8 if rng.random_bool(0.2) => {
            // An unmatched bracket: text that does not lex.
            let bracket = pick(rng, &["(", ")", "[", "]", "{", "}"]);
            atoms.insert(
                i,
                Atom {
                    text: bracket.into(),
                    joint: false,
                },
            );
        }
        _ => {
            let token = if rng.random_bool(0.5) {
                pick(rng, VOCABULARY)
            } else {
                pick(
                    rng,
                    &[",", ";", "=", "-", "..", "+", "*", "/", "%", ".", ":", "[", "]"],
                )
            };
            atoms.insert(
                i,
                Atom {
                    text: token.into(),
                    joint: false,
                },
            );
        }
    }
}

/// What happened to one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The text does not lex (unbalanced brackets): rustc stops before the macro.
    Unlexable,
    /// Expanded without errors into valid Rust.
    Accepted,
    /// Rejected, every error spanned inside the input.
    Rejected,
    /// The expansion panicked (message).
    Panicked(String),
    /// An error is not spanned inside the input (its message).
    Unspanned(String),
    /// The output is not valid Rust syntax (syn's message).
    InvalidOutput(String),
}

/// Runs the expansion on `text` and classifies the result.
pub fn run(text: &str) -> Outcome {
    let outcome = match TokenStream::from_str(text) {
        Err(_) => Outcome::Unlexable,
        Ok(input) => {
            let result = panic::catch_unwind(AssertUnwindSafe(|| nn_macros_core::expand(input)));
            match result {
                Err(payload) => Outcome::Panicked(panic_message(&payload)),
                Ok(output) => classify(output, text.len()),
            }
        }
    };
    // Spans of this case are dead now; free the source map they index.
    proc_macro2::extra::invalidate_current_thread_spans();
    outcome
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic".into())
}

fn classify(output: TokenStream, input_len: usize) -> Outcome {
    let mut errors = Vec::new();
    compile_errors(output.clone(), &mut errors);
    for (message, spans) in &errors {
        for span in spans {
            if !inside(span, input_len) {
                return Outcome::Unspanned(format!("{message} (span {span:?})"));
            }
        }
    }
    if let Err(e) = syn::parse2::<syn::File>(output) {
        return Outcome::InvalidOutput(e.to_string());
    }
    if errors.is_empty() {
        Outcome::Accepted
    } else {
        Outcome::Rejected
    }
}

/// A span is on the input when it has a real location (line 1 or more: the
/// call site has line 0) within the input's bytes.
fn inside(span: &proc_macro2::Span, input_len: usize) -> bool {
    let range: Range<usize> = span.byte_range();
    span.start().line >= 1 && range.start <= range.end && range.end <= input_len
}

/// Every `compile_error! { "message" }` in `stream`, with the spans of its
/// name and its braces (syn puts the error's first and last span there).
fn compile_errors(stream: TokenStream, out: &mut Vec<(String, Vec<proc_macro2::Span>)>) {
    let trees: Vec<TokenTree> = stream.into_iter().collect();
    for (k, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Ident(id) if id == "compile_error" => {
                let mut spans = vec![id.span()];
                let mut message = String::new();
                if let Some(TokenTree::Group(g)) = trees.get(k + 2) {
                    spans.push(g.span());
                    message = g.stream().to_string();
                }
                out.push((message, spans));
            }
            TokenTree::Group(g) => compile_errors(g.stream(), out),
            _ => {}
        }
    }
}

/// Counts of a fuzzing run, and the first few failures to show.
#[derive(Default, Debug)]
pub struct Counts {
    pub unlexable: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub panicked: usize,
    pub unspanned: usize,
    pub invalid_output: usize,
    pub failures: Vec<(String, Outcome)>,
}

impl Counts {
    pub fn failed(&self) -> usize {
        self.panicked + self.unspanned + self.invalid_output
    }

    fn add(&mut self, text: &str, outcome: Outcome) {
        match &outcome {
            Outcome::Unlexable => self.unlexable += 1,
            Outcome::Accepted => self.accepted += 1,
            Outcome::Rejected => self.rejected += 1,
            Outcome::Panicked(_) => self.panicked += 1,
            Outcome::Unspanned(_) => self.unspanned += 1,
            Outcome::InvalidOutput(_) => self.invalid_output += 1,
        }
        let failed = matches!(
            outcome,
            Outcome::Panicked(_) | Outcome::Unspanned(_) | Outcome::InvalidOutput(_)
        );
        if failed && self.failures.len() < 10 {
            self.failures.push((text.to_string(), outcome));
        }
    }

    pub fn merge(&mut self, other: Counts) {
        self.unlexable += other.unlexable;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.panicked += other.panicked;
        self.unspanned += other.unspanned;
        self.invalid_output += other.invalid_output;
        for f in other.failures {
            if self.failures.len() < 10 {
                self.failures.push(f);
            }
        }
    }
}

/// Runs cases `first..first + count`: case `i` mutates seed `i % seeds`
/// with 1 to 3 mutations drawn from an RNG seeded by `i`, so any case can be
/// replayed alone.
pub fn fuzz(seeds: &[(String, String)], first: u64, count: u64) -> Counts {
    let seed_atoms: Vec<Vec<Atom>> = seeds
        .iter()
        .map(|(_, text)| {
            let mut out = Vec::new();
            if let Ok(stream) = TokenStream::from_str(text) {
                atoms(stream, &mut out);
            }
            out
        })
        .collect();
    proc_macro2::extra::invalidate_current_thread_spans();
    let mut counts = Counts::default();
    for case in first..first + count {
        let text = case_text(&seed_atoms, case);
        let outcome = run(&text);
        counts.add(&text, outcome);
    }
    counts
}

fn case_text(seed_atoms: &[Vec<Atom>], case: u64) -> String {
    let mut rng = StdRng::seed_from_u64(case);
    let mut atoms = seed_atoms[(case % seed_atoms.len() as u64) as usize].clone();
    for _ in 0..rng.random_range(1..=3) {
        mutate(&mut atoms, &mut rng);
    }
    join(&atoms)
}

/// Runs `count` cases on `threads` threads and adds up their counts.
pub fn fuzz_parallel(count: u64, threads: u64) -> Counts {
    let seeds = seeds();
    // Panics are caught and counted; keep the default hook from printing each.
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let per_thread = count.div_ceil(threads);
    let mut total = Counts::default();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let seeds = &seeds;
                let first = t * per_thread;
                let n = per_thread.min(count.saturating_sub(first));
                s.spawn(move || fuzz(seeds, first, n))
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(c) => total.merge(c),
                Err(_) => total.panicked += 1,
            }
        }
    });
    panic::set_hook(hook);
    total
}
