//! Pictures of a network and its training: the layer graph as DOT, curves as SVG.

pub mod confusion;
pub mod curves;
pub mod dot;
