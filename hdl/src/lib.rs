//! accgen's embedded HDL and block library.
//!
//! - [`ir`]: the typed hardware tree and its Verilog formatter;
//! - [`design`]: a generated design (files, top, ports);
//! - [`stimulus`]: how blocks hand test vectors to a simulator;
//! - one folder per block family, each with parameters, hardware, golden
//!   model and test vectors: [`mac`].

pub mod bits;
pub mod board;
pub mod common;
pub mod design;
pub mod hashgrid;
pub mod ir;
pub mod mac;
pub mod minifloat;
pub mod params;
pub mod spiking;
pub mod stimulus;

pub use bits::Bits;
pub use design::{Design, Dir, PortInfo, VerilogFile};
