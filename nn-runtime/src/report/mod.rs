//! Pictures of training: curves as SVG.

pub mod curves;
