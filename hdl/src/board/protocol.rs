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
    /// Bits of one result (the sum, or the rounded output code, with any special-value bits).
    pub out_w: u32,
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
    /// Bytes of one result row.
    pub fn out_bytes(&self) -> u32 {
        (self.cols * self.out_w).div_ceil(8)
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

    /// Split a tile's answer (R rows of `out_bytes`) into R x C result codes.
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
                (0..self.cols).map(|c| all.field(c * self.out_w, self.out_w)).collect()
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

/// What the array answers for one tile, from the golden model: Y[r][c] as
/// the result codes on `out_data_o` (without special-value bits).
pub fn expected_tile(p: &MacArrayParams, act: &[Vec<u64>], wgt: &[Vec<u64>]) -> Vec<Vec<Bits>> {
    (0..p.rows as usize)
        .map(|r| {
            (0..p.cols as usize)
                .map(|c| {
                    let mut acc = Acc::default();
                    for k in 0..p.dot_length as usize {
                        acc = mac_step(p, &acc, act[r][k], wgt[k][c], k == 0);
                    }
                    output_code(p, &acc)
                })
                .collect()
        })
        .collect()
}
