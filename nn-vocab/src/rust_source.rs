//! Writing a vocabulary value as Rust source, so that `network!` can emit a
//! layer's configuration as a constant without a second description of it:
//! the macro parses the text into tokens. Paths start at a root the caller
//! chooses (`::nn::__private::vocab` in generated code).

use std::fmt::Write;

/// Rust source under construction.
pub struct RustSource {
    root: String,
    text: String,
}

impl RustSource {
    /// `root` is the path the vocabulary crate is reachable at.
    pub fn new(root: &str) -> Self {
        RustSource {
            root: root.to_string(),
            text: String::new(),
        }
    }

    /// `root::path`.
    pub fn path(&mut self, path: &str) {
        let _ = write!(self.text, "{}::{path}", self.root);
    }

    /// Text written as is.
    pub fn raw(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// `{ name: value, ... }`.
    pub fn fields(&mut self, fields: &[(&str, &dyn ToRust)]) {
        self.text.push_str(" { ");
        for (name, value) in fields {
            self.text.push_str(name);
            self.text.push_str(": ");
            value.write_rust(self);
            self.text.push_str(", ");
        }
        self.text.push('}');
    }

    /// `(value, ...)`.
    pub fn tuple(&mut self, values: &[&dyn ToRust]) {
        self.text.push('(');
        for value in values {
            value.write_rust(self);
            self.text.push_str(", ");
        }
        self.text.push(')');
    }

    pub fn finish(self) -> String {
        self.text
    }
}

/// A value that can be written as a Rust expression of its own type.
pub trait ToRust {
    fn write_rust(&self, out: &mut RustSource);

    /// The expression, with paths under `root`.
    fn to_rust(&self, root: &str) -> String {
        let mut out = RustSource::new(root);
        self.write_rust(&mut out);
        out.finish()
    }
}

impl ToRust for usize {
    fn write_rust(&self, out: &mut RustSource) {
        out.raw(&format!("{self}usize"));
    }
}

impl ToRust for i64 {
    fn write_rust(&self, out: &mut RustSource) {
        out.raw(&format!("{self}i64"));
    }
}

impl ToRust for &'static str {
    fn write_rust(&self, out: &mut RustSource) {
        // `{:?}` escapes the text as a Rust string literal.
        out.raw(&format!("{self:?}"));
    }
}

impl ToRust for bool {
    fn write_rust(&self, out: &mut RustSource) {
        out.raw(if *self { "true" } else { "false" });
    }
}

impl ToRust for f32 {
    fn write_rust(&self, out: &mut RustSource) {
        // `{:?}` prints the shortest text that reads back as the same f32.
        if self.is_finite() {
            out.raw(&format!("{self:?}f32"));
        } else if self.is_nan() {
            out.raw("::core::primitive::f32::NAN");
        } else if *self > 0.0 {
            out.raw("::core::primitive::f32::INFINITY");
        } else {
            out.raw("::core::primitive::f32::NEG_INFINITY");
        }
    }
}

impl<T: ToRust> ToRust for Option<T> {
    fn write_rust(&self, out: &mut RustSource) {
        match self {
            Some(value) => {
                out.raw("::core::option::Option::Some(");
                value.write_rust(out);
                out.raw(")");
            }
            None => out.raw("::core::option::Option::None"),
        }
    }
}

impl<T: ToRust> ToRust for &'static [T] {
    fn write_rust(&self, out: &mut RustSource) {
        out.raw("&[");
        for value in self.iter() {
            value.write_rust(out);
            out.raw(", ");
        }
        out.raw("]");
    }
}

impl<T: ToRust, const N: usize> ToRust for [T; N] {
    fn write_rust(&self, out: &mut RustSource) {
        out.raw("[");
        for value in self {
            value.write_rust(out);
            out.raw(", ");
        }
        out.raw("]");
    }
}

/// `impl ToRust` for a layer type, listing every field (the destructuring
/// makes a forgotten field a compile error).
macro_rules! layer_to_rust {
    ($ty:ident) => {
        impl $crate::rust_source::ToRust for $ty {
            fn write_rust(&self, out: &mut $crate::rust_source::RustSource) {
                out.path(concat!("layer::", stringify!($ty)));
            }
        }
    };
    ($ty:ident($inner:ident)) => {
        impl $crate::rust_source::ToRust for $ty {
            fn write_rust(&self, out: &mut $crate::rust_source::RustSource) {
                let $ty($inner) = self;
                out.path(concat!("layer::", stringify!($ty)));
                out.tuple(&[$inner]);
            }
        }
    };
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl $crate::rust_source::ToRust for $ty {
            fn write_rust(&self, out: &mut $crate::rust_source::RustSource) {
                let $ty { $($field),* } = self;
                out.path(concat!("layer::", stringify!($ty)));
                out.fields(&[$((stringify!($field), $field)),*]);
            }
        }
    };
}
pub(crate) use layer_to_rust;
