//! The batch-affine G1 MSM on AVX-512 IFMA: the same counting sort and
//! pairwise rounds as [`super::batch`], with the pairwise additions done
//! eight at a time in [`crate::ifma`] arithmetic (Montgomery `R = 2^260`,
//! 52-bit limbs, lazily reduced coordinates).
//!
//! Bases are converted once per MSM (`x * 2^256 -> x * 2^260` is four field
//! doublings); bucket results are converted back before the XYZZ running
//! sums. A chunk of pairs that meets a point at infinity, a doubling or
//! `P + (-P)` (its batch product is zero, which is checked exactly) is
//! redone by the portable code, so special cases cost speed, never
//! correctness.
#![allow(unsafe_code)]
// Limb-indexed loops mirror the arithmetic.
#![allow(clippy::needless_range_loop)]

use ark_bn254::{Fq, G1Affine, G1Projective};
use ark_ec::AffineRepr;
use ark_ff::{AdditiveGroup, BigInt, Field, PrimeField, Zero};

use super::{batch, combine_windows, digits};
use crate::ifma::{self, Consts, F8};
use crate::par;

/// Pairs that share one inversion.
const PAIR_CHUNK: usize = 2048;
/// Points whose rounds run together while they sit in L2.
const GROUP: usize = 1 << 13;

/// A G1 point with coordinates in IFMA form (`value * 2^260 mod p`, below
/// `2p`) as 4x64-bit integers: one 64-byte cache line per point, unpacked
/// to 52-bit limbs in registers. The point at infinity has `x[3] == MAX`
/// (impossible below `2p < 2^255`).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub(crate) struct Pt64 {
    x: [u64; 4],
    y: [u64; 4],
}

impl Default for Pt64 {
    fn default() -> Self {
        Self::INFINITY
    }
}

impl Pt64 {
    const INFINITY: Self = Self {
        x: [0, 0, 0, u64::MAX],
        y: [0; 4],
    };

    #[inline(always)]
    fn is_inf(&self) -> bool {
        self.x[3] == u64::MAX
    }
}

const P: [u64; 4] = Fq::MODULUS.0;

fn two_p() -> [u64; 4] {
    let mut out = [0u64; 4];
    let mut carry = 0u64;
    for (i, o) in out.iter_mut().enumerate() {
        *o = (P[i] << 1) | carry;
        carry = P[i] >> 63;
    }
    out
}

/// `x * 2^256` (arkworks' Montgomery form) to `x * 2^260`.
fn fq_to260(x: &Fq) -> [u64; 4] {
    let mut y = *x;
    for _ in 0..4 {
        y.double_in_place();
    }
    (y.0).0
}

/// Back from IFMA form (below `2p`) to arkworks' `Fq`.
fn fq_from260(v: &[u64; 4]) -> Fq {
    // The canonical `x * 2^260 mod p`, read as arkworks' Montgomery form, is
    // `16 x`.
    let (d, borrow) = ifma::sub256(v, &P);
    let c = if borrow { *v } else { d };
    Fq::new_unchecked(BigInt(c)) * inv16()
}

fn inv16() -> Fq {
    static INV16: std::sync::OnceLock<Fq> = std::sync::OnceLock::new();
    *INV16.get_or_init(|| Fq::from(16u64).inverse().unwrap_or(Fq::ZERO))
}

pub(crate) fn to_pt64(p: &G1Affine) -> Pt64 {
    match p.xy() {
        Some((x, y)) => Pt64 {
            x: fq_to260(&x),
            y: fq_to260(&y),
        },
        None => Pt64::INFINITY,
    }
}

fn from_pt64(p: &Pt64) -> G1Affine {
    if p.is_inf() {
        G1Affine::identity()
    } else {
        G1Affine::new_unchecked(fq_from260(&p.x), fq_from260(&p.y))
    }
}

/// `-p`: `y -> 2p - y` (stays below `2p` for `0 < y < 2p`).
#[inline(always)]
fn neg(p: &Pt64, two_p: &[u64; 4]) -> Pt64 {
    let (y, _) = ifma::sub256(two_p, &p.y);
    Pt64 { x: p.x, y }
}

/// Per-worker buffers.
pub(crate) struct Scratch64 {
    digits: Vec<i32>,
    idx: Vec<u32>,
    seeds: Vec<Pt64>,
    work: Vec<Pt64>,
    starts: Vec<u32>,
    lens: Vec<u32>,
    cursor: Vec<u32>,
    pairs: Vec<(u32, u32)>,
    d: Vec<F8>,
    pre: Vec<F8>,
    fb: batch::Scratch<ark_bn254::g1::Config>,
    two_p: [u64; 4],
    one: [u64; 5],
}

impl Scratch64 {
    fn new() -> Self {
        Self {
            digits: Vec::new(),
            idx: Vec::new(),
            seeds: Vec::new(),
            work: Vec::new(),
            starts: Vec::new(),
            lens: Vec::new(),
            cursor: Vec::new(),
            pairs: Vec::with_capacity(PAIR_CHUNK),
            d: Vec::with_capacity(PAIR_CHUNK / 8),
            pre: Vec::with_capacity(PAIR_CHUNK / 8),
            fb: batch::Scratch::new(),
            two_p: two_p(),
            one: ifma::to_limbs52(&fq_to260(&Fq::ONE)),
        }
    }
}

/// The G1 MSM on IFMA with window `c`, or `None` when the CPU lacks it.
pub(crate) fn msm<B: ark_ff::BigInteger>(
    bases: &[G1Affine],
    scalars: &[B],
    c: usize,
) -> Option<G1Projective> {
    if !ifma::available() {
        return None;
    }
    // SAFETY: the CPU has avx512f and avx512ifma (checked just above).
    Some(unsafe { msm_ifma(bases, scalars, c) })
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn msm_ifma<B: ark_ff::BigInteger>(bases: &[G1Affine], scalars: &[B], c: usize) -> G1Projective {
    let n = bases.len().min(scalars.len());
    if n == 0 {
        return G1Projective::zero();
    }
    let bases64 = par::map(n, |i| to_pt64(&bases[i]));
    let windows = digits::num_windows(ark_bn254::Fr::MODULUS_BIT_SIZE as usize, c);
    let nb = 1usize << (c - 1);
    let sums = par::map_with_scratch(windows, Scratch64::new, |s, w| {
        let mut buckets = vec![G1Affine::identity(); nb];
        // The closure inherits `msm_ifma`'s target features.
        accumulate(
            &mut buckets,
            |i| {
                if bases64[i].is_inf() {
                    0
                } else {
                    digits::booth_digit(scalars[i].as_ref(), w, c)
                }
            },
            &bases64,
            s,
        );
        batch::bucket_sum(&buckets)
    });
    combine_windows(&sums, c)
}

/// The fixed-base G1 MSM on IFMA over a table in IFMA form (row `i` holds
/// `2^(c w) * P_i` for `w < windows`), or `None` when the CPU lacks it.
pub(crate) fn fixed_msm<B: ark_ff::BigInteger>(
    table: &[Pt64],
    windows: usize,
    c: usize,
    scalars: &[B],
    entry_chunk: usize,
) -> Option<G1Projective> {
    if !ifma::available() {
        return None;
    }
    // SAFETY: the CPU has avx512f and avx512ifma (checked just above).
    Some(unsafe { fixed_msm_ifma(table, windows, c, scalars, entry_chunk) })
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn fixed_msm_ifma<B: ark_ff::BigInteger>(
    table: &[Pt64],
    windows: usize,
    c: usize,
    scalars: &[B],
    entry_chunk: usize,
) -> G1Projective {
    let len = scalars.len();
    let nb = 1usize << (c - 1);
    let workers = par::num_threads().min(len.div_ceil(64)).max(1);
    let rows_per_worker = len.div_ceil(workers);
    let sums = par::map_with_scratch(workers, Scratch64::new, |s, t| {
        let row0 = (t * rows_per_worker).min(len);
        let row1 = ((t + 1) * rows_per_worker).min(len);
        let mut buckets = vec![G1Affine::identity(); nb];
        let mut k0 = row0 * windows;
        let end = row1 * windows;
        while k0 < end {
            let m = (end - k0).min(entry_chunk);
            let base = k0;
            accumulate(
                &mut buckets,
                |k| {
                    let k = base + k;
                    if table[k].is_inf() {
                        0
                    } else {
                        digits::booth_digit(scalars[k / windows].as_ref(), k % windows, c)
                    }
                },
                &table[k0..k0 + m],
                s,
            );
            k0 += m;
        }
        batch::bucket_sum(&buckets)
    });
    sums.into_iter().sum()
}

/// Entry flags in the sorted index list.
const NEG: u32 = 1 << 31;
const SEED: u32 = 1 << 30;
const INDEX: u32 = SEED - 1;

/// Where a pairwise round reads its points: the work array (rounds after
/// the first) or the sorted entry list (the first round reads the points
/// directly, so the sort moves 4-byte indices instead of points).
enum Src<'a> {
    Work,
    Sorted {
        idx: &'a [u32],
        points: &'a [Pt64],
        seeds: &'a [Pt64],
        two_p: [u64; 4],
    },
}

impl Src<'_> {
    #[inline(always)]
    fn get(&self, work: &[Pt64], pos: usize) -> Pt64 {
        match self {
            Src::Work => work[pos],
            Src::Sorted {
                idx,
                points,
                seeds,
                two_p,
            } => {
                let e = idx[pos];
                if e & SEED != 0 {
                    seeds[(e & INDEX) as usize]
                } else {
                    let p = &points[(e & INDEX) as usize];
                    if e & NEG != 0 {
                        neg(p, two_p)
                    } else {
                        *p
                    }
                }
            }
        }
    }

    /// Asks the cache for the point at `pos` (first round only).
    #[inline(always)]
    fn prefetch(&self, pos: usize) {
        if let Src::Sorted { idx, points, .. } = self {
            if let Some(&e) = idx.get(pos) {
                if e & SEED == 0 {
                    if let Some(p) = points.get((e & INDEX) as usize) {
                        let ptr = (p as *const Pt64).cast::<i8>();
                        // SAFETY: prefetching has no effect on memory; the
                        // pointer is to a live element of `points`.
                        unsafe {
                            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                                ptr,
                            )
                        };
                    }
                }
            }
        }
    }
}

/// [`batch::accumulate`] on IFMA: `buckets[|d| - 1] += sign(d) * points[k]`
/// for `k < points.len()` (`< 2^30`), `d = digit(k)`.
#[target_feature(enable = "avx512f,avx512ifma")]
pub(crate) fn accumulate<D>(buckets: &mut [G1Affine], digit: D, points: &[Pt64], s: &mut Scratch64)
where
    D: Fn(usize) -> i32,
{
    let k = Consts::new(&P);
    let nb = buckets.len();
    let m = points.len();
    s.digits.clear();
    s.digits.extend((0..m).map(&digit));
    s.lens.clear();
    s.lens.resize(nb, 0);
    s.seeds.clear();
    for (b, p) in buckets.iter().enumerate() {
        if !p.is_zero() {
            s.lens[b] += 1;
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
    s.idx.clear();
    s.idx.resize(total as usize, 0);
    for (b, p) in buckets.iter().enumerate() {
        if !p.is_zero() {
            s.idx[s.cursor[b] as usize] = SEED | s.seeds.len() as u32;
            s.seeds.push(to_pt64(p));
            s.cursor[b] += 1;
        }
    }
    for (i, &d) in s.digits.iter().enumerate() {
        if d != 0 {
            let b = d.unsigned_abs() as usize - 1;
            s.idx[s.cursor[b] as usize] = i as u32 | if d < 0 { NEG } else { 0 };
            s.cursor[b] += 1;
        }
    }
    s.work.clear();
    s.work.resize(total as usize, Pt64::INFINITY);
    let idx = core::mem::take(&mut s.idx);
    let seeds = core::mem::take(&mut s.seeds);
    let first = Src::Sorted {
        idx: &idx,
        points,
        seeds: &seeds,
        two_p: s.two_p,
    };
    // Rounds, bucket group by bucket group.
    let mut b0 = 0;
    while b0 < nb {
        let mut b1 = b0;
        let mut pts = 0usize;
        while b1 < nb && (b1 == b0 || pts + s.lens[b1] as usize <= GROUP) {
            pts += s.lens[b1] as usize;
            b1 += 1;
        }
        let mut round = 0;
        loop {
            let src = if round == 0 { &first } else { &Src::Work };
            let mut any = false;
            s.pairs.clear();
            for b in b0..b1 {
                let len = s.lens[b];
                if round == 0 && len & 1 == 1 {
                    // The unpaired first point moves to the work array as is.
                    let st = s.starts[b] as usize;
                    s.work[st] = first.get(&s.work, st);
                }
                if len < 2 {
                    continue;
                }
                any = true;
                let odd = len & 1;
                let base = s.starts[b] + odd;
                for j in 0..len / 2 {
                    s.pairs.push((base + 2 * j, base + j));
                    if s.pairs.len() == PAIR_CHUNK {
                        add_pairs(s, src, &k);
                        s.pairs.clear();
                    }
                }
                s.lens[b] = odd + len / 2;
            }
            if !s.pairs.is_empty() {
                add_pairs(s, src, &k);
                s.pairs.clear();
            }
            if !any {
                break;
            }
            round += 1;
        }
        b0 = b1;
    }
    s.idx = idx;
    s.seeds = seeds;
    for (b, out) in buckets.iter_mut().enumerate() {
        *out = if s.lens[b] == 1 {
            from_pt64(&s.work[s.starts[b] as usize])
        } else {
            G1Affine::identity()
        };
    }
}

/// `work[out] = p(a) + p(a + 1)` for every pair `(a, out)` in `s.pairs`,
/// `p` read from `src`, eight pairs at a time with one shared inversion
/// (the eight lane products inverted together).
#[target_feature(enable = "avx512f,avx512ifma")]
fn add_pairs(s: &mut Scratch64, src: &Src<'_>, k: &Consts) {
    let pairs = &s.pairs;
    let work = &mut s.work;
    let np = pairs.len();
    let groups = np.div_ceil(8);
    let lane_pair = |g: usize, l: usize| pairs[(g * 8 + l).min(np - 1)].0 as usize;
    s.d.clear();
    s.pre.clear();
    let mut acc = ifma::splat(&s.one);
    let mut any_inf = false;
    const AHEAD: usize = 2;
    for g in 0..groups {
        if g + AHEAD < groups {
            for l in 0..8 {
                let a = lane_pair(g + AHEAD, l);
                src.prefetch(a);
                src.prefetch(a + 1);
            }
        }
        let mut xa = [[0u64; 4]; 8];
        let mut xb = [[0u64; 4]; 8];
        for l in 0..8 {
            let a = lane_pair(g, l);
            let (p, q) = (src.get(work, a), src.get(work, a + 1));
            any_inf |= p.is_inf() | q.is_inf();
            xa[l] = p.x;
            xb[l] = q.x;
        }
        let d = ifma::sub(&ifma::pack(xb, k), &ifma::pack(xa, k), k);
        s.pre.push(acc);
        s.d.push(d);
        acc = ifma::mul(&acc, &d, k);
    }
    if any_inf {
        fallback(work, pairs, src, &mut s.fb);
        return;
    }
    // Invert the eight lane products; a zero product means some pair has
    // equal x coordinates (a doubling or P + (-P)): redo the chunk portably.
    let lanes = ifma::unpack(&acc);
    let mut inv = [Fq::ZERO; 8];
    for l in 0..8 {
        let (d, borrow) = ifma::sub256(&lanes[l], &P);
        inv[l] = Fq::new_unchecked(BigInt(if borrow { lanes[l] } else { d }));
        if inv[l].is_zero() {
            fallback(work, pairs, src, &mut s.fb);
            return;
        }
    }
    ark_ff::batch_inversion(&mut inv);
    // (16 a)^-1 * 256 = 16 a^-1: the IFMA form of a^-1 read as arkworks' form.
    let inv64: [[u64; 4]; 8] = core::array::from_fn(|l| {
        let mut v = inv[l];
        for _ in 0..8 {
            v.double_in_place();
        }
        (v.0).0
    });
    let mut inv_v: F8 = ifma::pack(inv64, k);
    for g in (0..groups).rev() {
        let t = ifma::mul(&inv_v, &s.pre[g], k);
        inv_v = ifma::mul(&inv_v, &s.d[g], k);
        s.d[g] = t;
    }
    for g in 0..groups {
        let mut xa = [[0u64; 4]; 8];
        let mut ya = [[0u64; 4]; 8];
        let mut xb = [[0u64; 4]; 8];
        let mut yb = [[0u64; 4]; 8];
        for l in 0..8 {
            let a = lane_pair(g, l);
            let (p, q) = (src.get(work, a), src.get(work, a + 1));
            xa[l] = p.x;
            ya[l] = p.y;
            xb[l] = q.x;
            yb[l] = q.y;
        }
        let (xa, ya) = (ifma::pack(xa, k), ifma::pack(ya, k));
        let (xb, yb) = (ifma::pack(xb, k), ifma::pack(yb, k));
        let lambda = ifma::mul(&ifma::sub(&yb, &ya, k), &s.d[g], k);
        let l2 = ifma::mul(&lambda, &lambda, k);
        let x3 = ifma::reduce8(&ifma::sub2(&l2, &xa, &xb, k), k);
        let t = ifma::mul(&lambda, &ifma::sub(&xa, &x3, k), k);
        let y3 = ifma::reduce4(&ifma::sub(&t, &ya, k), k);
        let (xs, ys) = (ifma::unpack(&x3), ifma::unpack(&y3));
        let valid = (np - g * 8).min(8);
        for l in 0..valid {
            let out = pairs[g * 8 + l].1 as usize;
            work[out] = Pt64 { x: xs[l], y: ys[l] };
        }
    }
}

/// The portable pairwise addition for a chunk with special cases.
fn fallback(
    work: &mut [Pt64],
    pairs: &[(u32, u32)],
    src: &Src<'_>,
    fb: &mut batch::Scratch<ark_bn254::g1::Config>,
) {
    let mut tmp = Vec::with_capacity(2 * pairs.len());
    for &(a, _) in pairs {
        tmp.push(from_pt64(&src.get(work, a as usize)));
        tmp.push(from_pt64(&src.get(work, a as usize + 1)));
    }
    let local: Vec<(u32, u32)> = (0..pairs.len() as u32).map(|i| (2 * i, i)).collect();
    batch::add_pairs_with(&mut tmp, &local, fb);
    for (i, &(_, out)) in pairs.iter().enumerate() {
        work[out as usize] = to_pt64(&tmp[i]);
    }
}
