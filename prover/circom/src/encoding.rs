//! How the circom files encode BN254 field elements and points.
//!
//! * **LEM** (little-endian Montgomery; the `.ptau` and `.zkey` sections):
//!   a base-field element is its Montgomery form `x * 2^256 mod q` as 32
//!   little-endian bytes; a G1 point is `x || y` (64 bytes), a G2 point
//!   `x.c0 || x.c1 || y.c0 || y.c1` (128 bytes); the point at infinity is
//!   all zeros. This is exactly arkworks' in-memory representation.
//! * **Uncompressed** (what snarkjs hashes): each coordinate in normal form,
//!   big-endian; a G2 coordinate is `c1 || c0` (the 64-byte little-endian
//!   `c0 || c1` reversed); infinity is all zeros.
//! * **Compressed** (a powers-of-tau response hash): `x` uncompressed, with
//!   bit `0x80` of the first byte set when `y` is "negative" (its normal
//!   form above `(q - 1) / 2`; for `Fq2` the sign of `c1`, or of `c0` when
//!   `c1` is zero); infinity is zeros with first byte `0x40`.
//! * Scalars (`.r1cs` coefficients, `.wtns` values): normal form, 32
//!   little-endian bytes.
//!
//! Decoding refuses non-canonical coordinates (not below `q`) and points
//! off their curve; G2 points can also be checked for the prime-order
//! subgroup ([`g2_from_lem_checked`]).

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, BigInteger, Field, MontFp, PrimeField, Zero};

/// Bytes of a field element.
pub const FIELD_BYTES: usize = 32;
/// Bytes of an encoded G1 point.
pub const G1_BYTES: usize = 64;
/// Bytes of an encoded G2 point.
pub const G2_BYTES: usize = 128;

/// Why bytes are not a field element or a point.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointError {
    /// A coordinate or scalar not below its modulus.
    #[error("a field element is not below the modulus")]
    NotCanonical,
    /// Coordinates that do not satisfy the curve equation.
    #[error("the point is not on the curve")]
    NotOnCurve,
    /// A G2 point outside the prime-order subgroup.
    #[error("the point is not in the prime-order subgroup")]
    NotInSubgroup,
}

/// The bytes of a 4-limb integer, little-endian.
fn limbs_to_le(limbs: &[u64; 4], out: &mut [u8]) {
    for (chunk, limb) in out.chunks_exact_mut(8).zip(limbs) {
        chunk.copy_from_slice(&limb.to_le_bytes());
    }
}

/// A 4-limb integer from 32 little-endian bytes.
pub(crate) fn le_to_bigint(bytes: &[u8]) -> BigInt<4> {
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(b);
    }
    BigInt(limbs)
}

/// `Fq` in Montgomery form, little-endian.
pub fn fq_to_lem(x: &Fq, out: &mut [u8]) {
    limbs_to_le(&x.0 .0, out);
}

/// `Fq` from its Montgomery form (refusing a form not below `q`).
pub fn fq_from_lem(bytes: &[u8]) -> Result<Fq, PointError> {
    let v = le_to_bigint(bytes);
    if v >= Fq::MODULUS {
        return Err(PointError::NotCanonical);
    }
    Ok(Fq::new_unchecked(v))
}

/// A scalar in normal form, little-endian (`.r1cs`, `.wtns`).
pub fn fr_to_le(x: &Fr, out: &mut [u8]) {
    limbs_to_le(&x.into_bigint().0, out);
}

/// A scalar from its normal form (refusing one not below `r`).
pub fn fr_from_le(bytes: &[u8]) -> Result<Fr, PointError> {
    Fr::from_bigint(le_to_bigint(bytes)).ok_or(PointError::NotCanonical)
}

/// A G1 point in LEM form.
pub fn g1_to_lem(p: &G1Affine, out: &mut [u8]) {
    match p.xy() {
        Some((x, y)) => {
            fq_to_lem(&x, &mut out[..32]);
            fq_to_lem(&y, &mut out[32..64]);
        }
        None => out[..64].fill(0),
    }
}

/// A G1 point from LEM form: all zeros is infinity, anything else must be
/// on the curve (G1 has cofactor one, so it is then in the group).
pub fn g1_from_lem(bytes: &[u8]) -> Result<G1Affine, PointError> {
    if bytes[..64].iter().all(|b| *b == 0) {
        return Ok(G1Affine::zero());
    }
    let p = G1Affine::new_unchecked(fq_from_lem(&bytes[..32])?, fq_from_lem(&bytes[32..64])?);
    if !p.is_on_curve() {
        return Err(PointError::NotOnCurve);
    }
    Ok(p)
}

/// A G2 point in LEM form.
pub fn g2_to_lem(p: &G2Affine, out: &mut [u8]) {
    match p.xy() {
        Some((x, y)) => {
            fq_to_lem(&x.c0, &mut out[..32]);
            fq_to_lem(&x.c1, &mut out[32..64]);
            fq_to_lem(&y.c0, &mut out[64..96]);
            fq_to_lem(&y.c1, &mut out[96..128]);
        }
        None => out[..128].fill(0),
    }
}

/// A G2 point from LEM form, on the curve but not checked for the
/// prime-order subgroup.
pub fn g2_from_lem(bytes: &[u8]) -> Result<G2Affine, PointError> {
    if bytes[..128].iter().all(|b| *b == 0) {
        return Ok(G2Affine::zero());
    }
    let x = Fq2::new(fq_from_lem(&bytes[..32])?, fq_from_lem(&bytes[32..64])?);
    let y = Fq2::new(fq_from_lem(&bytes[64..96])?, fq_from_lem(&bytes[96..128])?);
    let p = G2Affine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err(PointError::NotOnCurve);
    }
    Ok(p)
}

/// [`g2_from_lem`] and the prime-order subgroup check.
pub fn g2_from_lem_checked(bytes: &[u8]) -> Result<G2Affine, PointError> {
    let p = g2_from_lem(bytes)?;
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(PointError::NotInSubgroup);
    }
    Ok(p)
}

/// Decodes `raw` as consecutive points of `size` bytes in parallel; on
/// failure, the index of the first bad point found and why.
pub fn decode_points<P: Send>(
    raw: &[u8],
    size: usize,
    decode: impl Fn(&[u8]) -> Result<P, PointError> + Sync,
) -> Result<Vec<P>, (usize, PointError)> {
    depin_prover_core::par::map(raw.len() / size, |i| {
        decode(&raw[i * size..(i + 1) * size]).map_err(|e| (i, e))
    })
    .into_iter()
    .collect()
}

/// `Fq` in normal form, big-endian.
fn fq_to_be(x: &Fq, out: &mut [u8]) {
    let bytes = x.into_bigint().to_bytes_be();
    out[..32].copy_from_slice(&bytes);
}

/// A G1 point uncompressed (big-endian normal form; infinity all zeros).
pub fn g1_uncompressed(p: &G1Affine) -> [u8; G1_BYTES] {
    let mut out = [0u8; G1_BYTES];
    if let Some((x, y)) = p.xy() {
        fq_to_be(&x, &mut out[..32]);
        fq_to_be(&y, &mut out[32..]);
    }
    out
}

/// A G2 point uncompressed (`x.c1 || x.c0 || y.c1 || y.c0`, big-endian;
/// infinity all zeros).
pub fn g2_uncompressed(p: &G2Affine) -> [u8; G2_BYTES] {
    let mut out = [0u8; G2_BYTES];
    if let Some((x, y)) = p.xy() {
        fq_to_be(&x.c1, &mut out[..32]);
        fq_to_be(&x.c0, &mut out[32..64]);
        fq_to_be(&y.c1, &mut out[64..96]);
        fq_to_be(&y.c0, &mut out[96..]);
    }
    out
}

/// `(q - 1) / 2`.
const FQ_HALF: Fq =
    MontFp!("10944121435919637611123202872628637544348155578648911831344518947322613104291");

/// Whether `x`'s normal form is above `(q - 1) / 2` (ffjavascript's
/// `isNegative` and `sign`).
pub(crate) fn fq_is_negative(x: &Fq) -> bool {
    x.into_bigint() > FQ_HALF.into_bigint()
}

/// The sign of an `Fq2` element: that of `c1`, or of `c0` when `c1` is zero.
pub(crate) fn fq2_is_negative(x: &Fq2) -> bool {
    if x.c1.is_zero() {
        fq_is_negative(&x.c0)
    } else {
        fq_is_negative(&x.c1)
    }
}

/// A G1 point compressed (32 bytes).
pub fn g1_compressed(p: &G1Affine) -> [u8; 32] {
    let mut out = [0u8; 32];
    match p.xy() {
        Some((x, y)) => {
            fq_to_be(&x, &mut out);
            if fq_is_negative(&y) {
                out[0] |= 0x80;
            }
        }
        None => out[0] = 0x40,
    }
    out
}

/// A G2 point compressed (64 bytes).
pub fn g2_compressed(p: &G2Affine) -> [u8; 64] {
    let mut out = [0u8; 64];
    match p.xy() {
        Some((x, y)) => {
            fq_to_be(&x.c1, &mut out[..32]);
            fq_to_be(&x.c0, &mut out[32..]);
            if fq2_is_negative(&y) {
                out[0] |= 0x80;
            }
        }
        None => out[0] = 0x40,
    }
    out
}

/// `(R^2 mod r, R^-2 mod r)` for the scalar field (`R = 2^256`): a
/// `.zkey` stores each coefficient `v` as the 32 little-endian bytes of
/// `v * R^2 mod r`.
static FR_R2: std::sync::LazyLock<(Fr, Fr)> = std::sync::LazyLock::new(|| {
    let r = Fr::from(2u64).pow([256u64]);
    let r2 = r * r;
    // R is a power of two and r an odd prime: R^2 is invertible.
    (r2, r2.inverse().unwrap_or_default())
});

/// A `.zkey` coefficient as stored: `v * R^2 mod r`, little-endian.
pub fn coeff_to_zkey(v: &Fr, out: &mut [u8]) {
    fr_to_le(&(*v * FR_R2.0), out);
}

/// A `.zkey` coefficient from its stored bytes.
pub fn coeff_from_zkey(bytes: &[u8]) -> Result<Fr, PointError> {
    Ok(fr_from_le(bytes)? * FR_R2.1)
}

/// The 32 little-endian bytes of a 4-limb integer.
pub(crate) fn bigint_to_le(b: &BigInt<4>) -> [u8; FIELD_BYTES] {
    let mut out = [0u8; FIELD_BYTES];
    limbs_to_le(&b.0, &mut out);
    out
}

/// The scalar field's modulus `r`, little-endian (`.r1cs`, `.wtns`, `.zkey`).
pub fn fr_modulus_le() -> [u8; FIELD_BYTES] {
    bigint_to_le(&Fr::MODULUS)
}

/// The base field's modulus `q`, little-endian (`.ptau`, `.zkey`).
pub fn fq_modulus_le() -> [u8; FIELD_BYTES] {
    bigint_to_le(&Fq::MODULUS)
}
