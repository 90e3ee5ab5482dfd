#!/usr/bin/env python3
"""Generate minifloat reference vectors for accgen's Rust minifloat model.

Writes plain-text vector files to hdl/tests/data/minifloat/ (see the README.md
there for the line formats).  Values come from ml_dtypes (PyPI `ml-dtypes`)
and numpy, and every code is cross-checked against an exact, independent
Fraction-based model of the format before anything is written.

    pip install -r scripts/requirements-vectors.txt
    python3 scripts/minifloat_vectors.py            # (re)writes the files
    python3 scripts/minifloat_vectors.py --check    # only compare, write nothing

The output is deterministic: all randomness comes from
numpy.random.default_rng(2026) (a fresh generator per format and file) and all
random floats are built from integer bit patterns, so no libm call is involved.

Note on float64 inputs: ml_dtypes' `np.float64 -> float8/6/4/bfloat16` cast
goes through float32 (two roundings), which is not round-to-nearest-even for
float64 inputs that are not float32-representable (e.g. a tie + 1 ulp of f64
rounds down).  The encode vectors therefore use ml_dtypes' float32 -> T cast
(which is correctly rounded) on a round-to-odd float32 image of the input:
round-to-odd to a precision at least 2 bits wider than the target, followed by
round-to-nearest-even, equals a single RNE rounding.  The result is checked
against the exact model for every vector.  The inputs where the plain float64
astype differs are listed in ml_dtypes_f64_cast_diffs.txt.
"""

import argparse
import os
import struct
import sys
from fractions import Fraction

import ml_dtypes
import numpy as np

SEED = 2026
HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.normpath(os.path.join(HERE, "..", "hdl", "tests", "data", "minifloat"))

# stem, dtype name, E, M, bias, special-value mode (as in shared reference doc)
FORMATS = [
    ("e4m3fn", "float8_e4m3fn", 4, 3, 7, "fn"),
    ("e4m3fnuz", "float8_e4m3fnuz", 4, 3, 8, "fnuz"),
    ("e5m2", "float8_e5m2", 5, 2, 15, "ieee"),
    ("e5m2fnuz", "float8_e5m2fnuz", 5, 2, 16, "fnuz"),
    ("e4m3", "float8_e4m3", 4, 3, 7, "ieee"),
    ("e3m4", "float8_e3m4", 3, 4, 3, "ieee"),
    ("e2m3fn", "float6_e2m3fn", 2, 3, 1, "finite"),
    ("e3m2fn", "float6_e3m2fn", 3, 2, 3, "finite"),
    ("e2m1fn", "float4_e2m1fn", 2, 1, 1, "finite"),
    ("fp16", "numpy.float16", 5, 10, 15, "ieee"),
    ("bf16", "bfloat16", 8, 7, 127, "ieee"),
]

NAN_BITS = 0x7FF8000000000000


def f64_bits(x):
    return struct.unpack(">Q", struct.pack(">d", float(x)))[0]


def bits_f64(b):
    return struct.unpack(">d", struct.pack(">Q", b))[0]


def hex64(b):
    return "%016x" % b


class Fmt:
    def __init__(self, stem, tname, e, m, bias, mode):
        self.stem, self.tname, self.E, self.M, self.bias, self.mode = stem, tname, e, m, bias, mode
        self.bits = 1 + e + m
        self.ncodes = 1 << self.bits
        self.mask = self.ncodes - 1
        self.width = (self.bits + 3) // 4
        if tname == "numpy.float16":
            self.T = np.float16
        else:
            self.T = getattr(ml_dtypes, tname, None)
        self.store = np.uint8 if self.bits <= 8 else np.uint16
        self.has_nan = mode != "finite"

    def fmt_code(self, c):
        return "%0*x" % (self.width, c)

    # ---------------------------------------------------------------- exact model
    def ref_decode(self, code):
        """Exact value: Fraction, or 'nan', or +-inf as a float."""
        s = code >> (self.bits - 1)
        e = (code >> self.M) & ((1 << self.E) - 1)
        m = code & ((1 << self.M) - 1)
        emax_field = (1 << self.E) - 1
        if self.mode == "ieee" and e == emax_field:
            if m == 0:
                return float("-inf") if s else float("inf")
            return "nan"
        if self.mode == "fn" and e == emax_field and m == (1 << self.M) - 1:
            return "nan"
        if self.mode == "fnuz" and code == 1 << (self.bits - 1):
            return "nan"
        if e == 0:
            v = Fraction(m, 1 << self.M) * Fraction(2) ** (1 - self.bias)
        else:
            v = (1 + Fraction(m, 1 << self.M)) * Fraction(2) ** (e - self.bias)
        return -v if s else v

    def ref_setup(self):
        vals = [self.ref_decode(c) for c in range(self.ncodes)]
        fin = [v for v in vals if isinstance(v, Fraction)]
        self.maxval = max(fin)
        self.min_sub = Fraction(2) ** (1 - self.bias - self.M)
        self.min_norm = Fraction(2) ** (1 - self.bias)
        # code of every non-negative finite value (fnuz: only +0 exists)
        self.code_of = {}
        for c, v in enumerate(vals):
            if isinstance(v, Fraction) and (c >> (self.bits - 1)) == 0:
                self.code_of[v] = c
        self.neg_bit = 1 << (self.bits - 1)
        self.inf_code = {}
        for c, v in enumerate(vals):
            if isinstance(v, float):  # +-inf
                self.inf_code[v < 0] = c

    def ref_encode(self, x, nan_code):
        """Exact round-to-nearest-even of float x (non-saturating, ml_dtypes semantics)."""
        if x != x:
            return nan_code(x)
        neg = struct.pack(">d", x)[0] >> 7 == 1
        if x in (float("inf"), float("-inf")):
            return self._overflow(neg, nan_code)
        a = Fraction(abs(x))
        if a == 0:
            v = Fraction(0)
        else:
            e = a.numerator.bit_length() - a.denominator.bit_length()
            if Fraction(2) ** e > a:
                e -= 1
            assert Fraction(2) ** e <= a < Fraction(2) ** (e + 1)
            e = max(e, 1 - self.bias)
            q = Fraction(2) ** (e - self.M)
            n = a / q
            fl = n.numerator // n.denominator
            r = n - fl
            if r > Fraction(1, 2) or (r == Fraction(1, 2) and fl % 2 == 1):
                fl += 1
            v = fl * q
        if v > self.maxval:
            return self._overflow(neg, nan_code)
        c = self.code_of[v]
        if neg and not (self.mode == "fnuz" and v == 0):
            c |= self.neg_bit
        return c

    def _overflow(self, neg, nan_code):
        if self.mode == "ieee":
            return self.inf_code[neg]
        if self.mode in ("fn", "fnuz"):
            return nan_code(-np.nan if neg else np.nan)
        c = self.code_of[self.maxval]
        return c | self.neg_bit if neg else c

    # ---------------------------------------------------------------- ml_dtypes
    def decode_codes(self, codes):
        arr = np.asarray(codes, dtype=self.store).view(self.T)
        with np.errstate(all="ignore"):
            return arr.astype(np.float64)

    def cast_f64_plain(self, xs):
        """ml_dtypes / numpy float64 -> T astype, as is."""
        with np.errstate(all="ignore"):
            r = np.asarray(xs, dtype=np.float64).astype(self.T)
        return (r.view(self.store) & self.mask).astype(np.int64)

    def cast_rne(self, xs):
        """Correctly rounded float64 -> T (ml_dtypes' non-saturating semantics)."""
        xs = np.asarray(xs, dtype=np.float64)
        if self.T is np.float16:
            return self.cast_f64_plain(xs)  # numpy's float64 -> float16 is direct
        with np.errstate(all="ignore"):
            y = xs.astype(np.float32)
            yb = y.view(np.uint32).copy()
            finite = np.isfinite(xs)
            # truncate toward zero
            over = finite & (np.abs(y.astype(np.float64)) > np.abs(xs))
            yb[over] -= 1  # magnitude step down (sign-magnitude layout)
            y = yb.view(np.float32)
            inexact = finite & (y.astype(np.float64) != xs)
            yb[inexact] |= 1  # round to odd
            r = yb.view(np.float32).astype(self.T)
        return (r.view(self.store) & self.mask).astype(np.int64)


# -------------------------------------------------------------------- helpers
def nextafter(x, d):
    return float(np.nextafter(np.float64(x), np.float64(d)))


def rng_bits_between(rng, lo, hi, n):
    """n random f64 strictly between non-negative lo < hi, uniform in bit space."""
    lb, hb = f64_bits(lo), f64_bits(hi)
    if hb - lb < 2:
        return []
    return [bits_f64(int(b)) for b in rng.integers(lb + 1, hb, size=n, dtype=np.uint64)]


def rng_loguniform(rng, lo_exp, hi_exp, n):
    """Random f64 with a uniformly chosen binade in [lo_exp, hi_exp], random mantissa and sign."""
    e = rng.integers(lo_exp, hi_exp + 1, size=n, dtype=np.int64)
    mant = rng.integers(0, 1 << 52, size=n, dtype=np.uint64)
    sign = rng.integers(0, 2, size=n, dtype=np.uint64)
    out = []
    for ei, mi, si in zip(e.tolist(), mant.tolist(), sign.tolist()):
        out.append(bits_f64((si << 63) | ((ei + 1023) << 52) | mi))
    return out


def log2_floor(fr):
    e = fr.numerator.bit_length() - fr.denominator.bit_length()
    if Fraction(2) ** e > fr:
        e -= 1
    return e


# -------------------------------------------------------------------- generation
def encode_inputs(f, values_pos):
    """Input list (floats, possibly NaN) for the encode file of format f."""
    rng = np.random.default_rng(SEED)
    xs = []

    def both(v):
        xs.append(float(v))
        xs.append(-float(v))

    maxv = float(f.maxval)
    s = float(f.min_sub)
    n = float(f.min_norm)
    # zeros, NaN, infinities
    xs += [0.0, -0.0]
    if f.has_nan:
        xs += [bits_f64(NAN_BITS), bits_f64(NAN_BITS | (1 << 63))]
    xs += [float("inf"), float("-inf")]
    # adjacent pairs (values_pos[i], values_pos[i+1]) covered: all of them for
    # 8-bit and narrower formats; for fp16/bf16 every 32nd plus the bottom, the
    # top and the subnormal/normal boundary
    npos = len(values_pos)
    if f.bits > 8:
        idx = set(range(0, npos - 1, 32)) | set(range(0, 64)) | set(range(npos - 65, npos - 1))
        nb = 1 << f.M  # index of the smallest normal
        idx |= set(range(max(0, nb - 16), min(npos - 1, nb + 16)))
        pairs = sorted(i for i in idx if 0 <= i < npos - 1)
    else:
        pairs = list(range(npos - 1))
    # exact value of every (covered) code and its negation
    for i in sorted(set(pairs) | set(p + 1 for p in pairs)):
        both(values_pos[i])
    # midpoints between adjacent representable values, +- 1 ulp of f64
    for i in pairs:
        lo, hi = values_pos[i], values_pos[i + 1]
        mid = float((lo + hi) / 2)
        assert Fraction(mid) == (lo + hi) / 2
        both(mid)
        both(nextafter(mid, 0.0))
        both(nextafter(mid, float("inf")))
    # beyond max
    ulp_top = values_pos[-1] - values_pos[-2]
    over = float(f.maxval + ulp_top / 2)
    for v in [over, nextafter(over, 0.0), nextafter(over, float("inf")),
              nextafter(maxv, float("inf")), nextafter(maxv, 0.0),
              2 * maxv, 1e30, 1e300, np.finfo(np.float64).max, maxv + ulp_top]:
        both(v)
    # subnormal boundaries
    for v in [s, s / 2, nextafter(s / 2, 0.0), nextafter(s / 2, 1.0), s / 4, s * 0.75,
              s * 1.5, s * 2.5, nextafter(s, 0.0), nextafter(s, 1.0), s * 1e-3,
              n, nextafter(n, 0.0), nextafter(n, float("inf")), n - s / 2,
              5e-324, 2.2250738585072014e-308, 1e-300]:
        both(v)
    # a few decimal constants (parsed from strings: correctly rounded everywhere)
    for t in ["0.1", "0.2", "0.3", "0.7", "2.5", "3.14159265358979", "464", "500", "1000", "1e6"]:
        both(float(t))
    for k in range(-12, 13):
        both(float("1e%d" % k))
    # random points inside every (selected) interval, both signs
    per = {4: 32, 6: 16, 8: 8}.get(f.bits, 2)
    for i in pairs:
        for v in rng_bits_between(rng, float(values_pos[i]), float(values_pos[i + 1]), per):
            both(v)
    # log-uniform random over the format's range plus ~3 decades each side
    nrand = {4: 3000, 6: 8000, 8: 20000}.get(f.bits, 10000)
    lo_e = log2_floor(f.min_sub) - 10
    hi_e = log2_floor(f.maxval) + 10
    xs += rng_loguniform(rng, lo_e, hi_e, nrand)
    # dedupe by bit pattern, keep first occurrence
    seen, out = set(), []
    for x in xs:
        b = f64_bits(x)
        if b in seen:
            continue
        if x != x and not f.has_nan:
            continue
        seen.add(b)
        out.append(x)
    return out


def header(f, kind, line):
    return [
        "# accgen minifloat reference vectors: %s (%s)" % (f.stem, kind),
        "# generated by scripts/minifloat_vectors.py with ml_dtypes %s, numpy %s"
        % (ml_dtypes.__version__, np.__version__),
        "# format %s = %s: E=%d M=%d bias=%d mode=%s bits=%d"
        % (f.stem, f.tname if f.tname.startswith("numpy") else "ml_dtypes." + f.tname,
           f.E, f.M, f.bias, f.mode, f.bits),
        "# all numbers lower-case hex, no 0x; F64BITS = IEEE-754 binary64 bit pattern",
        "# line: " + line,
    ]


def gen_format(f, files, diffs):
    f.ref_setup()
    codes = list(range(f.ncodes))
    # ---------------- decode
    dec = f.decode_codes(codes)
    dec_bits = []
    for c, v in zip(codes, dec.tolist()):
        r = f.ref_decode(c)
        if r == "nan":
            assert v != v, (f.stem, c)
            dec_bits.append(NAN_BITS)
        else:
            assert v == r and (struct.pack(">d", v)[0] >> 7) == (c >> (f.bits - 1)) or (
                f.mode == "fnuz" and r == 0), (f.stem, c, v, r)
            if isinstance(r, Fraction):
                assert Fraction(v) == r
            dec_bits.append(f64_bits(v))
    lines = header(f, "decode", "CODE F64BITS   (every code; NaN canonicalised to 7ff8000000000000)")
    lines += ["%s %s" % (f.fmt_code(c), hex64(b)) for c, b in zip(codes, dec_bits)]
    files[f.stem + ".decode.txt"] = lines

    # ---------------- encode
    nan_cache = {}

    def nan_code(x):
        b = f64_bits(x) >> 63
        if b not in nan_cache:
            c = int(f.cast_rne([x])[0])
            assert f.ref_decode(c) == "nan", (f.stem, c)
            nan_cache[b] = c
        return nan_cache[b]

    vals = sorted(set(abs(v) for v in (f.ref_decode(c) for c in codes) if isinstance(v, Fraction)))
    xs = encode_inputs(f, vals)
    maxv = float(f.maxval)
    sat_in = [x if x != x else min(max(x, -maxv), maxv) for x in xs]
    raw = f.cast_rne(xs).tolist()
    sat = f.cast_rne(sat_in).tolist()
    plain = f.cast_f64_plain(xs).tolist()
    lines = header(f, "encode", "F64BITS CODE_SAT CODE_RAW   (RNE; SAT clamps x to [-max,max] first, RAW is "
                   "ml_dtypes' non-saturating cast)")
    for x, cs, cr, cp in zip(xs, sat, raw, plain):
        assert cr == f.ref_encode(x, nan_code), (f.stem, x, cr)
        assert cs == f.ref_encode(x if x != x else min(max(x, -maxv), maxv), nan_code), (f.stem, x, cs)
        lines.append("%s %s %s" % (hex64(f64_bits(x)), f.fmt_code(cs), f.fmt_code(cr)))
        if cp != cr:
            diffs.append("%s %s %s %s" % (f.stem, hex64(f64_bits(x)), f.fmt_code(cr), f.fmt_code(cp)))
    files[f.stem + ".encode.txt"] = lines

    # ---------------- products (8-bit and narrower)
    if f.bits > 8:
        return
    if f.bits < 8:
        pairs = [(a, b) for a in codes for b in codes]
    else:
        special = []
        for c in codes:
            r = f.ref_decode(c)
            if r == "nan" or not isinstance(r, Fraction) or abs(r) in (0, f.maxval, f.min_sub, f.min_norm):
                special.append(c)
        pairs = [(a, b) for a in special for b in codes] + [(a, b) for a in codes for b in special]
        rng = np.random.default_rng(SEED)
        rp = rng.integers(0, f.ncodes, size=(20000, 2), dtype=np.int64).tolist()
        pairs += [tuple(p) for p in rp]
        seen, uniq = set(), []
        for p in pairs:
            if p not in seen:
                seen.add(p)
                uniq.append(p)
        pairs = uniq
    a = dec[[p[0] for p in pairs]]
    b = dec[[p[1] for p in pairs]]
    with np.errstate(all="ignore"):
        prod = (a * b).tolist()
    lines = header(f, "products", "A B F64BITS   (float64 product of the decoded values, exact; "
                   "NaN canonicalised to 7ff8000000000000)")
    for (ca, cb), p in zip(pairs, prod):
        ra, rb = f.ref_decode(ca), f.ref_decode(cb)
        if p != p:
            pb = NAN_BITS
        else:
            pb = f64_bits(p)
            if isinstance(ra, Fraction) and isinstance(rb, Fraction):
                assert Fraction(p) == ra * rb, (f.stem, ca, cb)  # exactness
        lines.append("%s %s %s" % (f.fmt_code(ca), f.fmt_code(cb), hex64(pb)))
    files[f.stem + ".products.txt"] = lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=OUT_DIR, help="output directory (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="compare with existing files, write nothing")
    args = ap.parse_args()

    files, diffs, skipped = {}, [], []
    for spec in FORMATS:
        f = Fmt(*spec)
        if f.T is None:
            skipped.append(f.stem)
            print("skip %s: ml_dtypes %s has no %s" % (f.stem, ml_dtypes.__version__, f.tname), file=sys.stderr)
            continue
        gen_format(f, files, diffs)
    files["ml_dtypes_f64_cast_diffs.txt"] = [
        "# encode inputs where ml_dtypes' plain np.float64 -> T astype differs from the RNE code in",
        "# <stem>.encode.txt (ml_dtypes %s rounds float64 -> float32 -> T, i.e. twice)" % ml_dtypes.__version__,
        "# line: STEM F64BITS CODE_RNE CODE_ML_DTYPES_F64_ASTYPE",
    ] + diffs

    bad = 0
    for name in sorted(files):
        text = "\n".join(files[name]) + "\n"
        path = os.path.join(args.out, name)
        if args.check:
            try:
                with open(path, encoding="ascii") as fh:
                    same = fh.read() == text
            except FileNotFoundError:
                same = False
            if not same:
                print("differs: %s" % path)
                bad += 1
        else:
            os.makedirs(args.out, exist_ok=True)
            with open(path, "w", encoding="ascii", newline="\n") as fh:
                fh.write(text)
        print("%-32s %7d lines" % (name, sum(1 for l in files[name] if not l.startswith("#"))))
    if skipped:
        print("skipped: %s" % " ".join(skipped))
    if args.check and bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
