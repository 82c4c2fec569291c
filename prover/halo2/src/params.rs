//! KZG parameters: the powers of a secret `s` in G1 (`[s^i] G1`, `i < 2^k`)
//! and `[s] G2`, shared by every statement (a statement of `2^k'` rows uses
//! the first `2^k'` powers).
//!
//! [`dev_params`] draws `s` from a seeded RNG: anyone who knows the seed can
//! forge proofs, so it is for development only, behind the same explicit
//! insecure flag (`--insecure-dev-keys`) as Groth16's development keys.
//! Importing the powers of a real ceremony is the trusted setup's work.
//!
//! Files are halo2's own encoding (`ParamsKZG::write`: `k`, then the G1
//! powers in both bases and the G2 elements, uncompressed); reading checks
//! every point.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use halo2_base::halo2_proofs::poly::commitment::Params;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use halo2_base::halo2_proofs::arithmetic::parallelize;
use halo2_base::halo2_proofs::halo2curves::bn256::{G2Affine, G1};
use halo2_base::halo2_proofs::halo2curves::ff::{BatchInvert, Field, PrimeField};
use halo2_base::halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_base::halo2_proofs::halo2curves::group::{Curve, Group};

use crate::{Bn256, Fr, G1Affine};

/// The largest `k` this prover makes or reads parameters for (`2^24` rows).
pub const MAX_K: u32 = 24;

/// Why parameters could not be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// `k` outside `1..=MAX_K`.
    #[error("k = {0} is outside 1..={MAX_K}")]
    K(u32),
    /// The parameters have fewer rows than a statement needs.
    #[error("the parameters have k = {have}, the statement needs k = {need}")]
    TooSmall {
        /// The parameters' `k`.
        have: u32,
        /// The statement's.
        need: u32,
    },
    /// A file could not be read or written, or holds no valid parameters.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Development parameters for `2^k` rows from `seed`: insecure (see the
/// module docs), deterministic, and equal to halo2's
/// `ParamsKZG::setup(k, ChaCha20Rng::seed_from_u64(seed))` (the same secret
/// drawn the same way; tested), computed about ten times faster: the
/// powers `s^i` and the Lagrange coefficients `L_i(s)` as field elements
/// (one batch inversion), then every point as a fixed-base multiplication
/// of the generator over a table of its 8-bit windows.
pub fn dev_params(k: u32, seed: u64) -> Result<ParamsKZG<Bn256>, ParamsError> {
    if k == 0 || k > MAX_K {
        return Err(ParamsError::K(k));
    }
    let n = 1usize << k;
    let s = Fr::random(ChaCha20Rng::seed_from_u64(seed));

    // s^i.
    let mut powers = vec![Fr::ONE; n];
    parallelize(&mut powers, |chunk, start| {
        let mut p = s.pow_vartime([start as u64]);
        for x in chunk.iter_mut() {
            *x = p;
            p *= s;
        }
    });

    // L_i(s) = (s^n - 1) / n * w^i / (s - w^i), w the n-th root of unity.
    let mut omega = Fr::ROOT_OF_UNITY;
    for _ in k..Fr::S {
        omega = omega.square();
    }
    let mut roots = vec![Fr::ONE; n];
    parallelize(&mut roots, |chunk, start| {
        let mut r = omega.pow_vartime([start as u64]);
        for x in chunk.iter_mut() {
            *x = r;
            r *= omega;
        }
    });
    let n_inv = Option::<Fr>::from(Fr::from(n as u64).invert()).unwrap_or(Fr::ZERO);
    let multiplier = (s.pow_vartime([n as u64]) - Fr::ONE) * n_inv;
    let mut lagrange: Vec<Fr> = roots.iter().map(|r| s - r).collect();
    parallelize(&mut lagrange, |chunk, _| {
        chunk.iter_mut().batch_invert();
    });
    parallelize(&mut lagrange, |chunk, start| {
        for (i, x) in chunk.iter_mut().enumerate() {
            *x *= multiplier * roots[start + i];
        }
    });

    let table = GeneratorTable::new();
    let g = table.mul_all(&powers);
    let g_lagrange = table.mul_all(&lagrange);
    let g2 = G2Affine::generator();
    let s_g2 = (g2 * s).to_affine();
    // from_parts is a method; a one-row setup gives the receiver.
    let seed_params = ParamsKZG::<Bn256>::setup(1, ChaCha20Rng::seed_from_u64(seed));
    Ok(seed_params.from_parts(k, g, Some(g_lagrange), g2, s_g2))
}

/// Multiples of the G1 generator by 8-bit windows: `table[w][d] = d *
/// 256^w * G`.
struct GeneratorTable {
    windows: Vec<Vec<G1Affine>>,
}

impl GeneratorTable {
    const WINDOWS: usize = 32;

    fn new() -> Self {
        let mut base = G1::generator();
        let windows = (0..Self::WINDOWS)
            .map(|_| {
                let mut row = vec![G1::identity(); 256];
                for d in 1..256 {
                    row[d] = row[d - 1] + base;
                }
                base = row[255] + base;
                let mut affine = vec![G1Affine::identity(); 256];
                G1::batch_normalize(&row, &mut affine);
                affine
            })
            .collect();
        GeneratorTable { windows }
    }

    /// `x * G` for every `x`, in affine form.
    fn mul_all(&self, scalars: &[Fr]) -> Vec<G1Affine> {
        let mut projective = vec![G1::identity(); scalars.len()];
        parallelize(&mut projective, |chunk, start| {
            for (i, out) in chunk.iter_mut().enumerate() {
                let bytes = scalars[start + i].to_repr();
                let mut acc = G1::identity();
                for (row, digit) in self.windows.iter().zip(bytes.as_ref()) {
                    acc += row[usize::from(*digit)];
                }
                *out = acc;
            }
        });
        let mut affine = vec![G1Affine::identity(); scalars.len()];
        parallelize(&mut affine, |chunk, start| {
            G1::batch_normalize(&projective[start..start + chunk.len()], chunk);
        });
        affine
    }
}

/// `params` cut down to `2^k` rows (a statement's own size).
pub fn downsized(params: &ParamsKZG<Bn256>, k: u32) -> Result<ParamsKZG<Bn256>, ParamsError> {
    if k == 0 || k > MAX_K {
        return Err(ParamsError::K(k));
    }
    if params.k() < k {
        return Err(ParamsError::TooSmall {
            have: params.k(),
            need: k,
        });
    }
    let mut small = params.clone();
    if k < params.k() {
        small.downsize(k);
    }
    Ok(small)
}

/// Writes `params` to `path` (written beside, then renamed).
pub fn write_params(params: &ParamsKZG<Bn256>, path: &Path) -> Result<(), ParamsError> {
    let io = |source| ParamsError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("partial");
    let mut w = BufWriter::new(File::create(&tmp).map_err(io)?);
    params.write(&mut w).map_err(io)?;
    w.flush().map_err(io)?;
    w.into_inner()
        .map_err(|e| io(e.into_error()))?
        .sync_all()
        .map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Reads parameters from `path`, checking every point, and refuses a `k`
/// above [`MAX_K`].
pub fn read_params(path: &Path) -> Result<ParamsKZG<Bn256>, ParamsError> {
    let io = |source| ParamsError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut r = BufReader::new(File::open(path).map_err(io)?);
    // The first four bytes are k: checked before halo2 allocates 2^k points.
    let mut k = [0u8; 4];
    r.read_exact(&mut k).map_err(io)?;
    let k = u32::from_le_bytes(k);
    if k == 0 || k > MAX_K {
        return Err(ParamsError::K(k));
    }
    r.seek(SeekFrom::Start(0)).map_err(io)?;
    let params = ParamsKZG::<Bn256>::read(&mut r).map_err(io)?;
    let mut rest = [0u8; 1];
    if r.read(&mut rest).map_err(io)? != 0 {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "trailing bytes after the parameters",
        )));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_params_equal_halo2s_setup() {
        for k in [1u32, 4, 9] {
            let fast = dev_params(k, 0xdeb1).expect("params");
            let slow = ParamsKZG::<Bn256>::setup(k, ChaCha20Rng::seed_from_u64(0xdeb1));
            let (mut a, mut b) = (Vec::new(), Vec::new());
            fast.write(&mut a).expect("write");
            slow.write(&mut b).expect("write");
            assert!(a == b, "k = {k}");
        }
        assert!(matches!(dev_params(0, 1), Err(ParamsError::K(0))));
        assert!(matches!(dev_params(MAX_K + 1, 1), Err(ParamsError::K(_))));
    }
}
