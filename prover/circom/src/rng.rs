//! The deterministic randomness a ceremony's verifiers recompute.
//!
//! A contribution's proof of knowledge pairs the contributor's `[s]_1,
//! [s x]_1` with `[s' x]_2`, where `[s']_2` is derived from a hash
//! (snarkjs's `hashToG2`); a beacon contribution derives its secret from the
//! beacon. Anyone verifying must derive the same points, so these follow
//! snarkjs 0.7 (ffjavascript 0.2) exactly:
//!
//! * [`ChaCha`]: the ChaCha20 block function (RFC 8439's rounds) keyed by
//!   eight 32-bit words, with a 128-bit block counter in words 12-15 from
//!   zero and no nonce, output word by word;
//! * a field element from it ([`fq_from_rng`], [`fr_from_rng`]): four
//!   64-bit draws (each the first word times `2^32` plus the second), the
//!   `i`-th shifted by `64 i`, masked to 254 bits, redrawn while not below
//!   the modulus; the integer `v` is taken as a **Montgomery form**, so the
//!   element is `v / 2^256`;
//! * a curve point from it ([`g1_from_rng`], [`g2_from_rng`]): draw `x`
//!   (for G2, `c0` then `c1`) and one bit (the low bit of a word) until
//!   `x^3 + b` is a square, take the square root whose sign (see
//!   [`crate::encoding`]) is that bit, and for G2 multiply by the cofactor
//!   `2q - r` (not arkworks' faster cofactor clearing, which gives another
//!   multiple);
//! * [`hash_to_g2`]: the first 32 bytes of a hash as eight big-endian words
//!   seed a [`ChaCha`], which draws a G2 point;
//! * [`beacon_rng`]: a beacon hash hashed with SHA-256 `2^e` times, the
//!   result's eight big-endian words seed a [`ChaCha`].

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::{short_weierstrass::SWCurveConfig, AffineRepr, CurveGroup};
use ark_ff::{BigInt, Field, PrimeField};
use sha2::{Digest, Sha256};

use crate::encoding::{fq2_is_negative, fq_is_negative};

/// The ChaCha20 stream snarkjs draws its deterministic values from.
#[derive(Debug, Clone)]
pub struct ChaCha {
    state: [u32; 16],
    block: [u32; 16],
    idx: usize,
}

impl ChaCha {
    /// The stream keyed by `seed` (counter zero).
    pub fn new(seed: [u32; 8]) -> Self {
        let mut state = [0u32; 16];
        state[..4].copy_from_slice(&[0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]);
        state[4..12].copy_from_slice(&seed);
        ChaCha {
            state,
            block: [0; 16],
            idx: 16,
        }
    }

    /// The stream keyed by 32 bytes read as eight big-endian words.
    pub fn from_be_bytes(bytes: &[u8; 32]) -> Self {
        let mut seed = [0u32; 8];
        for (w, c) in seed.iter_mut().zip(bytes.chunks_exact(4)) {
            *w = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        Self::new(seed)
    }

    /// The next 32-bit word.
    pub fn next_u32(&mut self) -> u32 {
        if self.idx == 16 {
            self.refill();
        }
        let w = self.block[self.idx];
        self.idx += 1;
        w
    }

    /// The next 64-bit value: the next word times `2^32` plus the one after.
    pub fn next_u64(&mut self) -> u64 {
        let hi = u64::from(self.next_u32());
        let lo = u64::from(self.next_u32());
        (hi << 32) | lo
    }

    /// The low bit of the next word.
    pub fn next_bool(&mut self) -> bool {
        self.next_u32() & 1 == 1
    }

    fn refill(&mut self) {
        let mut x = self.state;
        fn qr(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
            x[a] = x[a].wrapping_add(x[b]);
            x[d] = (x[d] ^ x[a]).rotate_left(16);
            x[c] = x[c].wrapping_add(x[d]);
            x[b] = (x[b] ^ x[c]).rotate_left(12);
            x[a] = x[a].wrapping_add(x[b]);
            x[d] = (x[d] ^ x[a]).rotate_left(8);
            x[c] = x[c].wrapping_add(x[d]);
            x[b] = (x[b] ^ x[c]).rotate_left(7);
        }
        for _ in 0..10 {
            qr(&mut x, 0, 4, 8, 12);
            qr(&mut x, 1, 5, 9, 13);
            qr(&mut x, 2, 6, 10, 14);
            qr(&mut x, 3, 7, 11, 15);
            qr(&mut x, 0, 5, 10, 15);
            qr(&mut x, 1, 6, 11, 12);
            qr(&mut x, 2, 7, 8, 13);
            qr(&mut x, 3, 4, 9, 14);
        }
        for (o, (xi, si)) in self.block.iter_mut().zip(x.iter().zip(self.state.iter())) {
            *o = xi.wrapping_add(*si);
        }
        self.idx = 0;
        // The 128-bit counter in words 12..16.
        for w in &mut self.state[12..16] {
            *w = w.wrapping_add(1);
            if *w != 0 {
                break;
            }
        }
    }
}

/// A 254-bit draw below `modulus`, as ffjavascript's `F.fromRng`.
fn draw_below(rng: &mut ChaCha, modulus: &BigInt<4>) -> BigInt<4> {
    loop {
        let mut v = [0u64; 4];
        for limb in &mut v {
            *limb = rng.next_u64();
        }
        v[3] &= (1u64 << 62) - 1;
        let v = BigInt(v);
        if v < *modulus {
            return v;
        }
    }
}

/// A base-field element drawn as ffjavascript's `Fq.fromRng` (the draw is
/// the element's Montgomery form).
pub fn fq_from_rng(rng: &mut ChaCha) -> Fq {
    Fq::new_unchecked(draw_below(rng, &Fq::MODULUS))
}

/// A scalar drawn as ffjavascript's `Fr.fromRng` (the draw is the
/// element's Montgomery form).
pub fn fr_from_rng(rng: &mut ChaCha) -> Fr {
    Fr::new_unchecked(draw_below(rng, &Fr::MODULUS))
}

/// A G1 point drawn as ffjavascript's `G1.fromRng`.
pub fn g1_from_rng(rng: &mut ChaCha) -> G1Affine {
    loop {
        let x = fq_from_rng(rng);
        let greatest = rng.next_bool();
        let x3b = x.square() * x + ark_bn254::g1::Config::COEFF_B;
        if let Some(mut y) = x3b.sqrt() {
            if fq_is_negative(&y) != greatest {
                y = -y;
            }
            return G1Affine::new_unchecked(x, y);
        }
    }
}

/// The cofactor of BN254's G2 as ffjavascript uses it (`2q - r`).
const G2_COFACTOR: [u64; 4] = [
    0x345f2299c0f9fa8d,
    0x06ceecda572a2489,
    0xb85045b68181585e,
    0x30644e72e131a029,
];

/// A G2 point drawn as ffjavascript's `G2.fromRng`.
pub fn g2_from_rng(rng: &mut ChaCha) -> G2Affine {
    loop {
        let c0 = fq_from_rng(rng);
        let c1 = fq_from_rng(rng);
        let x = Fq2::new(c0, c1);
        let greatest = rng.next_bool();
        let x3b = x.square() * x + ark_bn254::g2::Config::COEFF_B;
        if let Some(mut y) = x3b.sqrt() {
            if fq2_is_negative(&y) != greatest {
                y = -y;
            }
            let p = G2Affine::new_unchecked(x, y);
            return p.mul_bigint(G2_COFACTOR).into_affine();
        }
    }
}

/// snarkjs's `hashToG2`: a G2 point from the first 32 bytes of `hash`.
pub fn hash_to_g2(hash: &[u8; 64]) -> G2Affine {
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&hash[..32]);
    g2_from_rng(&mut ChaCha::from_be_bytes(&seed))
}

/// snarkjs's `rngFromBeaconParams`: `beacon` hashed with SHA-256 `2^exp`
/// times (`exp` at most 63), the result's eight big-endian words seeding a
/// [`ChaCha`].
pub fn beacon_rng(beacon: &[u8], exp: u8) -> ChaCha {
    let iterations: u64 = 1u64 << exp.min(63);
    let mut cur: [u8; 32] = Sha256::digest(beacon).into();
    for _ in 1..iterations {
        cur = Sha256::digest(cur).into();
    }
    ChaCha::from_be_bytes(&cur)
}

/// `p` times `k` in G1, normalised.
pub(crate) fn g1_mul(p: &G1Affine, k: &Fr) -> G1Affine {
    (*p * k).into_affine()
}

/// `p` times `k` in G2, normalised.
pub(crate) fn g2_mul(p: &G2Affine, k: &Fr) -> G2Affine {
    (*p * k).into_affine()
}
