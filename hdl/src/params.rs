//! Parameter types shared by every block family, and the error a block's
//! validation returns. Validation happens once, at the edge: the rest of the
//! generator may assume parameters are in range.

use std::fmt;

/// A parameter that is out of range or inconsistent. The configuration layer
/// adds the file, line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    /// Dotted key path in the configuration, e.g. `mac_array.rows`.
    pub key: String,
    /// The offending value as the user wrote it.
    pub value: String,
    /// What is allowed instead.
    pub allowed: String,
}

impl ParamError {
    pub fn new(key: impl Into<String>, value: impl fmt::Display, allowed: impl Into<String>) -> ParamError {
        ParamError {
            key: key.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` = {} is not allowed: {}", self.key, self.value, self.allowed)
    }
}

impl std::error::Error for ParamError {}

/// Check `lo <= value <= hi`.
pub fn check_range(key: &str, value: u64, lo: u64, hi: u64, what: &str) -> Result<(), ParamError> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(ParamError::new(key, value, format!("{what} must be {lo}..={hi}")))
    }
}

/// ceil(log2(n)); 0 for n <= 1.
pub fn clog2(n: u64) -> u32 {
    if n <= 1 { 0 } else { 64 - (n - 1).leading_zeros() }
}

/// Bits needed to hold the values 0..=n.
pub fn bits_for(n: u64) -> u32 {
    clog2(n + 1).max(1)
}

/// Two's-complement or unsigned integer operand format, `int2`..`int16` or `uint2`..`uint16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IntFormat {
    pub bits: u32,
    pub signed: bool,
}

impl IntFormat {
    pub const MIN_BITS: u32 = 2;
    pub const MAX_BITS: u32 = 16;

    /// Parse `int8`, `uint4`, ...; `key` names the configuration entry for the error.
    pub fn parse(key: &str, text: &str) -> Result<IntFormat, ParamError> {
        let allowed = format!(
            "an integer format int{lo}..int{hi} (signed) or uint{lo}..uint{hi} (unsigned)",
            lo = Self::MIN_BITS,
            hi = Self::MAX_BITS
        );
        let (signed, digits) = if let Some(d) = text.strip_prefix("uint") {
            (false, d)
        } else if let Some(d) = text.strip_prefix("int") {
            (true, d)
        } else {
            return Err(ParamError::new(key, format!("`{text}`"), allowed));
        };
        let bits: u32 = match digits.parse() {
            Ok(b) if !digits.starts_with('+') => b,
            _ => return Err(ParamError::new(key, format!("`{text}`"), allowed)),
        };
        if !(Self::MIN_BITS..=Self::MAX_BITS).contains(&bits) {
            return Err(ParamError::new(key, format!("`{text}`"), allowed));
        }
        Ok(IntFormat { bits, signed })
    }

    /// Short tag for module names: `s8`, `u4`.
    pub fn tag(self) -> String {
        format!("{}{}", if self.signed { "s" } else { "u" }, self.bits)
    }

    pub fn min(self) -> i64 {
        if self.signed { -(1i64 << (self.bits - 1)) } else { 0 }
    }

    pub fn max(self) -> i64 {
        if self.signed {
            (1i64 << (self.bits - 1)) - 1
        } else {
            (1i64 << self.bits) - 1
        }
    }

    /// Interpret the low `bits` of a raw code.
    pub fn decode(self, raw: u64) -> i64 {
        let raw = raw & ((1u64 << self.bits) - 1);
        if self.signed && raw >> (self.bits - 1) == 1 {
            raw as i64 - (1i64 << self.bits)
        } else {
            raw as i64
        }
    }

    /// The raw code of a value in range.
    pub fn encode(self, value: i64) -> u64 {
        (value as u64) & ((1u64 << self.bits) - 1)
    }
}

impl fmt::Display for IntFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}int{}", if self.signed { "" } else { "u" }, self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clog2_edges() {
        assert_eq!([clog2(1), clog2(2), clog2(3), clog2(4), clog2(5)], [0, 1, 2, 2, 3]);
        assert_eq!([bits_for(0), bits_for(1), bits_for(3), bits_for(4)], [1, 1, 2, 3]);
    }

    #[test]
    fn int_formats_parse_and_reject() {
        assert_eq!(IntFormat::parse("k", "int8"), Ok(IntFormat { bits: 8, signed: true }));
        assert_eq!(
            IntFormat::parse("k", "uint16"),
            Ok(IntFormat {
                bits: 16,
                signed: false
            })
        );
        for bad in ["int1", "int17", "int65", "int0", "uint", "float8", "int+8", "Int8"] {
            assert!(IntFormat::parse("k", bad).is_err(), "{bad}");
        }
        let f = IntFormat { bits: 4, signed: true };
        assert_eq!((f.min(), f.max(), f.decode(0xf), f.encode(-1)), (-8, 7, -1, 0xf));
    }
}
