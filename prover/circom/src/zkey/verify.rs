//! Verifying a phase-2 ceremony: a `.zkey` against its initial key
//! ([`verify_from_init`]) or against the circuit's `.r1cs` and the `.ptau`
//! ([`verify_from_r1cs`], which makes the initial key first).
//!
//! The checks, in order, each a [`VerifyStep`] named when it fails:
//!
//! 1. the two keys have the same curve and circuit sizes;
//! 2. for each contribution: its transcript hash is the hash of the
//!    circuit hash, the earlier contributions and its key's G1 points; its
//!    key proves knowledge of its secret (`e([s]_1, [s' x]_2) = e([s x]_1,
//!    [s']_2)` with `[s']_2` hashed from the transcript); its `delta_after`
//!    is the previous delta times that secret (`e(delta_prev, [s' x]_2) =
//!    e(delta_after, [s']_2)`); a beacon's key is the one its beacon
//!    gives;
//! 3. `alpha_1, beta_1, beta_2, gamma_2` are the initial key's; `delta_1`
//!    is the last contribution's `delta_after`; `delta_2` has the same
//!    discrete log (`e(g1, delta_2) = e(delta_1, g2)`);
//! 4. the circuit hashes are equal;
//! 5. `IC`, the coefficients, `A`, `B1`, `B2` equal the initial key's;
//! 6. `C` and `H` have their sizes and are the initial key's divided by
//!    the same delta: for random `r_i`, `e(sum r_i X_i, delta_2) =
//!    e(sum r_i X'_i, delta'_2)` (`X` the initial points, `X'` the final).
//!
//! On success the [`Transcript`] lists every contribution with its hash.

use std::fmt;

use ark_bn254::{Bn254, Fr, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::One;
use depin_prover_core::msm::msm_g1;
use rand::rngs::OsRng;
use rand::RngCore;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::contribute::{beacon_key, contribution_hash, transcript_prefix};
use super::{Zkey, ZkeyError};
use crate::blake2b::{format_hash, DIGEST_LEN};
use crate::encoding::g1_uncompressed;
use crate::ptau::Ptau;
use crate::r1cs::R1cs;
use crate::rng::hash_to_g2;

/// A check of [`verify_from_init`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyStep {
    /// The keys' sizes (wires, public wires, domain).
    CircuitShape,
    /// Contribution `i`'s transcript hash (numbered from 1).
    Transcript(usize),
    /// Contribution `i`'s proof of knowledge of its secret.
    ProofOfKnowledge(usize),
    /// Contribution `i`'s `delta_after` against the previous delta.
    DeltaChain(usize),
    /// Beacon contribution `i`'s key against its beacon.
    BeaconKey(usize),
    /// `alpha_1`.
    Alpha,
    /// `beta_1` and `beta_2`.
    Beta,
    /// `gamma_2`.
    Gamma,
    /// `delta_1` against the last contribution.
    Delta1,
    /// `delta_2` against `delta_1`.
    Delta2,
    /// The circuit hash.
    CircuitHash,
    /// Section 3.
    IcSection,
    /// Section 4.
    CoefficientsSection,
    /// Section 5.
    ASection,
    /// Section 6.
    B1Section,
    /// Section 7.
    B2Section,
    /// Section 8 (`C`, arkworks' `l_query`).
    CSection,
    /// Section 9.
    HSection,
}

impl fmt::Display for VerifyStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyStep::CircuitShape => write!(f, "circuit shape"),
            VerifyStep::Transcript(i) => write!(f, "contribution #{i}: transcript"),
            VerifyStep::ProofOfKnowledge(i) => {
                write!(f, "contribution #{i}: proof of knowledge of the secret")
            }
            VerifyStep::DeltaChain(i) => {
                write!(
                    f,
                    "contribution #{i}: delta does not follow the previous one"
                )
            }
            VerifyStep::BeaconKey(i) => write!(f, "contribution #{i}: beacon key"),
            VerifyStep::Alpha => write!(f, "alpha_1"),
            VerifyStep::Beta => write!(f, "beta_1/beta_2"),
            VerifyStep::Gamma => write!(f, "gamma_2"),
            VerifyStep::Delta1 => write!(f, "delta_1"),
            VerifyStep::Delta2 => write!(f, "delta_2"),
            VerifyStep::CircuitHash => write!(f, "circuit hash"),
            VerifyStep::IcSection => write!(f, "IC section"),
            VerifyStep::CoefficientsSection => write!(f, "coefficients section"),
            VerifyStep::ASection => write!(f, "A section"),
            VerifyStep::B1Section => write!(f, "B1 section"),
            VerifyStep::B2Section => write!(f, "B2 section"),
            VerifyStep::CSection => write!(f, "C (L) section"),
            VerifyStep::HSection => write!(f, "H section"),
        }
    }
}

/// One contribution as the transcript lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptEntry {
    /// Its number, from 1.
    pub index: usize,
    /// The contributor's name.
    pub name: Option<String>,
    /// The contribution hash.
    pub hash: [u8; DIGEST_LEN],
    /// For a beacon: the iteration exponent and the beacon hash.
    pub beacon: Option<(u8, Vec<u8>)>,
}

/// A verified ceremony: the circuit hash and every contribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The circuit hash.
    pub cs_hash: [u8; DIGEST_LEN],
    /// The contributions in order.
    pub entries: Vec<TranscriptEntry>,
}

impl Transcript {
    /// The contribution whose hash is `hash` (hex, whitespace allowed, as
    /// contributors publish it), if any.
    pub fn find(&self, hash: &str) -> Option<&TranscriptEntry> {
        let digits: String = hash.chars().filter(|c| !c.is_whitespace()).collect();
        let want = hex::decode(digits.trim_start_matches("0x")).ok()?;
        self.entries.iter().find(|e| e.hash.as_slice() == want)
    }
}

impl fmt::Display for Transcript {
    /// The transcript as snarkjs prints it after a verification: the
    /// circuit hash, then the contributions from the last to the first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", format_hash(&self.cs_hash, Some("Circuit Hash: ")))?;
        for e in self.entries.iter().rev() {
            writeln!(f, "-------------------------")?;
            let title = format!(
                "contribution #{} {}:",
                e.index,
                e.name.as_deref().unwrap_or("")
            );
            writeln!(f, "{}", format_hash(&e.hash, Some(&title)))?;
            if let Some((exp, hash)) = &e.beacon {
                writeln!(f, "Beacon generator: {}", hex::encode(hash))?;
                writeln!(f, "Beacon iterations Exp: {exp}")?;
            }
        }
        write!(f, "-------------------------")
    }
}

fn fail(step: VerifyStep, detail: impl Into<String>) -> ZkeyError {
    ZkeyError::Verify {
        step,
        detail: detail.into(),
    }
}

/// `e(a, d) = e(b, c)` with none of the points zero (snarkjs's
/// `sameRatio(a, b, c, d)`: `b / a = d / c`).
fn same_ratio(a: &G1Affine, b: &G1Affine, c: &G2Affine, d: &G2Affine) -> bool {
    if a.is_zero() || b.is_zero() || c.is_zero() || d.is_zero() {
        return false;
    }
    let lhs = Bn254::multi_pairing([*a, (-b.into_group()).into_affine()], [*d, *c]);
    lhs.0.is_one()
}

/// Checks the contributions of `zkey` against each other (steps 2 of the
/// module docs); returns the transcript entries and the last delta.
pub fn verify_contributions(zkey: &Zkey) -> Result<(Vec<TranscriptEntry>, G1Affine), ZkeyError> {
    let mut delta = G1Affine::generator();
    let mut entries = Vec::new();
    for (i, c) in zkey.mpc.contributions.iter().enumerate() {
        let n = i + 1;
        let mut t = transcript_prefix(zkey, i);
        t.update(&g1_uncompressed(&c.g1_s));
        t.update(&g1_uncompressed(&c.g1_sx));
        if t.finalize() != c.transcript {
            return Err(fail(
                VerifyStep::Transcript(n),
                "the transcript hash is not that of the circuit hash, the earlier contributions and this key",
            ));
        }
        let sp = hash_to_g2(&c.transcript);
        if !same_ratio(&c.g1_s, &c.g1_sx, &sp, &c.g2_spx) {
            return Err(fail(
                VerifyStep::ProofOfKnowledge(n),
                "the key's G1 and G2 points do not have the same ratio",
            ));
        }
        if !same_ratio(&delta, &c.delta_after, &sp, &c.g2_spx) {
            return Err(fail(
                VerifyStep::DeltaChain(n),
                "delta_after is not the previous delta times the key's secret",
            ));
        }
        if let Some((exp, hash)) = &c.beacon {
            let (s, sx) = beacon_key(hash, *exp);
            if s != c.g1_s || sx != c.g1_sx {
                return Err(fail(
                    VerifyStep::BeaconKey(n),
                    "the key is not the one the beacon gives",
                ));
            }
        }
        entries.push(TranscriptEntry {
            index: n,
            name: c.name.clone(),
            hash: contribution_hash(c),
            beacon: c.beacon.clone(),
        });
        delta = c.delta_after;
    }
    Ok((entries, delta))
}

/// `sum r_i x_i` and `sum r_i y_i` for random 128-bit `r_i` (`None` when
/// the lengths differ).
fn random_combinations(
    x: &[G1Affine],
    y: &[G1Affine],
    rng: &mut ChaCha20Rng,
) -> Option<(G1Affine, G1Affine)> {
    if x.len() != y.len() {
        return None;
    }
    let r: Vec<Fr> = (0..x.len())
        .map(|_| Fr::from(u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64())))
        .collect();
    let a = msm_g1(x, &r).ok()?;
    let b = msm_g1(y, &r).ok()?;
    Some((a.into_affine(), b.into_affine()))
}

/// Verifies `zkey` as a continuation of `init` (the circuit's initial key,
/// no contributions); see the module docs. Returns the transcript.
pub fn verify_from_init(init: &Zkey, zkey: &Zkey) -> Result<Transcript, ZkeyError> {
    let (h0, h) = (&init.header, &zkey.header);
    if (h0.n_vars, h0.n_public, h0.domain_size) != (h.n_vars, h.n_public, h.domain_size) {
        return Err(fail(
            VerifyStep::CircuitShape,
            format!(
                "{} wires, {} public, domain {} against the initial key's {}, {}, {}",
                h.n_vars, h.n_public, h.domain_size, h0.n_vars, h0.n_public, h0.domain_size
            ),
        ));
    }
    let (entries, last_delta) = verify_contributions(zkey)?;
    if h.alpha_1 != h0.alpha_1 {
        return Err(fail(
            VerifyStep::Alpha,
            "alpha_1 differs from the initial key's",
        ));
    }
    if h.beta_1 != h0.beta_1 || h.beta_2 != h0.beta_2 {
        return Err(fail(
            VerifyStep::Beta,
            "beta differs from the initial key's",
        ));
    }
    if h.gamma_2 != h0.gamma_2 {
        return Err(fail(
            VerifyStep::Gamma,
            "gamma_2 differs from the initial key's",
        ));
    }
    if h.delta_1 != last_delta {
        return Err(fail(
            VerifyStep::Delta1,
            "delta_1 is not the last contribution's delta",
        ));
    }
    if !same_ratio(
        &G1Affine::generator(),
        &h.delta_1,
        &G2Affine::generator(),
        &h.delta_2,
    ) {
        return Err(fail(VerifyStep::Delta2, "delta_2 does not match delta_1"));
    }
    if zkey.mpc.cs_hash != init.mpc.cs_hash {
        return Err(fail(
            VerifyStep::CircuitHash,
            "the circuit hash differs from the initial key's",
        ));
    }
    let same: [(bool, VerifyStep); 5] = [
        (zkey.ic == init.ic, VerifyStep::IcSection),
        (zkey.coeffs == init.coeffs, VerifyStep::CoefficientsSection),
        (zkey.a == init.a, VerifyStep::ASection),
        (zkey.b1 == init.b1, VerifyStep::B1Section),
        (zkey.b2 == init.b2, VerifyStep::B2Section),
    ];
    for (ok, step) in same {
        if !ok {
            return Err(fail(step, "not identical to the initial key's"));
        }
    }
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let mut rng = ChaCha20Rng::from_seed(seed);
    for (x0, x, step) in [
        (&init.c, &zkey.c, VerifyStep::CSection),
        (&init.h, &zkey.h, VerifyStep::HSection),
    ] {
        let Some((r0, r)) = random_combinations(x0, x, &mut rng) else {
            return Err(fail(
                step,
                format!("{} points, the initial key has {}", x.len(), x0.len()),
            ));
        };
        let consistent = if r0.is_zero() || r.is_zero() {
            r0.is_zero() && r.is_zero()
        } else {
            same_ratio(&r0, &r, &h.delta_2, &h0.delta_2)
        };
        if !consistent {
            return Err(fail(
                step,
                "the points are not the initial key's divided by delta",
            ));
        }
    }
    Ok(Transcript {
        cs_hash: zkey.mpc.cs_hash,
        entries,
    })
}

/// Verifies `zkey` against the circuit and the powers of tau: makes the
/// initial key ([`super::new`]) and runs [`verify_from_init`].
pub fn verify_from_r1cs(
    r1cs: &R1cs,
    ptau: &mut Ptau,
    zkey: &Zkey,
) -> Result<Transcript, ZkeyError> {
    let init = super::new(r1cs, ptau)?;
    verify_from_init(&init, zkey)
}
