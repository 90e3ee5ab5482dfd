//! Fixed-width bit vectors of any width: port values, constants and vector
//! fields. Stored little-endian in 64-bit limbs; bits above `width` are
//! always zero, so equality is plain limb equality.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Bits {
    width: u32,
    limbs: Vec<u64>,
}

fn limbs_for(width: u32) -> usize {
    width.div_ceil(64) as usize
}

impl Bits {
    /// All-zero vector of `width` bits.
    pub fn zero(width: u32) -> Bits {
        Bits {
            width,
            limbs: vec![0; limbs_for(width)],
        }
    }

    /// All-one vector of `width` bits.
    pub fn ones(width: u32) -> Bits {
        let mut b = Bits {
            width,
            limbs: vec![u64::MAX; limbs_for(width)],
        };
        b.mask_top();
        b
    }

    /// The low `width` bits of `value`.
    pub fn from_u64(width: u32, value: u64) -> Bits {
        let mut b = Bits::zero(width);
        if !b.limbs.is_empty() {
            b.limbs[0] = value;
        }
        b.mask_top();
        b
    }

    /// The low `width` bits of `value`, sign-extended when `width > 64`.
    pub fn from_i64(width: u32, value: i64) -> Bits {
        let fill = if value < 0 { u64::MAX } else { 0 };
        let mut b = Bits {
            width,
            limbs: vec![fill; limbs_for(width)],
        };
        if !b.limbs.is_empty() {
            b.limbs[0] = value as u64;
        }
        b.mask_top();
        b
    }

    /// The low `width` bits of `value`, sign-extended when `width > 128`.
    pub fn from_i128(width: u32, value: i128) -> Bits {
        let mut b = Bits::from_i64(width, if value < 0 { -1 } else { 0 });
        b.set_u64_field(0, 64.min(width), value as u64);
        if width > 64 {
            b.set_u64_field(64, 64.min(width - 64), (value >> 64) as u64);
        }
        b
    }

    /// Parse from little-endian 32-bit words (the layout Verilator uses).
    pub fn from_words32(width: u32, words: &[u32]) -> Bits {
        let mut b = Bits::zero(width);
        for (i, w) in words.iter().enumerate() {
            let limb = i / 2;
            if limb < b.limbs.len() {
                b.limbs[limb] |= (*w as u64) << (32 * (i % 2));
            }
        }
        b.mask_top();
        b
    }

    /// Append the value as little-endian 32-bit words (`ceil(width/32)` of them).
    pub fn push_words32(&self, out: &mut Vec<u32>) {
        for i in 0..self.width.div_ceil(32) as usize {
            out.push((self.limbs[i / 2] >> (32 * (i % 2))) as u32);
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn limbs(&self) -> &[u64] {
        &self.limbs
    }

    fn mask_top(&mut self) {
        let rem = self.width % 64;
        if rem != 0
            && let Some(last) = self.limbs.last_mut()
        {
            *last &= (1u64 << rem) - 1;
        }
    }

    pub fn bit(&self, i: u32) -> bool {
        assert!(i < self.width, "bit {i} out of range of a {}-bit value", self.width);
        (self.limbs[(i / 64) as usize] >> (i % 64)) & 1 == 1
    }

    pub fn set_bit(&mut self, i: u32, v: bool) {
        assert!(i < self.width, "bit {i} out of range of a {}-bit value", self.width);
        let (l, s) = ((i / 64) as usize, i % 64);
        if v {
            self.limbs[l] |= 1 << s;
        } else {
            self.limbs[l] &= !(1 << s);
        }
    }

    /// The `len`-bit field starting at bit `lo` (len <= 64), zero-extended.
    pub fn u64_field(&self, lo: u32, len: u32) -> u64 {
        assert!(
            len <= 64 && lo + len <= self.width,
            "field [{lo}+:{len}] outside a {}-bit value",
            self.width
        );
        if len == 0 {
            return 0;
        }
        let (l, s) = ((lo / 64) as usize, lo % 64);
        let mut v = self.limbs[l] >> s;
        if s != 0 && l + 1 < self.limbs.len() {
            v |= self.limbs[l + 1] << (64 - s);
        }
        if len < 64 { v & ((1u64 << len) - 1) } else { v }
    }

    /// The `len`-bit field starting at bit `lo`, sign-extended.
    pub fn i64_field(&self, lo: u32, len: u32) -> i64 {
        let v = self.u64_field(lo, len);
        if len == 0 || len == 64 {
            return v as i64;
        }
        let shift = 64 - len;
        ((v << shift) as i64) >> shift
    }

    /// Overwrite the `len`-bit field at `lo` with the low `len` bits of `value`.
    pub fn set_u64_field(&mut self, lo: u32, len: u32, value: u64) {
        assert!(
            len <= 64 && lo + len <= self.width,
            "field [{lo}+:{len}] outside a {}-bit value",
            self.width
        );
        if len == 0 {
            return;
        }
        let value = if len < 64 { value & ((1u64 << len) - 1) } else { value };
        let mask = if len < 64 { (1u64 << len) - 1 } else { u64::MAX };
        let (l, s) = ((lo / 64) as usize, lo % 64);
        self.limbs[l] = (self.limbs[l] & !(mask << s)) | (value << s);
        if s != 0 && s + len > 64 {
            let hi_mask = mask >> (64 - s);
            self.limbs[l + 1] = (self.limbs[l + 1] & !hi_mask) | (value >> (64 - s));
        }
    }

    /// Overwrite the field at `lo` with all of `other`.
    pub fn set_field(&mut self, lo: u32, other: &Bits) {
        let mut done = 0;
        while done < other.width {
            let len = 64.min(other.width - done);
            self.set_u64_field(lo + done, len, other.u64_field(done, len));
            done += len;
        }
    }

    /// The `len`-bit field at `lo` as a new vector.
    pub fn field(&self, lo: u32, len: u32) -> Bits {
        let mut out = Bits::zero(len);
        let mut done = 0;
        while done < len {
            let n = 64.min(len - done);
            out.set_u64_field(done, n, self.u64_field(lo + done, n));
            done += n;
        }
        out
    }

    /// Value as u64; the vector must be at most 64 bits wide.
    pub fn to_u64(&self) -> u64 {
        self.u64_field(0, self.width.min(64))
    }

    /// Value as a signed (two's complement) i128; the vector must be at most 128 bits wide.
    pub fn to_i128(&self) -> i128 {
        assert!(self.width <= 128, "a {}-bit value does not fit i128", self.width);
        if self.width == 0 {
            return 0;
        }
        let lo = self.u64_field(0, self.width.min(64)) as u128;
        let hi = if self.width > 64 {
            self.u64_field(64, self.width - 64) as u128
        } else {
            0
        };
        let raw = lo | (hi << 64);
        let shift = 128 - self.width;
        ((raw << shift) as i128) >> shift
    }

    /// Value as an unsigned u128; the vector must be at most 128 bits wide.
    pub fn to_u128(&self) -> u128 {
        assert!(self.width <= 128, "a {}-bit value does not fit u128", self.width);
        let lo = self.u64_field(0, self.width.min(64)) as u128;
        let hi = if self.width > 64 {
            self.u64_field(64, self.width - 64) as u128
        } else {
            0
        };
        lo | (hi << 64)
    }

    pub fn is_zero(&self) -> bool {
        self.limbs.iter().all(|&l| l == 0)
    }

    /// Lower-case hexadecimal digits, most significant first, exactly
    /// `ceil(width/4)` of them (no prefix).
    pub fn to_hex(&self) -> String {
        let digits = self.width.div_ceil(4).max(1);
        let mut s = String::with_capacity(digits as usize);
        for d in (0..digits).rev() {
            let lo = d * 4;
            let len = 4.min(self.width.saturating_sub(lo));
            let v = if len == 0 { 0 } else { self.u64_field(lo, len) };
            s.push(char::from_digit(v as u32, 16).unwrap_or('0'));
        }
        s
    }

    /// Parse hexadecimal digits (as written by `to_hex`) into a `width`-bit vector.
    pub fn from_hex(width: u32, hex: &str) -> Option<Bits> {
        let mut b = Bits::zero(width);
        for (i, c) in hex.chars().rev().enumerate() {
            let v = c.to_digit(16)? as u64;
            let lo = i as u32 * 4;
            if lo >= width {
                if v != 0 {
                    return None;
                }
                continue;
            }
            let len = 4.min(width - lo);
            if v >> len != 0 {
                return None;
            }
            b.set_u64_field(lo, len, v);
        }
        Some(b)
    }
}

impl fmt::Debug for Bits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}'h{}", self.width, self.to_hex())
    }
}

impl fmt::Display for Bits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}'h{}", self.width, self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_cross_limb_boundaries() {
        let mut b = Bits::zero(200);
        b.set_u64_field(60, 10, 0x3ff);
        assert_eq!(b.u64_field(60, 10), 0x3ff);
        assert_eq!(b.u64_field(58, 14), 0x3ff << 2);
        b.set_u64_field(100, 64, 0xdead_beef_0123_4567);
        assert_eq!(b.u64_field(100, 64), 0xdead_beef_0123_4567);
        assert_eq!(b.i64_field(60, 10), -1);
    }

    #[test]
    fn signed_round_trip_and_hex() {
        let b = Bits::from_i64(12, -3);
        assert_eq!(b.to_hex(), "ffd");
        assert_eq!(b.to_i128(), -3);
        assert_eq!(Bits::from_hex(12, "ffd"), Some(b));
        assert_eq!(Bits::from_hex(5, "20"), None);
        let wide = Bits::from_i128(100, -5);
        assert_eq!(wide.to_i128(), -5);
        assert_eq!(Bits::ones(70).to_hex(), "3fffffffffffffffff");
    }

    #[test]
    fn words32_round_trip() {
        let b = Bits::from_i128(90, -123_456_789_012_345);
        let mut w = Vec::new();
        b.push_words32(&mut w);
        assert_eq!(w.len(), 3);
        assert_eq!(Bits::from_words32(90, &w), b);
    }
}
