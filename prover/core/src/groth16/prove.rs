//! The witness map (QAP quotient) and the proof's multi-scalar
//! multiplications.

use std::time::{Duration, Instant};

use ark_bn254::{Bn254, Fr, G1Projective, G2Projective};
use ark_ec::short_weierstrass::{Affine, Bucket, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{Field, One, Zero};
use ark_groth16::Proof;
use ark_relations::gr1cs::ConstraintSynthesizer;

use super::packed_key::ProvingKeyRef;
use super::r1cs::{first_unsatisfied, R1cs};
use super::witness::{synthesize_witness, Assignment};
use super::Groth16Error;
use crate::fft::Domain;
use crate::msm::{msm_g1, msm_g2, MsmError};
use crate::par;

/// Elements per parallel task in element-wise passes.
const PAR_CHUNK: usize = 1 << 12;

/// Points per parallel task when summing the bases of unit scalars.
const SUM_CHUNK: usize = 1 << 12;

/// Where a proof's time went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProveTimings {
    /// Prove-mode synthesis (the assignment); zero when the assignment was
    /// given.
    pub witness: Duration,
    /// The witness map: `A z`, `B z`, `C z`, the satisfiability check and
    /// the seven FFTs.
    pub witness_map: Duration,
    /// The multi-scalar multiplications and the proof's assembly.
    pub msm: Duration,
}

/// The Groth16 prover of one circuit shape: its R1CS matrices and its QAP
/// domain, built once and shared by every proof (`Send + Sync`). The
/// proving key is passed to each proof, so one key in memory serves any
/// number of provers and callers.
#[derive(Debug, Clone)]
pub struct CircuitProver {
    r1cs: R1cs,
    domain: Domain,
    /// `1 / Z(g)` where `Z(x) = x^n - 1` and `g` the coset offset: `Z` is
    /// constant on the coset `g * <omega>`.
    vanishing_inv: Fr,
}

impl CircuitProver {
    /// The prover of `r1cs`, on the domain of `num_constraints +
    /// num_instance` elements rounded up to a power of two (as arkworks'
    /// `LibsnarkReduction`: a row `z_i` per instance variable is appended
    /// to A).
    pub fn new(r1cs: R1cs) -> Result<Self, Groth16Error> {
        let rows = r1cs
            .num_constraints()
            .checked_add(r1cs.num_instance())
            .ok_or(Groth16Error::TooLarge)?;
        let size = rows
            .checked_next_power_of_two()
            .ok_or(Groth16Error::TooLarge)?;
        let domain = Domain::new(size)?;
        let g = domain.coset_offset();
        let vanishing_inv = (g.pow([size as u64]) - Fr::one())
            .inverse()
            .ok_or(Groth16Error::TooLarge)?;
        Ok(CircuitProver {
            r1cs,
            domain,
            vanishing_inv,
        })
    }

    /// [`CircuitProver::new`] on [`R1cs::from_circuit`] (setup-mode
    /// synthesis: `circuit`'s witness values are not used).
    pub fn from_circuit<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<Self, Groth16Error> {
        Self::new(R1cs::from_circuit(circuit)?)
    }

    /// The matrices.
    pub fn r1cs(&self) -> &R1cs {
        &self.r1cs
    }

    /// The QAP domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Checks that `pk` was made for this circuit shape: its query lengths
    /// against the variable, instance and domain sizes.
    pub fn check_key<'k>(&self, pk: impl Into<ProvingKeyRef<'k>>) -> Result<(), Groth16Error> {
        let pk = pk.into();
        let r = &self.r1cs;
        let vars = r.num_variables();
        let checks = [
            ("gamma_abc_g1", pk.gamma_abc_g1.len(), r.num_instance()),
            ("a_query", pk.a_query.len(), vars),
            ("b_g1_query", pk.b_g1_query.len(), vars),
            ("b_g2_query", pk.b_g2_query.len(), vars),
            ("l_query", pk.l_query.len(), r.num_witness()),
            ("h_query", pk.h_query.len(), self.domain.size() - 1),
        ];
        for (query, found, expected) in checks {
            if found != expected {
                return Err(Groth16Error::KeyMismatch {
                    query,
                    found,
                    expected,
                });
            }
        }
        Ok(())
    }

    /// The coefficients of `h(x) = (A(x) B(x) - C(x)) / Z(x)` (the QAP
    /// quotient, `n` coefficients, the last zero) for the full assignment
    /// `z`, exactly as arkworks' `LibsnarkReduction::witness_map_from_matrices`:
    /// evaluate `A z`, `B z`, `C z` on the domain (A with the instance rows
    /// appended), interpolate (inverse FFT), evaluate on the coset `g *
    /// <omega>` (coset FFT), divide `A B - C` there by the constant
    /// `Z(g * omega^i) = g^n - 1`, and interpolate back from the coset.
    ///
    /// Refuses an assignment that does not satisfy the constraints
    /// ([`Groth16Error::Unsatisfied`] with the first failing row).
    pub fn witness_map(&self, z: &[Fr]) -> Result<Vec<Fr>, Groth16Error> {
        let r = &self.r1cs;
        r.check_assignment(z)?;
        let n = self.domain.size();
        let m = r.num_constraints();
        let ni = r.num_instance();
        let mut a = vec![Fr::zero(); n];
        let mut b = vec![Fr::zero(); n];
        let mut c = vec![Fr::zero(); n];
        r.evaluate_into(z, &mut a, &mut b, &mut c);
        if let Some(row) = first_unsatisfied(&a[..m], &b[..m], &c[..m]) {
            return Err(Groth16Error::Unsatisfied(row));
        }
        a[m..m + ni].copy_from_slice(&z[..ni]);
        let d = &self.domain;
        let ((ra, rb), rc) = par::join(
            || par::join(|| to_coset(d, &mut a), || to_coset(d, &mut b)),
            || to_coset(d, &mut c),
        );
        ra?;
        rb?;
        rc?;
        let zinv = self.vanishing_inv;
        par::for_each_chunk_pair_mut(&mut a, &mut b, PAR_CHUNK, |i, x, y| {
            let cc = &c[i * PAR_CHUNK..i * PAR_CHUNK + x.len()];
            for ((x, y), c) in x.iter_mut().zip(y.iter()).zip(cc) {
                *x = (*x * y - c) * zinv;
            }
        });
        drop(b);
        drop(c);
        d.coset_ifft_in_place(&mut a)?;
        Ok(a)
    }

    /// The proof for `assignment` with blinding `r, s` (arkworks'
    /// `create_proof_with_reduction` with the same `r, s` gives the same
    /// proof).
    pub fn prove<'k>(
        &self,
        pk: impl Into<ProvingKeyRef<'k>>,
        assignment: &Assignment,
        r: Fr,
        s: Fr,
    ) -> Result<Proof<Bn254>, Groth16Error> {
        self.prove_timed(pk, assignment, r, s).map(|(p, _)| p)
    }

    /// [`CircuitProver::prove`], also reporting where the time went.
    pub fn prove_timed<'k>(
        &self,
        pk: impl Into<ProvingKeyRef<'k>>,
        assignment: &Assignment,
        r: Fr,
        s: Fr,
    ) -> Result<(Proof<Bn254>, ProveTimings), Groth16Error> {
        let pk = pk.into();
        self.check_key(pk)?;
        if assignment.num_instance() != self.r1cs.num_instance() {
            return Err(Groth16Error::InstanceCount {
                expected: self.r1cs.num_instance(),
                found: assignment.num_instance(),
            });
        }
        let start = Instant::now();
        let h = self.witness_map(assignment.z())?;
        let witness_map = start.elapsed();
        let start = Instant::now();
        let proof = self.prove_with_quotient(pk, assignment, &h, r, s)?;
        Ok((
            proof,
            ProveTimings {
                witness: Duration::ZERO,
                witness_map,
                msm: start.elapsed(),
            },
        ))
    }

    /// The proof for `assignment` whose QAP quotient
    /// [`CircuitProver::witness_map`] gave as `h` (the MSMs only; for
    /// callers that check something between the two steps).
    pub fn prove_with_quotient<'k>(
        &self,
        pk: impl Into<ProvingKeyRef<'k>>,
        assignment: &Assignment,
        h: &[Fr],
        r: Fr,
        s: Fr,
    ) -> Result<Proof<Bn254>, Groth16Error> {
        let pk = pk.into();
        self.check_key(pk)?;
        self.r1cs.check_assignment(assignment.z())?;
        if assignment.num_instance() != self.r1cs.num_instance() {
            return Err(Groth16Error::InstanceCount {
                expected: self.r1cs.num_instance(),
                found: assignment.num_instance(),
            });
        }
        if h.len() != self.domain.size() {
            return Err(Groth16Error::QuotientLength {
                expected: self.domain.size(),
                found: h.len(),
            });
        }
        assemble(&pk, assignment.z(), assignment.num_instance(), h, r, s)
    }

    /// Synthesizes `circuit`'s assignment ([`synthesize_witness`]) and
    /// proves it.
    pub fn prove_circuit<'k, C: ConstraintSynthesizer<Fr>>(
        &self,
        pk: impl Into<ProvingKeyRef<'k>>,
        circuit: C,
        r: Fr,
        s: Fr,
    ) -> Result<(Proof<Bn254>, ProveTimings), Groth16Error> {
        let start = Instant::now();
        let assignment = synthesize_witness(circuit)?;
        let witness = start.elapsed();
        let (proof, mut t) = self.prove_timed(pk, &assignment, r, s)?;
        t.witness = witness;
        Ok((proof, t))
    }
}

/// Interpolates `v` (evaluations on the domain) and evaluates it on the coset.
fn to_coset(d: &Domain, v: &mut [Fr]) -> Result<(), Groth16Error> {
    d.ifft_in_place(v)?;
    d.coset_fft_in_place(v)?;
    Ok(())
}

/// Groth16's proof from the assignment `z` and the quotient `h`:
///
/// * `A = alpha + sum_i z_i a_i + r delta` (G1),
/// * `B = beta + sum_i z_i b_i + s delta` (G2, and in G1 for `C`),
/// * `C = sum_{i >= l} z_i l_i + sum_j h_j h_j(tau) + s A + r B_1 - r s delta`.
///
/// The G1 sums and the G2 sum run concurrently.
fn assemble(
    pk: &ProvingKeyRef<'_>,
    z: &[Fr],
    num_instance: usize,
    h: &[Fr],
    r: Fr,
    s: Fr,
) -> Result<Proof<Bn254>, Groth16Error> {
    let aux = &z[num_instance..];
    let h = &h[..pk.h_query.len()];
    let (g1, g2) = par::join(
        || -> Result<_, MsmError> {
            let a = sparse_msm(pk.a_query, z, msm_g1)?;
            let b1 = sparse_msm(pk.b_g1_query, z, msm_g1)?;
            let l = sparse_msm(pk.l_query, aux, msm_g1)?;
            let hh = sparse_msm(pk.h_query, h, msm_g1)?;
            Ok((a, b1, l, hh))
        },
        || sparse_msm(pk.b_g2_query, z, msm_g2),
    );
    let (a_acc, b1_acc, l_acc, h_acc) = g1?;
    let b2_acc: G2Projective = g2?;

    let delta_g1: G1Projective = pk.delta_g1.into_group();
    let a = a_acc + pk.alpha_g1 + delta_g1 * r;
    let b1 = b1_acc + pk.beta_g1 + delta_g1 * s;
    let b2 = b2_acc + pk.beta_g2 + pk.delta_g2 * s;
    let c = a * s + b1 * r - delta_g1 * (r * s) + l_acc + h_acc;
    let [a, c] = {
        let v = G1Projective::normalize_batch(&[a, c]);
        [v[0], v[1]]
    };
    Ok(Proof {
        a,
        b: b2.into_affine(),
        c,
    })
}

/// `sum_i scalars[i] * bases[i]` with the terms that contribute nothing
/// (zero scalar or base at infinity) left out and those with scalar one
/// summed directly; the rest goes to `msm`. Witnesses are mostly bits, so
/// this often leaves a fraction of the terms to the MSM.
fn sparse_msm<P, M>(bases: &[Affine<P>], scalars: &[Fr], msm: M) -> Result<Projective<P>, MsmError>
where
    P: SWCurveConfig<ScalarField = Fr>,
    M: Fn(&[Affine<P>], &[Fr]) -> Result<Projective<P>, MsmError> + Sync,
{
    if bases.len() != scalars.len() {
        return Err(MsmError::LengthMismatch {
            bases: bases.len(),
            scalars: scalars.len(),
        });
    }
    let one = Fr::one();
    let mut ones: Vec<Affine<P>> = Vec::new();
    let mut rest_bases: Vec<Affine<P>> = Vec::with_capacity(bases.len());
    let mut rest_scalars: Vec<Fr> = Vec::with_capacity(bases.len());
    for (p, k) in bases.iter().zip(scalars) {
        if k.is_zero() || p.is_zero() {
            continue;
        }
        if *k == one {
            ones.push(*p);
        } else {
            rest_bases.push(*p);
            rest_scalars.push(*k);
        }
    }
    let (unit, general) = par::join(|| sum_points(&ones), || msm(&rest_bases, &rest_scalars));
    Ok(unit + general?)
}

/// `sum_i points[i]`, chunks summed in parallel (XYZZ mixed additions).
fn sum_points<P: SWCurveConfig>(points: &[Affine<P>]) -> Projective<P> {
    let chunks = points.len().div_ceil(SUM_CHUNK);
    par::map(chunks, |i| {
        let end = ((i + 1) * SUM_CHUNK).min(points.len());
        let mut acc = Bucket::<P>::ZERO;
        for p in &points[i * SUM_CHUNK..end] {
            acc += p;
        }
        Projective::<P>::from(acc)
    })
    .into_iter()
    .fold(Projective::<P>::zero(), |a, b| a + b)
}
