//! Pictures of a network and its training: the layer graph as DOT,
//! training curves and confusion matrices as SVG (curves also as PNG).

pub mod confusion;
pub mod curves;
pub mod dot;
pub mod figure;
pub mod font;
pub mod summary;
