//! The `network!` macro.
