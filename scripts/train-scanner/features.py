"""Featurisation of the scanner's classifier (format version 1).

The Rust core (crates/m2m-core/src/classifier.rs) implements the same steps;
`train.py --fixture` writes scores that its tests compare bit for bit.

1. Normalise (per code point): drop invisible format characters (soft hyphen,
   U+034F, U+180E, U+200B-U+200F, U+202A-U+202E, U+2060-U+2064,
   U+2066-U+2069, U+FEFF); map fullwidth ASCII U+FF01-U+FF5E to ASCII; map
   white space (ASCII white space, U+0085, U+00A0, U+1680, U+2000-U+200A,
   U+2028, U+2029, U+202F, U+205F, U+3000) to a space; lower-case ASCII
   letters; collapse runs of spaces; put one space before and after.
2. Features, each placed at the code point where it starts: character 3-, 4-
   and 5-grams; words (maximal runs of ASCII letters/digits or non-ASCII code
   points other than spaces) and pairs of consecutive words.
3. Hash: 32-bit FNV-1a over the code points (each code point folded in as
   one 32-bit value: h = (h ^ c) * 16777619), from 2166136261; a word pair
   hashes the first word's code points, a space, the second's. Bucket =
   ((h ^ tag) * 0x9E3779B1 mod 2^32) >> (32 - BITS), with tag n for a
   character n-gram, 0x57 for a word and 0x42 for a word pair.
4. Windows of WINDOW code points of the normalised text, every STRIDE, the
   last one ending at the end (one window when the text is shorter); a
   window holds the distinct buckets of the features starting inside it
   (binary features, so repeated text cannot inflate a score). Its logits
   are bias[k] + scale[k] * sum(q[k][bucket]) / sqrt(distinct buckets),
   where q are the int8 weights; the text's score is the highest window's
   1 - softmax(logits)[benign].
"""

import math

import numpy as np

BITS = 18
WINDOW = 1024
STRIDE = 512
NGRAMS = (3, 4, 5)
TAG_WORD = 0x57
TAG_PAIR = 0x42
FNV_BASIS = 2166136261
FNV_PRIME = 16777619
MIX = 0x9E3779B1
M32 = 0xFFFFFFFF

_INVISIBLE = [(0xAD, 0xAD), (0x34F, 0x34F), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E),
              (0x2060, 0x2064), (0x2066, 0x2069), (0xFEFF, 0xFEFF)]
_SPACE = [(0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
          (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000)]


def _in(cp, ranges):
    m = np.zeros(cp.shape, dtype=bool)
    for lo, hi in ranges:
        m |= (cp >= lo) & (cp <= hi)
    return m


def normalise(text):
    """The normalised code points (uint32 array) of `text`."""
    cp = np.frombuffer(text.encode('utf-32-le', 'surrogatepass'), dtype=np.uint32).astype(np.int64)
    cp = cp[~_in(cp, _INVISIBLE)]
    full = (cp >= 0xFF01) & (cp <= 0xFF5E)
    cp = np.where(full, cp - 0xFEE0, cp)
    cp = np.where(_in(cp, _SPACE), 0x20, cp)
    cp = np.where((cp >= 0x41) & (cp <= 0x5A), cp + 32, cp)
    cp = np.concatenate(([0x20], cp, [0x20]))
    keep = np.ones(cp.shape, dtype=bool)
    keep[1:] = ~((cp[1:] == 0x20) & (cp[:-1] == 0x20))
    return cp[keep]


def fnv(cps):
    h = FNV_BASIS
    for c in cps:
        h = ((h ^ c) * FNV_PRIME) & M32
    return h


def bucket(h, tag):
    return (((h ^ tag) * MIX) & M32) >> (32 - BITS)


def is_word(cp):
    return ((cp >= 0x30) & (cp <= 0x39)) | ((cp >= 0x61) & (cp <= 0x7A)) | ((cp >= 0x41) & (cp <= 0x5A)) | (
        (cp >= 0x80) & (cp != 0x20))


_word_cache = {}


def features(cp):
    """(positions, buckets) of every feature of normalised code points `cp`, in a fixed order."""
    n_cp = len(cp)
    pos_parts, buck_parts = [], []
    m = n_cp - NGRAMS[0] + 1
    if m > 0:
        h = np.full(m, FNV_BASIS, dtype=np.uint64)
        padded = np.concatenate((cp, np.zeros(NGRAMS[-1], dtype=np.int64))).astype(np.uint64)
        for k in range(NGRAMS[-1]):
            h = ((h ^ padded[k:k + m]) * FNV_PRIME) & M32
            n = k + 1
            if n in NGRAMS and n_cp >= n:
                mn = n_cp - n + 1
                b = ((((h[:mn] ^ n) * MIX) & M32) >> (32 - BITS)).astype(np.int64)
                pos_parts.append(np.arange(mn, dtype=np.int64))
                buck_parts.append(b)
    w = is_word(cp)
    starts = np.flatnonzero(w & ~np.concatenate(([False], w[:-1])))
    ends = np.flatnonzero(w & ~np.concatenate((w[1:], [False]))) + 1
    wp, wb = [], []
    prev = None
    for s, e in zip(starts.tolist(), ends.tolist()):
        key = tuple(cp[s:e].tolist())
        hw = _word_cache.get(key)
        if hw is None:
            hw = bucket(fnv(key), TAG_WORD)
            if len(_word_cache) < 2_000_000:
                _word_cache[key] = hw
        wp.append(s)
        wb.append(hw)
        if prev is not None:
            ps, pkey = prev
            wp.append(ps)
            wb.append(bucket(fnv(pkey + (0x20,) + key), TAG_PAIR))
        prev = (s, key)
    if wp:
        pos_parts.append(np.array(wp, dtype=np.int64))
        buck_parts.append(np.array(wb, dtype=np.int64))
    if not pos_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(pos_parts), np.concatenate(buck_parts)


def windows(n_cp):
    """[start, end) of each window over `n_cp` normalised code points."""
    if n_cp <= WINDOW:
        return [(0, n_cp)]
    out = []
    s = 0
    while s + WINDOW < n_cp:
        out.append((s, s + WINDOW))
        s += STRIDE
    out.append((n_cp - WINDOW, n_cp))
    return out


def window_rows(text):
    """For each window of `text`: its distinct feature buckets (sorted np array)."""
    cp = normalise(text)
    pos, buck = features(cp)
    rows = []
    for s, e in windows(len(cp)):
        sel = (pos >= s) & (pos < e)
        rows.append(np.unique(buck[sel]))
    return rows


# --- the deterministic score (the same operations, in the same order, as the Rust core)

LN2_HI = 0.6931471803691238
LN2_LO = 1.9082149292705877e-10
INV_LN2 = 1.4426950408889634


def exp_det(x):
    """e**x from +, -, *, / only (so native and wasm agree bit for bit); x is clamped to [-700, 700]."""
    if x > 700.0:
        x = 700.0
    if x < -700.0:
        x = -700.0
    k = math.floor(x * INV_LN2 + 0.5)
    r = (x - k * LN2_HI) - k * LN2_LO
    # Taylor series to degree 13 (|r| <= 0.35: error below 1e-16).
    t = 1.0
    s = 1.0
    for i in range(1, 14):
        t = t * r / i
        s = s + t
    # Multiply by 2**k exactly.
    return math.ldexp(s, int(k))


def scores_from_sums(sums, n, bias, scale):
    """(attack probability, per-class probabilities) of one window: integer sums per class, n features."""
    inv = 1.0 / math.sqrt(n) if n > 0 else 0.0
    logits = [bias[k] + scale[k] * sums[k] * inv for k in range(len(bias))]
    top = max(logits)
    ex = [exp_det(z - top) for z in logits]
    total = 0.0
    for e in ex:
        total = total + e
    probs = [e / total for e in ex]
    return 1.0 - probs[0], probs

