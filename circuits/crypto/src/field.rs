//! The BN254 scalar field `Fr`, which is Baby Jubjub's base field and the
//! field every circuit of this project is written over, with strict decimal
//! and byte encodings.
//!
//! Parsing is strict about the value: a decimal string must be digits only
//! (no sign, no prefix) and its value below the modulus. Values at or above
//! the modulus are refused rather than silently reduced, so every accepted
//! string names the element whose integer value it spells. Leading zeros are
//! accepted, as in circomlibjs.

use ark_ff::{BigInt, BigInteger, PrimeField};

pub use ark_bn254::Fr;

/// Why a field element could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// The string was empty.
    #[error("empty field element")]
    Empty,
    /// A character other than `0`-`9` appeared.
    #[error("field element must be a decimal number (digits 0-9 only)")]
    NotDecimal,
    /// The value is not below the BN254 scalar field modulus.
    #[error("value is not below the BN254 scalar field modulus")]
    NotCanonical,
}

/// Why a decimal integer was refused as an unsigned 256-bit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum U256Error {
    /// The string was empty.
    #[error("empty integer")]
    Empty,
    /// A character other than `0`-`9` appeared.
    #[error("must be a decimal integer (digits 0-9 only)")]
    NotDecimal,
    /// The value does not fit in 256 bits.
    #[error("value does not fit in 256 bits")]
    TooLarge,
}

/// Parses an unsigned decimal integer below `2^256` into little-endian
/// limbs: the one decimal parser of the project (field elements, signature
/// scalars, snarkjs files and `uint256` words all go through it). Leading
/// zeros are accepted; signs, spaces and prefixes are not.
pub fn u256_from_decimal(s: &str) -> Result<BigInt<4>, U256Error> {
    if s.is_empty() {
        return Err(U256Error::Empty);
    }
    let mut limbs = [0u64; 4];
    for c in s.bytes() {
        if !c.is_ascii_digit() {
            return Err(U256Error::NotDecimal);
        }
        // limbs = limbs * 10 + digit, refusing overflow past 2^256.
        let mut carry = u128::from(c - b'0');
        for limb in limbs.iter_mut() {
            let v = u128::from(*limb) * 10 + carry;
            *limb = v as u64;
            carry = v >> 64;
        }
        if carry != 0 {
            return Err(U256Error::TooLarge);
        }
    }
    Ok(BigInt::new(limbs))
}

/// Builds a field element from Montgomery-form limbs (used by generated tables).
pub(crate) const fn fe(limbs: [u64; 4]) -> Fr {
    Fr::new_unchecked(BigInt::new(limbs))
}

/// Parses a canonical decimal string into a field element.
pub fn fr_from_decimal(s: &str) -> Result<Fr, FieldError> {
    let value = u256_from_decimal(s).map_err(|e| match e {
        U256Error::Empty => FieldError::Empty,
        U256Error::NotDecimal => FieldError::NotDecimal,
        U256Error::TooLarge => FieldError::NotCanonical,
    })?;
    Fr::from_bigint(value).ok_or(FieldError::NotCanonical)
}

/// Parses 32 little-endian bytes into a field element, refusing values at or
/// above the modulus.
pub fn fr_from_le_bytes(bytes: &[u8; 32]) -> Result<Fr, FieldError> {
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[8 * i..8 * i + 8]);
        *limb = u64::from_le_bytes(b);
    }
    Fr::from_bigint(BigInt::new(limbs)).ok_or(FieldError::NotCanonical)
}

/// The canonical 32-byte little-endian encoding of a field element.
pub fn fr_to_le_bytes(x: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, limb) in x.into_bigint().0.iter().enumerate() {
        out[8 * i..8 * i + 8].copy_from_slice(&limb.to_le_bytes());
    }
    out
}

/// Writes the canonical decimal form of `x` into `buf` and returns it as a
/// string slice (no allocation; 78 bytes always suffice).
pub fn fr_to_decimal<'a>(x: &Fr, buf: &'a mut [u8; 78]) -> &'a str {
    let mut n = x.into_bigint();
    let mut pos = buf.len();
    loop {
        // n, r = divmod(n, 10)
        let mut rem: u128 = 0;
        for limb in n.0.iter_mut().rev() {
            let cur = (rem << 64) | u128::from(*limb);
            *limb = (cur / 10) as u64;
            rem = cur % 10;
        }
        pos -= 1;
        buf[pos] = b'0' + rem as u8;
        if n.is_zero() {
            break;
        }
    }
    // Only ASCII digits were written.
    core::str::from_utf8(&buf[pos..]).unwrap_or("")
}

/// The canonical decimal form of `x`.
#[cfg(feature = "alloc")]
pub fn fr_to_string(x: &Fr) -> alloc::string::String {
    let mut buf = [0u8; 78];
    alloc::string::String::from(fr_to_decimal(x, &mut buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{Field, UniformRand};

    #[test]
    fn decimal_round_trip() {
        let mut rng = ark_std::test_rng();
        for _ in 0..200 {
            let x = Fr::rand(&mut rng);
            let mut buf = [0u8; 78];
            let s = fr_to_decimal(&x, &mut buf);
            assert_eq!(fr_from_decimal(s), Ok(x));
        }
        let mut buf = [0u8; 78];
        assert_eq!(fr_to_decimal(&Fr::from(0u64), &mut buf), "0");
    }

    #[test]
    fn decimal_rejects_modulus_and_junk() {
        let p = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
        assert_eq!(fr_from_decimal(p), Err(FieldError::NotCanonical));
        let p_minus_1 =
            "21888242871839275222246405745257275088548364400416034343698204186575808495616";
        assert_eq!(fr_from_decimal(p_minus_1), Ok(-Fr::ONE));
        assert_eq!(fr_from_decimal(""), Err(FieldError::Empty));
        assert_eq!(fr_from_decimal("-1"), Err(FieldError::NotDecimal));
        assert_eq!(fr_from_decimal("0x10"), Err(FieldError::NotDecimal));
        assert_eq!(
            fr_from_decimal(&"9".repeat(100)),
            Err(FieldError::NotCanonical)
        );
    }

    #[test]
    fn bytes_round_trip_and_reject_modulus() {
        let x = Fr::from(0x1234_5678u64);
        assert_eq!(fr_from_le_bytes(&fr_to_le_bytes(&x)), Ok(x));
        assert_eq!(fr_from_le_bytes(&[0xff; 32]), Err(FieldError::NotCanonical));
    }
}
