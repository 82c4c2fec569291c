//! A Groth16 prover from a snarkjs `.zkey` and a full witness, on the MSMs
//! and FFTs of `depin-prover-core`; its proofs are arkworks' and verify
//! with snarkjs, with the Solidity verifiers and with `ark_groth16`.
//!
//! A `.zkey`'s `H` section is built for snarkjs's witness map (rapidsnark's
//! too), not arkworks': with `n` the domain size, `omega` its root of unity
//! and `w` a root of unity of order `2n` (`w^2 = omega`):
//!
//! 1. `a_c = sum A[c][i] z_i`, `b_c = sum B[c][i] z_i` over the
//!    coefficient section, for every QAP row `c < n`, and `c_c = a_c b_c`
//!    (C is not stored: for a satisfying witness it is `A z * B z`);
//! 2. interpolate `a, b, c` on the domain (inverse FFTs) and evaluate them
//!    at the odd points `w^(2j+1) = w * omega^j` (FFTs of the coefficients
//!    times `w^k`: a coset FFT with offset `w`);
//! 3. `p_j = a_j b_j - c_j` there. `P = A(x) B(x) - C(x)` has degree at
//!    most `2n - 2` and vanishes on the domain (the even points of the
//!    domain of `2n`), so `P(tau) = sum_j p_j L'_(2j+1)(tau)` with `L'`
//!    the Lagrange basis of `2n`; as `P = h Z`, the `H` section
//!    `[L'_(2j+1)(tau) / delta]_1` turns `p` into `[h(tau) Z(tau) /
//!    delta]_1` with no division by `Z`.
//!
//! The proof is then `A = alpha + sum z_i A_i + r delta`, `B = beta + sum
//! z_i B2_i + s delta` (and `B1` in G1), `C = sum_{private} z_i C_i + sum
//! p_j H_j + s A + r B1 - r s delta` (snarkjs's `groth16 prove`). The
//! [`ZkeyProver`] builds the coefficient rows and the FFT domain once per
//! key; each proof is the witness map and five MSMs.

use std::time::{Duration, Instant};

use ark_bn254::{Bn254, Fr, G1Projective, G2Projective};
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{FftField, One, UniformRand, Zero};
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof};
use depin_prover_core::fft::{Domain, FftError};
use depin_prover_core::msm::{msm_g1, msm_g2, MsmError};
use depin_prover_core::par;
use rand::RngCore;

use crate::zkey::Zkey;

/// Field elements per parallel task of the element-wise passes.
const ELEMENTS_PER_TASK: usize = 1 << 12;

/// Why a proof could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The witness has the wrong number of values.
    #[error("the witness has {found} values, the key {expected} wires")]
    WitnessLength {
        /// The key's wires.
        expected: usize,
        /// The witness's values.
        found: usize,
    },
    /// The witness's first value is not one.
    #[error("the witness's first value (the constant wire) is not one")]
    ConstantNotOne,
    /// The domain is larger than the FFT supports.
    #[error(transparent)]
    Fft(#[from] FftError),
    /// An MSM was refused.
    #[error(transparent)]
    Msm(#[from] MsmError),
    /// The proof does not verify against the key (the witness does not
    /// satisfy the circuit, or the key is not sound).
    #[error("the proof does not verify against the key's verifying key (does the witness satisfy the circuit?)")]
    NotVerified,
}

/// Where a proof's time went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProveTimings {
    /// `A z`, `B z` and the six FFTs.
    pub witness_map: Duration,
    /// The MSMs and the assembly.
    pub msm: Duration,
}

/// One row's terms: `(wire, coefficient)`.
type Row = Vec<(u32, Fr)>;

/// The Groth16 prover of one `.zkey` (`Send + Sync`; one per key).
#[derive(Debug)]
pub struct ZkeyProver {
    zkey: Zkey,
    /// `A` and `B` rows, `n` each.
    rows: [Vec<Row>; 2],
    domain: Domain,
    pvk: PreparedVerifyingKey<Bn254>,
}

impl ZkeyProver {
    /// The prover of `zkey`: its coefficient rows and the FFT domain (with
    /// the odd points of the double domain as its coset).
    pub fn new(zkey: Zkey) -> Result<Self, ProveError> {
        let n = zkey.header.domain_size as usize;
        let w = Fr::get_root_of_unity(2 * n as u64).ok_or(FftError::UnsupportedSize(2 * n))?;
        let domain = Domain::with_coset_offset(n, w)?;
        let mut rows: [Vec<Row>; 2] = [vec![Vec::new(); n], vec![Vec::new(); n]];
        for c in &zkey.coeffs {
            // Matrix, row and wire were range-checked when the key was read.
            rows[c.matrix as usize][c.constraint as usize].push((c.signal, c.value));
        }
        let pvk = ark_groth16::prepare_verifying_key(&zkey.verifying_key());
        Ok(ZkeyProver {
            zkey,
            rows,
            domain,
            pvk,
        })
    }

    /// The key.
    pub fn zkey(&self) -> &Zkey {
        &self.zkey
    }

    /// The prepared verifying key.
    pub fn prepared_verifying_key(&self) -> &PreparedVerifyingKey<Bn254> {
        &self.pvk
    }

    fn check_witness(&self, z: &[Fr]) -> Result<(), ProveError> {
        let expected = self.zkey.header.n_vars as usize;
        if z.len() != expected {
            return Err(ProveError::WitnessLength {
                expected,
                found: z.len(),
            });
        }
        if !z[0].is_one() {
            return Err(ProveError::ConstantNotOne);
        }
        Ok(())
    }

    /// snarkjs's witness map: `A z * B z - C z` at the odd points of the
    /// double domain (see the module docs).
    pub fn witness_map(&self, z: &[Fr]) -> Result<Vec<Fr>, ProveError> {
        self.check_witness(z)?;
        let eval = |rows: &[Row]| -> Vec<Fr> {
            par::map(rows.len(), |r| {
                rows[r]
                    .iter()
                    .fold(Fr::zero(), |acc, (w, k)| acc + *k * z[*w as usize])
            })
        };
        let mut a = eval(&self.rows[0]);
        let mut b = eval(&self.rows[1]);
        let mut c: Vec<Fr> = par::map(a.len(), |i| a[i] * b[i]);
        let d = &self.domain;
        let to_odd = |v: &mut Vec<Fr>| -> Result<(), FftError> {
            d.ifft_in_place(v)?;
            d.coset_fft_in_place(v)
        };
        let ((ra, rb), rc) = par::join(
            || par::join(|| to_odd(&mut a), || to_odd(&mut b)),
            || to_odd(&mut c),
        );
        ra?;
        rb?;
        rc?;
        par::for_each_chunk_mut(&mut a, ELEMENTS_PER_TASK, |i, x| {
            let first = i * ELEMENTS_PER_TASK;
            for (j, x) in x.iter_mut().enumerate() {
                *x = *x * b[first + j] - c[first + j];
            }
        });
        Ok(a)
    }

    /// A proof of witness `z` (one value per wire, the one first) with
    /// blinding drawn from `rng`, checked against the key's verifying key
    /// before it is returned.
    pub fn prove(&self, z: &[Fr], rng: &mut impl RngCore) -> Result<Proof<Bn254>, ProveError> {
        self.prove_timed(z, rng).map(|(p, _)| p)
    }

    /// [`ZkeyProver::prove`], also reporting where the time went.
    pub fn prove_timed(
        &self,
        z: &[Fr],
        rng: &mut impl RngCore,
    ) -> Result<(Proof<Bn254>, ProveTimings), ProveError> {
        let r = Fr::rand(rng);
        let s = Fr::rand(rng);
        let start = Instant::now();
        let p = self.witness_map(z)?;
        let witness_map = start.elapsed();
        let start = Instant::now();
        let proof = self.prove_with_blinding(z, &p, r, s)?;
        let msm = start.elapsed();
        let public = &z[1..=self.zkey.header.n_public as usize];
        if !Groth16::<Bn254>::verify_proof(&self.pvk, &proof, public).unwrap_or(false) {
            return Err(ProveError::NotVerified);
        }
        Ok((proof, ProveTimings { witness_map, msm }))
    }

    /// The proof of `z` from its witness map `p` with blinding `r, s`
    /// (deterministic; not verified).
    pub fn prove_with_blinding(
        &self,
        z: &[Fr],
        p: &[Fr],
        r: Fr,
        s: Fr,
    ) -> Result<Proof<Bn254>, ProveError> {
        self.check_witness(z)?;
        let k = &self.zkey;
        let h = &k.header;
        let private = &z[h.n_public as usize + 1..];
        let (g1, b2) = par::join(
            || -> Result<_, MsmError> {
                let a = sparse_msm(&k.a, z, msm_g1)?;
                let b1 = sparse_msm(&k.b1, z, msm_g1)?;
                let c = sparse_msm(&k.c, private, msm_g1)?;
                let hh = sparse_msm(&k.h, p, msm_g1)?;
                Ok((a, b1, c, hh))
            },
            || sparse_msm(&k.b2, z, msm_g2),
        );
        let (a_acc, b1_acc, c_acc, h_acc) = g1?;
        let b2_acc: G2Projective = b2?;
        let delta_1: G1Projective = h.delta_1.into_group();
        let a = a_acc + h.alpha_1 + delta_1 * r;
        let b1 = b1_acc + h.beta_1 + delta_1 * s;
        let b = b2_acc + h.beta_2 + h.delta_2 * s;
        let c = c_acc + h_acc + a * s + b1 * r - delta_1 * (r * s);
        let [a, c] = {
            let v = G1Projective::normalize_batch(&[a, c]);
            [v[0], v[1]]
        };
        Ok(Proof {
            a,
            b: b.into_affine(),
            c,
        })
    }
}

/// `sum scalars[i] * bases[i]`, leaving out zero scalars and points at
/// infinity and adding the bases of unit scalars directly.
fn sparse_msm<P, M>(bases: &[Affine<P>], scalars: &[Fr], msm: M) -> Result<Projective<P>, MsmError>
where
    P: SWCurveConfig<ScalarField = Fr>,
    M: Fn(&[Affine<P>], &[Fr]) -> Result<Projective<P>, MsmError>,
{
    if bases.len() != scalars.len() {
        return Err(MsmError::LengthMismatch {
            bases: bases.len(),
            scalars: scalars.len(),
        });
    }
    let one = Fr::one();
    let mut unit = Projective::<P>::zero();
    let mut rest_bases = Vec::with_capacity(bases.len());
    let mut rest_scalars = Vec::with_capacity(bases.len());
    for (p, k) in bases.iter().zip(scalars) {
        if k.is_zero() || p.is_zero() {
            continue;
        }
        if *k == one {
            unit += p;
        } else {
            rest_bases.push(*p);
            rest_scalars.push(*k);
        }
    }
    Ok(unit + msm(&rest_bases, &rest_scalars)?)
}

/// Verifies a proof with arkworks against `vk`'s prepared form.
pub fn verify(pvk: &PreparedVerifyingKey<Bn254>, proof: &Proof<Bn254>, public: &[Fr]) -> bool {
    Groth16::<Bn254>::verify_proof(pvk, proof, public).unwrap_or(false)
}
