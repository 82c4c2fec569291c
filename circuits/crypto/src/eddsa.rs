//! EdDSA-Poseidon on Baby Jubjub exactly as circomlibjs defines it.
//!
//! The scheme is circomlibjs's `signPoseidon` / `verifyPoseidon`, an EdDSA
//! (Bernstein, Duif, Lange, Schwabe, Yang, "High-speed high-security
//! signatures", CHES 2011) over Baby Jubjub with BLAKE-512 key and nonce
//! derivation and a Poseidon challenge:
//!
//! - key: `h = blake512(sk)`, `s = prune(h[0..32])` read little-endian,
//!   `A = (s >> 3) * Base8`;
//! - sign `m` (a field element): `r = blake512(h[32..64] || le32(m)) mod l`,
//!   `R8 = r * Base8`, `c = Poseidon(R8.x, R8.y, A.x, A.y, m)`,
//!   `S = (r + c * s) mod l`;
//! - verify: `S < l`, `A` and `R8` on the curve, and `S * Base8 = R8 + 8c * A`.
//!
//! Verification here is *cofactored*: it checks `8 * (S * Base8 - R8 - 8c * A)
//! = 0`, and it refuses public keys and `R8` of small order. Every signature
//! that circomlibjs makes verifies (its equation holds exactly), and the
//! cofactored form is what makes [`batch_verify`] agree with [`verify`] on
//! every input, including adversarial `R8` with a torsion component. The R1CS
//! gadget checks the same equation.

use crate::babyjubjub::{Point, PointError, Scalar, SUBORDER};
use crate::field::{fr_to_le_bytes, Fr};
use crate::poseidon;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInt, PrimeField};
use blake_hash::{Blake512, Digest};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Why a key or signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EddsaError {
    /// A point (public key or `R8`) is malformed.
    #[error("invalid point: {0}")]
    Point(#[from] PointError),
    /// `S` is not below the subgroup order.
    #[error("signature scalar S is not below the subgroup order")]
    ScalarOutOfRange,
    /// The public key has small order.
    #[error("public key has small order")]
    SmallOrderKey,
    /// `R8` has small order.
    #[error("signature point R8 has small order")]
    SmallOrderR,
    /// The verification equation does not hold.
    #[error("signature does not verify")]
    Invalid,
}

/// A 32-byte EdDSA private key. Zeroized on drop; `Debug` never prints it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PrivateKey([u8; 32]);

impl core::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

/// The expanded secret: the pruned scalar and the nonce prefix.
struct Expanded {
    /// `prune(h[0..32])` as little-endian bytes.
    s: [u8; 32],
    /// `h[32..64]`.
    prefix: [u8; 32],
}

impl Drop for Expanded {
    fn drop(&mut self) {
        self.s.zeroize();
        self.prefix.zeroize();
    }
}

/// A public key: a point of Baby Jubjub in circomlib's coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PublicKey(pub Point);

/// An EdDSA-Poseidon signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    /// The nonce commitment `R8 = r * Base8`.
    pub r8: Point,
    /// The response `S`, below the subgroup order.
    pub s: BigInt<4>,
}

impl PrivateKey {
    /// Wraps 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        PrivateKey(bytes)
    }

    /// Draws a fresh key from a cryptographic RNG.
    pub fn generate<R: rand_core::RngCore + rand_core::CryptoRng>(rng: &mut R) -> Self {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        PrivateKey(b)
    }

    /// The secret bytes, for writing a key file.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn expand(&self) -> Expanded {
        let mut h = Blake512::digest(&self.0);
        let mut s = [0u8; 32];
        let mut prefix = [0u8; 32];
        s.copy_from_slice(&h[..32]);
        prefix.copy_from_slice(&h[32..]);
        h.as_mut_slice().zeroize();
        s[0] &= 0xf8;
        s[31] &= 0x7f;
        s[31] |= 0x40;
        Expanded { s, prefix }
    }

    /// circomlibjs's `prv2pub`.
    pub fn public_key(&self) -> PublicKey {
        let e = self.expand();
        PublicKey(mul_base8(le_bytes_to_bigint(&e.s) >> 3))
    }

    /// circomlibjs's `signPoseidon(sk, msg)`.
    pub fn sign(&self, msg: &Fr) -> Signature {
        let e = self.expand();
        let a = mul_base8(le_bytes_to_bigint(&e.s) >> 3);

        let mut buf = [0u8; 64];
        buf[..32].copy_from_slice(&e.prefix);
        buf[32..].copy_from_slice(&fr_to_le_bytes(msg));
        let mut rh = Blake512::digest(&buf);
        buf.zeroize();
        let r = Scalar::from_le_bytes_mod_order(&rh);
        rh.as_mut_slice().zeroize();
        let r8 = mul_base8(r.into_bigint());

        let c = challenge(&r8, &a, msg);
        let s = r + c * Scalar::from_le_bytes_mod_order(&e.s);
        Signature {
            r8,
            s: s.into_bigint(),
        }
    }
}

impl PublicKey {
    /// Builds a public key from coordinates, refusing points off the curve
    /// and of small order.
    pub fn new(x: Fr, y: Fr) -> Result<Self, EddsaError> {
        let p = Point::new(x, y)?;
        if p.has_small_order()? {
            return Err(EddsaError::SmallOrderKey);
        }
        Ok(PublicKey(p))
    }

    /// `Poseidon(A.x, A.y)`: the device or client identifier used in records
    /// and public inputs.
    pub fn id(&self) -> Fr {
        poseidon::hash2(self.0.x, self.0.y)
    }

    /// Checks `sig` on `msg` (see the module docs for the exact equation).
    pub fn verify(&self, msg: &Fr, sig: &Signature) -> Result<(), EddsaError> {
        let p = Prepared::new(self, msg, sig)?;
        let s = Scalar::from_bigint(sig.s).ok_or(EddsaError::ScalarOutOfRange)?;
        let lhs = base8_ark().mul_bigint(s.into_bigint());
        let rhs = p.r8.into_group() + p.a8.mul_bigint(p.c.into_bigint());
        if (lhs - rhs).into_affine().mul_by_cofactor().is_zero() {
            Ok(())
        } else {
            Err(EddsaError::Invalid)
        }
    }
}

/// The challenge `Poseidon(R8.x, R8.y, A.x, A.y, m)` reduced modulo `l`.
fn challenge(r8: &Point, a: &Point, msg: &Fr) -> Scalar {
    let c = poseidon::hash_n(&[r8.x, r8.y, a.x, a.y, *msg]);
    Scalar::from_le_bytes_mod_order(&fr_to_le_bytes(&c))
}

fn base8_ark() -> ark_ed_on_bn254::EdwardsAffine {
    // BASE8 is on the curve by construction (tested).
    Point::BASE8
        .to_ark()
        .unwrap_or_else(|_| ark_ed_on_bn254::EdwardsAffine::zero())
}

fn mul_base8(k: impl AsRef<[u64]>) -> Point {
    Point::from_projective(&base8_ark().mul_bigint(k))
}

fn le_bytes_to_bigint(b: &[u8; 32]) -> BigInt<4> {
    let mut limbs = [0u64; 4];
    for (i, l) in limbs.iter_mut().enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[8 * i..8 * i + 8]);
        *l = u64::from_le_bytes(w);
    }
    BigInt::new(limbs)
}

/// A signature with its checks that do not depend on the others in a batch
/// done: points decoded, small orders refused, challenge computed.
struct Prepared {
    r8: ark_ed_on_bn254::EdwardsAffine,
    a8: ark_ed_on_bn254::EdwardsAffine,
    c: Scalar,
}

impl Prepared {
    fn new(pk: &PublicKey, msg: &Fr, sig: &Signature) -> Result<Self, EddsaError> {
        if sig.s >= SUBORDER {
            return Err(EddsaError::ScalarOutOfRange);
        }
        let a = pk.0.to_ark()?;
        let r8 = sig.r8.to_ark()?;
        let a8 = a.mul_by_cofactor();
        if a8.is_zero() {
            return Err(EddsaError::SmallOrderKey);
        }
        if r8.mul_by_cofactor().is_zero() {
            return Err(EddsaError::SmallOrderR);
        }
        Ok(Prepared {
            r8,
            a8,
            c: challenge(&sig.r8, &pk.0, msg),
        })
    }
}

/// One item of a batch: public key, message and signature.
#[derive(Clone, Copy, Debug)]
pub struct BatchItem<'a> {
    /// Signer.
    pub key: &'a PublicKey,
    /// Signed message.
    pub msg: &'a Fr,
    /// Signature.
    pub sig: &'a Signature,
}

/// Verifies many signatures with one multi-scalar multiplication.
///
/// With independent random 128-bit weights `z_i` it checks
/// `8 * ((sum z_i S_i) Base8 - sum z_i R8_i - sum (z_i c_i) 8A_i) = 0`.
/// A batch containing an invalid signature passes with probability at most
/// `2^-128`; on failure, callers that need to know which signature is bad
/// verify individually. Returns the first per-signature error found while
/// preparing (malformed points, small orders, `S` out of range) or
/// [`EddsaError::Invalid`].
#[cfg(feature = "alloc")]
pub fn batch_verify<R: rand_core::RngCore + rand_core::CryptoRng>(
    items: &[BatchItem<'_>],
    rng: &mut R,
) -> Result<(), EddsaError> {
    use alloc::vec::Vec;
    use ark_ec::VariableBaseMSM;
    use ark_ed_on_bn254::EdwardsProjective;
    use ark_ff::AdditiveGroup;

    if items.is_empty() {
        return Ok(());
    }
    // Weights are drawn sequentially (the RNG is not shared across threads);
    // the per-signature work (decoding, small-order checks, the Poseidon
    // challenge) runs on every core with the `parallel` feature.
    let weights: Vec<Scalar> = items
        .iter()
        .map(|_| Scalar::from(u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64())))
        .collect();
    let prepare = |(it, z): (&BatchItem<'_>, &Scalar)| {
        let p = Prepared::new(it.key, it.msg, it.sig)?;
        let s = Scalar::from_bigint(it.sig.s).ok_or(EddsaError::ScalarOutOfRange)?;
        let neg_zc = -(*z * p.c);
        Ok::<_, EddsaError>((p, *z * s, -*z, neg_zc))
    };
    #[cfg(feature = "parallel")]
    let prepared: Vec<_> = {
        use rayon::prelude::*;
        items
            .par_iter()
            .zip(weights.par_iter())
            .map(prepare)
            .collect::<Result<_, _>>()?
    };
    #[cfg(not(feature = "parallel"))]
    let prepared: Vec<_> = items
        .iter()
        .zip(weights.iter())
        .map(prepare)
        .collect::<Result<_, _>>()?;

    let mut bases = Vec::with_capacity(2 * items.len() + 1);
    let mut scalars = Vec::with_capacity(2 * items.len() + 1);
    let mut s_sum = Scalar::ZERO;
    for (p, zs, neg_z, neg_zc) in prepared {
        s_sum += zs;
        bases.push(p.r8);
        scalars.push(neg_z);
        bases.push(p.a8);
        scalars.push(neg_zc);
    }
    bases.push(base8_ark());
    scalars.push(s_sum);
    let sum = EdwardsProjective::msm(&bases, &scalars).map_err(|_| EddsaError::Invalid)?;
    if sum.into_affine().mul_by_cofactor().is_zero() {
        Ok(())
    } else {
        Err(EddsaError::Invalid)
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use alloc::{format, vec::Vec};
    use ark_ff::{AdditiveGroup, BigInteger, Field};
    use rand::SeedableRng;

    fn key(i: u8) -> PrivateKey {
        PrivateKey::from_bytes([i; 32])
    }

    #[test]
    fn sign_then_verify() {
        for i in 0..8u8 {
            let sk = key(i);
            let pk = sk.public_key();
            let m = Fr::from(1000u64 + u64::from(i));
            let sig = sk.sign(&m);
            assert_eq!(pk.verify(&m, &sig), Ok(()));
            assert_eq!(
                pk.verify(&(m + Fr::from(1u64)), &sig),
                Err(EddsaError::Invalid)
            );
        }
    }

    #[test]
    fn s_out_of_range_is_refused() {
        let sk = key(1);
        let m = Fr::from(5u64);
        let mut sig = sk.sign(&m);
        // S + l satisfies the equation but is not canonical.
        let mut big = sig.s;
        big.add_with_carry(&SUBORDER);
        sig.s = big;
        assert_eq!(
            sk.public_key().verify(&m, &sig),
            Err(EddsaError::ScalarOutOfRange)
        );
    }

    #[test]
    fn small_order_key_and_r_are_refused() {
        let m = Fr::from(5u64);
        let sk = key(2);
        let mut sig = sk.sign(&m);
        let identity = PublicKey(Point::IDENTITY);
        assert_eq!(identity.verify(&m, &sig), Err(EddsaError::SmallOrderKey));
        sig.r8 = Point::IDENTITY;
        assert_eq!(
            sk.public_key().verify(&m, &sig),
            Err(EddsaError::SmallOrderR)
        );
        assert_eq!(
            PublicKey::new(Fr::ZERO, Fr::ONE),
            Err(EddsaError::SmallOrderKey)
        );
    }

    #[test]
    fn debug_redacts_private_key() {
        let s = format!("{:?}", key(7));
        assert_eq!(s, "PrivateKey(<redacted>)");
    }

    #[test]
    fn batch_agrees_with_single() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let keys: Vec<_> = (0..16u8).map(|i| key(i).public_key()).collect();
        let msgs: Vec<_> = (0..16u64).map(Fr::from).collect();
        let mut sigs: Vec<_> = (0..16u8).map(|i| key(i).sign(&msgs[i as usize])).collect();
        let items = |sigs: &Vec<Signature>| -> Vec<(PublicKey, Fr, Signature)> {
            (0..16).map(|i| (keys[i], msgs[i], sigs[i])).collect()
        };
        let run = |v: &Vec<(PublicKey, Fr, Signature)>, rng: &mut rand_chacha::ChaCha20Rng| {
            let b: Vec<_> = v
                .iter()
                .map(|(k, m, s)| BatchItem {
                    key: k,
                    msg: m,
                    sig: s,
                })
                .collect();
            batch_verify(&b, rng)
        };
        assert_eq!(run(&items(&sigs), &mut rng), Ok(()));
        // A wrong S in one signature fails the whole batch.
        sigs[5].s = sigs[4].s;
        assert_eq!(run(&items(&sigs), &mut rng), Err(EddsaError::Invalid));
    }
}
