//! The device SDK: keys and signatures a device needs, re-exported from the
//! shared `depin-crypto` core, plus the text encodings the `depin-device`
//! tool and device-side services share.
//!
//! - [`keys`]: strict hex encoding of private keys (no allocation, `no_std`).
//! - [`decimal`] (feature `std`): decimal strings and JSON shapes of field
//!   elements, points and signatures, in circomlibjs's coordinates.
#![cfg_attr(not(feature = "std"), no_std)]

pub use depin_crypto as crypto;

#[cfg(feature = "std")]
pub mod decimal;
pub mod keys;
