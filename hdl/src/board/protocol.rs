//! The host's side of the board protocol (see the module documentation of
//! [`crate::board`]): packing operand beats into bytes and unpacking result
//! rows, shared by `accgen run-uart` and the tests.

use crate::Bits;
use crate::mac::MacArrayParams;
use crate::mac::model::{Acc, mac_step, output_code};

/// Byte counts of one configuration's frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Framing {
    pub rows: u32,
    pub cols: u32,
    pub dot_length: u32,
    pub act_w: u32,
    pub wgt_w: u32,
    /// Bits of one result on `out_data_o` (the sum, or the rounded output code).
    pub out_w: u32,
    /// Bits of `out_special_o` after the results in each row: 2 per column
    /// for minifloat arrays without output rounding, else 0.
    pub special_w: u32,
}

impl Framing {
    /// `out_w` is the width of one column of the array's `out_data_o`.
    pub fn new(p: &MacArrayParams, out_data_width: u32) -> Framing {
        Framing {
            rows: p.rows,
            cols: p.cols,
            dot_length: p.dot_length,
            act_w: p.act.width(),
            wgt_w: p.wgt.width(),
            out_w: out_data_width / p.cols,
            special_w: if p.has_specials() && p.output.is_none() {
                2 * p.cols
            } else {
                0
            },
        }
    }

    pub fn act_bytes(&self) -> u32 {
        (self.rows * self.act_w).div_ceil(8)
    }
    pub fn wgt_bytes(&self) -> u32 {
        (self.cols * self.wgt_w).div_ceil(8)
    }
    /// Bytes of one input beat.
    pub fn in_bytes(&self) -> u32 {
        self.act_bytes() + self.wgt_bytes()
    }
    /// Bytes of one result row: the results, then any special-value codes.
    pub fn out_bytes(&self) -> u32 {
        (self.cols * self.out_w + self.special_w).div_ceil(8)
    }

    /// Bits of one result as [`Framing::decode_tile`] returns it.
    pub fn result_w(&self) -> u32 {
        self.out_w + if self.special_w > 0 { 2 } else { 0 }
    }

    /// The bytes of a tile: `act[r][k]` and `wgt[k][c]` are operand codes.
    pub fn encode_tile(&self, act: &[Vec<u64>], wgt: &[Vec<u64>]) -> Vec<u8> {
        let mut bytes = Vec::with_capacity((self.in_bytes() * self.dot_length) as usize);
        for k in 0..self.dot_length as usize {
            let a: Vec<u64> = act.iter().map(|row| row[k]).collect();
            bytes.extend(pack(&a, self.act_w, self.act_bytes()));
            bytes.extend(pack(&wgt[k], self.wgt_w, self.wgt_bytes()));
        }
        bytes
    }

    /// Split a tile's answer (R rows of `out_bytes`) into R x C results:
    /// the code on `out_data_o`, with the column's 2-bit special-value code
    /// on top when the row carries them.
    pub fn decode_tile(&self, bytes: &[u8]) -> Result<Vec<Vec<Bits>>, String> {
        let want = (self.rows * self.out_bytes()) as usize;
        if bytes.len() != want {
            return Err(format!("a tile's results are {want} bytes, got {}", bytes.len()));
        }
        Ok(bytes
            .chunks(self.out_bytes() as usize)
            .map(|row| {
                let mut all = Bits::zero(self.out_bytes() * 8);
                for (i, &b) in row.iter().enumerate() {
                    all.set_u64_field(i as u32 * 8, 8, u64::from(b));
                }
                (0..self.cols)
                    .map(|c| {
                        let data = all.field(c * self.out_w, self.out_w);
                        if self.special_w == 0 {
                            return data;
                        }
                        let special = all.u64_field(self.cols * self.out_w + 2 * c, 2);
                        with_special(&data, special)
                    })
                    .collect()
            })
            .collect())
    }
}

/// `values` of `width` bits each, side by side from bit 0, in `n` bytes.
fn pack(values: &[u64], width: u32, n: u32) -> Vec<u8> {
    let mut bits = Bits::zero(n * 8);
    for (i, &v) in values.iter().enumerate() {
        bits.set_u64_field(i as u32 * width, width, v);
    }
    (0..n).map(|i| bits.u64_field(i * 8, 8) as u8).collect()
}

/// `data` with a 2-bit special-value code on top.
fn with_special(data: &Bits, special: u64) -> Bits {
    let mut b = Bits::zero(data.width() + 2);
    b.set_field(0, data);
    b.set_u64_field(data.width(), 2, special);
    b
}

/// What the array answers for one tile, from the golden model: Y[r][c] as
/// the code on `out_data_o`, with the special-value code on top for
/// minifloat arrays without output rounding (as [`Framing::decode_tile`]).
pub fn expected_tile(p: &MacArrayParams, act: &[Vec<u64>], wgt: &[Vec<u64>]) -> Vec<Vec<Bits>> {
    (0..p.rows as usize)
        .map(|r| {
            (0..p.cols as usize)
                .map(|c| {
                    let mut acc = Acc::default();
                    for k in 0..p.dot_length as usize {
                        acc = mac_step(p, &acc, act[r][k], wgt[k][c], k == 0);
                    }
                    let code = output_code(p, &acc);
                    if p.has_specials() && p.output.is_none() {
                        with_special(&code, acc.special())
                    } else {
                        code
                    }
                })
                .collect()
        })
        .collect()
}
