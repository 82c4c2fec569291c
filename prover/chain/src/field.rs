//! BN254 field elements as `uint256`, and the claim header.
//!
//! Every conversion into a field element refuses values at or above the
//! modulus instead of reducing them: a public input the contract reads is
//! exactly the one the proof was made for, or the conversion fails.

use alloy::primitives::{uint, U256};
use ark_bn254::{Fq, Fr};
use ark_ff::{BigInt, PrimeField};

use depin_crypto::field::{u256_from_decimal, U256Error};
use depin_statements::Header;

use crate::errors::ChainError;

/// The BN254 scalar field modulus `r` (public inputs are below it).
pub const FR_MODULUS: U256 =
    uint!(21888242871839275222246405745257275088548364400416034343698204186575808495617_U256);

/// The BN254 base field modulus `q` (proof coordinates are below it).
pub const FQ_MODULUS: U256 =
    uint!(21888242871839275222246405745257275088696311157297823662689037894645226208583_U256);

/// A scalar field element as a `uint256` (its canonical integer).
pub fn fr_to_u256(x: &Fr) -> U256 {
    U256::from_limbs(x.into_bigint().0)
}

/// A base field element (a proof coordinate) as a `uint256`.
pub fn fq_to_u256(x: &Fq) -> U256 {
    U256::from_limbs(x.into_bigint().0)
}

/// The scalar field element `x`.
///
/// # Errors
///
/// [`ChainError::Field`] when `x` is not below the modulus.
pub fn u256_to_fr(x: U256) -> Result<Fr, ChainError> {
    Fr::from_bigint(BigInt::new(x.into_limbs())).ok_or_else(|| ChainError::Field {
        value: x.to_string(),
        reason: "not below the scalar field modulus",
    })
}

/// Parses a decimal field element (as the prover service and the example
/// files write them: ASCII digits, no sign, no whitespace) into a
/// `uint256`.
///
/// # Errors
///
/// [`ChainError::Field`] when `s` is empty, has a character other than a
/// digit, or is not below the scalar field modulus.
pub fn decimal_to_u256(s: &str) -> Result<U256, ChainError> {
    let err = |reason| ChainError::Field {
        value: s.to_string(),
        reason,
    };
    let v = u256_from_decimal(s).map_err(|e| {
        err(match e {
            U256Error::Empty => "empty",
            U256Error::NotDecimal => "not a decimal integer",
            U256Error::TooLarge => "not below 2^256",
        })
    })?;
    let v = U256::from_limbs(v.0);
    if v >= FR_MODULUS {
        return Err(err("not below the scalar field modulus"));
    }
    Ok(v)
}

/// Parses a decimal field element ([`decimal_to_u256`]) into an [`Fr`].
///
/// # Errors
///
/// As [`decimal_to_u256`].
pub fn decimal_to_fr(s: &str) -> Result<Fr, ChainError> {
    u256_to_fr(decimal_to_u256(s)?)
}

/// Public input 0 of every claim, unpacked: `kind + version * 2^8 + epoch *
/// 2^40 + reward * 2^72` (`DepinRewards.decodeHeader`).
pub type ClaimHeader = Header;

/// Unpacks a claim's header; `None` when it is not a field element or has
/// bits above 136 (the contract refuses such a claim with
/// `MalformedInput`).
pub fn unpack_header(header: U256) -> Option<ClaimHeader> {
    Header::unpack(&u256_to_fr(header).ok()?)
}

/// Packs a claim's header.
pub fn pack_header(header: &ClaimHeader) -> U256 {
    fr_to_u256(&header.pack())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{Field, One};

    #[test]
    fn moduli() {
        assert_eq!(FR_MODULUS, U256::from_limbs(Fr::MODULUS.0));
        assert_eq!(FQ_MODULUS, U256::from_limbs(Fq::MODULUS.0));
    }

    #[test]
    fn fr_round_trips() {
        let minus_one = -Fr::one();
        let u = fr_to_u256(&minus_one);
        assert_eq!(u, FR_MODULUS - U256::from(1u8));
        assert_eq!(u256_to_fr(u).unwrap(), minus_one);
        assert!(u256_to_fr(FR_MODULUS).is_err());
        let x = Fr::from(12345u64).square();
        assert_eq!(fr_to_u256(&x), U256::from(12345u64 * 12345));
        assert_eq!(decimal_to_fr(&u.to_string()).unwrap(), minus_one);
    }

    #[test]
    fn decimal_is_strict() {
        assert_eq!(decimal_to_u256("0").unwrap(), U256::ZERO);
        assert_eq!(decimal_to_u256("0042").unwrap(), U256::from(42u8));
        for bad in ["", "-1", "+1", " 1", "1 ", "0x10", "1e3", "１"] {
            assert!(decimal_to_u256(bad).is_err(), "{bad:?}");
        }
        assert!(decimal_to_u256(&FR_MODULUS.to_string()).is_err());
        assert!(decimal_to_u256(&U256::MAX.to_string()).is_err());
        assert!(decimal_to_u256(&format!("{}0", U256::MAX)).is_err());
    }

    #[test]
    fn header_round_trips() {
        let h = ClaimHeader {
            kind: 2,
            version: 1,
            epoch: 20250,
            reward: u64::MAX,
        };
        assert_eq!(unpack_header(pack_header(&h)), Some(h));
        assert_eq!(unpack_header(U256::from(1u8) << 136), None);
        let packed = U256::from(1u8)
            + U256::from(1u8) * U256::from(1u64 << 8)
            + U256::from(7u8) * (U256::from(1u8) << 40)
            + U256::from(2025u16) * (U256::from(1u8) << 72);
        assert_eq!(
            unpack_header(packed),
            Some(ClaimHeader {
                kind: 1,
                version: 1,
                epoch: 7,
                reward: 2025
            })
        );
    }
}
