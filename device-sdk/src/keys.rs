//! Hex encoding of EdDSA private keys.
//!
//! A key is written as exactly 64 hexadecimal digits (32 bytes, in the byte
//! order circomlibjs's `prv2pub` reads them), optionally prefixed by `0x`.
//! Parsing and printing never allocate, and error messages never repeat key
//! material: they name a position or a length only.

use depin_crypto::eddsa::PrivateKey;
use zeroize::Zeroize;

/// Number of hex digits in an encoded private key.
pub const KEY_HEX_LEN: usize = 64;

/// Why a hex private key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A character other than `0-9`, `a-f`, `A-F` appeared (after an
    /// optional `0x` prefix). `index` is the character's byte offset in the
    /// input; the character itself is not reported.
    #[error("private key is not hexadecimal: invalid character at offset {index}")]
    InvalidHex {
        /// Byte offset of the offending character in the input.
        index: usize,
    },
    /// The key does not have exactly 64 hex digits.
    #[error("private key must be {KEY_HEX_LEN} hex digits (32 bytes), got {found}")]
    Length {
        /// Number of hex digits found.
        found: usize,
    },
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes 64 hex digits (optionally `0x`-prefixed) into 32 bytes.
pub fn decode_key_bytes(s: &str) -> Result<[u8; 32], KeyError> {
    let (offset, digits) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(rest) => (2, rest.as_bytes()),
        None => (0, s.as_bytes()),
    };
    if let Some(i) = digits.iter().position(|&c| hex_value(c).is_none()) {
        return Err(KeyError::InvalidHex { index: offset + i });
    }
    if digits.len() != KEY_HEX_LEN {
        return Err(KeyError::Length {
            found: digits.len(),
        });
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        // Both digits were checked above.
        let hi = hex_value(pair[0]).unwrap_or(0);
        let lo = hex_value(pair[1]).unwrap_or(0);
        *byte = (hi << 4) | lo;
    }
    Ok(out)
}

/// Parses a hex private key (see the module docs for the format).
pub fn parse_private_key_hex(s: &str) -> Result<PrivateKey, KeyError> {
    let mut bytes = decode_key_bytes(s)?;
    let key = PrivateKey::from_bytes(bytes);
    bytes.zeroize();
    Ok(key)
}

/// Writes `key` as 64 lowercase hex digits into `buf` and returns them.
///
/// The caller owns `buf` and should zeroize it when done.
pub fn encode_private_key_hex<'a>(key: &PrivateKey, buf: &'a mut [u8; KEY_HEX_LEN]) -> &'a str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, byte) in buf.chunks_exact_mut(2).zip(key.as_bytes()) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    // Only ASCII hex digits were written.
    core::str::from_utf8(buf).unwrap_or("")
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    const HEX: &str = "d36f3b47218e8a0ed586882299f1edb6bd9d751f464733455b98a3ac402fb103";

    #[test]
    fn round_trips() {
        let key = parse_private_key_hex(HEX).unwrap();
        let mut buf = [0u8; KEY_HEX_LEN];
        assert_eq!(encode_private_key_hex(&key, &mut buf), HEX);
        let upper = parse_private_key_hex(&format!("0x{}", HEX.to_uppercase())).unwrap();
        assert_eq!(upper.as_bytes(), key.as_bytes());
    }

    #[test]
    fn refuses_bad_hex_and_lengths() {
        assert_eq!(
            decode_key_bytes(&HEX[..62]),
            Err(KeyError::Length { found: 62 })
        );
        assert_eq!(
            decode_key_bytes(&format!("{HEX}00")),
            Err(KeyError::Length { found: 66 })
        );
        assert_eq!(decode_key_bytes(""), Err(KeyError::Length { found: 0 }));
        let mut bad = HEX.to_string();
        bad.replace_range(10..11, "g");
        assert_eq!(
            decode_key_bytes(&bad),
            Err(KeyError::InvalidHex { index: 10 })
        );
        assert_eq!(
            decode_key_bytes(&format!("0x{bad}")),
            Err(KeyError::InvalidHex { index: 12 })
        );
        assert_eq!(
            decode_key_bytes("é"),
            Err(KeyError::InvalidHex { index: 0 })
        );
    }
}
