//! `.ptau`: a powers-of-tau (phase 1) file as snarkjs writes it, and the
//! Perpetual Powers of Tau files (Hermez's `powersOfTau28_hez_final_*`)
//! are (snarkjs `powersoftau_new.js`, `powersoftau_utils.js`,
//! `powersoftau_preparephase2.js`).
//!
//! The container ([`crate::container`]) has magic `ptau`, version 1; with
//! `N = 2^power`, points in LEM form ([`crate::encoding`]):
//!
//! | id | content |
//! | --- | --- |
//! | 1 | header: `n8 = 32` (u32), `q` (32 bytes), `power` (u32), `ceremonyPower` (u32) |
//! | 2 | `tau^i G1`, `i < 2N - 1` |
//! | 3 | `tau^i G2`, `i < N` |
//! | 4 | `alpha tau^i G1`, `i < N` |
//! | 5 | `beta tau^i G1`, `i < N` |
//! | 6 | `beta G2` |
//! | 7 | the contributions (below) |
//! | 12 | `L_i(tau) G1` for every domain `2^p`, `p = 0..=power+1`, concatenated (`2^(power+2) - 1` points) |
//! | 13 | `L_i(tau) G2`, `p = 0..=power` |
//! | 14 | `alpha L_i(tau) G1`, `p = 0..=power` |
//! | 15 | `beta L_i(tau) G1`, `p = 0..=power` |
//!
//! `L_i` is the Lagrange basis of the domain `{omega^k}` of size `2^p`
//! (`L_i(omega^k) = [i = k]`, `omega` arkworks' and ffjavascript's root of
//! unity): the domain-`2^p` part of a section starts at point `2^p - 1`.
//! Sections 12-15 ("prepared for phase 2") are what a phase-2 setup reads.
//! For `p = power + 1` the section-2 powers stop at `tau^(2N - 2)`, so that
//! part is the inverse DFT of the powers with the last taken as zero:
//! `L_i(tau) - omega^i tau^(2N - 1) / 2N`.
//!
//! A contribution (section 7: a count, then each) is `tau G1, tau G2,
//! alpha G1, beta G1, beta G2` after it, the contributor's public key (for
//! tau, alpha, beta: `[s]_1, [s x]_1`; then the three `[s' x]_2`), the
//! response hasher's 216-byte state before the key
//! ([`crate::blake2b`]), the next challenge hash (64 bytes), a type (u32, 0
//! contribution, 1 beacon) and parameters (a u32 length, then `1 len name`,
//! `2 exp`, `3 len beacon` as present).
//!
//! [`Ptau`] reads what a phase-2 setup needs, validating every point it
//! reads; [`file_blake2b`] and [`check_blake2b`] check a file against its
//! published BLAKE2b-512 hash; [`write_dev`] writes an **insecure**
//! development file from a seed ([`DevPtau`]).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::scalar_mul::BatchMulPreprocessing;
use ark_ec::AffineRepr;
use ark_ff::{batch_inversion, FftField, Field, One, Zero};

use crate::blake2b::{Blake2b, DIGEST_LEN, PARTIAL_STATE_LEN};
use crate::container::{self, ContainerError, SectionTable};
use crate::encoding::{
    decode_points, fq_modulus_le, g1_compressed, g1_from_lem, g1_to_lem, g1_uncompressed,
    g2_compressed, g2_from_lem, g2_from_lem_checked, g2_to_lem, g2_uncompressed, PointError,
    FIELD_BYTES, G1_BYTES, G2_BYTES,
};
use crate::rng::{fr_from_rng, g1_from_rng, g1_mul, g2_mul, hash_to_g2, ChaCha};

/// The magic of a `.ptau` file.
pub const MAGIC: &[u8; 4] = b"ptau";
/// The version written (and the highest read).
pub const VERSION: u32 = 1;
/// The largest power a BN254 file can have (the scalar field's 2-adicity).
pub const MAX_POWER: u32 = 28;

/// Section ids.
pub(crate) mod id {
    pub const HEADER: u32 = 1;
    pub const TAU_G1: u32 = 2;
    pub const TAU_G2: u32 = 3;
    pub const ALPHA_TAU_G1: u32 = 4;
    pub const BETA_TAU_G1: u32 = 5;
    pub const BETA_G2: u32 = 6;
    pub const CONTRIBUTIONS: u32 = 7;
    pub const LAGRANGE_G1: u32 = 12;
    pub const LAGRANGE_G2: u32 = 13;
    pub const LAGRANGE_ALPHA_G1: u32 = 14;
    pub const LAGRANGE_BETA_G1: u32 = 15;
}

/// Why a `.ptau` file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PtauError {
    /// The container or a section was refused.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// A power outside `1..=28` (or above what this build generates).
    #[error("power {power} is not supported (1 to {max})")]
    UnsupportedPower {
        /// The power.
        power: u32,
        /// The largest supported here.
        max: u32,
    },
    /// The file is too small for the circuit.
    #[error("the powers of tau have power {power} (2^{power} points); this circuit needs power {needed} ({why})")]
    PowerTooSmall {
        /// The file's power.
        power: u32,
        /// The power the circuit needs.
        needed: u32,
        /// Why that many.
        why: String,
    },
    /// The file has no phase-2 (Lagrange) sections.
    #[error("the powers of tau are not prepared for phase 2 (no sections 12-15; run `snarkjs powersoftau preparephase2`)")]
    NotPrepared,
    /// A point in the file is not a valid point.
    #[error("ptau section {section} point {index}: {problem}")]
    InvalidPoint {
        /// The section's name.
        section: &'static str,
        /// The point's index.
        index: u64,
        /// What is wrong.
        problem: PointError,
    },
    /// A published hash that is not 64 bytes of hex.
    #[error("not a BLAKE2b-512 hash (128 hex digits): {0}")]
    BadHash(String),
    /// The file's hash is not the published one.
    #[error("the file's BLAKE2b-512 is {found}, not the published {expected}")]
    HashMismatch {
        /// The published hash.
        expected: String,
        /// The file's.
        found: String,
    },
}

/// A `.ptau` file opened for phase 2: header and section table read, the
/// sections' sizes checked; points are read on demand.
#[derive(Debug)]
pub struct Ptau {
    file: BufReader<File>,
    table: SectionTable,
    power: u32,
    ceremony_power: u32,
}

/// Points in a section of `power`: `(id, name, points, bytes per point)`.
fn expected_sections(power: u32) -> [(u32, &'static str, u64, usize); 6] {
    let n = 1u64 << power;
    [
        (id::TAU_G1, "tauG1", 2 * n - 1, G1_BYTES),
        (id::TAU_G2, "tauG2", n, G2_BYTES),
        (id::ALPHA_TAU_G1, "alphaTauG1", n, G1_BYTES),
        (id::BETA_TAU_G1, "betaTauG1", n, G1_BYTES),
        (id::BETA_G2, "betaG2", 1, G2_BYTES),
        (id::LAGRANGE_G1, "lagrange tauG1", 4 * n - 1, G1_BYTES),
    ]
}

/// The Lagrange sections other than 12: `(id, name, bytes per point)`,
/// each `2^(power+1) - 1` points.
const LAGRANGE_REST: [(u32, &str, usize); 3] = [
    (id::LAGRANGE_G2, "lagrange tauG2", G2_BYTES),
    (id::LAGRANGE_ALPHA_G1, "lagrange alphaTauG1", G1_BYTES),
    (id::LAGRANGE_BETA_G1, "lagrange betaTauG1", G1_BYTES),
];

impl Ptau {
    /// Opens `path`: reads the header, checks the curve, the power and the
    /// size of every section present (sections 2-7 required).
    pub fn open(path: &Path) -> Result<Self, PtauError> {
        let file = File::open(path).map_err(ContainerError::from)?;
        let mut file = BufReader::with_capacity(1 << 20, file);
        let table = SectionTable::read(&mut file, "ptau", VERSION)?;
        let h = table.require(id::HEADER, "header")?;
        if h.size != 4 + FIELD_BYTES as u64 + 8 {
            return Err(table
                .bad(
                    id::HEADER,
                    "header",
                    format!("{} bytes, expected 44", h.size),
                )
                .into());
        }
        let mut head = vec![0u8; h.size as usize];
        file.seek(SeekFrom::Start(h.offset))
            .map_err(ContainerError::from)?;
        file.read_exact(&mut head).map_err(ContainerError::from)?;
        let mut r = container::SectionReader::new("ptau", id::HEADER, "header", &head);
        if r.u32()? as usize != FIELD_BYTES || r.bytes(FIELD_BYTES)? != fq_modulus_le() {
            return Err(r.bad("not BN254 (the prime is not its base field)").into());
        }
        let power = r.u32()?;
        let ceremony_power = r.u32()?;
        if power == 0 || power > MAX_POWER {
            return Err(PtauError::UnsupportedPower {
                power,
                max: MAX_POWER,
            });
        }
        let check =
            |id: u32, name: &'static str, points: u64, bytes: usize, required: bool| match table
                .get(id)
            {
                Some(s) if s.size != points * bytes as u64 => Err(table.bad(
                    id,
                    name,
                    format!(
                        "{} bytes; power {power} needs {points} points of {bytes} bytes",
                        s.size
                    ),
                )),
                None if required => Err(ContainerError::MissingSection {
                    format: "ptau",
                    id,
                    name,
                }),
                _ => Ok(()),
            };
        for (id, name, points, bytes) in expected_sections(power) {
            check(id, name, points, bytes, id != id::LAGRANGE_G1)?;
        }
        for (id, name, bytes) in LAGRANGE_REST {
            check(id, name, (2u64 << power) - 1, bytes, false)?;
        }
        table.require(id::CONTRIBUTIONS, "contributions")?;
        Ok(Ptau {
            file,
            table,
            power,
            ceremony_power,
        })
    }

    /// The file's power: `2^power` points of each kind.
    pub fn power(&self) -> u32 {
        self.power
    }

    /// The power of the ceremony the file was cut from.
    pub fn ceremony_power(&self) -> u32 {
        self.ceremony_power
    }

    /// Whether sections 12-15 are present.
    pub fn is_prepared(&self) -> bool {
        [12, 13, 14, 15]
            .iter()
            .all(|i| self.table.get(*i).is_some())
    }

    /// Refuses a file below `needed` (`why` says what needs it) or without
    /// the phase-2 sections.
    pub fn require(&self, needed: u32, why: impl Into<String>) -> Result<(), PtauError> {
        if self.power < needed {
            return Err(PtauError::PowerTooSmall {
                power: self.power,
                needed,
                why: why.into(),
            });
        }
        if !self.is_prepared() {
            return Err(PtauError::NotPrepared);
        }
        Ok(())
    }

    /// The raw bytes of points `start..start + count` of section `id`.
    fn raw(
        &mut self,
        id: u32,
        name: &'static str,
        point_bytes: usize,
        start: u64,
        count: u64,
    ) -> Result<Vec<u8>, PtauError> {
        let s = self.table.require(id, name)?;
        let end = start
            .checked_add(count)
            .and_then(|e| e.checked_mul(point_bytes as u64));
        match end {
            Some(end) if end <= s.size => {}
            _ => {
                return Err(self
                    .table
                    .bad(
                        id,
                        name,
                        format!("points {start}..{start}+{count} are past its end"),
                    )
                    .into())
            }
        }
        let mut buf = vec![0u8; count as usize * point_bytes];
        self.file
            .seek(SeekFrom::Start(s.offset + start * point_bytes as u64))
            .map_err(ContainerError::from)?;
        self.file
            .read_exact(&mut buf)
            .map_err(ContainerError::from)?;
        Ok(buf)
    }

    /// G1 points `start..start + count` of section `id`, validated.
    pub fn g1_points(
        &mut self,
        id: u32,
        name: &'static str,
        start: u64,
        count: u64,
    ) -> Result<Vec<G1Affine>, PtauError> {
        let raw = self.raw(id, name, G1_BYTES, start, count)?;
        decode(&raw, G1_BYTES, name, start, g1_from_lem)
    }

    /// G2 points `start..start + count` of section `id`, validated
    /// (curve and subgroup).
    pub fn g2_points(
        &mut self,
        id: u32,
        name: &'static str,
        start: u64,
        count: u64,
    ) -> Result<Vec<G2Affine>, PtauError> {
        let raw = self.raw(id, name, G2_BYTES, start, count)?;
        decode(&raw, G2_BYTES, name, start, g2_from_lem_checked)
    }

    /// `tau^i G1` for `i` in `start..start + count` (section 2).
    pub fn tau_g1(&mut self, start: u64, count: u64) -> Result<Vec<G1Affine>, PtauError> {
        self.g1_points(id::TAU_G1, "tauG1", start, count)
    }

    /// `alpha G1` (section 4's first point).
    pub fn alpha_g1(&mut self) -> Result<G1Affine, PtauError> {
        Ok(self.g1_points(id::ALPHA_TAU_G1, "alphaTauG1", 0, 1)?[0])
    }

    /// `beta G1` (section 5's first point).
    pub fn beta_g1(&mut self) -> Result<G1Affine, PtauError> {
        Ok(self.g1_points(id::BETA_TAU_G1, "betaTauG1", 0, 1)?[0])
    }

    /// `beta G2` (section 6).
    pub fn beta_g2(&mut self) -> Result<G2Affine, PtauError> {
        Ok(self.g2_points(id::BETA_G2, "betaG2", 0, 1)?[0])
    }

    /// The domain-`2^p` part of Lagrange section `id` (12, 14 or 15: G1).
    pub fn lagrange_g1(&mut self, id: u32, p: u32) -> Result<Vec<G1Affine>, PtauError> {
        let name = match id {
            id::LAGRANGE_G1 => "lagrange tauG1",
            id::LAGRANGE_ALPHA_G1 => "lagrange alphaTauG1",
            _ => "lagrange betaTauG1",
        };
        let n = 1u64 << p;
        self.g1_points(id, name, n - 1, n)
    }

    /// The domain-`2^p` part of section 13 (`L_i(tau) G2`).
    pub fn lagrange_g2(&mut self, p: u32) -> Result<Vec<G2Affine>, PtauError> {
        let n = 1u64 << p;
        self.g2_points(id::LAGRANGE_G2, "lagrange tauG2", n - 1, n)
    }

    /// The contributions of section 7.
    pub fn contributions(&mut self) -> Result<Vec<PtauContribution>, PtauError> {
        let s = self.table.require(id::CONTRIBUTIONS, "contributions")?;
        let mut body = vec![0u8; s.size as usize];
        self.file
            .seek(SeekFrom::Start(s.offset))
            .map_err(ContainerError::from)?;
        self.file
            .read_exact(&mut body)
            .map_err(ContainerError::from)?;
        let mut r = container::SectionReader::new("ptau", s.id, "contributions", &body);
        let n = r.u32()?;
        let mut out = Vec::new();
        for i in 0..n {
            out.push(PtauContribution::read(&mut r, i as usize + 1)?);
        }
        r.finish()?;
        Ok(out)
    }
}

fn decode<P: Send>(
    raw: &[u8],
    size: usize,
    section: &'static str,
    start: u64,
    decode: impl Fn(&[u8]) -> Result<P, PointError> + Sync,
) -> Result<Vec<P>, PtauError> {
    decode_points(raw, size, decode).map_err(|(i, problem)| PtauError::InvalidPoint {
        section,
        index: start + i as u64,
        problem,
    })
}

/// A phase-1 contributor's public key: for each of tau, alpha and beta,
/// `[s]_1`, `[s x]_1` and `[s' x]_2` (`s'` from the challenge hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PtauPublicKey {
    /// `(g1_s, g1_sx, g2_spx)` of tau, alpha, beta.
    pub keys: [(G1Affine, G1Affine, G2Affine); 3],
}

impl PtauPublicKey {
    /// The key as snarkjs hashes it: the six G1 points then the three G2
    /// points, uncompressed.
    pub fn uncompressed(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(6 * G1_BYTES + 3 * G2_BYTES);
        for (s, sx, _) in &self.keys {
            out.extend_from_slice(&g1_uncompressed(s));
            out.extend_from_slice(&g1_uncompressed(sx));
        }
        for (_, _, spx) in &self.keys {
            out.extend_from_slice(&g2_uncompressed(spx));
        }
        out
    }
}

/// One phase-1 contribution as section 7 records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtauContribution {
    /// Its number, from 1.
    pub index: usize,
    /// The contributor's name, if given.
    pub name: Option<String>,
    /// 0 for a contribution, 1 for a beacon.
    pub kind: u32,
    /// `tau G1` after it.
    pub tau_g1: G1Affine,
    /// `tau G2` after it.
    pub tau_g2: G2Affine,
    /// `alpha G1` after it.
    pub alpha_g1: G1Affine,
    /// `beta G1` after it.
    pub beta_g1: G1Affine,
    /// `beta G2` after it.
    pub beta_g2: G2Affine,
    /// The public key.
    pub key: PtauPublicKey,
    /// The response hash (the stored state finished with the key).
    pub response_hash: [u8; DIGEST_LEN],
    /// The next challenge hash.
    pub next_challenge: [u8; DIGEST_LEN],
    /// The beacon's iteration exponent and hash, for a beacon.
    pub beacon: Option<(u8, Vec<u8>)>,
}

impl PtauContribution {
    fn read(r: &mut container::SectionReader<'_>, index: usize) -> Result<Self, PtauError> {
        let bad = |r: &container::SectionReader<'_>, p: PointError| {
            PtauError::from(r.bad(format!("contribution {index}: {p}")))
        };
        let g1 = |r: &mut container::SectionReader<'_>| -> Result<G1Affine, PtauError> {
            let b = r.bytes(G1_BYTES)?;
            g1_from_lem(b).map_err(|p| bad(r, p))
        };
        let tau_g1 = g1(r)?;
        let tau_g2 = g2_from_lem(r.bytes(G2_BYTES)?).map_err(|p| bad(r, p))?;
        let alpha_g1 = g1(r)?;
        let beta_g1 = g1(r)?;
        let beta_g2 = g2_from_lem(r.bytes(G2_BYTES)?).map_err(|p| bad(r, p))?;
        let mut g1s = [G1Affine::zero(); 6];
        for p in &mut g1s {
            *p = g1(r)?;
        }
        let mut g2s = [G2Affine::zero(); 3];
        for p in &mut g2s {
            *p = g2_from_lem(r.bytes(G2_BYTES)?).map_err(|e| bad(r, e))?;
        }
        let key = PtauPublicKey {
            keys: [
                (g1s[0], g1s[1], g2s[0]),
                (g1s[2], g1s[3], g2s[1]),
                (g1s[4], g1s[5], g2s[2]),
            ],
        };
        let mut partial = [0u8; PARTIAL_STATE_LEN];
        partial.copy_from_slice(r.bytes(PARTIAL_STATE_LEN)?);
        let mut hasher = Blake2b::from_partial_state(&partial)
            .map_err(|e| r.bad(format!("contribution {index}: {e}")))?;
        hasher.update(&key.uncompressed());
        let response_hash = hasher.finalize();
        let mut next_challenge = [0u8; DIGEST_LEN];
        next_challenge.copy_from_slice(r.bytes(DIGEST_LEN)?);
        let kind = r.u32()?;
        let (name, exp, beacon) = read_params(r, index)?;
        Ok(PtauContribution {
            index,
            name,
            kind,
            tau_g1,
            tau_g2,
            alpha_g1,
            beta_g1,
            beta_g2,
            key,
            response_hash,
            next_challenge,
            beacon: exp.zip(beacon),
        })
    }
}

/// The parameters of a contribution (`.ptau` and `.zkey` share them): a
/// u32 length, then `1 len name`, `2 exp`, `3 len beacon`, in increasing
/// type order, each at most once.
pub(crate) type Params = (Option<String>, Option<u8>, Option<Vec<u8>>);

pub(crate) fn read_params(
    r: &mut container::SectionReader<'_>,
    index: usize,
) -> Result<Params, ContainerError> {
    let len = r.u32()? as usize;
    let mut p = container::SectionReader::new("params", 0, "parameters", r.bytes(len)?);
    let (mut name, mut exp, mut beacon) = (None, None, None);
    let mut last = 0u8;
    while p.remaining() > 0 {
        let t = p.u8()?;
        if t <= last {
            return Err(r.bad(format!(
                "contribution {index}: parameters not in increasing order"
            )));
        }
        last = t;
        match t {
            1 => {
                let n = p.u8()? as usize;
                let bytes = p.bytes(n)?;
                name = Some(String::from_utf8_lossy(bytes).into_owned());
            }
            2 => exp = Some(p.u8()?),
            3 => {
                let n = p.u8()? as usize;
                beacon = Some(p.bytes(n)?.to_vec());
            }
            other => {
                return Err(r.bad(format!(
                    "contribution {index}: unknown parameter type {other}"
                )))
            }
        }
    }
    Ok((name, exp, beacon))
}

/// The parameter bytes of a contribution (length prefix included): the
/// name (cut, as snarkjs does, to its first 64 UTF-16 code units) and, for
/// a beacon, its exponent and hash.
pub(crate) fn write_params(name: Option<&str>, beacon: Option<(u8, &[u8])>) -> Vec<u8> {
    let mut params = Vec::new();
    if let Some(name) = name.filter(|n| !n.is_empty()) {
        let cut = truncate_utf16(name, 64);
        params.push(1);
        params.push(cut.len() as u8);
        params.extend_from_slice(cut.as_bytes());
    }
    if let Some((exp, hash)) = beacon {
        params.push(2);
        params.push(exp);
        params.push(3);
        params.push(hash.len() as u8);
        params.extend_from_slice(hash);
    }
    let mut out = (params.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&params);
    out
}

/// The longest prefix of `s` of at most `units` UTF-16 code units that
/// ends on a character boundary.
pub(crate) fn truncate_utf16(s: &str, units: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += c.len_utf16();
        if used > units {
            return &s[..i];
        }
    }
    s
}

/// BLAKE2b-512 of a whole file.
pub fn file_blake2b(path: &Path) -> Result<[u8; DIGEST_LEN], PtauError> {
    let mut f = File::open(path).map_err(ContainerError::from)?;
    let mut h = Blake2b::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(ContainerError::from)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize())
}

/// Parses a published BLAKE2b-512 hash: 128 hex digits, optionally with a
/// `0x` prefix and whitespace between groups (snarkjs prints hashes as four
/// lines of four 8-digit words).
pub fn parse_hash(text: &str) -> Result<[u8; DIGEST_LEN], PtauError> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let digits: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = hex::decode(&digits).map_err(|e| PtauError::BadHash(format!("{text:?}: {e}")))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| PtauError::BadHash(format!("{} bytes, expected 64", b.len())))
}

/// Checks that the file's BLAKE2b-512 is `expected` (see [`parse_hash`]);
/// returns the hash.
pub fn check_blake2b(path: &Path, expected: &str) -> Result<[u8; DIGEST_LEN], PtauError> {
    let want = parse_hash(expected)?;
    let found = file_blake2b(path)?;
    if found != want {
        return Err(PtauError::HashMismatch {
            expected: hex::encode(want),
            found: hex::encode(found),
        });
    }
    Ok(found)
}

/// snarkjs's first challenge hash of a ceremony of `power`: BLAKE2b of the
/// empty hash and the initial (all-generator) sections, uncompressed.
pub fn first_challenge_hash(power: u32) -> [u8; DIGEST_LEN] {
    let n = 1u64 << power;
    let mut h = Blake2b::new();
    h.update(&Blake2b::digest(&[]));
    let g1 = g1_uncompressed(&G1Affine::generator());
    let g2 = g2_uncompressed(&G2Affine::generator());
    let repeat = |h: &mut Blake2b, p: &[u8], count: u64| {
        let block: Vec<u8> = p.repeat(1024);
        let mut left = count;
        while left >= 1024 {
            h.update(&block);
            left -= 1024;
        }
        h.update(&block[..left as usize * p.len()]);
    };
    repeat(&mut h, &g1, 2 * n - 1);
    repeat(&mut h, &g2, n);
    repeat(&mut h, &g1, n);
    repeat(&mut h, &g1, n);
    h.update(&g2);
    h.finalize()
}

/// What [`write_dev`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevPtau {
    /// The power.
    pub power: u32,
    /// The file's size in bytes.
    pub bytes: u64,
    /// The file's BLAKE2b-512.
    pub blake2b: [u8; DIGEST_LEN],
    /// The contribution's response hash.
    pub response_hash: [u8; DIGEST_LEN],
    /// The next challenge hash.
    pub next_challenge: [u8; DIGEST_LEN],
}

/// The largest power [`write_dev`] makes (2^24 G1 points of each kind take
/// gigabytes; the prover's FFT stops at 2^24 too).
pub const MAX_DEV_POWER: u32 = 24;

/// The secret of a phase-1 contribution, drawn as snarkjs's
/// `createPTauKey`: tau, alpha, beta, then for each a key point.
struct Phase1Secret {
    tau: Fr,
    alpha: Fr,
    beta: Fr,
    key: PtauPublicKey,
}

fn phase1_secret(rng: &mut ChaCha, challenge: &[u8; DIGEST_LEN]) -> Phase1Secret {
    let mut draw = || loop {
        let x = fr_from_rng(rng);
        if !x.is_zero() {
            return x;
        }
    };
    let (tau, alpha, beta) = (draw(), draw(), draw());
    let mut keys = [(G1Affine::zero(), G1Affine::zero(), G2Affine::zero()); 3];
    for (persona, (x, k)) in [tau, alpha, beta].iter().zip(keys.iter_mut()).enumerate() {
        let s = g1_from_rng(rng);
        let sx = g1_mul(&s, x);
        let mut h = Blake2b::new();
        h.update(&[persona as u8]);
        h.update(challenge);
        h.update(&g1_uncompressed(&s));
        h.update(&g1_uncompressed(&sx));
        let sp = hash_to_g2(&h.finalize());
        *k = (s, sx, g2_mul(&sp, x));
    }
    Phase1Secret {
        tau,
        alpha,
        beta,
        key: PtauPublicKey { keys },
    }
}

/// `L_i(tau)` for the domain of `2^p` (`i < 2^p`); with `truncated`, the
/// inverse DFT of `tau^0..tau^(2^p - 2), 0` instead (see the module docs).
fn lagrange_scalars(tau: Fr, p: u32, truncated: bool) -> Vec<Fr> {
    let n = 1usize << p;
    let omega = Fr::get_root_of_unity(n as u64).unwrap_or_else(Fr::one);
    let n_inv = Fr::from(n as u64).inverse().unwrap_or_default();
    let mut omegas = Vec::with_capacity(n);
    let mut w = Fr::one();
    for _ in 0..n {
        omegas.push(w);
        w *= omega;
    }
    let tau_n = tau.pow([n as u64]);
    let mut out: Vec<Fr> = if tau_n.is_one() {
        // tau is a root of unity: L_i(tau) = [tau = omega^i].
        omegas.iter().map(|w| Fr::from(*w == tau)).collect()
    } else {
        let mut denom: Vec<Fr> = omegas.iter().map(|w| tau - w).collect();
        batch_inversion(&mut denom);
        let z = (tau_n - Fr::one()) * n_inv;
        omegas.iter().zip(denom).map(|(w, d)| z * w * d).collect()
    };
    if truncated {
        let top = tau.pow([n as u64 - 1]) * n_inv;
        for (l, w) in out.iter_mut().zip(&omegas) {
            *l -= top * w;
        }
    }
    out
}

/// Streams sections' points into the file and, for sections 2-6, their
/// compressed form into the response hasher.
struct DevWriter {
    out: BufWriter<File>,
    response: Blake2b,
}

impl DevWriter {
    fn g1_section(&mut self, points: &[G1Affine], hash: bool) -> std::io::Result<()> {
        let mut buf = [0u8; G1_BYTES];
        for p in points {
            g1_to_lem(p, &mut buf);
            self.out.write_all(&buf)?;
            if hash {
                self.response.update(&g1_compressed(p));
            }
        }
        Ok(())
    }

    fn g2_section(&mut self, points: &[G2Affine], hash: bool) -> std::io::Result<()> {
        let mut buf = [0u8; G2_BYTES];
        for p in points {
            g2_to_lem(p, &mut buf);
            self.out.write_all(&buf)?;
            if hash {
                self.response.update(&g2_compressed(p));
            }
        }
        Ok(())
    }
}

/// Writes an **insecure** development `.ptau` of `power` to `path`: one
/// contribution whose secrets are drawn from `seed` (anyone who knows the
/// seed knows tau, alpha and beta and can forge proofs for every circuit
/// set up on this file). The file is what snarkjs's `powersoftau new`,
/// one `contribute` with those secrets and `preparephase2` would write:
/// `snarkjs powersoftau verify` accepts it.
#[allow(
    clippy::too_many_lines,
    reason = "one pass over the sections in file order, each a few lines"
)]
pub fn write_dev(path: &Path, power: u32, seed: &[u8], name: &str) -> Result<DevPtau, PtauError> {
    if power == 0 || power > MAX_DEV_POWER {
        return Err(PtauError::UnsupportedPower {
            power,
            max: MAX_DEV_POWER,
        });
    }
    let n = 1usize << power;
    let challenge = first_challenge_hash(power);
    let mut seed_hash = Blake2b::new();
    seed_hash.update(b"depin-circom insecure development powers of tau v1");
    seed_hash.update(seed);
    let mut seed32 = [0u8; 32];
    seed32.copy_from_slice(&seed_hash.finalize()[..32]);
    let secret = phase1_secret(&mut ChaCha::from_be_bytes(&seed32), &challenge);

    let mut powers = Vec::with_capacity(2 * n - 1);
    let mut t = Fr::one();
    for _ in 0..2 * n - 1 {
        powers.push(t);
        t *= secret.tau;
    }
    let g1 = BatchMulPreprocessing::new(G1Projective::from(G1Affine::generator()), 4 * n);
    let g2 = BatchMulPreprocessing::new(G2Projective::from(G2Affine::generator()), 2 * n);
    let scaled = |k: Fr, v: &[Fr]| -> Vec<Fr> { v.iter().map(|x| k * x).collect() };

    let file = File::create(path).map_err(ContainerError::from)?;
    let mut w = DevWriter {
        out: BufWriter::with_capacity(1 << 20, file),
        response: Blake2b::new(),
    };
    w.response.update(&challenge);
    let io = |e: std::io::Error| PtauError::from(ContainerError::from(e));
    let header_len = 4 + FIELD_BYTES as u64 + 8;
    container::write_header(&mut w.out, MAGIC, VERSION, 11).map_err(io)?;
    container::write_section_header(&mut w.out, id::HEADER, header_len).map_err(io)?;
    w.out
        .write_all(&(FIELD_BYTES as u32).to_le_bytes())
        .map_err(io)?;
    w.out.write_all(&fq_modulus_le()).map_err(io)?;
    w.out.write_all(&power.to_le_bytes()).map_err(io)?;
    w.out.write_all(&power.to_le_bytes()).map_err(io)?;

    let sizes = expected_sections(power);
    let tau_g1 = g1.batch_mul(&powers);
    container::write_section_header(&mut w.out, id::TAU_G1, sizes[0].2 * G1_BYTES as u64)
        .map_err(io)?;
    w.g1_section(&tau_g1, true).map_err(io)?;
    let tau_g2 = g2.batch_mul(&powers[..n]);
    container::write_section_header(&mut w.out, id::TAU_G2, sizes[1].2 * G2_BYTES as u64)
        .map_err(io)?;
    w.g2_section(&tau_g2, true).map_err(io)?;
    let alpha_tau = g1.batch_mul(&scaled(secret.alpha, &powers[..n]));
    container::write_section_header(&mut w.out, id::ALPHA_TAU_G1, sizes[2].2 * G1_BYTES as u64)
        .map_err(io)?;
    w.g1_section(&alpha_tau, true).map_err(io)?;
    let beta_tau = g1.batch_mul(&scaled(secret.beta, &powers[..n]));
    container::write_section_header(&mut w.out, id::BETA_TAU_G1, sizes[3].2 * G1_BYTES as u64)
        .map_err(io)?;
    w.g1_section(&beta_tau, true).map_err(io)?;
    let beta_g2 = g2_mul(&G2Affine::generator(), &secret.beta);
    container::write_section_header(&mut w.out, id::BETA_G2, G2_BYTES as u64).map_err(io)?;
    w.g2_section(&[beta_g2], true).map_err(io)?;

    // The response: challenge, compressed points, then the key.
    let partial = w.response.partial_state();
    let mut response = w.response.clone();
    response.update(&secret.key.uncompressed());
    let response_hash = response.finalize();
    // The next challenge: the response hash, then the points uncompressed.
    let next_challenge = {
        let mut h = Blake2b::new();
        h.update(&response_hash);
        for p in &tau_g1 {
            h.update(&g1_uncompressed(p));
        }
        for p in &tau_g2 {
            h.update(&g2_uncompressed(p));
        }
        for p in alpha_tau.iter().chain(&beta_tau) {
            h.update(&g1_uncompressed(p));
        }
        h.update(&g2_uncompressed(&beta_g2));
        h.finalize()
    };

    let mut contrib = Vec::new();
    let mut buf1 = [0u8; G1_BYTES];
    let mut buf2 = [0u8; G2_BYTES];
    let mut put1 = |c: &mut Vec<u8>, p: &G1Affine| {
        g1_to_lem(p, &mut buf1);
        c.extend_from_slice(&buf1);
    };
    contrib.extend_from_slice(&1u32.to_le_bytes());
    put1(&mut contrib, &tau_g1[1]);
    g2_to_lem(&tau_g2[1], &mut buf2);
    contrib.extend_from_slice(&buf2);
    put1(&mut contrib, &alpha_tau[0]);
    put1(&mut contrib, &beta_tau[0]);
    g2_to_lem(&beta_g2, &mut buf2);
    contrib.extend_from_slice(&buf2);
    for (s, sx, _) in &secret.key.keys {
        put1(&mut contrib, s);
        put1(&mut contrib, sx);
    }
    for (_, _, spx) in &secret.key.keys {
        g2_to_lem(spx, &mut buf2);
        contrib.extend_from_slice(&buf2);
    }
    contrib.extend_from_slice(&partial);
    contrib.extend_from_slice(&next_challenge);
    contrib.extend_from_slice(&0u32.to_le_bytes());
    contrib.extend_from_slice(&write_params(Some(name), None));
    container::write_section(&mut w.out, id::CONTRIBUTIONS, &contrib).map_err(io)?;
    drop((tau_g1, tau_g2, alpha_tau, beta_tau));
    drop(powers);

    // Phase 2: the Lagrange sections.
    let lagrange: Vec<Vec<Fr>> = (0..=power + 1)
        .map(|p| lagrange_scalars(secret.tau, p, p == power + 1))
        .collect();
    let total = |upto: u32| -> u64 { (2u64 << upto) - 1 };
    container::write_section_header(
        &mut w.out,
        id::LAGRANGE_G1,
        total(power + 1) * G1_BYTES as u64,
    )
    .map_err(io)?;
    for l in &lagrange {
        w.g1_section(&g1.batch_mul(l), false).map_err(io)?;
    }
    container::write_section_header(&mut w.out, id::LAGRANGE_G2, total(power) * G2_BYTES as u64)
        .map_err(io)?;
    for l in &lagrange[..=power as usize] {
        w.g2_section(&g2.batch_mul(l), false).map_err(io)?;
    }
    for (sid, k) in [
        (id::LAGRANGE_ALPHA_G1, secret.alpha),
        (id::LAGRANGE_BETA_G1, secret.beta),
    ] {
        container::write_section_header(&mut w.out, sid, total(power) * G1_BYTES as u64)
            .map_err(io)?;
        for l in &lagrange[..=power as usize] {
            w.g1_section(&g1.batch_mul(&scaled(k, l)), false)
                .map_err(io)?;
        }
    }
    w.out.flush().map_err(io)?;
    drop(w);
    let bytes = std::fs::metadata(path).map_err(io)?.len();
    Ok(DevPtau {
        power,
        bytes,
        blake2b: file_blake2b(path)?,
        response_hash,
        next_challenge,
    })
}
