//! Exact sums of any width for the golden model: 128-bit integers while
//! they fit (the common case, and fast), arbitrary precision beyond (the
//! Kulisch accumulators of wide-exponent minifloats reach hundreds of bits).

use crate::Bits;
use num_bigint::BigInt;
use num_bigint::Sign;
use std::fmt;

/// A signed integer of any size.
#[derive(Clone, PartialEq, Eq)]
pub enum Wide {
    Small(i128),
    Big(BigInt),
}

impl Default for Wide {
    fn default() -> Wide {
        Wide::Small(0)
    }
}

impl fmt::Debug for Wide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wide::Small(v) => write!(f, "{v}"),
            Wide::Big(v) => write!(f, "{v}"),
        }
    }
}

impl From<i128> for Wide {
    fn from(v: i128) -> Wide {
        Wide::Small(v)
    }
}

impl Wide {
    fn big(&self) -> BigInt {
        match self {
            Wide::Small(v) => BigInt::from(*v),
            Wide::Big(v) => v.clone(),
        }
    }

    /// Back to the small form whenever the value fits.
    #[inline]
    fn norm(v: BigInt) -> Wide {
        match i128::try_from(&v) {
            Ok(s) => Wide::Small(s),
            Err(_) => Wide::Big(v),
        }
    }

    /// `a * b * 2^shift`.
    #[inline]
    pub fn product(a: i64, b: i64, shift: u32) -> Wide {
        let p = a as i128 * b as i128;
        let bits = 128 - p.unsigned_abs().leading_zeros();
        if p == 0 {
            Wide::Small(0)
        } else if bits + shift < 126 {
            Wide::Small(p << shift)
        } else {
            Wide::norm(BigInt::from(p) << shift)
        }
    }

    #[inline]
    pub fn add(&self, other: &Wide) -> Wide {
        if let (Wide::Small(a), Wide::Small(b)) = (self, other)
            && let Some(s) = a.checked_add(*b)
        {
            return Wide::Small(s);
        }
        Wide::norm(self.big() + other.big())
    }

    #[inline]
    pub fn is_negative(&self) -> bool {
        match self {
            Wide::Small(v) => *v < 0,
            Wide::Big(v) => v.sign() == Sign::Minus,
        }
    }

    pub fn is_zero(&self) -> bool {
        match self {
            Wide::Small(v) => *v == 0,
            Wide::Big(v) => v.sign() == Sign::NoSign,
        }
    }

    /// The smallest and largest values of a `width`-bit integer.
    fn bounds(width: u32, signed: bool) -> (Wide, Wide) {
        let one = BigInt::from(1);
        if signed {
            (
                Wide::norm(-(one.clone() << (width - 1))),
                Wide::norm((one.clone() << (width - 1)) - 1),
            )
        } else {
            (Wide::Small(0), Wide::norm((one << width) - 1))
        }
    }

    fn cmp_wide(&self, other: &Wide) -> std::cmp::Ordering {
        match (self, other) {
            (Wide::Small(a), Wide::Small(b)) => a.cmp(b),
            _ => self.big().cmp(&other.big()),
        }
    }

    /// True when the value is representable in `width` bits.
    #[inline]
    pub fn fits(&self, width: u32, signed: bool) -> bool {
        // The common case without allocating: a small value and a width
        // whose bounds are themselves small.
        if let Wide::Small(v) = self
            && width < 127
        {
            return if signed {
                let half = 1i128 << (width - 1);
                (-half..half).contains(v)
            } else {
                *v >= 0 && *v < (1i128 << width)
            };
        }
        let (lo, hi) = Wide::bounds(width, signed);
        self.cmp_wide(&lo).is_ge() && self.cmp_wide(&hi).is_le()
    }

    /// Clamp into the `width`-bit range.
    #[inline]
    pub fn saturate(&self, width: u32, signed: bool) -> Wide {
        let (lo, hi) = Wide::bounds(width, signed);
        if self.cmp_wide(&lo).is_lt() {
            lo
        } else if self.cmp_wide(&hi).is_gt() {
            hi
        } else {
            self.clone()
        }
    }

    /// Keep the low `width` bits, read back as signed or unsigned.
    pub fn wrap(&self, width: u32, signed: bool) -> Wide {
        let modulus = BigInt::from(1) << width;
        let mut m = self.big() % &modulus;
        if m.sign() == Sign::Minus {
            m += &modulus;
        }
        if signed && m >= (BigInt::from(1) << (width - 1)) {
            m -= modulus;
        }
        Wide::norm(m)
    }

    /// Two's complement, low `width` bits.
    pub fn to_bits(&self, width: u32) -> Bits {
        match self {
            Wide::Small(v) => Bits::from_i128(width, *v),
            Wide::Big(v) => {
                let bytes = v.to_signed_bytes_le();
                let fill = if self.is_negative() { 0xff } else { 0 };
                let mut b = Bits::zero(width);
                for i in 0..width.div_ceil(8) {
                    let byte = bytes.get(i as usize).copied().unwrap_or(fill) as u64;
                    let len = 8.min(width - i * 8);
                    b.set_u64_field(i * 8, len, byte);
                }
                b
            }
        }
    }

    /// `|v|` reduced to at most 120 bits for rounding: `(mag, extra)` with
    /// `|v| ~ mag * 2^extra`, the dropped bits folded into the lowest bit
    /// (a sticky bit), which keeps round-to-nearest-even exact.
    pub fn magnitude_for_rounding(&self) -> (u128, i32) {
        match self {
            Wide::Small(v) => (v.unsigned_abs(), 0),
            Wide::Big(v) => {
                let mag = v.magnitude();
                let bits = mag.bits() as i32;
                let drop = (bits - 120).max(0);
                let kept = mag >> drop as usize;
                let sticky = drop > 0 && mag.trailing_zeros().map(|t| (t as i32) < drop).unwrap_or(false);
                let kept = u128::try_from(&kept).unwrap_or(u128::MAX);
                (kept | sticky as u128, drop)
            }
        }
    }

    pub fn to_f64(&self) -> f64 {
        match self {
            Wide::Small(v) => *v as f64,
            Wide::Big(v) => {
                let (mag, extra) = self.magnitude_for_rounding();
                let f = mag as f64 * 2f64.powi(extra);
                if v.sign() == Sign::Minus { -f } else { f }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_big_agree() {
        let a = Wide::product(3, -5, 200);
        assert!(matches!(a, Wide::Big(_)));
        let b = a.add(&Wide::product(3, 5, 200));
        assert_eq!(b, Wide::Small(0));
        assert!(Wide::product(1, 1, 130).fits(132, true));
        assert!(!Wide::product(1, 1, 131).fits(132, true));
        assert_eq!(
            Wide::product(1, 1, 131).wrap(132, true),
            Wide::norm(-(BigInt::from(1) << 131usize))
        );
        assert_eq!(Wide::Small(-3).to_bits(200).to_hex().len(), 50);
        // -2^150 in 160 bits: ones above bit 150, zeros below.
        let mut expected = Bits::ones(160);
        for i in 0..150 {
            expected.set_bit(i, false);
        }
        assert_eq!(Wide::product(-1, 1, 150).to_bits(160), expected);
    }

    #[test]
    fn rounding_input_keeps_a_sticky_bit() {
        let v = Wide::norm((BigInt::from(1) << 200usize) + 1);
        let (mag, extra) = v.magnitude_for_rounding();
        assert_eq!(extra, 81);
        assert_eq!(mag, (1u128 << 119) | 1);
    }
}
