//! Radix-2 FFTs over `ark_bn254::Fr` on power-of-two domains.
//!
//! Structure (forward): decimation in frequency (natural order in,
//! bit-reversed out) with
//!
//! * **precomputed twiddles**: one contiguous table per stage
//!   (`omega_{2h}^j` for `j < h`, `n - 1` elements in all), so every pass
//!   reads its twiddles sequentially;
//! * **radix-4 passes** for the stages whose butterflies span more than one
//!   cache block: two stages per sweep over memory, split across workers;
//! * **cache blocks**: once a sub-transform fits in [`BLOCK`] elements all
//!   its remaining stages run on that block while it is in L2, blocks in
//!   parallel;
//! * **bit reversal done once**, at the end;
//! * **AVX-512 IFMA** butterflies where the CPU has them (sizes from 16):
//!   eight at a time on blocks of eight elements, the last three stages
//!   regrouping lanes with permutes (see `fft_ifma`).
//!
//! The inverse FFT is the forward one followed by the index reversal
//! `k -> n - k` and the `1/n` scaling (fused with the coset powers for the
//! inverse coset FFT), so it needs no second twiddle table.

use ark_bn254::Fr;
use ark_ff::{FftField, Field, One, Zero};

use crate::par;

/// Elements per cache block (2^13 * 32 bytes = 256 KiB).
const BLOCK: usize = 1 << 13;

/// Elements per parallel task in element-wise passes.
const PAR_CHUNK: usize = 1 << 12;

/// Why an FFT domain or transform was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FftError {
    /// The domain size is not a power of two in `2^1..=2^24`.
    #[error("FFT domain size {0} is not a power of two in 2^1..=2^24")]
    UnsupportedSize(usize),
    /// The input does not have the length the transform needs.
    #[error("FFT input has {got} elements, the domain needs {expected}")]
    LengthMismatch {
        /// The length the transform needs.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A coset offset of zero.
    #[error("coset offset must be non-zero")]
    ZeroCosetOffset,
}

/// A multiplicative subgroup `{omega^i}` of `Fr` of size `n = 2^k`,
/// `1 <= k <= 24`, with its coset `offset * {omega^i}` (`offset` defaults
/// to `Fr::GENERATOR`, as arkworks' `get_coset(GENERATOR)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    log_n: u32,
    n: usize,
    omega: Fr,
    omega_inv: Fr,
    n_inv: Fr,
    offset: Fr,
    offset_inv: Fr,
    /// Stage tables: `twiddles[h - 1 + j] = omega_{2h}^j` for `h` a power of
    /// two below `n`, `j < h` (empty when the IFMA tables are used).
    twiddles: Vec<Fr>,
    /// The same tables for the AVX-512 IFMA butterflies, eight twiddles per
    /// entry (empty where IFMA is not used).
    #[cfg(target_arch = "x86_64")]
    vtw: Vec<crate::fft_ifma::Tw8>,
}

impl Domain {
    /// Smallest supported `log2(size)`.
    pub const MIN_LOG_SIZE: u32 = 1;
    /// Largest supported `log2(size)`.
    pub const MAX_LOG_SIZE: u32 = 24;

    /// The domain of `size` elements (a power of two in `2^1..=2^24`).
    pub fn new(size: usize) -> Result<Self, FftError> {
        Self::with_coset_offset(size, Fr::GENERATOR)
    }

    /// The domain of `size` elements whose coset transforms use `offset`.
    pub fn with_coset_offset(size: usize, offset: Fr) -> Result<Self, FftError> {
        Self::build(size, offset, true)
    }

    /// [`Domain::with_coset_offset`]; `simd: false` keeps the portable
    /// butterflies even where IFMA is available (tests cover both).
    fn build(size: usize, offset: Fr, simd: bool) -> Result<Self, FftError> {
        let range = (1usize << Self::MIN_LOG_SIZE)..=(1usize << Self::MAX_LOG_SIZE);
        if !size.is_power_of_two() || !range.contains(&size) {
            return Err(FftError::UnsupportedSize(size));
        }
        let offset_inv = offset.inverse().ok_or(FftError::ZeroCosetOffset)?;
        let log_n = size.trailing_zeros();
        let omega = Fr::get_root_of_unity(size as u64).ok_or(FftError::UnsupportedSize(size))?;
        let omega_inv = omega.inverse().ok_or(FftError::UnsupportedSize(size))?;
        let n_inv = Fr::from(size as u64)
            .inverse()
            .ok_or(FftError::UnsupportedSize(size))?;
        let twiddles = stage_tables(size, omega);
        #[cfg(target_arch = "x86_64")]
        {
            if simd && size >= 16 && crate::fft_ifma::available() {
                let vtw = crate::fft_ifma::vector_tables(&twiddles[size / 2 - 1..]);
                return Ok(Self {
                    log_n,
                    n: size,
                    omega,
                    omega_inv,
                    n_inv,
                    offset,
                    offset_inv,
                    twiddles: Vec::new(),
                    vtw,
                });
            }
        }
        Ok(Self {
            log_n,
            n: size,
            omega,
            omega_inv,
            n_inv,
            offset,
            offset_inv,
            twiddles,
            #[cfg(target_arch = "x86_64")]
            vtw: Vec::new(),
        })
    }

    /// Number of elements `n`.
    pub fn size(&self) -> usize {
        self.n
    }

    /// `log2(n)`.
    pub fn log_size(&self) -> u32 {
        self.log_n
    }

    /// The generator `omega` (a primitive `n`-th root of unity).
    pub fn group_gen(&self) -> Fr {
        self.omega
    }

    /// `omega^-1`.
    pub fn group_gen_inv(&self) -> Fr {
        self.omega_inv
    }

    /// `1/n`.
    pub fn size_inv(&self) -> Fr {
        self.n_inv
    }

    /// The coset offset `g`.
    pub fn coset_offset(&self) -> Fr {
        self.offset
    }

    /// `omega^i`.
    pub fn element(&self, i: usize) -> Fr {
        self.omega.pow([i as u64])
    }

    fn check(&self, v: &[Fr]) -> Result<(), FftError> {
        if v.len() != self.n {
            return Err(FftError::LengthMismatch {
                expected: self.n,
                got: v.len(),
            });
        }
        Ok(())
    }

    /// Evaluations at `omega^k`, `k < n`, of the polynomial with coefficients
    /// `v` (in place; `v.len()` must be `n`).
    pub fn fft_in_place(&self, v: &mut [Fr]) -> Result<(), FftError> {
        self.check(v)?;
        self.forward(v);
        Ok(())
    }

    /// Coefficients of the polynomial with evaluations `v` at `omega^k`
    /// (in place; `v.len()` must be `n`).
    pub fn ifft_in_place(&self, v: &mut [Fr]) -> Result<(), FftError> {
        self.check(v)?;
        self.forward(v);
        v[1..].reverse();
        scale(v, self.n_inv);
        Ok(())
    }

    /// Evaluations at `g * omega^k` (the coset) of the polynomial with
    /// coefficients `v` (in place; `v.len()` must be `n`).
    pub fn coset_fft_in_place(&self, v: &mut [Fr]) -> Result<(), FftError> {
        self.check(v)?;
        mul_by_powers(v, Fr::one(), self.offset);
        self.forward(v);
        Ok(())
    }

    /// Coefficients of the polynomial with evaluations `v` at `g * omega^k`
    /// (in place; `v.len()` must be `n`).
    pub fn coset_ifft_in_place(&self, v: &mut [Fr]) -> Result<(), FftError> {
        self.check(v)?;
        self.forward(v);
        v[1..].reverse();
        mul_by_powers(v, self.n_inv, self.offset_inv);
        Ok(())
    }

    /// [`Domain::fft_in_place`] on a copy of `coeffs` zero-padded to `n`
    /// (`coeffs.len() <= n`).
    pub fn fft(&self, coeffs: &[Fr]) -> Result<Vec<Fr>, FftError> {
        let mut v = self.padded(coeffs)?;
        self.forward(&mut v);
        Ok(v)
    }

    /// [`Domain::ifft_in_place`] on a copy of `evals` (`evals.len()` must be `n`).
    pub fn ifft(&self, evals: &[Fr]) -> Result<Vec<Fr>, FftError> {
        let mut v = evals.to_vec();
        self.ifft_in_place(&mut v)?;
        Ok(v)
    }

    /// [`Domain::coset_fft_in_place`] on a copy of `coeffs` zero-padded to
    /// `n` (`coeffs.len() <= n`).
    pub fn coset_fft(&self, coeffs: &[Fr]) -> Result<Vec<Fr>, FftError> {
        let mut v = self.padded(coeffs)?;
        self.coset_fft_in_place(&mut v)?;
        Ok(v)
    }

    /// [`Domain::coset_ifft_in_place`] on a copy of `evals` (`evals.len()`
    /// must be `n`).
    pub fn coset_ifft(&self, evals: &[Fr]) -> Result<Vec<Fr>, FftError> {
        let mut v = evals.to_vec();
        self.coset_ifft_in_place(&mut v)?;
        Ok(v)
    }

    fn padded(&self, coeffs: &[Fr]) -> Result<Vec<Fr>, FftError> {
        if coeffs.len() > self.n {
            return Err(FftError::LengthMismatch {
                expected: self.n,
                got: coeffs.len(),
            });
        }
        let mut v = Vec::with_capacity(self.n);
        v.extend_from_slice(coeffs);
        v.resize(self.n, Fr::zero());
        Ok(v)
    }

    /// The table for stage half-size `h`: `omega_{2h}^j`, `j < h`.
    fn table(&self, h: usize) -> &[Fr] {
        &self.twiddles[h - 1..2 * h - 1]
    }

    /// Whether this domain's transforms run their butterflies on AVX-512
    /// IFMA (sizes from 16 on CPUs that have it).
    pub fn uses_ifma(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            !self.vtw.is_empty()
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// Natural-order DFT in place: DIF passes then one bit reversal.
    fn forward(&self, v: &mut [Fr]) {
        #[cfg(target_arch = "x86_64")]
        if !self.vtw.is_empty() {
            let omega8 = self.omega.pow([(self.n / 8) as u64]);
            if crate::fft_ifma::forward(v, &self.vtw, &omega8) {
                return;
            }
        }
        self.forward_portable(v);
    }

    /// [`Domain::forward`] without IFMA.
    fn forward_portable(&self, v: &mut [Fr]) {
        let n = v.len();
        let mut h = n / 2;
        // Stages whose butterflies span more than one block: sweeps over the
        // whole array, two stages at a time where possible.
        while 2 * h > BLOCK {
            if h >= 2 && h / 2 * 2 > BLOCK {
                self.radix4_pass(v, h);
                h /= 4;
            } else {
                self.radix2_pass(v, h);
                h /= 2;
            }
        }
        // Remaining stages, block by block.
        if h >= 1 {
            let block = 2 * h;
            par::for_each_chunk_mut(v, block, |_, b| {
                let mut hh = h;
                while hh >= 2 {
                    dif_radix4_block(b, hh, self.table(hh), self.table(hh / 2));
                    hh /= 4;
                }
                if hh == 1 {
                    for pair in b.chunks_exact_mut(2) {
                        let (a, c) = (pair[0], pair[1]);
                        pair[0] = a + c;
                        pair[1] = a - c;
                    }
                }
            });
        }
        bit_reverse(v);
    }

    /// One DIF stage of half-size `h` over the whole array.
    fn radix2_pass(&self, v: &mut [Fr], h: usize) {
        let tw = self.table(h);
        let chunk = PAR_CHUNK.min(h);
        for block in v.chunks_mut(2 * h) {
            let (lo, hi) = block.split_at_mut(h);
            par::for_each_chunk_pair_mut(lo, hi, chunk, |i, lo, hi| {
                let tw = &tw[i * chunk..];
                for ((a, b), w) in lo.iter_mut().zip(hi.iter_mut()).zip(tw) {
                    let t = *a - *b;
                    *a += *b;
                    *b = t * w;
                }
            });
        }
    }

    /// DIF stages of half-sizes `h` and `h / 2` in one sweep.
    fn radix4_pass(&self, v: &mut [Fr], h: usize) {
        let (tw1, tw2) = (self.table(h), self.table(h / 2));
        let q = h / 2;
        let chunk = PAR_CHUNK.min(q);
        for block in v.chunks_mut(2 * h) {
            let (x01, x23) = block.split_at_mut(h);
            let (x0, x1) = x01.split_at_mut(q);
            let (x2, x3) = x23.split_at_mut(q);
            par::for_each_chunk_quad_mut(x0, x1, x2, x3, chunk, |i, x0, x1, x2, x3| {
                let j0 = i * chunk;
                radix4_butterflies(x0, x1, x2, x3, &tw1[j0..], &tw1[q + j0..], &tw2[j0..]);
            });
        }
    }
}

/// Radix-4 DIF butterflies: stage `h` on (x0, x2) and (x1, x3) with
/// twiddles `w1a`, `w1b`, then stage `h/2` on (y0, y1) and (y2, y3) with `w2`.
#[inline(always)]
fn radix4_butterflies(
    x0: &mut [Fr],
    x1: &mut [Fr],
    x2: &mut [Fr],
    x3: &mut [Fr],
    w1a: &[Fr],
    w1b: &[Fr],
    w2: &[Fr],
) {
    for j in 0..x0.len() {
        let (a0, a1, a2, a3) = (x0[j], x1[j], x2[j], x3[j]);
        let y0 = a0 + a2;
        let y2 = (a0 - a2) * w1a[j];
        let y1 = a1 + a3;
        let y3 = (a1 - a3) * w1b[j];
        x0[j] = y0 + y1;
        x1[j] = (y0 - y1) * w2[j];
        x2[j] = y2 + y3;
        x3[j] = (y2 - y3) * w2[j];
    }
}

/// All DIF stages from half-size `h` down to 2 within one block of `2h`
/// elements, two stages per step (the caller finishes an `h == 1` stage).
fn dif_radix4_block(b: &mut [Fr], h: usize, tw1: &[Fr], tw2: &[Fr]) {
    let q = h / 2;
    for block in b.chunks_mut(2 * h) {
        let (x01, x23) = block.split_at_mut(h);
        let (x0, x1) = x01.split_at_mut(q);
        let (x2, x3) = x23.split_at_mut(q);
        radix4_butterflies(x0, x1, x2, x3, tw1, &tw1[q..], tw2);
    }
}

/// Stage tables for an `n`-element domain (see [`Domain`]).
fn stage_tables(n: usize, omega: Fr) -> Vec<Fr> {
    let half = n / 2;
    let mut tw = vec![Fr::zero(); n - 1];
    // Top table: omega^j, j < n/2, computed in parallel chunks.
    {
        let top = &mut tw[half - 1..];
        par::for_each_chunk_mut(top, PAR_CHUNK, |ci, c| {
            let mut p = omega.pow([(ci * PAR_CHUNK) as u64]);
            for x in c.iter_mut() {
                *x = p;
                p *= omega;
            }
        });
    }
    // Each smaller table is every other element of the next one.
    let mut h = half / 2;
    while h >= 1 {
        let (lo, hi) = tw.split_at_mut(2 * h - 1);
        let dst = &mut lo[h - 1..];
        let src = &hi[..2 * h];
        for (j, d) in dst.iter_mut().enumerate() {
            *d = src[2 * j];
        }
        h /= 2;
    }
    tw
}

/// `v[i] *= c`.
fn scale(v: &mut [Fr], c: Fr) {
    par::for_each_chunk_mut(v, PAR_CHUNK, |_, ch| {
        for x in ch {
            *x *= c;
        }
    });
}

/// `v[i] *= c * g^i`.
fn mul_by_powers(v: &mut [Fr], c: Fr, g: Fr) {
    par::for_each_chunk_mut(v, PAR_CHUNK, |ci, ch| {
        let mut p = c * g.pow([(ci * PAR_CHUNK) as u64]);
        for x in ch {
            *x *= p;
            p *= g;
        }
    });
}

/// In-place bit-reversal permutation of a power-of-two-length slice.
pub(crate) fn bit_reverse(v: &mut [Fr]) {
    let n = v.len();
    if n <= 2 {
        return;
    }
    let shift = usize::BITS - n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> shift;
        if i < j {
            v.swap(i, j);
        }
    }
}

/// Reference DFT, `O(n^2)`: `out[k] = sum_j values[j] * omega^(j k)`.
pub fn naive_dft(values: &[Fr], omega: Fr) -> Vec<Fr> {
    let n = values.len();
    let mut out = Vec::with_capacity(n);
    let mut wk = Fr::one();
    for _ in 0..n {
        out.push(naive_evaluate(values, wk));
        wk *= omega;
    }
    out
}

/// Reference polynomial evaluation (Horner): `sum_j coeffs[j] * x^j`.
pub fn naive_evaluate(coeffs: &[Fr], x: Fr) -> Fr {
    coeffs.iter().rev().fold(Fr::zero(), |acc, c| acc * x + c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;
    use rand::SeedableRng;

    /// The portable butterflies (what CPUs without IFMA run) against the
    /// naive DFT and, at sizes past the cache block, against the default path.
    #[test]
    fn portable_path_matches() {
        let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(21);
        for log in [1u32, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17] {
            let n = 1usize << log;
            let x: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
            let portable = Domain::build(n, Fr::GENERATOR, false).unwrap();
            assert!(!portable.uses_ifma());
            let default = Domain::new(n).unwrap();
            let y = portable.fft(&x).unwrap();
            if log <= 8 {
                assert_eq!(y, naive_dft(&x, portable.group_gen()), "2^{log}");
            }
            assert_eq!(y, default.fft(&x).unwrap(), "2^{log}");
            assert_eq!(portable.ifft(&y).unwrap(), x);
            let c = portable.coset_fft(&x).unwrap();
            assert_eq!(c, default.coset_fft(&x).unwrap());
            assert_eq!(portable.coset_ifft(&c).unwrap(), x);
        }
    }
}
