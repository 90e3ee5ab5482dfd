//! accgen's embedded HDL and block library.
pub mod bits;
pub mod design;

pub use bits::Bits;
pub use design::{Design, Dir, PortInfo, VerilogFile};
pub mod ir;
