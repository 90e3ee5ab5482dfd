//! Co-simulation of accgen designs with Verilator (and a second opinion from
//! Icarus Verilog).
//!
//! - [`Model::build`] turns a [`Design`](accgen_hdl::Design) into a Verilator
//!   model with a generated C++ harness, cached by a hash of everything
//!   that goes into it.
//! - [`Model::check`] streams cycles from a [`CycleSource`] (inputs and
//!   expected outputs, written with a [`Frame`]) through the model on
//!   another core and compares every cared output in C++. A mismatch comes
//!   back as [`SimError::Mismatch`] with the failing cycle, every port value
//!   and a VCD of the replayed run; a run that compared nothing is an error.
//! - [`Model::session`] drives a model port by port by name.
//! - [`Model::throughput`] puts checked vectors/s next to a plain C++ loop's.
//! - [`testbench`] writes a self-checking Verilog test bench and vector file
//!   from recorded [`Frames`] and runs it under Icarus Verilog.
//!
//! ```no_run
//! use accgen_sim::{BuildOptions, Frame, Model};
//! # fn demo(design: &accgen_hdl::Design) -> Result<(), accgen_sim::SimError> {
//! let model = Model::build(design, &BuildOptions::default())?;
//! let (a, y) = (model.layout().input("a_i")?, model.layout().output("y_o")?);
//! let report = model.check(|| {
//!     let mut n = 0u64;
//!     move |f: &mut Frame<'_>| {
//!         f.set_u64(a, n % 256);
//!         f.expect_u64(y, n % 256);
//!         n += 1;
//!         n <= 1000
//!     }
//! })?;
//! println!("{report}");
//! # Ok(()) }
//! ```

mod bench;
mod check;
mod error;
mod frame;
mod harness;
mod layout;
mod model;
mod session;
pub mod testbench;
mod tools;

pub use bench::{RawReport, Throughput};
pub use check::{CheckOptions, CheckReport};
pub use error::{Mismatch, OutputValue, PortValue, SimError};
pub use frame::{CycleSource, Frame, Frames, FramesSource};
pub use layout::{InputId, Layout, OutputId, Slot};
pub use model::{BuildOptions, Model, cache_root};
pub use session::{Session, Value};
