//! The golden model: exactly what the MAC hardware computes.
//!
//! The arithmetic (`mac_step`) is the specification of one accumulation. The
//! PE model applies it register by register; the array model is behavioural:
//! it computes each tile as a matrix product and predicts, from the
//! documented protocol, the cycle each result row appears. It does not mirror
//! the RTL's structure, so the two are independent descriptions that the
//! co-simulation compares.

use super::operand::{Class, Decoded};
use super::params::{MacArrayParams, Overflow};
use super::wide::Wide;
use crate::Bits;
use std::collections::VecDeque;

/// Reduce `sum` to the accumulator: wrap modulo 2^ACC_W or saturate.
#[inline]
pub fn fit(p: &MacArrayParams, sum: Wide) -> Wide {
    let (w, signed) = (p.acc_width, p.signed());
    if sum.fits(w, signed) {
        return sum;
    }
    match p.overflow {
        Overflow::Saturate => sum.saturate(w, signed),
        Overflow::Wrap => sum.wrap(w, signed),
    }
}

/// A running sum: the fixed-point value (in units of `2^lsb_exp`) and the
/// special-value flags, which stick until the next first beat.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Acc {
    pub value: Wide,
    pub nan: bool,
    pub pinf: bool,
    pub ninf: bool,
}

impl Acc {
    /// The two-bit special code of the PE's `res_special_o`: 00 finite,
    /// 01 NaN, 10 +inf, 11 -inf (+inf and -inf together are NaN).
    pub fn special(&self) -> u64 {
        if self.nan || (self.pinf && self.ninf) {
            1
        } else if self.pinf {
            2
        } else if self.ninf {
            3
        } else {
            0
        }
    }
}

impl Acc {
    /// The real value of the sum (`value * 2^lsb_exp`), NaN or +-inf for specials.
    pub fn to_f64(&self, p: &MacArrayParams) -> f64 {
        match self.special() {
            1 => f64::NAN,
            2 => f64::INFINITY,
            3 => f64::NEG_INFINITY,
            _ => self.value.to_f64() * 2f64.powi(p.lsb_exp()),
        }
    }
}

/// The exact product of two operand codes: (fixed-point value, NaN, inf, sign).
pub fn product(p: &MacArrayParams, act: u64, wgt: u64) -> (Wide, bool, bool, bool) {
    product_of(&p.act.decode(act), &p.wgt.decode(wgt))
}

/// [`product`] of operands already decoded.
#[inline]
pub fn product_of(a: &Decoded, w: &Decoded) -> (Wide, bool, bool, bool) {
    let value = Wide::product(a.sig, w.sig, a.shift + w.shift);
    let zero = |d: &Decoded| d.class == Class::Finite && d.sig == 0;
    let is_inf = |d: &Decoded| matches!(d.class, Class::Inf { .. });
    let nan = a.class == Class::NaN || w.class == Class::NaN || (is_inf(a) && zero(w)) || (is_inf(w) && zero(a));
    let inf = (is_inf(a) || is_inf(w)) && !nan;
    (value, nan, inf, a.neg ^ w.neg)
}

/// One accumulation: `acc' = fit((first ? 0 : acc) + act * wgt)`, with the
/// special-value flags.
pub fn mac_step(p: &MacArrayParams, acc: &Acc, act: u64, wgt: u64, first: bool) -> Acc {
    mac_step_decoded(p, acc, &p.act.decode(act), &p.wgt.decode(wgt), first)
}

/// [`mac_step`] on operands already decoded (an array decodes each operand
/// once per beat, not once per PE).
pub fn mac_step_decoded(p: &MacArrayParams, acc: &Acc, a: &Decoded, w: &Decoded, first: bool) -> Acc {
    step(p, p.can_overflow(), acc, a, w, first)
}

/// The accumulation itself; `can_overflow` is `p.can_overflow()`, which
/// callers in a loop compute once.
#[inline]
fn step(p: &MacArrayParams, can_overflow: bool, acc: &Acc, a: &Decoded, w: &Decoded, first: bool) -> Acc {
    let (value, nan, inf, neg) = product_of(a, w);
    let (sum, flags) = if first {
        (value, (false, false, false))
    } else {
        (acc.value.add(&value), (acc.nan, acc.pinf, acc.ninf))
    };
    Acc {
        // An exact-width accumulator cannot leave its range.
        value: if can_overflow { fit(p, sum) } else { sum },
        nan: flags.0 || nan,
        pinf: flags.1 || (inf && !neg),
        ninf: flags.2 || (inf && neg),
    }
}

/// [`output_code`] without allocating, when the result fits 64 bits.
pub fn output_code_u64(p: &MacArrayParams, acc: &Acc) -> Option<u64> {
    if p.result_width() > 64 {
        return None;
    }
    match (&p.output, &acc.value) {
        (None, Wide::Small(v)) => {
            let w = p.acc_width;
            Some((*v as u64) & if w == 64 { u64::MAX } else { (1u64 << w) - 1 })
        }
        (None, Wide::Big(_)) => None,
        (Some(_), _) => Some(output_code(p, acc).to_u64()),
    }
}

/// A finished sum as it leaves the array: rounded to the output format's
/// code, or the raw fixed-point value; `result_width()` bits.
pub fn output_code(p: &MacArrayParams, acc: &Acc) -> Bits {
    let Some(out) = p.output else {
        return acc.value.to_bits(p.acc_width);
    };
    let f = out.format;
    let code = match acc.special() {
        1 => f.nan_code().unwrap_or(0),
        2 | 3 => {
            let neg = acc.special() == 3;
            f.inf_code(neg).unwrap_or_else(|| f.overflow_code(neg, out.overflow))
        }
        _ => {
            let (mag, extra) = acc.value.magnitude_for_rounding();
            f.encode_exact(acc.value.is_negative(), mag, p.lsb_exp() + extra, out.overflow)
        }
    };
    Bits::from_u64(f.width(), code)
}

/// Register-level model of one PE.
#[derive(Clone, Debug)]
pub struct PeModel {
    p: MacArrayParams,
    can_overflow: bool,
    acc: Option<Acc>,
    res: Option<Acc>,
    /// Beats inside the pipeline as (first, last, act, wgt), `None` for a
    /// cycle without one, oldest first: `p.pipeline` entries, reset empty.
    pipe: VecDeque<Option<(bool, bool, u64, u64)>>,
}

impl PeModel {
    pub fn new(p: &MacArrayParams) -> PeModel {
        PeModel {
            p: *p,
            can_overflow: p.can_overflow(),
            acc: None,
            res: None,
            pipe: std::iter::repeat_n(None, p.pipeline as usize).collect(),
        }
    }

    /// The result register; `None` until a dot product has finished.
    pub fn res(&self) -> Option<&Acc> {
        self.res.as_ref()
    }

    /// A rising clock edge with these inputs (operand codes).
    pub fn clock(&mut self, en: bool, valid: bool, first: bool, last: bool, act: u64, wgt: u64) {
        if !en {
            return;
        }
        // The pipeline advances with the enable; the accumulator sees the
        // beat that entered `p.pipeline` enabled cycles ago.
        let beat = valid.then_some((first, last, act, wgt));
        let beat = if self.pipe.is_empty() {
            beat
        } else {
            self.pipe.push_back(beat);
            self.pipe.pop_front().flatten()
        };
        let Some((first, last, act, wgt)) = beat else {
            return;
        };
        // Without `first`, an accumulator that was never started is unknown.
        let (p, o) = (&self.p, self.can_overflow);
        let (a, w) = (p.act.decode(act), p.wgt.decode(wgt));
        let sum = match (first, &self.acc) {
            (true, _) => Some(step(p, o, &Acc::default(), &a, &w, true)),
            (false, Some(acc)) => Some(step(p, o, acc, &a, &w, false)),
            (false, None) => None,
        };
        if last {
            self.res = sum.clone();
        }
        self.acc = sum;
    }
}

/// A result row on its way to the output.
#[derive(Clone, Debug)]
struct PendingRow {
    /// Index of the enabled clock edge that loads it into the output register.
    due: u64,
    data: Vec<Acc>,
    last: bool,
}

/// Cycle-accurate behavioural model of the MAC array's ports.
#[derive(Clone, Debug)]
pub struct ArrayModel {
    p: MacArrayParams,
    /// Beats of the current tile accepted so far.
    beat: u32,
    /// Enabled edges until another tile may finish.
    gap: u32,
    /// Partial sums of the tile being accumulated, row-major.
    acc: Vec<Acc>,
    pending: VecDeque<PendingRow>,
    /// Enabled clock edges since reset.
    edges: u64,
    out: Option<(Vec<Acc>, bool)>,
    /// Scratch: this beat's weights, decoded once for every row.
    wgt_decoded: Vec<Decoded>,
    /// The same sums in 128-bit integers when they fit (the fast path every
    /// integer and 8-bit minifloat array takes); `acc` is then unused.
    narrow: Option<(NarrowRange, Vec<NarrowAcc>)>,
}

/// An [`Acc`] whose value fits an i128.
#[derive(Clone, Copy, Debug, Default)]
struct NarrowAcc {
    value: i128,
    nan: bool,
    pinf: bool,
    ninf: bool,
}

impl NarrowAcc {
    fn widen(&self) -> Acc {
        Acc {
            value: Wide::Small(self.value),
            nan: self.nan,
            pinf: self.pinf,
            ninf: self.ninf,
        }
    }
}

/// The accumulator's range in 128-bit integers, for [`narrow_step`].
#[derive(Clone, Copy, Debug)]
struct NarrowRange {
    can_overflow: bool,
    saturate: bool,
    lo: i128,
    hi: i128,
    modulus: i128,
}

impl NarrowRange {
    fn new(p: &MacArrayParams) -> NarrowRange {
        let w = p.acc_width;
        let (lo, hi) = if p.signed() {
            (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1)
        } else {
            (0, (1i128 << w) - 1)
        };
        NarrowRange {
            can_overflow: p.can_overflow(),
            saturate: p.overflow == Overflow::Saturate,
            lo,
            hi,
            modulus: 1i128 << w,
        }
    }

    /// [`fit`] in 128-bit arithmetic.
    #[inline]
    fn fit(&self, v: i128) -> i128 {
        if !self.can_overflow || (self.lo..=self.hi).contains(&v) {
            v
        } else if self.saturate {
            v.clamp(self.lo, self.hi)
        } else {
            let m = v.rem_euclid(self.modulus);
            if m > self.hi { m - self.modulus } else { m }
        }
    }
}

/// [`step`] in 128-bit arithmetic: every product and sum fits when the
/// accumulator is at most 126 bits wide, because the product is never wider
/// than the accumulator.
#[inline]
fn narrow_step(range: &NarrowRange, acc: &NarrowAcc, a: &Decoded, w: &Decoded, first: bool) -> NarrowAcc {
    let value = (a.sig as i128 * w.sig as i128) << (a.shift + w.shift);
    let sum = range.fit(if first { value } else { acc.value + value });
    if a.class == Class::Finite && w.class == Class::Finite {
        return if first {
            NarrowAcc {
                value: sum,
                ..NarrowAcc::default()
            }
        } else {
            NarrowAcc { value: sum, ..*acc }
        };
    }
    let (_, nan, inf, neg) = product_of(a, w);
    let flags = if first {
        (false, false, false)
    } else {
        (acc.nan, acc.pinf, acc.ninf)
    };
    NarrowAcc {
        value: sum,
        nan: flags.0 || nan,
        pinf: flags.1 || (inf && !neg),
        ninf: flags.2 || (inf && neg),
    }
}

impl ArrayModel {
    pub fn new(p: &MacArrayParams) -> ArrayModel {
        ArrayModel {
            p: *p,
            beat: 0,
            gap: 0,
            acc: if p.acc_width <= 126 {
                Vec::new()
            } else {
                vec![Acc::default(); (p.rows * p.cols) as usize]
            },
            pending: VecDeque::new(),
            edges: 0,
            out: None,
            wgt_decoded: Vec::with_capacity(p.cols as usize),
            narrow: (p.acc_width <= 126).then(|| {
                (
                    NarrowRange::new(p),
                    vec![NarrowAcc::default(); (p.rows * p.cols) as usize],
                )
            }),
        }
    }

    pub fn params(&self) -> &MacArrayParams {
        &self.p
    }

    /// State after a reset.
    pub fn reset(&mut self) {
        *self = ArrayModel::new(&self.p);
    }

    /// The array advances unless the output holds a row nobody takes.
    fn advance(&self, out_ready: bool) -> bool {
        self.out.is_none() || out_ready
    }

    /// `in_ready_o` this cycle.
    pub fn in_ready(&self, out_ready: bool) -> bool {
        let last = self.beat + 1 == self.p.dot_length;
        self.advance(out_ready) && !(last && self.gap > 0)
    }

    /// `out_valid_o`, with the row (`out_data_o`) and `out_last_o` when valid.
    pub fn out(&self) -> Option<(&[Acc], bool)> {
        self.out.as_ref().map(|(d, l)| (d.as_slice(), *l))
    }

    /// A rising clock edge. `act` holds the codes of A[r][k] per row, `wgt`
    /// those of B[k][c] per column.
    pub fn clock(&mut self, in_valid: bool, act: &[u64], wgt: &[u64], out_ready: bool) {
        if !self.advance(out_ready) {
            return;
        }
        let p = self.p;
        let edge = self.edges;
        self.edges += 1;
        let accepted = in_valid && self.in_ready(out_ready);
        let mut finished = false;
        if accepted {
            let first = self.beat == 0;
            let cols = p.cols as usize;
            let can_overflow = p.can_overflow();
            self.wgt_decoded.clear();
            self.wgt_decoded.extend(wgt.iter().take(cols).map(|&w| p.wgt.decode(w)));
            let rows = p.rows as usize;
            match &mut self.narrow {
                Some((range, sums)) => {
                    for (r, &a) in act.iter().enumerate().take(rows) {
                        let ad = p.act.decode(a);
                        let row = &mut sums[r * cols..(r + 1) * cols];
                        for (sum, w) in row.iter_mut().zip(&self.wgt_decoded) {
                            *sum = narrow_step(range, sum, &ad, w, first);
                        }
                    }
                }
                None => {
                    for (r, &a) in act.iter().enumerate().take(rows) {
                        let ad = p.act.decode(a);
                        for (c, w) in self.wgt_decoded.iter().enumerate() {
                            let i = r * cols + c;
                            self.acc[i] = step(&p, can_overflow, &self.acc[i], &ad, w, first);
                        }
                    }
                }
            }
            self.beat += 1;
            if self.beat == p.dot_length {
                finished = true;
                self.beat = 0;
                for r in 0..p.rows {
                    let span = (r * p.cols) as usize..((r + 1) * p.cols) as usize;
                    let data = match &self.narrow {
                        Some((_, sums)) => sums[span].iter().map(NarrowAcc::widen).collect(),
                        None => self.acc[span].to_vec(),
                    };
                    self.pending.push_back(PendingRow {
                        due: edge + (p.row_latency(r) - 1) as u64,
                        data,
                        last: r + 1 == p.rows,
                    });
                }
            }
        }
        if finished {
            self.gap = p.tile_spacing() - 1;
        } else if self.gap > 0 {
            self.gap -= 1;
        }
        self.out = match self.pending.front() {
            Some(row) if row.due == edge => self.pending.pop_front().map(|r| (r.data, r.last)),
            _ => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::ResetStyle;
    use crate::mac::operand::Operand;
    use crate::mac::params::MulImpl;
    use crate::minifloat::{FloatFormat, OnOverflow};
    use crate::params::IntFormat;

    fn params(rows: u32, cols: u32, k: u32, acc: u32, overflow: Overflow) -> MacArrayParams {
        MacArrayParams {
            rows,
            cols,
            dot_length: k,
            act: Operand::Int(IntFormat { bits: 8, signed: true }),
            wgt: Operand::Int(IntFormat { bits: 8, signed: true }),
            acc_width: acc,
            overflow,
            multiplier: MulImpl::Dsp,
            reset: ResetStyle::SyncHigh,
            output: None,
            pipeline: 0,
        }
    }

    #[test]
    fn wrap_and_saturate_at_the_accumulator_width() {
        let w = params(1, 1, 4, 16, Overflow::Wrap);
        let v = |x: i128| Wide::from(x);
        assert_eq!(fit(&w, v(32768)), v(-32768));
        assert_eq!(fit(&w, v(-32769)), v(32767));
        let s = params(1, 1, 4, 16, Overflow::Saturate);
        assert_eq!(fit(&s, v(40000)), v(32767));
        assert_eq!(fit(&s, v(-40000)), v(-32768));
        let acc = Acc {
            value: v(32000),
            ..Acc::default()
        };
        assert_eq!(mac_step(&s, &acc, 127, 127, false).value, v(32767));
        assert_eq!(mac_step(&s, &acc, 127, 127, true).value, v(16129));
        assert_eq!(mac_step(&s, &acc, 0x80, 0x7f, true).value, v(-16256));
    }

    #[test]
    fn minifloat_products_are_exact_and_specials_stick() {
        let e4m3 = Operand::Float(FloatFormat::preset("e4m3fn").unwrap());
        let mut p = params(1, 1, 4, 0, Overflow::Wrap);
        p.act = e4m3;
        p.wgt = e4m3;
        p.acc_width = crate::mac::params::exact_acc_width(e4m3, e4m3, 4);
        // 1.5 (0x3c) x -2 (0xc0) = -3 = -3 * 2^18 units of 2^-18.
        assert_eq!(p.lsb_exp(), -18);
        let acc = mac_step(&p, &Acc::default(), 0x3c, 0xc0, true);
        assert_eq!(acc.value, Wide::from(-3 << 18));
        let nan = mac_step(&p, &acc, 0x7f, 0x38, false);
        assert_eq!((nan.special(), nan.value.clone()), (1, Wide::from(-3 << 18)));
        assert_eq!(mac_step(&p, &nan, 0x38, 0x38, false).special(), 1);
        p.output = Some(crate::mac::params::OutputRounding {
            format: FloatFormat::preset("e4m3fn").unwrap(),
            overflow: OnOverflow::Saturate,
            pipeline: 0,
        });
        assert_eq!(output_code(&p, &acc).to_u64(), 0xc4);
        assert_eq!(output_code(&p, &nan).to_u64(), 0x7f);
    }

    #[test]
    fn array_timing_matches_the_documented_latency() {
        // 2 x 3 array, K = 2: rows appear C + 2 + r cycles after the last beat.
        let p = params(2, 3, 2, 17, Overflow::Wrap);
        let mut m = ArrayModel::new(&p);
        // A = [[1, 3], [2, 4]] (act[k][r]), B = [[5, 6, 7], [8, 9, 10]] (wgt[k][c]).
        let act = [[1u64, 2], [3, 4]];
        let wgt = [[5u64, 6, 7], [8, 9, 10]];
        let mut seen = Vec::new();
        for cycle in 0..20 {
            if let Some((row, last)) = m.out() {
                seen.push((cycle, row.to_vec(), last));
            }
            let k = cycle.min(2);
            if k < 2 {
                assert!(m.in_ready(true));
                m.clock(true, &act[k], &wgt[k], true);
            } else {
                m.clock(false, &[0, 0], &[0, 0, 0], true);
            }
        }
        // The last beat is accepted in cycle 1.
        let values: Vec<(usize, Vec<i128>, bool)> = seen
            .into_iter()
            .map(|(c, row, last)| (c, row.iter().map(|a| a.value.to_f64() as i128).collect(), last))
            .collect();
        assert_eq!(
            values,
            vec![(1 + 5, vec![29, 33, 37], false), (1 + 6, vec![42, 48, 54], true)]
        );
    }

    #[test]
    fn short_tiles_are_spaced_by_the_array_size() {
        let p = params(4, 2, 1, 16, Overflow::Wrap);
        let mut m = ArrayModel::new(&p);
        let mut accepted = Vec::new();
        for cycle in 0..12 {
            if m.in_ready(true) {
                accepted.push(cycle);
            }
            m.clock(true, &[1, 1, 1, 1], &[1, 1], true);
        }
        assert_eq!(accepted, vec![0, 4, 8]);
    }
}
