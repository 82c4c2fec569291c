//! The device SDK: keys and signatures a device needs, re-exported from the
//! shared `depin-crypto` core.
#![cfg_attr(not(feature = "std"), no_std)]

pub use depin_crypto as crypto;
