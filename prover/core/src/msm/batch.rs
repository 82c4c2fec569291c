//! Batch-affine bucket accumulation.
//!
//! Entries (a point and a signed bucket digit) are counting-sorted by bucket,
//! then every bucket's list is summed pairwise in rounds: round after round
//! each list's neighbours are added, all the additions of a round sharing
//! one Montgomery batch inversion per chunk of [`PAIR_CHUNK`] pairs. An
//! affine addition then costs 5 multiplications and 1 squaring plus a share
//! of one inversion, against 8M + 2S for arkworks' mixed XYZZ bucket
//! addition and 7M + 4S for Jacobian mixed addition.

use ark_ec::short_weierstrass::{Affine, Bucket, Projective, SWCurveConfig};
use ark_ec::AffineRepr;
use ark_ff::{AdditiveGroup, Field, Zero};

/// Pairs that share one inversion at most. The inversion costs about 270
/// multiplications in arkworks, so a chunk of a few thousand pairs makes it
/// well under one multiplication per pair.
const PAIR_CHUNK: usize = 2048;

/// Points whose pairwise rounds run together while they sit in L2
/// (8,192 G1 points are 512 KiB).
const GROUP: usize = 1 << 13;

/// Per-worker buffers, reused across windows and chunks.
pub(crate) struct Scratch<P: SWCurveConfig> {
    /// Signed bucket digit of each entry (0: skipped).
    digits: Vec<i32>,
    /// Entries sorted by bucket.
    work: Vec<Affine<P>>,
    starts: Vec<u32>,
    lens: Vec<u32>,
    cursor: Vec<u32>,
    pairs: Vec<(u32, u32)>,
    den: Vec<P::BaseField>,
    pre: Vec<P::BaseField>,
}

impl<P: SWCurveConfig> Scratch<P> {
    pub(crate) fn new() -> Self {
        Self {
            digits: Vec::new(),
            work: Vec::new(),
            starts: Vec::new(),
            lens: Vec::new(),
            cursor: Vec::new(),
            pairs: Vec::with_capacity(PAIR_CHUNK),
            den: Vec::with_capacity(PAIR_CHUNK),
            pre: Vec::with_capacity(PAIR_CHUNK),
        }
    }
}

/// Adds `m` entries into affine `buckets`: entry `k` adds `point(k)` to bucket
/// `|d| - 1` (negated when `d < 0`) where `d = digit(k)`; `d == 0` skips it.
/// `point` is only called for entries with a non-zero digit and must not
/// return the point at infinity (callers give such entries digit 0).
pub(crate) fn accumulate<P, D, G>(
    buckets: &mut [Affine<P>],
    m: usize,
    digit: D,
    point: G,
    s: &mut Scratch<P>,
) where
    P: SWCurveConfig,
    D: Fn(usize) -> i32,
    G: Fn(usize) -> Affine<P>,
{
    let nb = buckets.len();
    s.digits.clear();
    s.digits.extend((0..m).map(&digit));
    s.lens.clear();
    s.lens.resize(nb, 0);
    for b in buckets.iter().enumerate() {
        if !b.1.is_zero() {
            s.lens[b.0] += 1;
        }
    }
    for &d in &s.digits {
        if d != 0 {
            s.lens[d.unsigned_abs() as usize - 1] += 1;
        }
    }
    s.starts.clear();
    let mut total = 0u32;
    for &l in &s.lens {
        s.starts.push(total);
        total += l;
    }
    s.cursor.clear();
    s.cursor.extend_from_slice(&s.starts);
    s.work.clear();
    s.work.resize(total as usize, Affine::identity());
    for (b, p) in buckets.iter().enumerate() {
        if !p.is_zero() {
            s.work[s.cursor[b] as usize] = *p;
            s.cursor[b] += 1;
        }
    }
    for (k, &d) in s.digits.iter().enumerate() {
        if d != 0 {
            let b = d.unsigned_abs() as usize - 1;
            let p = point(k);
            let slot = &mut s.work[s.cursor[b] as usize];
            *slot = if d < 0 { -p } else { p };
            s.cursor[b] += 1;
        }
    }
    reduce_lists(s);
    for (b, out) in buckets.iter_mut().enumerate() {
        *out = if s.lens[b] == 1 {
            s.work[s.starts[b] as usize]
        } else {
            Affine::identity()
        };
    }
}

/// Halves every bucket list round after round until each has at most one
/// point. A list of odd length keeps its first point and pairs the rest.
/// Buckets are taken in groups of about [`GROUP`] points, and a group runs
/// all its rounds before the next group starts, so its points stay in L2.
fn reduce_lists<P: SWCurveConfig>(s: &mut Scratch<P>) {
    let nb = s.lens.len();
    let mut b0 = 0;
    while b0 < nb {
        let mut b1 = b0;
        let mut points = 0usize;
        while b1 < nb && (b1 == b0 || points + s.lens[b1] as usize <= GROUP) {
            points += s.lens[b1] as usize;
            b1 += 1;
        }
        reduce_group(s, b0, b1);
        b0 = b1;
    }
}

/// [`reduce_lists`] for buckets `b0..b1`.
fn reduce_group<P: SWCurveConfig>(s: &mut Scratch<P>, b0: usize, b1: usize) {
    loop {
        let mut any = false;
        s.pairs.clear();
        for b in b0..b1 {
            let len = s.lens[b];
            if len < 2 {
                continue;
            }
            any = true;
            let odd = len & 1;
            let base = s.starts[b] + odd;
            for j in 0..len / 2 {
                s.pairs.push((base + 2 * j, base + j));
                if s.pairs.len() == PAIR_CHUNK {
                    add_pairs(&mut s.work, &s.pairs, &mut s.den, &mut s.pre);
                    s.pairs.clear();
                }
            }
            s.lens[b] = odd + len / 2;
        }
        if !s.pairs.is_empty() {
            add_pairs(&mut s.work, &s.pairs, &mut s.den, &mut s.pre);
            s.pairs.clear();
        }
        if !any {
            return;
        }
    }
}

/// [`add_pairs`] with the buffers of `s`.
pub(crate) fn add_pairs_with<P: SWCurveConfig>(
    work: &mut [Affine<P>],
    pairs: &[(u32, u32)],
    s: &mut Scratch<P>,
) {
    add_pairs(work, pairs, &mut s.den, &mut s.pre);
}

/// For each `(a, out)`: `work[out] = work[a] + work[a + 1]`, with one shared
/// inversion. Outputs never land on an input that is still to be read:
/// `out <= a` and pairs are processed in increasing order.
fn add_pairs<P: SWCurveConfig>(
    work: &mut [Affine<P>],
    pairs: &[(u32, u32)],
    den: &mut Vec<P::BaseField>,
    pre: &mut Vec<P::BaseField>,
) {
    den.clear();
    pre.clear();
    let mut acc = P::BaseField::ONE;
    for &(a, _) in pairs {
        let p = &work[a as usize];
        let q = &work[a as usize + 1];
        let d = if p.is_zero() || q.is_zero() {
            P::BaseField::ONE
        } else if p.x != q.x {
            q.x - p.x
        } else if p.y == q.y && !p.y.is_zero() {
            p.y.double()
        } else {
            P::BaseField::ONE
        };
        pre.push(acc);
        den.push(d);
        acc *= d;
    }
    // Every denominator is non-zero, so their product is invertible.
    let mut inv = acc.inverse().unwrap_or(P::BaseField::ZERO);
    for k in (0..pairs.len()).rev() {
        let d = den[k];
        den[k] = inv * pre[k];
        inv *= d;
    }
    for (k, &(a, out)) in pairs.iter().enumerate() {
        let p = work[a as usize];
        let q = work[a as usize + 1];
        let r = if p.is_zero() {
            q
        } else if q.is_zero() {
            p
        } else if p.x != q.x {
            let lambda = (q.y - p.y) * den[k];
            let x3 = lambda.square() - p.x - q.x;
            let y3 = lambda * (p.x - x3) - p.y;
            Affine::new_unchecked(x3, y3)
        } else if p.y == q.y && !p.y.is_zero() {
            let xx = p.x.square();
            let mut num = xx.double() + xx;
            if !P::COEFF_A.is_zero() {
                num += P::COEFF_A;
            }
            let lambda = num * den[k];
            let x3 = lambda.square() - p.x.double();
            let y3 = lambda * (p.x - x3) - p.y;
            Affine::new_unchecked(x3, y3)
        } else {
            Affine::identity()
        };
        work[out as usize] = r;
    }
}

/// `sum_b (b + 1) * buckets[b]` by running sums (XYZZ coordinates).
pub(crate) fn bucket_sum<P: SWCurveConfig>(buckets: &[Affine<P>]) -> Projective<P> {
    let mut running = Bucket::<P>::ZERO;
    let mut total = Bucket::<P>::ZERO;
    for b in buckets.iter().rev() {
        if !b.is_zero() {
            running += b;
        }
        total += &running;
    }
    total.into()
}
