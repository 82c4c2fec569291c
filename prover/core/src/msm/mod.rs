//! Multi-scalar multiplication on BN254 G1 and G2.
//!
//! [`msm_g1`] and [`msm_g2`] compute `sum_i scalars[i] * bases[i]` with
//! Pippenger's bucket method as the fastest implementations do it:
//!
//! * **Signed (Booth) window digits**: `c`-bit windows give digits in
//!   `[-2^(c-1), 2^(c-1)]`, so `2^(c-1)` buckets per window and negation
//!   (free on affine points) for the sign.
//! * **Batch-affine buckets**: each window's entries are counting-sorted by
//!   bucket and summed pairwise in rounds of affine additions that share one
//!   Montgomery batch inversion per 1,024 pairs (5M + 1S per addition instead
//!   of 8M + 2S in XYZZ or 7M + 4S in Jacobian coordinates).
//! * **AVX-512 IFMA** for G1 where the CPU has it: the pairwise additions
//!   run eight at a time in 52-bit limbs (`R = 2^260`, lazily reduced
//!   coordinates), points are one 64-byte line each, the counting sort moves
//!   4-byte indices and the first round reads the bases directly (with
//!   prefetching); a chunk that meets a doubling, `P + (-P)` or infinity is
//!   redone by the portable code.
//! * **Window size tuned per size** ([`window_bits`], [`window_bits_g1`])
//!   with a cost model measured on this project's 2-core machine.
//! * **Parallel split**: windows are independent tasks on rayon's pool,
//!   each worker reusing one scratch; the window count is chosen so that the
//!   tasks divide evenly across workers.
//!
//! [`FixedBaseMsm`] precomputes `2^(c*w) * P` for every base and window so
//! that all windows share one set of buckets: one bucket reduction per MSM
//! and a wider window than variable-base can afford.
//!
//! [`naive_msm_g1`] and [`naive_msm_g2`] are the references (double-and-add
//! per term) that every fast path is tested against.

mod batch;
mod digits;
mod fixed;
#[cfg(target_arch = "x86_64")]
mod ifma_g1;

pub use fixed::{FixedBaseMsm, FixedBaseMsmG1, FixedBaseMsmG2};

use ark_bn254::{g1::Config as G1Config, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::short_weierstrass::{Affine, Bucket, Projective, SWCurveConfig};
use ark_ec::AdditiveGroup;
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField, Zero};
use core::marker::PhantomData;

use crate::par;

/// Why an MSM could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsmError {
    /// `bases` and `scalars` differ in length.
    #[error("MSM length mismatch: {bases} bases, {scalars} scalars")]
    LengthMismatch {
        /// Number of bases given.
        bases: usize,
        /// Number of scalars given.
        scalars: usize,
    },
    /// A window width outside the supported range.
    #[error("MSM window of {bits} bits is outside 1..={max}")]
    InvalidWindow {
        /// The width asked for.
        bits: usize,
        /// The largest width supported.
        max: usize,
    },
    /// More points than the 32-bit entry indices can address.
    #[error("MSM of {0} terms is too large (at most 2^30)")]
    TooLarge(usize),
}

/// Most terms one MSM takes (entries are addressed with 30-bit indices).
pub const MAX_TERMS: usize = 1 << 30;

/// Largest window width accepted (buckets are addressed with `i32` digits).
pub const MAX_WINDOW_BITS: usize = 24;

/// An MSM algorithm over a short Weierstrass curve (arkworks style).
pub trait MsmAlgorithm<P: SWCurveConfig> {
    /// `sum_i scalars[i] * bases[i]`; errors when the lengths differ.
    fn msm(bases: &[Affine<P>], scalars: &[P::ScalarField]) -> Result<Projective<P>, MsmError>;
}

/// Signed-digit Pippenger with batch-affine bucket accumulation (the fast
/// path; what [`msm_g1`] and [`msm_g2`] run).
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchAffinePippenger<P>(PhantomData<P>);

/// Signed-digit Pippenger with XYZZ (extended Jacobian) buckets, no batch
/// inversion: what [`BatchAffinePippenger`] uses below
/// [`BATCH_AFFINE_THRESHOLD`] terms, where an inversion per round costs
/// more than it saves.
#[derive(Debug, Clone, Copy, Default)]
pub struct XyzzPippenger<P>(PhantomData<P>);

/// Double-and-add for every term: the reference.
#[derive(Debug, Clone, Copy, Default)]
pub struct NaiveMsm<P>(PhantomData<P>);

/// Below this many terms [`BatchAffinePippenger`] runs [`XyzzPippenger`].
pub const BATCH_AFFINE_THRESHOLD: usize = 512;

impl<P: SWCurveConfig> MsmAlgorithm<P> for BatchAffinePippenger<P> {
    fn msm(bases: &[Affine<P>], scalars: &[P::ScalarField]) -> Result<Projective<P>, MsmError> {
        check_lengths(bases, scalars)?;
        if bases.len() < BATCH_AFFINE_THRESHOLD {
            return XyzzPippenger::msm(bases, scalars);
        }
        let c = window_bits(bases.len());
        Ok(msm_batch_affine(bases, &to_bigints::<P>(scalars), c))
    }
}

impl<P: SWCurveConfig> MsmAlgorithm<P> for XyzzPippenger<P> {
    fn msm(bases: &[Affine<P>], scalars: &[P::ScalarField]) -> Result<Projective<P>, MsmError> {
        check_lengths(bases, scalars)?;
        let c = xyzz_window_bits(bases.len());
        Ok(msm_xyzz(bases, &to_bigints::<P>(scalars), c))
    }
}

impl<P: SWCurveConfig> MsmAlgorithm<P> for NaiveMsm<P> {
    fn msm(bases: &[Affine<P>], scalars: &[P::ScalarField]) -> Result<Projective<P>, MsmError> {
        check_lengths(bases, scalars)?;
        Ok(naive_msm(bases, scalars))
    }
}

/// `sum_i scalars[i] * bases[i]` on G1: [`BatchAffinePippenger`], with its
/// pairwise additions on AVX-512 IFMA where the CPU has it.
pub fn msm_g1(bases: &[G1Affine], scalars: &[Fr]) -> Result<G1Projective, MsmError> {
    check_lengths(bases, scalars)?;
    if bases.len() < BATCH_AFFINE_THRESHOLD {
        return XyzzPippenger::msm(bases, scalars);
    }
    let c = window_bits_g1(bases.len());
    Ok(msm_g1_batch(bases, &to_bigints::<G1Config>(scalars), c))
}

/// `sum_i scalars[i] * bases[i]` on G2 ([`BatchAffinePippenger`]).
pub fn msm_g2(bases: &[G2Affine], scalars: &[Fr]) -> Result<G2Projective, MsmError> {
    BatchAffinePippenger::msm(bases, scalars)
}

/// [`msm_g1`] with an explicit window width (for tuning and tests); always
/// the batch-affine path (IFMA where available).
pub fn msm_g1_with_window(
    bases: &[G1Affine],
    scalars: &[Fr],
    window: usize,
) -> Result<G1Projective, MsmError> {
    check_lengths(bases, scalars)?;
    check_window(window)?;
    Ok(msm_g1_batch(
        bases,
        &to_bigints::<G1Config>(scalars),
        window,
    ))
}

/// The portable batch-affine MSM (no IFMA) on any short Weierstrass curve
/// with an explicit window width: what [`msm_g2`] runs, and [`msm_g1`] on
/// CPUs without AVX-512 IFMA.
pub fn msm_with_window<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[P::ScalarField],
    window: usize,
) -> Result<Projective<P>, MsmError> {
    check_lengths(bases, scalars)?;
    check_window(window)?;
    Ok(msm_batch_affine(bases, &to_bigints::<P>(scalars), window))
}

fn msm_g1_batch<B: BigInteger>(bases: &[G1Affine], scalars: &[B], c: usize) -> G1Projective {
    #[cfg(target_arch = "x86_64")]
    if let Some(r) = ifma_g1::msm(bases, scalars, c) {
        return r;
    }
    msm_batch_affine(bases, scalars, c)
}

/// Whether [`msm_g1`] runs its pairwise additions on AVX-512 IFMA here.
pub fn g1_uses_ifma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::ifma::available()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Reference G1 MSM: double-and-add per term.
pub fn naive_msm_g1(bases: &[G1Affine], scalars: &[Fr]) -> Result<G1Projective, MsmError> {
    NaiveMsm::msm(bases, scalars)
}

/// Reference G2 MSM: double-and-add per term.
pub fn naive_msm_g2(bases: &[G2Affine], scalars: &[Fr]) -> Result<G2Projective, MsmError> {
    NaiveMsm::msm(bases, scalars)
}

/// Double-and-add over the scalar's bits, most significant first.
pub(crate) fn naive_mul<P: SWCurveConfig>(
    base: &Affine<P>,
    scalar: &P::ScalarField,
) -> Projective<P> {
    let mut acc = Projective::<P>::zero();
    for bit in scalar.into_bigint().to_bits_be() {
        acc.double_in_place();
        if bit {
            acc += base;
        }
    }
    acc
}

fn naive_msm<P: SWCurveConfig>(bases: &[Affine<P>], scalars: &[P::ScalarField]) -> Projective<P> {
    bases
        .iter()
        .zip(scalars)
        .map(|(b, s)| naive_mul(b, s))
        .fold(Projective::zero(), |a, b| a + b)
}

fn check_lengths<A, B>(bases: &[A], scalars: &[B]) -> Result<(), MsmError> {
    if bases.len() != scalars.len() {
        return Err(MsmError::LengthMismatch {
            bases: bases.len(),
            scalars: scalars.len(),
        });
    }
    if bases.len() > MAX_TERMS {
        return Err(MsmError::TooLarge(bases.len()));
    }
    Ok(())
}

pub(crate) fn check_window(bits: usize) -> Result<(), MsmError> {
    if bits == 0 || bits > MAX_WINDOW_BITS {
        return Err(MsmError::InvalidWindow {
            bits,
            max: MAX_WINDOW_BITS,
        });
    }
    Ok(())
}

pub(crate) fn to_bigints<P: SWCurveConfig>(
    scalars: &[P::ScalarField],
) -> Vec<<P::ScalarField as PrimeField>::BigInt> {
    par::map(scalars.len(), |i| scalars[i].into_bigint())
}

/// Relative cost of one bucket in the running-sum reduction (two XYZZ
/// additions) against one batch-affine entry addition, measured.
const REDUCTION_COST: usize = 4;

/// The window width the batch-affine MSM uses for `n` terms: the `c`
/// minimising `ceil(windows / workers) * (n + REDUCTION_COST * 2^(c-1))`,
/// i.e. the wall time when windows are spread over the workers.
pub fn window_bits(n: usize) -> usize {
    best_window(n, par::num_threads(), REDUCTION_COST)
}

/// The window width [`msm_g1`] uses for `n` terms: as [`window_bits`], with
/// the reduction weighed against the cheaper IFMA additions where they run.
pub fn window_bits_g1(n: usize) -> usize {
    if g1_uses_ifma() {
        best_window(n, par::num_threads(), REDUCTION_COST_IFMA)
    } else {
        window_bits(n)
    }
}

/// [`REDUCTION_COST`] against IFMA entry additions (about 3x cheaper).
const REDUCTION_COST_IFMA: usize = 10;

fn xyzz_window_bits(n: usize) -> usize {
    best_window(n, par::num_threads(), 2).min(12)
}

fn best_window(n: usize, threads: usize, reduction_cost: usize) -> usize {
    let num_bits = Fr::MODULUS_BIT_SIZE as usize;
    let mut best = (usize::MAX, 1);
    for c in 1..=20usize {
        let w = digits::num_windows(num_bits, c);
        let rounds = w.div_ceil(threads.max(1));
        let cost = rounds.saturating_mul(n + reduction_cost * (1usize << (c - 1)));
        if cost < best.0 {
            best = (cost, c);
        }
    }
    best.1
}

/// Combines window sums `S_w` into `sum_w 2^(c w) S_w` (Horner from the top).
fn combine_windows<P: SWCurveConfig>(sums: &[Projective<P>], c: usize) -> Projective<P> {
    let mut acc = Projective::<P>::zero();
    for s in sums.iter().rev() {
        for _ in 0..c {
            acc.double_in_place();
        }
        acc += s;
    }
    acc
}

/// Batch-affine Pippenger with window width `c`.
pub(crate) fn msm_batch_affine<P: SWCurveConfig, B: BigInteger>(
    bases: &[Affine<P>],
    scalars: &[B],
    c: usize,
) -> Projective<P> {
    let n = bases.len().min(scalars.len());
    if n == 0 {
        return Projective::zero();
    }
    let num_bits = P::ScalarField::MODULUS_BIT_SIZE as usize;
    let windows = digits::num_windows(num_bits, c);
    let nb = 1usize << (c - 1);
    let sums = par::map_with_scratch(windows, batch::Scratch::<P>::new, |s, w| {
        let mut buckets = vec![Affine::<P>::identity(); nb];
        batch::accumulate(
            &mut buckets,
            n,
            |i| {
                if bases[i].is_zero() {
                    0
                } else {
                    digits::booth_digit(scalars[i].as_ref(), w, c)
                }
            },
            |i| bases[i],
            s,
        );
        batch::bucket_sum(&buckets)
    });
    combine_windows(&sums, c)
}

/// XYZZ-bucket Pippenger with window width `c`.
pub(crate) fn msm_xyzz<P: SWCurveConfig, B: BigInteger>(
    bases: &[Affine<P>],
    scalars: &[B],
    c: usize,
) -> Projective<P> {
    let n = bases.len().min(scalars.len());
    if n == 0 {
        return Projective::zero();
    }
    let num_bits = P::ScalarField::MODULUS_BIT_SIZE as usize;
    let windows = digits::num_windows(num_bits, c);
    let nb = 1usize << (c - 1);
    let sums = par::map_with_scratch(
        windows,
        || (),
        |_, w| {
            let mut buckets = vec![Bucket::<P>::ZERO; nb];
            for i in 0..n {
                let d = digits::booth_digit(scalars[i].as_ref(), w, c);
                if d > 0 {
                    buckets[d as usize - 1] += &bases[i];
                } else if d < 0 {
                    buckets[(-d) as usize - 1] -= &bases[i];
                }
            }
            let mut running = Bucket::<P>::ZERO;
            let mut total = Bucket::<P>::ZERO;
            for b in buckets.iter().rev() {
                running += b;
                total += &running;
            }
            Projective::<P>::from(total)
        },
    );
    combine_windows(&sums, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_choice_is_sane() {
        for log in 9..=24 {
            let c = window_bits(1 << log);
            assert!((6..=20).contains(&c), "2^{log}: {c}");
        }
    }
}
