//! The FFT's butterflies on AVX-512 IFMA, eight at a time.
//!
//! Data stays in arkworks' Montgomery form (`x * 2^256 mod r`): twiddles
//! are stored in IFMA form (`w * 2^260 mod r`), and the IFMA Montgomery
//! product divides by `2^260`, so `x * w` comes out in arkworks' form again.
//! The array is converted once to blocks of eight consecutive elements
//! (five 52-bit limb vectors each, lazily reduced below `2r`), every stage
//! runs on those blocks (stages of half-size 4, 2 and 1 pair up two blocks
//! and regroup their lanes with permutes), and the result is converted back
//! (canonical) before the one bit reversal.
#![allow(unsafe_code)]
// Limb-indexed loops mirror the arithmetic.
#![allow(clippy::needless_range_loop)]

use ark_bn254::Fr;
use ark_ff::{AdditiveGroup, BigInt, PrimeField};

use core::arch::x86_64::_mm512_setzero_si512;

use crate::ifma::{self, Consts, F8};
use crate::par;

/// Eight twiddles in IFMA form, limb-major (`t[limb][lane]`).
pub(crate) type Tw8 = [[u64; 8]; 5];

/// Blocks (of eight elements) per cache block: 1,024 blocks of 320 bytes.
const BLOCK_VECS: usize = 1 << 10;
/// Blocks per parallel task in whole-array passes.
const PAR_VECS: usize = 1 << 9;

const R: [u64; 4] = Fr::MODULUS.0;

/// `w * 2^256` (arkworks' form) to `w * 2^260` in 52-bit limbs.
fn to52(w: &Fr) -> [u64; 5] {
    let mut y = *w;
    for _ in 0..4 {
        y.double_in_place();
    }
    ifma::to_limbs52(&(y.0).0)
}

/// Whether the IFMA FFT runs on this CPU.
pub(crate) fn available() -> bool {
    ifma::available()
}

/// Vector twiddle tables from the scalar top table `top[j] = omega^j`,
/// `j < n/2`: for each stage half-size `h >= 8` (smallest first), `h / 8`
/// vectors, vector `t` holding `omega_{2h}^(8t + lane)`.
pub(crate) fn vector_tables(top: &[Fr]) -> Vec<Tw8> {
    let half = top.len();
    let mut out = Vec::new();
    let mut h = 8;
    while h <= half {
        let stride = half / h;
        for t in 0..h / 8 {
            let l: [[u64; 5]; 8] = core::array::from_fn(|lane| to52(&top[(8 * t + lane) * stride]));
            out.push(core::array::from_fn(|limb| {
                core::array::from_fn(|lane| l[lane][limb])
            }));
        }
        h *= 2;
    }
    out
}

/// The twiddles of the stages of half-size 4, 2 (lanes repeat) and 8's first
/// vector, in IFMA form: `omega_8^j` and `omega_4^j`.
fn small_twiddles(omega8: &Fr) -> (Tw8, Tw8) {
    let w8: Vec<[u64; 5]> = (0..4u64).map(|j| to52(&omega8.pow_u(j))).collect();
    let w4: Vec<[u64; 5]> = (0..2u64).map(|j| to52(&omega8.pow_u(2 * j))).collect();
    let t4 = core::array::from_fn(|limb| core::array::from_fn(|lane| w8[lane % 4][limb]));
    let t2 = core::array::from_fn(|limb| core::array::from_fn(|lane| w4[lane % 2][limb]));
    (t4, t2)
}

trait PowU {
    fn pow_u(&self, e: u64) -> Self;
}
impl PowU for Fr {
    fn pow_u(&self, e: u64) -> Self {
        ark_ff::Field::pow(self, [e])
    }
}

/// Natural-order DFT of `v` (`n >= 16`) in place; `vtw` from
/// [`vector_tables`], `omega8` a primitive 8th root of unity (the domain's
/// `omega^(n/8)`). Returns `false` (nothing done) without IFMA.
pub(crate) fn forward(v: &mut [Fr], vtw: &[Tw8], omega8: &Fr) -> bool {
    if !available() || v.len() < 16 {
        return false;
    }
    // SAFETY: the CPU has avx512f and avx512ifma (checked just above).
    unsafe { forward_ifma(v, vtw, omega8) };
    true
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn load_tw(t: &Tw8) -> F8 {
    core::array::from_fn(|limb| ifma::load8(&t[limb]))
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn forward_ifma(v: &mut [Fr], vtw: &[Tw8], omega8: &Fr) {
    let n = v.len();
    let nv = n / 8;
    let k = Consts::new(&R);
    let zero = _mm512_setzero_si512();
    let mut buf: Vec<F8> = vec![[zero; 5]; nv];
    // Convert in.
    {
        let src: &[Fr] = v;
        par::for_each_chunk_mut(&mut buf, PAR_VECS, |ci, bc| {
            let base = ci * PAR_VECS * 8;
            for (b, out) in bc.iter_mut().enumerate() {
                let e: [[u64; 4]; 8] = core::array::from_fn(|l| (src[base + 8 * b + l].0).0);
                *out = ifma::pack(e, &k);
            }
        });
    }
    // Stage tables: offset of half-size h (>= 8) is h/8 - 1.
    let table = |h: usize| &vtw[h / 8 - 1..h / 4 - 1];
    let mut h = n / 2;
    // Whole-array passes while a butterfly spans more than a cache block.
    while h >= 8 && 2 * (h / 8) > BLOCK_VECS {
        let hv = h / 8;
        let tw = table(h);
        for sb in buf.chunks_mut(2 * hv) {
            let (lo, hi) = sb.split_at_mut(hv);
            par::for_each_chunk_pair_mut(lo, hi, PAR_VECS.min(hv), |i, lo, hi| {
                let t0 = i * PAR_VECS.min(hv);
                for (j, (a, b)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
                    butterfly(a, b, &load_tw(&tw[t0 + j]), &k);
                }
            });
        }
        h /= 2;
    }
    // The rest block by block.
    let (t4, t2) = small_twiddles(omega8);
    let (w4, w2) = (load_tw(&t4), load_tw(&t2));
    let bvecs = (2 * (h / 8)).max(2).min(nv);
    par::for_each_chunk_mut(&mut buf, bvecs, |_, blk| {
        let mut hh = h;
        while hh >= 8 {
            let hv = hh / 8;
            let tw = table(hh);
            for sb in blk.chunks_mut(2 * hv) {
                let (lo, hi) = sb.split_at_mut(hv);
                for (j, (a, b)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
                    butterfly(a, b, &load_tw(&tw[j]), &k);
                }
            }
            hh /= 2;
        }
        // Half-sizes 4, 2, 1 inside each vector, two vectors at a time.
        let (lo4, hi4) = (
            ifma::lanes([0, 1, 2, 3, 8, 9, 10, 11]),
            ifma::lanes([4, 5, 6, 7, 12, 13, 14, 15]),
        );
        let (lo2, hi2) = (
            ifma::lanes([0, 1, 4, 5, 8, 9, 12, 13]),
            ifma::lanes([2, 3, 6, 7, 10, 11, 14, 15]),
        );
        let (back2a, back2b) = (
            ifma::lanes([0, 1, 8, 9, 2, 3, 10, 11]),
            ifma::lanes([4, 5, 12, 13, 6, 7, 14, 15]),
        );
        let (ev, od) = (
            ifma::lanes([0, 2, 4, 6, 8, 10, 12, 14]),
            ifma::lanes([1, 3, 5, 7, 9, 11, 13, 15]),
        );
        let (back1a, back1b) = (
            ifma::lanes([0, 8, 1, 9, 2, 10, 3, 11]),
            ifma::lanes([4, 12, 5, 13, 6, 14, 7, 15]),
        );
        for pair in blk.chunks_exact_mut(2) {
            let (b0, b1) = (pair[0], pair[1]);
            // h = 4: lanes (l, l + 4).
            let mut a = ifma::perm2(&b0, &b1, lo4);
            let mut b = ifma::perm2(&b0, &b1, hi4);
            butterfly(&mut a, &mut b, &w4, &k);
            let (b0, b1) = (ifma::perm2(&a, &b, lo4), ifma::perm2(&a, &b, hi4));
            // h = 2: lanes (l, l + 2) in groups of four.
            let mut a = ifma::perm2(&b0, &b1, lo2);
            let mut b = ifma::perm2(&b0, &b1, hi2);
            butterfly(&mut a, &mut b, &w2, &k);
            let (b0, b1) = (ifma::perm2(&a, &b, back2a), ifma::perm2(&a, &b, back2b));
            // h = 1: even and odd lanes, twiddle 1.
            let a = ifma::perm2(&b0, &b1, ev);
            let b = ifma::perm2(&b0, &b1, od);
            let s = ifma::reduce4(&ifma::add(&a, &b, &k), &k);
            let d = ifma::reduce4(&ifma::sub(&a, &b, &k), &k);
            pair[0] = ifma::perm2(&s, &d, back1a);
            pair[1] = ifma::perm2(&s, &d, back1b);
        }
    });
    // Convert out (canonical), then the one bit reversal.
    par::for_each_chunk_mut(v, PAR_VECS * 8, |ci, vc| {
        for (b, out) in vc.chunks_exact_mut(8).enumerate() {
            let e = ifma::unpack(&ifma::canonicalize(&buf[ci * PAR_VECS + b], &k));
            for (o, x) in out.iter_mut().zip(e) {
                *o = Fr::new_unchecked(BigInt(x));
            }
        }
    });
    crate::fft::bit_reverse(v);
}

/// DIF butterfly: `(a, b) -> (a + b, (a - b) w)`, results below `2r`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn butterfly(a: &mut F8, b: &mut F8, w: &F8, k: &Consts) {
    let s = ifma::reduce4(&ifma::add(a, b, k), k);
    let d = ifma::mul(&ifma::sub(a, b, k), w, k);
    *a = s;
    *b = d;
}
