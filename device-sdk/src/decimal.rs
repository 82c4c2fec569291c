//! Decimal strings and JSON shapes of field elements, points and signatures.
//!
//! Everything is in circomlibjs's conventions: field elements and
//! coordinates are canonical decimal strings (circomlib's Baby Jubjub
//! coordinates, not arkworks'), and a signature is `{r8: {x, y}, s}` with
//! `s` a decimal integer. This is what circomlibjs prints and reads, what
//! the `depin-device` tool prints, and what device services exchange.
//!
//! Decoding is strict and typed. Field elements must be below the BN254
//! scalar field modulus (never reduced); points must be on the curve. The
//! signature scalar `S` is read as an unsigned 256-bit integer, *not* as a
//! field element: an `S` at or above the subgroup order is a well-formed
//! but invalid signature, and verification reports it as
//! [`EddsaError::ScalarOutOfRange`](depin_crypto::eddsa::EddsaError).

use ark_ff::BigInt;
use depin_crypto::babyjubjub::{Point, PointError};
use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::field::{fr_from_decimal, fr_to_string, FieldError, Fr};
/// Unsigned 256-bit decimal integers, parsed by the one parser of `depin-crypto`.
pub use depin_crypto::field::{u256_from_decimal as parse_u256, U256Error};
use serde::{Deserialize, Serialize};

/// Why a decimal value (named by `label`, e.g. `"pub.x"` or `"--pub-x"`)
/// was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A field element did not parse.
    #[error("{label}: {reason}")]
    Field {
        /// What was being decoded.
        label: &'static str,
        /// Why it was refused.
        reason: FieldError,
    },
    /// Two coordinates parsed but do not form an acceptable point.
    #[error("{label}: {reason}")]
    Point {
        /// What was being decoded.
        label: &'static str,
        /// Why it was refused.
        reason: PointError,
    },
    /// An unsigned 256-bit integer did not parse.
    #[error("{label}: {reason}")]
    Integer {
        /// What was being decoded.
        label: &'static str,
        /// Why it was refused.
        reason: U256Error,
    },
}

/// The names used in error messages for a point and its coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointLabels {
    /// Name of the `x` coordinate.
    pub x: &'static str,
    /// Name of the `y` coordinate.
    pub y: &'static str,
    /// Name of the point as a whole.
    pub point: &'static str,
}

/// Labels of the public key in [`DecimalSignedMessage`] JSON.
pub const PUB_LABELS: PointLabels = PointLabels {
    x: "pub.x",
    y: "pub.y",
    point: "pub",
};
/// Labels of `R8` in signature JSON.
pub const R8_LABELS: PointLabels = PointLabels {
    x: "r8.x",
    y: "r8.y",
    point: "r8",
};

/// Parses a canonical decimal field element.
pub fn decode_field(label: &'static str, s: &str) -> Result<Fr, DecodeError> {
    fr_from_decimal(s).map_err(|reason| DecodeError::Field { label, reason })
}

/// Parses a point from decimal coordinates, refusing points off the curve.
///
/// Small-order points are accepted here: whether they are acceptable is a
/// question for verification, not for parsing.
pub fn decode_point(labels: PointLabels, x: &str, y: &str) -> Result<Point, DecodeError> {
    let px = decode_field(labels.x, x)?;
    let py = decode_field(labels.y, y)?;
    Point::new(px, py).map_err(|reason| DecodeError::Point {
        label: labels.point,
        reason,
    })
}

/// [`parse_u256`] with a label for error messages.
pub fn decode_u256(label: &'static str, s: &str) -> Result<BigInt<4>, DecodeError> {
    parse_u256(s).map_err(|reason| DecodeError::Integer { label, reason })
}

/// A point as decimal coordinates: `{"x": "...", "y": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DecimalPoint {
    /// circomlib `x`, in decimal.
    pub x: String,
    /// circomlib `y`, in decimal.
    pub y: String,
}

impl DecimalPoint {
    /// The decimal form of `p`.
    pub fn from_point(p: &Point) -> Self {
        DecimalPoint {
            x: fr_to_string(&p.x),
            y: fr_to_string(&p.y),
        }
    }

    /// Parses the coordinates (see [`decode_point`]).
    pub fn decode(&self, labels: PointLabels) -> Result<Point, DecodeError> {
        decode_point(labels, &self.x, &self.y)
    }
}

impl From<&Point> for DecimalPoint {
    fn from(p: &Point) -> Self {
        Self::from_point(p)
    }
}

/// A signature as decimal strings: `{"r8": {"x", "y"}, "s": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DecimalSignature {
    /// The nonce commitment `R8`.
    pub r8: DecimalPoint,
    /// The response `S`, in decimal.
    pub s: String,
}

impl DecimalSignature {
    /// The decimal form of `sig`.
    pub fn from_signature(sig: &Signature) -> Self {
        DecimalSignature {
            r8: DecimalPoint::from_point(&sig.r8),
            s: sig.s.to_string(),
        }
    }

    /// Parses `R8` (on the curve) and `S` (any unsigned 256-bit integer).
    pub fn decode(&self) -> Result<Signature, DecodeError> {
        Ok(Signature {
            r8: self.r8.decode(R8_LABELS)?,
            s: decode_u256("s", &self.s)?,
        })
    }
}

/// A signature together with its signer:
/// `{"pub": {"x", "y"}, "r8": {"x", "y"}, "s": "..."}`, what
/// `depin-device sign` prints.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DecimalSignedBy {
    /// The signer's public key.
    #[serde(rename = "pub")]
    pub public_key: DecimalPoint,
    /// The nonce commitment `R8`.
    pub r8: DecimalPoint,
    /// The response `S`, in decimal.
    pub s: String,
}

impl DecimalSignedBy {
    /// The decimal form of `sig` by `key`.
    pub fn new(key: &PublicKey, sig: &Signature) -> Self {
        let d = DecimalSignature::from_signature(sig);
        DecimalSignedBy {
            public_key: DecimalPoint::from_point(&key.0),
            r8: d.r8,
            s: d.s,
        }
    }

    /// Parses the key and the signature. The key is only checked to be on
    /// the curve; [`PublicKey::verify`] refuses small-order keys.
    pub fn decode(&self) -> Result<(PublicKey, Signature), DecodeError> {
        let key = PublicKey(self.public_key.decode(PUB_LABELS)?);
        let sig = DecimalSignature {
            r8: self.r8.clone(),
            s: self.s.clone(),
        }
        .decode()?;
        Ok((key, sig))
    }
}

/// A signed message as circomlibjs-based tools exchange it:
/// `{"pub": {"x", "y"}, "message": "...", "r8": {"x", "y"}, "s": "..."}`
/// (the input format of `tools/js/verify-eddsa.mjs`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DecimalSignedMessage {
    /// The signer's public key.
    #[serde(rename = "pub")]
    pub public_key: DecimalPoint,
    /// The signed field element, in decimal.
    pub message: String,
    /// The nonce commitment `R8`.
    pub r8: DecimalPoint,
    /// The response `S`, in decimal.
    pub s: String,
}

impl DecimalSignedMessage {
    /// The decimal form of `sig` by `key` on `msg`.
    pub fn new(key: &PublicKey, msg: &Fr, sig: &Signature) -> Self {
        let d = DecimalSignedBy::new(key, sig);
        DecimalSignedMessage {
            public_key: d.public_key,
            message: fr_to_string(msg),
            r8: d.r8,
            s: d.s,
        }
    }

    /// Parses key, message and signature (see [`DecimalSignedBy::decode`]).
    pub fn decode(&self) -> Result<(PublicKey, Fr, Signature), DecodeError> {
        let key = PublicKey(self.public_key.decode(PUB_LABELS)?);
        let msg = decode_field("message", &self.message)?;
        let sig = Signature {
            r8: self.r8.decode(R8_LABELS)?,
            s: decode_u256("s", &self.s)?,
        };
        Ok((key, msg, sig))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_crypto::babyjubjub::SUBORDER;
    use depin_crypto::eddsa::{EddsaError, PrivateKey};

    const TWO_256: &str =
        "115792089237316195423570985008687907853269984665640564039457584007913129639936";

    #[test]
    fn u256_bounds() {
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
        assert_eq!(parse_u256(max), Ok(BigInt::new([u64::MAX; 4])));
        assert_eq!(parse_u256(TWO_256), Err(U256Error::TooLarge));
        assert_eq!(parse_u256("0"), Ok(BigInt::new([0; 4])));
        assert_eq!(parse_u256(""), Err(U256Error::Empty));
        assert_eq!(parse_u256("-1"), Err(U256Error::NotDecimal));
        assert_eq!(parse_u256(" 1"), Err(U256Error::NotDecimal));
        assert_eq!(parse_u256("1e3"), Err(U256Error::NotDecimal));
        assert_eq!(parse_u256(&SUBORDER.to_string()), Ok(SUBORDER));
    }

    #[test]
    fn signed_message_round_trips_and_s_out_of_range_is_invalid_not_malformed() {
        let sk = PrivateKey::from_bytes([3; 32]);
        let pk = sk.public_key();
        let m = Fr::from(42u64);
        let sig = sk.sign(&m);
        let d = DecimalSignedMessage::new(&pk, &m, &sig);
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.starts_with("{\"pub\":{\"x\":"));
        let back: DecimalSignedMessage = serde_json::from_str(&json).unwrap();
        assert_eq!(back.decode(), Ok((pk, m, sig)));

        let mut big = d.clone();
        big.s = SUBORDER.to_string();
        let (k, m2, s2) = big.decode().unwrap();
        assert_eq!(k.verify(&m2, &s2), Err(EddsaError::ScalarOutOfRange));
    }

    #[test]
    fn malformed_values_are_labelled() {
        let sk = PrivateKey::from_bytes([4; 32]);
        let pk = sk.public_key();
        let sig = sk.sign(&Fr::from(1u64));
        let d = DecimalSignedBy::new(&pk, &sig);

        let mut off = d.clone();
        off.public_key.x = "1".into();
        assert_eq!(
            off.decode(),
            Err(DecodeError::Point {
                label: "pub",
                reason: PointError::NotOnCurve
            })
        );
        let mut junk = d.clone();
        junk.r8.y = "0x12".into();
        assert_eq!(
            junk.decode(),
            Err(DecodeError::Field {
                label: "r8.y",
                reason: FieldError::NotDecimal
            })
        );
        let mut wide = d;
        wide.s = TWO_256.into();
        let err = wide.decode().unwrap_err();
        assert_eq!(err.to_string(), "s: value does not fit in 256 bits");
    }
}
