//! Fixed-base MSM: precomputed window tables for bases used many times.

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup};
use ark_ff::{PrimeField, Zero};

use super::{batch, check_window, digits, to_bigints, MsmError};
use crate::par;

/// Entries (table points) accumulated per sorting pass; bounds the scratch
/// memory of one worker.
const ENTRY_CHUNK: usize = 1 << 21;

/// An MSM whose bases are fixed: `new` stores `2^(c*w) * P_i` for every base
/// `P_i` and window `w` (affine), so [`FixedBaseMsm::msm`] adds every
/// window's digit of every scalar into *one* set of `2^(c-1)` buckets and
/// reduces the buckets once (per worker) instead of once per window. That
/// affords a wider window (fewer additions) than the variable-base MSM.
///
/// Memory: `len * windows` affine points (`windows = ceil(255 / c)`); see
/// [`FixedBaseMsm::table_len`]. Building costs about 254 doublings per base.
#[derive(Clone)]
pub struct FixedBaseMsm<P: SWCurveConfig> {
    window: usize,
    windows: usize,
    len: usize,
    /// Row `i` holds `2^(c*w) * bases[i]` for `w` in `0..windows`.
    table: Vec<Affine<P>>,
}

/// Fixed-base MSM on BN254 G1: [`FixedBaseMsm`] whose table is kept in the
/// IFMA form and summed with the AVX-512 IFMA pairwise additions where the
/// CPU has them (same API, same results).
#[derive(Clone)]
pub struct FixedBaseMsmG1 {
    inner: FixedBaseMsm<ark_bn254::g1::Config>,
    /// The table in IFMA form (then `inner.table` is dropped), or empty.
    #[cfg(target_arch = "x86_64")]
    table64: Vec<super::ifma_g1::Pt64>,
}

impl FixedBaseMsmG1 {
    /// Precomputes tables for `bases` ([`FixedBaseMsm::new`]).
    pub fn new(bases: &[ark_bn254::G1Affine]) -> Self {
        Self::from_inner(FixedBaseMsm::new(bases))
    }

    /// Precomputes tables with `window`-bit windows ([`FixedBaseMsm::with_window`]).
    pub fn with_window(bases: &[ark_bn254::G1Affine], window: usize) -> Result<Self, MsmError> {
        Ok(Self::from_inner(FixedBaseMsm::with_window(bases, window)?))
    }

    #[allow(unused_mut)]
    fn from_inner(mut inner: FixedBaseMsm<ark_bn254::g1::Config>) -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if crate::ifma::available() {
                let t = &inner.table;
                let table64 = par::map(t.len(), |i| super::ifma_g1::to_pt64(&t[i]));
                inner.table = Vec::new();
                return Self { inner, table64 };
            }
            Self {
                inner,
                table64: Vec::new(),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        Self { inner }
    }

    /// Whether [`FixedBaseMsmG1::msm`] runs on AVX-512 IFMA.
    pub fn uses_ifma(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            !self.table64.is_empty()
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// Number of bases.
    pub fn len(&self) -> usize {
        self.inner.len
    }

    /// Whether there are no bases.
    pub fn is_empty(&self) -> bool {
        self.inner.len == 0
    }

    /// The window width in bits.
    pub fn window_bits(&self) -> usize {
        self.inner.window
    }

    /// Number of precomputed points (`len * windows`).
    pub fn table_len(&self) -> usize {
        self.inner.len * self.inner.windows
    }

    /// `sum_i scalars[i] * bases[i]`; errors when `scalars.len() != len()`.
    pub fn msm(&self, scalars: &[ark_bn254::Fr]) -> Result<ark_bn254::G1Projective, MsmError> {
        self.msm_chunked(scalars, ENTRY_CHUNK)
    }

    fn msm_chunked(
        &self,
        scalars: &[ark_bn254::Fr],
        entry_chunk: usize,
    ) -> Result<ark_bn254::G1Projective, MsmError> {
        #[cfg(target_arch = "x86_64")]
        if !self.table64.is_empty() {
            if scalars.len() != self.inner.len {
                return Err(MsmError::LengthMismatch {
                    bases: self.inner.len,
                    scalars: scalars.len(),
                });
            }
            let sc = to_bigints::<ark_bn254::g1::Config>(scalars);
            if let Some(r) = super::ifma_g1::fixed_msm(
                &self.table64,
                self.inner.windows,
                self.inner.window,
                &sc,
                entry_chunk,
            ) {
                return Ok(r);
            }
        }
        self.inner.msm_chunked(scalars, entry_chunk)
    }
}
/// Fixed-base MSM on BN254 G2.
pub type FixedBaseMsmG2 = FixedBaseMsm<ark_bn254::g2::Config>;

impl<P: SWCurveConfig> core::fmt::Debug for FixedBaseMsm<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FixedBaseMsm")
            .field("len", &self.len)
            .field("window_bits", &self.window)
            .field("windows", &self.windows)
            .finish()
    }
}

impl core::fmt::Debug for FixedBaseMsmG1 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FixedBaseMsmG1")
            .field("inner", &self.inner)
            .field("ifma", &self.uses_ifma())
            .finish()
    }
}

impl<P: SWCurveConfig> FixedBaseMsm<P> {
    /// Precomputes tables for `bases` with the window width
    /// [`FixedBaseMsm::default_window`] picks for their number.
    pub fn new(bases: &[Affine<P>]) -> Self {
        let window = Self::default_window(bases.len());
        Self::build(bases, window)
    }

    /// Precomputes tables for `bases` with `window`-bit windows
    /// (`1..=`[`super::MAX_WINDOW_BITS`]).
    pub fn with_window(bases: &[Affine<P>], window: usize) -> Result<Self, MsmError> {
        check_window(window)?;
        if bases.len() > super::MAX_TERMS {
            return Err(MsmError::TooLarge(bases.len()));
        }
        Ok(Self::build(bases, window))
    }

    /// The window width [`FixedBaseMsm::new`] uses for `n` bases: minimises
    /// `windows * n / workers + 4 * 2^(c-1)` (each worker reduces its own
    /// buckets once), capped at 18 bits.
    pub fn default_window(n: usize) -> usize {
        let threads = par::num_threads();
        let num_bits = P::ScalarField::MODULUS_BIT_SIZE as usize;
        let mut best = (usize::MAX, 1);
        for c in 1..=18usize {
            let w = digits::num_windows(num_bits, c);
            let cost = (w * n).div_ceil(threads) + 4 * (1usize << (c - 1));
            if cost < best.0 {
                best = (cost, c);
            }
        }
        best.1
    }

    fn build(bases: &[Affine<P>], window: usize) -> Self {
        let num_bits = P::ScalarField::MODULUS_BIT_SIZE as usize;
        let windows = digits::num_windows(num_bits, window);
        let len = bases.len();
        let mut table = vec![Affine::<P>::identity(); len * windows];
        // Rows of bases in chunks: doublings in projective, then one batch
        // normalisation per chunk.
        let rows_per_chunk = 256usize;
        par::for_each_chunk_mut(&mut table, rows_per_chunk * windows, |ci, out| {
            let first = ci * rows_per_chunk;
            let rows = out.len() / windows;
            let mut proj = Vec::with_capacity(out.len());
            for base in &bases[first..first + rows] {
                let mut p: Projective<P> = (*base).into();
                for w in 0..windows {
                    if w > 0 {
                        for _ in 0..window {
                            p.double_in_place();
                        }
                    }
                    proj.push(p);
                }
            }
            out.copy_from_slice(&Projective::normalize_batch(&proj));
        });
        Self {
            window,
            windows,
            len,
            table,
        }
    }

    /// Number of bases.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bases.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The window width in bits.
    pub fn window_bits(&self) -> usize {
        self.window
    }

    /// Number of precomputed affine points (`len * windows`).
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// `sum_i scalars[i] * bases[i]`; errors when `scalars.len() != len()`.
    pub fn msm(&self, scalars: &[P::ScalarField]) -> Result<Projective<P>, MsmError> {
        self.msm_chunked(scalars, ENTRY_CHUNK)
    }

    /// [`FixedBaseMsm::msm`] sorting at most `entry_chunk` table entries at
    /// a time (later chunks add into the buckets the earlier ones left).
    fn msm_chunked(
        &self,
        scalars: &[P::ScalarField],
        entry_chunk: usize,
    ) -> Result<Projective<P>, MsmError> {
        if scalars.len() != self.len {
            return Err(MsmError::LengthMismatch {
                bases: self.len,
                scalars: scalars.len(),
            });
        }
        if self.len == 0 {
            return Ok(Projective::zero());
        }
        let scalars = to_bigints::<P>(scalars);
        let (c, windows) = (self.window, self.windows);
        let nb = 1usize << (c - 1);
        let entries = self.table.len();
        let workers = par::num_threads().min(self.len.div_ceil(64)).max(1);
        let rows_per_worker = self.len.div_ceil(workers);
        let table = &self.table;
        let sums = par::map_with_scratch(workers, batch::Scratch::<P>::new, |s, t| {
            let row0 = (t * rows_per_worker).min(self.len);
            let row1 = ((t + 1) * rows_per_worker).min(self.len);
            let mut buckets = vec![Affine::<P>::identity(); nb];
            let mut k0 = row0 * windows;
            let end = (row1 * windows).min(entries);
            while k0 < end {
                let m = (end - k0).min(entry_chunk);
                batch::accumulate(
                    &mut buckets,
                    m,
                    |k| {
                        let k = k0 + k;
                        let (i, w) = (k / windows, k % windows);
                        if table[k].is_zero() {
                            0
                        } else {
                            digits::booth_digit(scalars[i].as_ref(), w, c)
                        }
                    },
                    |k| table[k0 + k],
                    s,
                );
                k0 += m;
            }
            batch::bucket_sum(&buckets)
        });
        Ok(sums.into_iter().sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msm::{naive_msm_g1, naive_msm_g2};
    use ark_bn254::{Fr, G1Projective, G2Projective};
    use ark_ec::PrimeGroup;
    use ark_ff::UniformRand;
    use rand::SeedableRng;

    /// Several sorting chunks per worker: the buckets left by one chunk are
    /// seeded into the next one's lists.
    #[test]
    fn chunked_accumulation_matches_naive() {
        let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(11);
        let n = 150;
        let g1: Vec<G1Projective> = (0..n)
            .map(|_| G1Projective::generator() * Fr::rand(&mut r))
            .collect();
        let g1 = G1Projective::normalize_batch(&g1);
        let g2: Vec<G2Projective> = (0..20)
            .map(|_| G2Projective::generator() * Fr::rand(&mut r))
            .collect();
        let g2 = G2Projective::normalize_batch(&g2);
        let s: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
        let want1 = naive_msm_g1(&g1, &s).unwrap();
        let want2 = naive_msm_g2(&g2, &s[..20]).unwrap();
        for (w, chunk) in [(4, 97), (5, 1000), (3, 64)] {
            let f1 = FixedBaseMsmG1::with_window(&g1, w).unwrap();
            assert_eq!(f1.msm_chunked(&s, chunk).unwrap(), want1, "G1 {w} {chunk}");
            let p1 = FixedBaseMsm::<ark_bn254::g1::Config>::with_window(&g1, w).unwrap();
            assert_eq!(p1.msm_chunked(&s, chunk).unwrap(), want1);
            let f2 = FixedBaseMsmG2::with_window(&g2, w).unwrap();
            assert_eq!(f2.msm_chunked(&s[..20], chunk).unwrap(), want2);
        }
    }
}
