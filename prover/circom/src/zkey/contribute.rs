//! Phase-2 contributions and beacons, as snarkjs's `zkey contribute` and
//! `zkey beacon` make them.
//!
//! A contribution draws a secret `x` and a point `[s]_1` from a ChaCha
//! stream ([`crate::rng`]), hashes the transcript (BLAKE2b of the circuit
//! hash, every earlier contribution's `delta_after, [s]_1, [s x]_1,
//! [s' x]_2, transcript` uncompressed, then `[s]_1, [s x]_1`), derives
//! `[s']_2` from it, and publishes `[s x]_1`, `[s' x]_2`: the pairing
//! `e([s]_1, [s' x]_2) = e([s x]_1, [s']_2)` proves knowledge of `x`
//! bound to the transcript. It multiplies `delta` by `x` and the `C` and
//! `H` sections by `1 / x`. Its **contribution hash** is BLAKE2b of its own
//! `delta_after, [s]_1, [s x]_1, [s' x]_2, transcript`: what snarkjs
//! prints and what a contributor publishes.
//!
//! The ChaCha stream of [`contribute`] is seeded, as snarkjs seeds it, by
//! BLAKE2b of 64 bytes from the operating system and the contributor's
//! text; that of [`beacon`] by the beacon hash hashed with SHA-256 `2^e`
//! times, so anyone can recompute a beacon's secret.

use ark_bn254::{Fr, G1Projective};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::Field;
use rand::RngCore;

use super::{Contribution, Zkey};
use crate::blake2b::{Blake2b, DIGEST_LEN};
use crate::encoding::{g1_uncompressed, g2_uncompressed};
use crate::rng::{beacon_rng, fr_from_rng, g1_from_rng, g1_mul, g2_mul, hash_to_g2, ChaCha};

/// Why a beacon's parameters were refused (snarkjs's limits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BeaconError {
    /// The beacon hash is empty, not hex, or 256 bytes or more.
    #[error("the beacon hash must be 1 to 255 bytes of hex: {0}")]
    Hash(String),
    /// The iteration exponent is outside `10..=63`.
    #[error("the beacon's iteration exponent {0} is outside 10..=63")]
    Exponent(u32),
    /// The beacon's stream drew a zero secret (never in practice).
    #[error("the beacon drew a zero secret")]
    ZeroSecret,
}

/// Hashes a contribution as snarkjs's `hashPubKey` does.
pub(crate) fn hash_pub_key(h: &mut Blake2b, c: &Contribution) {
    h.update(&g1_uncompressed(&c.delta_after));
    h.update(&g1_uncompressed(&c.g1_s));
    h.update(&g1_uncompressed(&c.g1_sx));
    h.update(&g2_uncompressed(&c.g2_spx));
    h.update(&c.transcript);
}

/// A contribution's hash (what snarkjs prints as "Contribution Hash").
pub fn contribution_hash(c: &Contribution) -> [u8; DIGEST_LEN] {
    let mut h = Blake2b::new();
    hash_pub_key(&mut h, c);
    h.finalize()
}

/// The transcript hasher after the circuit hash and the first `count`
/// contributions.
pub(crate) fn transcript_prefix(zkey: &Zkey, count: usize) -> Blake2b {
    let mut h = Blake2b::new();
    h.update(&zkey.mpc.cs_hash);
    for c in &zkey.mpc.contributions[..count] {
        hash_pub_key(&mut h, c);
    }
    h
}

/// Applies the contribution drawn from `rng` (see the module docs);
/// returns its hash. `None` when the stream drew a zero secret.
fn apply(
    zkey: &mut Zkey,
    rng: &mut ChaCha,
    name: Option<&str>,
    beacon: Option<(u8, Vec<u8>)>,
) -> Option<[u8; DIGEST_LEN]> {
    let x = fr_from_rng(rng);
    let x_inv = x.inverse()?;
    let g1_s = g1_from_rng(rng);
    let g1_sx = g1_mul(&g1_s, &x);
    let mut t = transcript_prefix(zkey, zkey.mpc.contributions.len());
    t.update(&g1_uncompressed(&g1_s));
    t.update(&g1_uncompressed(&g1_sx));
    let transcript = t.finalize();
    let g2_spx = g2_mul(&hash_to_g2(&transcript), &x);
    zkey.header.delta_1 = g1_mul(&zkey.header.delta_1, &x);
    zkey.header.delta_2 = g2_mul(&zkey.header.delta_2, &x);
    scale_points(&mut zkey.c, x_inv);
    scale_points(&mut zkey.h, x_inv);
    let c = Contribution {
        delta_after: zkey.header.delta_1,
        g1_s,
        g1_sx,
        g2_spx,
        transcript,
        name: name
            .filter(|n| !n.is_empty())
            .map(|n| crate::ptau::truncate_utf16(n, 64).to_string()),
        beacon,
    };
    let hash = contribution_hash(&c);
    zkey.mpc.contributions.push(c);
    Some(hash)
}

/// Every point times `k`, in parallel.
fn scale_points(points: &mut [ark_bn254::G1Affine], k: Fr) {
    // Projective times a scalar is arkworks' GLV multiplication on G1.
    let scaled: Vec<G1Projective> =
        depin_prover_core::par::map(points.len(), |i| points[i].into_group() * k);
    let affine = G1Projective::normalize_batch(&scaled);
    points.copy_from_slice(&affine);
}

/// Adds a contribution to `zkey`: its secret drawn from 64 bytes of the
/// operating system's randomness (`os_rng`) and `entropy` (the
/// contributor's text, may be empty); returns the contribution hash.
pub fn contribute(
    zkey: &mut Zkey,
    name: Option<&str>,
    entropy: &[u8],
    os_rng: &mut impl RngCore,
) -> [u8; DIGEST_LEN] {
    loop {
        let mut random = [0u8; 64];
        os_rng.fill_bytes(&mut random);
        let mut h = Blake2b::new();
        h.update(&random);
        h.update(entropy);
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&h.finalize()[..32]);
        if let Some(hash) = apply(zkey, &mut ChaCha::from_be_bytes(&seed), name, None) {
            return hash;
        }
    }
}

/// Refuses what snarkjs refuses: a beacon hash that is empty or 256
/// bytes or more, an iteration exponent outside `10..=63`.
fn check_beacon(beacon: &[u8], exp: u32) -> Result<u8, BeaconError> {
    if beacon.is_empty() || beacon.len() >= 256 {
        return Err(BeaconError::Hash(format!("{} bytes", beacon.len())));
    }
    u8::try_from(exp)
        .ok()
        .filter(|e| (10..=63).contains(e))
        .ok_or(BeaconError::Exponent(exp))
}

/// Parses and checks a beacon: 1 to 255 bytes of hex, exponent `10..=63`.
pub fn parse_beacon(hash_hex: &str, exp: u32) -> Result<(Vec<u8>, u8), BeaconError> {
    let t = hash_hex.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let bytes = hex::decode(t).map_err(|e| BeaconError::Hash(format!("{hash_hex:?}: {e}")))?;
    let exp = check_beacon(&bytes, exp)?;
    Ok((bytes, exp))
}

/// Adds a beacon contribution: the secret comes from `beacon` (e.g. a
/// future block hash) hashed with SHA-256 `2^exp` times, so anyone can
/// recompute it; returns the contribution hash.
pub fn beacon(
    zkey: &mut Zkey,
    name: Option<&str>,
    beacon: &[u8],
    exp: u8,
) -> Result<[u8; DIGEST_LEN], BeaconError> {
    check_beacon(beacon, u32::from(exp))?;
    let mut rng = beacon_rng(beacon, exp);
    apply(zkey, &mut rng, name, Some((exp, beacon.to_vec()))).ok_or(BeaconError::ZeroSecret)
}

/// The key points a beacon contribution must have (`[s]_1, [s x]_1`),
/// recomputed from its parameters.
pub(crate) fn beacon_key(beacon: &[u8], exp: u8) -> (ark_bn254::G1Affine, ark_bn254::G1Affine) {
    let mut rng = beacon_rng(beacon, exp);
    let x = fr_from_rng(&mut rng);
    let s = g1_from_rng(&mut rng);
    (s, g1_mul(&s, &x))
}
