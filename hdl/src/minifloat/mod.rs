//! Minifloat formats (ExMy with any bias, four special-value modes,
//! subnormals on or off): exact decode, round-to-nearest-even encode, and
//! the hardware that decodes operands and rounds results.

pub mod format;
pub mod round;

pub use format::{FloatFormat, OnOverflow, PRESETS, Specials, Value};
