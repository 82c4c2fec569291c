//! `.zkey`: a Groth16 proving key with its phase-2 ceremony record, as
//! snarkjs writes it (snarkjs `zkey_utils.js`, `zkey_new.js`,
//! `zkey_contribute.js`, `zkey_verify_frominit.js`).
//!
//! The container ([`crate::container`]) has magic `zkey`, version 1; points
//! in LEM form ([`crate::encoding`]):
//!
//! | id | content |
//! | --- | --- |
//! | 1 | protocol (u32, 1 = Groth16) |
//! | 2 | `n8q = 32`, `q`, `n8r = 32`, `r`, `nVars`, `nPublic` (without the one), `domainSize` (u32s), then `alpha_1, beta_1, beta_2, gamma_2, delta_1, delta_2` |
//! | 3 | `IC`: `[(beta u_i + alpha v_i + w_i)(tau) / gamma]_1` for the one and the public wires (`gamma = 1`) |
//! | 4 | the coefficients of A and B: a count (u32), then (matrix u32: 0 A, 1 B; row u32; wire u32; value `v R^2 mod r`, 32 bytes) |
//! | 5 | `A`: `[u_i(tau)]_1`, every wire |
//! | 6 | `B1`: `[v_i(tau)]_1`, every wire |
//! | 7 | `B2`: `[v_i(tau)]_2`, every wire |
//! | 8 | `C` (arkworks' `l_query`): `[(beta u_i + alpha v_i + w_i)(tau) / delta]_1`, the private wires |
//! | 9 | `H`: `[L_(2j+1)(tau) / delta]_1`, `j < domainSize`: the Lagrange basis of the domain of twice the size at its odd points (see [`crate::prove`]) |
//! | 10 | the circuit hash (64 bytes), the number of contributions (u32), each contribution: `delta_1` after it, the key `[s]_1, [s x]_1, [s' x]_2`, the transcript hash (64 bytes), type (u32, 1 beacon), parameters as in `.ptau` |
//!
//! The QAP has one row per constraint, then one per public wire `i` (the
//! one included) with `A[m + i][i] = 1`; `u_i, v_i, w_i` interpolate the
//! columns on the domain of `domainSize` roots of unity.
//!
//! [`Zkey`] holds a whole key; reading checks every size and every point
//! (on its curve; the G2 points of the header and of the contributions
//! also in the prime-order subgroup; section 7's are compared with the
//! initial key's by [`verify`]). [`new`] makes the initial key from an
//! `.r1cs` and a `.ptau` byte for byte as snarkjs does; [`contribute`]
//! adds contributions and beacons; [`verify`] checks a key against its
//! initial key or against the `.r1cs` and `.ptau`.

mod compose;
pub mod contribute;
pub mod new;
pub mod verify;

use std::path::Path;

use ark_bn254::{Bn254, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_groth16::VerifyingKey;
use depin_prover_core::par;

use crate::blake2b::DIGEST_LEN;
use crate::container::{self, ContainerError, SectionReader, SectionTable};
use crate::encoding::{
    coeff_from_zkey, coeff_to_zkey, decode_points, fq_modulus_le, fr_modulus_le, g1_from_lem,
    g1_to_lem, g2_from_lem, g2_from_lem_checked, g2_to_lem, PointError, FIELD_BYTES, G1_BYTES,
    G2_BYTES,
};
use crate::ptau::{read_params, write_params, PtauError};
use crate::r1cs::{R1cs, R1csError};

/// Points per parallel task when a section is encoded.
const POINTS_PER_TASK: usize = 1 << 10;

pub use contribute::{beacon, contribute, contribution_hash, BeaconError};
pub use new::{coefficients, new, required_ptau_power};
pub use verify::{verify_from_init, verify_from_r1cs, Transcript, TranscriptEntry, VerifyStep};

/// The magic of a `.zkey` file.
pub const MAGIC: &[u8; 4] = b"zkey";
/// The version written.
pub const VERSION: u32 = 1;
/// The highest version read (snarkjs reads up to 2).
pub const MAX_VERSION: u32 = 2;
/// The protocol id of Groth16.
pub const GROTH16: u32 = 1;

/// Section ids.
pub(crate) mod id {
    pub const PROTOCOL: u32 = 1;
    pub const HEADER: u32 = 2;
    pub const IC: u32 = 3;
    pub const COEFFS: u32 = 4;
    pub const A: u32 = 5;
    pub const B1: u32 = 6;
    pub const B2: u32 = 7;
    pub const C: u32 = 8;
    pub const H: u32 = 9;
    pub const CONTRIBUTIONS: u32 = 10;
}

/// Why a `.zkey` could not be read, made, extended or verified.
#[derive(Debug, thiserror::Error)]
pub enum ZkeyError {
    /// The container or a section was refused.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// The `.ptau` was refused or is too small.
    #[error(transparent)]
    Ptau(#[from] PtauError),
    /// The `.r1cs` was refused.
    #[error(transparent)]
    R1cs(#[from] R1csError),
    /// Not a Groth16 key.
    #[error("the zkey's protocol is {0}, not Groth16 (1)")]
    NotGroth16(u32),
    /// The circuit is too large for a BN254 setup.
    #[error("the circuit needs a domain of 2^{0}, more than this setup supports (2^27)")]
    CircuitTooLarge(u32),
    /// A beacon's parameters were refused.
    #[error(transparent)]
    Beacon(#[from] BeaconError),
    /// The key is not a key of the given circuit.
    #[error("the zkey is not a key of this circuit: {0}")]
    OtherCircuit(String),
    /// The key does not verify: `step` failed.
    #[error("zkey verification failed at {step}: {detail}")]
    Verify {
        /// The check that failed.
        step: VerifyStep,
        /// What was found.
        detail: String,
    },
}

/// The verification key part and sizes of a Groth16 `.zkey` (section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZkeyHeader {
    /// Wires, the one included.
    pub n_vars: u32,
    /// Public wires, the one excluded.
    pub n_public: u32,
    /// The QAP domain size (a power of two).
    pub domain_size: u32,
    /// `[alpha]_1`.
    pub alpha_1: G1Affine,
    /// `[beta]_1`.
    pub beta_1: G1Affine,
    /// `[beta]_2`.
    pub beta_2: G2Affine,
    /// `[gamma]_2` (the generator: snarkjs fixes gamma to one).
    pub gamma_2: G2Affine,
    /// `[delta]_1`.
    pub delta_1: G1Affine,
    /// `[delta]_2`.
    pub delta_2: G2Affine,
}

/// One non-zero entry of A or B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coefficient {
    /// 0 for A, 1 for B.
    pub matrix: u32,
    /// The QAP row.
    pub constraint: u32,
    /// The wire.
    pub signal: u32,
    /// The value.
    pub value: Fr,
}

/// One phase-2 contribution (section 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// `[delta]_1` after this contribution.
    pub delta_after: G1Affine,
    /// The key's `[s]_1`.
    pub g1_s: G1Affine,
    /// The key's `[s x]_1` (`x` the contribution's secret).
    pub g1_sx: G1Affine,
    /// The key's `[s' x]_2`, `[s']_2` hashed from the transcript.
    pub g2_spx: G2Affine,
    /// The transcript hash: the circuit hash, the earlier contributions and
    /// this key's G1 points.
    pub transcript: [u8; DIGEST_LEN],
    /// The contributor's name (at most 64 UTF-16 code units).
    pub name: Option<String>,
    /// For a beacon: the iteration exponent and the beacon hash.
    pub beacon: Option<(u8, Vec<u8>)>,
}

/// The ceremony record (section 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpcParams {
    /// The circuit hash (snarkjs's `csHash`).
    pub cs_hash: [u8; DIGEST_LEN],
    /// The contributions in order.
    pub contributions: Vec<Contribution>,
}

/// A Groth16 `.zkey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zkey {
    /// Sizes and the verification key's points.
    pub header: ZkeyHeader,
    /// Section 3.
    pub ic: Vec<G1Affine>,
    /// Section 4.
    pub coeffs: Vec<Coefficient>,
    /// Section 5.
    pub a: Vec<G1Affine>,
    /// Section 6.
    pub b1: Vec<G1Affine>,
    /// Section 7.
    pub b2: Vec<G2Affine>,
    /// Section 8.
    pub c: Vec<G1Affine>,
    /// Section 9.
    pub h: Vec<G1Affine>,
    /// Section 10.
    pub mpc: MpcParams,
}

/// The order sections are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `zkey new`'s order (1, 2, 4, 3, 9, 8, 5, 6, 7, 10).
    New,
    /// A contribution's order (1 to 10).
    Contributed,
}

fn g1_section(points: &[G1Affine]) -> Vec<u8> {
    let mut out = vec![0u8; points.len() * G1_BYTES];
    par::for_each_chunk_mut(&mut out, G1_BYTES * POINTS_PER_TASK, |i, o| {
        let first = i * POINTS_PER_TASK;
        for (j, o) in o.chunks_exact_mut(G1_BYTES).enumerate() {
            g1_to_lem(&points[first + j], o);
        }
    });
    out
}

fn g2_section(points: &[G2Affine]) -> Vec<u8> {
    let mut out = vec![0u8; points.len() * G2_BYTES];
    par::for_each_chunk_mut(&mut out, G2_BYTES * POINTS_PER_TASK, |i, o| {
        let first = i * POINTS_PER_TASK;
        for (j, o) in o.chunks_exact_mut(G2_BYTES).enumerate() {
            g2_to_lem(&points[first + j], o);
        }
    });
    out
}

fn read_g1s(r: &SectionReader<'_>, count: usize) -> Result<Vec<G1Affine>, ContainerError> {
    if r.len() != count * G1_BYTES {
        return Err(r.bad(format!(
            "{} bytes, expected {count} G1 points ({} bytes)",
            r.len(),
            count * G1_BYTES
        )));
    }
    decode_points(r.data(), G1_BYTES, g1_from_lem)
        .map_err(|(i, e)| r.bad(format!("point {i}: {e}")))
}

fn read_g2s(r: &SectionReader<'_>, count: usize) -> Result<Vec<G2Affine>, ContainerError> {
    if r.len() != count * G2_BYTES {
        return Err(r.bad(format!(
            "{} bytes, expected {count} G2 points ({} bytes)",
            r.len(),
            count * G2_BYTES
        )));
    }
    decode_points(r.data(), G2_BYTES, g2_from_lem)
        .map_err(|(i, e)| r.bad(format!("point {i}: {e}")))
}

fn point_err(r: &SectionReader<'_>, what: &str, e: PointError) -> ContainerError {
    r.bad(format!("{what}: {e}"))
}

impl Zkey {
    /// The section bodies in `layout` order.
    fn sections(&self, layout: Layout) -> Vec<(u32, Vec<u8>)> {
        let h = &self.header;
        let mut header =
            Vec::with_capacity(2 * (4 + FIELD_BYTES) + 12 + 3 * G1_BYTES + 3 * G2_BYTES);
        header.extend_from_slice(&(FIELD_BYTES as u32).to_le_bytes());
        header.extend_from_slice(&fq_modulus_le());
        header.extend_from_slice(&(FIELD_BYTES as u32).to_le_bytes());
        header.extend_from_slice(&fr_modulus_le());
        header.extend_from_slice(&h.n_vars.to_le_bytes());
        header.extend_from_slice(&h.n_public.to_le_bytes());
        header.extend_from_slice(&h.domain_size.to_le_bytes());
        header.extend_from_slice(&g1_section(&[h.alpha_1, h.beta_1]));
        header.extend_from_slice(&g2_section(&[h.beta_2, h.gamma_2]));
        header.extend_from_slice(&g1_section(&[h.delta_1]));
        header.extend_from_slice(&g2_section(&[h.delta_2]));

        let mut coeffs = Vec::with_capacity(4 + self.coeffs.len() * (12 + FIELD_BYTES));
        coeffs.extend_from_slice(&(self.coeffs.len() as u32).to_le_bytes());
        let mut v = [0u8; FIELD_BYTES];
        for c in &self.coeffs {
            coeffs.extend_from_slice(&c.matrix.to_le_bytes());
            coeffs.extend_from_slice(&c.constraint.to_le_bytes());
            coeffs.extend_from_slice(&c.signal.to_le_bytes());
            coeff_to_zkey(&c.value, &mut v);
            coeffs.extend_from_slice(&v);
        }

        let mut mpc = Vec::new();
        mpc.extend_from_slice(&self.mpc.cs_hash);
        mpc.extend_from_slice(&(self.mpc.contributions.len() as u32).to_le_bytes());
        for c in &self.mpc.contributions {
            mpc.extend_from_slice(&g1_section(&[c.delta_after, c.g1_s, c.g1_sx]));
            mpc.extend_from_slice(&g2_section(&[c.g2_spx]));
            mpc.extend_from_slice(&c.transcript);
            mpc.extend_from_slice(&u32::from(c.beacon.is_some()).to_le_bytes());
            mpc.extend_from_slice(&write_params(
                c.name.as_deref(),
                c.beacon.as_ref().map(|(e, b)| (*e, b.as_slice())),
            ));
        }

        let order: [u32; 10] = match layout {
            Layout::New => [1, 2, 4, 3, 9, 8, 5, 6, 7, 10],
            Layout::Contributed => [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        };
        let mut header = Some(header);
        let mut coeffs = Some(coeffs);
        let mut mpc = Some(mpc);
        order
            .iter()
            .map(|&sid| {
                let body = match sid {
                    id::PROTOCOL => GROTH16.to_le_bytes().to_vec(),
                    id::HEADER => header.take().unwrap_or_default(),
                    id::IC => g1_section(&self.ic),
                    id::COEFFS => coeffs.take().unwrap_or_default(),
                    id::A => g1_section(&self.a),
                    id::B1 => g1_section(&self.b1),
                    id::B2 => g2_section(&self.b2),
                    id::C => g1_section(&self.c),
                    id::H => g1_section(&self.h),
                    _ => mpc.take().unwrap_or_default(),
                };
                (sid, body)
            })
            .collect()
    }

    /// The `.zkey` bytes with sections in `layout` order.
    pub fn to_bytes(&self, layout: Layout) -> Vec<u8> {
        let sections = self.sections(layout);
        let refs: Vec<(u32, &[u8])> = sections.iter().map(|(i, b)| (*i, b.as_slice())).collect();
        container::to_bytes(MAGIC, VERSION, &refs)
    }

    /// Writes the `.zkey` file.
    pub fn write(&self, path: &Path, layout: Layout) -> Result<(), ZkeyError> {
        std::fs::write(path, self.to_bytes(layout)).map_err(ContainerError::from)?;
        Ok(())
    }

    /// Reads a `.zkey` file.
    pub fn read(path: &Path) -> Result<Self, ZkeyError> {
        let bytes = std::fs::read(path).map_err(ContainerError::from)?;
        Self::from_bytes(&bytes)
    }

    /// Parses a Groth16 `.zkey`.
    #[allow(
        clippy::too_many_lines,
        reason = "one read per section, in the order the key needs them"
    )]
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ZkeyError> {
        let table = SectionTable::parse(bytes, "zkey", MAX_VERSION)?;
        let mut p = table.body(bytes, id::PROTOCOL, "protocol")?;
        let protocol = p.u32()?;
        p.finish()?;
        if protocol != GROTH16 {
            return Err(ZkeyError::NotGroth16(protocol));
        }
        let mut r = table.body(bytes, id::HEADER, "header")?;
        if r.u32()? as usize != FIELD_BYTES || r.bytes(FIELD_BYTES)? != fq_modulus_le() {
            return Err(r.bad("not BN254 (q)").into());
        }
        if r.u32()? as usize != FIELD_BYTES || r.bytes(FIELD_BYTES)? != fr_modulus_le() {
            return Err(r.bad("not BN254 (r)").into());
        }
        let n_vars = r.u32()?;
        let n_public = r.u32()?;
        let domain_size = r.u32()?;
        if n_vars == 0 || n_public >= n_vars {
            return Err(r
                .bad(format!("{n_vars} wires with {n_public} public"))
                .into());
        }
        if !domain_size.is_power_of_two() || domain_size < 2 {
            return Err(r
                .bad(format!("domain size {domain_size} is not a power of two"))
                .into());
        }
        let g1 = |r: &mut SectionReader<'_>, what: &str| -> Result<G1Affine, ContainerError> {
            let b = r.bytes(G1_BYTES)?;
            g1_from_lem(b).map_err(|e| point_err(r, what, e))
        };
        let g2 = |r: &mut SectionReader<'_>, what: &str| -> Result<G2Affine, ContainerError> {
            let b = r.bytes(G2_BYTES)?;
            g2_from_lem_checked(b).map_err(|e| point_err(r, what, e))
        };
        let header = ZkeyHeader {
            n_vars,
            n_public,
            domain_size,
            alpha_1: g1(&mut r, "alpha_1")?,
            beta_1: g1(&mut r, "beta_1")?,
            beta_2: g2(&mut r, "beta_2")?,
            gamma_2: g2(&mut r, "gamma_2")?,
            delta_1: g1(&mut r, "delta_1")?,
            delta_2: g2(&mut r, "delta_2")?,
        };
        r.finish()?;
        let n_vars_u = n_vars as usize;
        let n_pub = n_public as usize;
        let ic = read_g1s(&table.body(bytes, id::IC, "IC")?, n_pub + 1)?;
        let mut cr = table.body(bytes, id::COEFFS, "coefficients")?;
        let n = cr.u32()? as usize;
        if cr.remaining() != n.saturating_mul(12 + FIELD_BYTES) {
            return Err(cr
                .bad(format!("{} bytes for {n} coefficients", cr.remaining()))
                .into());
        }
        let mut coeffs = Vec::with_capacity(n);
        for i in 0..n {
            let matrix = cr.u32()?;
            let constraint = cr.u32()?;
            let signal = cr.u32()?;
            let value = coeff_from_zkey(cr.bytes(FIELD_BYTES)?)
                .map_err(|e| cr.bad(format!("coefficient {i}: {e}")))?;
            if matrix > 1 || constraint >= domain_size || signal >= n_vars {
                return Err(cr
                    .bad(format!(
                        "coefficient {i}: matrix {matrix}, row {constraint}, wire {signal} out of range"
                    ))
                    .into());
            }
            coeffs.push(Coefficient {
                matrix,
                constraint,
                signal,
                value,
            });
        }
        let a = read_g1s(&table.body(bytes, id::A, "A")?, n_vars_u)?;
        let b1 = read_g1s(&table.body(bytes, id::B1, "B1")?, n_vars_u)?;
        let b2 = read_g2s(&table.body(bytes, id::B2, "B2")?, n_vars_u)?;
        let c = read_g1s(&table.body(bytes, id::C, "C (L)")?, n_vars_u - n_pub - 1)?;
        let h = read_g1s(&table.body(bytes, id::H, "H")?, domain_size as usize)?;
        let mut m = table.body(bytes, id::CONTRIBUTIONS, "contributions")?;
        let mut cs_hash = [0u8; DIGEST_LEN];
        cs_hash.copy_from_slice(m.bytes(DIGEST_LEN)?);
        let count = m.u32()?;
        let mut contributions = Vec::new();
        for i in 0..count as usize {
            let what = format!("contribution {}", i + 1);
            let delta_after = g1(&mut m, &what)?;
            let g1_s = g1(&mut m, &what)?;
            let g1_sx = g1(&mut m, &what)?;
            let g2_spx = g2(&mut m, &what)?;
            let mut transcript = [0u8; DIGEST_LEN];
            transcript.copy_from_slice(m.bytes(DIGEST_LEN)?);
            let kind = m.u32()?;
            let (name, exp, beacon) = read_params(&mut m, i + 1)?;
            let beacon = match (kind, exp, beacon) {
                (0, None, None) => None,
                (1, Some(e), Some(b)) => Some((e, b)),
                _ => {
                    return Err(m
                        .bad(format!(
                            "{what}: type {kind} with inconsistent beacon parameters"
                        ))
                        .into())
                }
            };
            contributions.push(Contribution {
                delta_after,
                g1_s,
                g1_sx,
                g2_spx,
                transcript,
                name,
                beacon,
            });
        }
        m.finish()?;
        Ok(Zkey {
            header,
            ic,
            coeffs,
            a,
            b1,
            b2,
            c,
            h,
            mpc: MpcParams {
                cs_hash,
                contributions,
            },
        })
    }

    /// The verifying key (arkworks' type; `gamma_abc_g1` is `IC`).
    pub fn verifying_key(&self) -> VerifyingKey<Bn254> {
        VerifyingKey {
            alpha_g1: self.header.alpha_1,
            beta_g2: self.header.beta_2,
            gamma_g2: self.header.gamma_2,
            delta_g2: self.header.delta_2,
            gamma_abc_g1: self.ic.clone(),
        }
    }

    /// Whether this is a key of `r1cs`: its sizes and its coefficient
    /// section are the ones `zkey new` derives from `r1cs` (a cheap check
    /// that a key proves a given statement; that its points are a sound
    /// setup is `zkey verify`'s).
    pub fn check_circuit(&self, r1cs: &R1cs) -> Result<(), ZkeyError> {
        let h = &self.header;
        let expected = (r1cs.n_wires, r1cs.n_public(), r1cs.domain_size());
        let found = (h.n_vars, h.n_public, u64::from(h.domain_size));
        if expected != found {
            return Err(ZkeyError::OtherCircuit(format!(
                "the key has {} wires, {} public inputs and a domain of {}; the circuit {}, {} and {}",
                found.0, found.1, found.2, expected.0, expected.1, expected.2
            )));
        }
        let coeffs = new::coefficients(r1cs);
        if coeffs.len() != self.coeffs.len() {
            return Err(ZkeyError::OtherCircuit(format!(
                "the key has {} coefficients of A and B, the circuit {}",
                self.coeffs.len(),
                coeffs.len()
            )));
        }
        if let Some(i) = coeffs.iter().zip(&self.coeffs).position(|(a, b)| a != b) {
            return Err(ZkeyError::OtherCircuit(format!(
                "coefficient {i} of A and B differs from the circuit's"
            )));
        }
        Ok(())
    }

    /// Whether the key was made for the BN254 generators' `gamma = 1` (as
    /// every snarkjs key is).
    pub fn gamma_is_one(&self) -> bool {
        self.header.gamma_2 == G2Affine::generator()
    }
}
