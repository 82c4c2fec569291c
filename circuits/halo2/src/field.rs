//! Field elements between the native code (arkworks' BN254 scalar field)
//! and halo2 (`halo2curves-axiom`'s `bn256::Fr`, the same field): through
//! the canonical 32 little-endian bytes, so nothing depends on either
//! library's internal (Montgomery) form.

use ark_ff::PrimeField;
use depin_crypto::field::{fr_to_le_bytes, Fr as NativeFr};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::{FromUniformBytes, PrimeField as _};

/// The halo2 field element equal to `x` (the canonical bytes read modulo
/// the shared modulus: exact, and infallible).
pub fn to_halo2(x: &NativeFr) -> Fr {
    let mut wide = [0u8; 64];
    wide[..32].copy_from_slice(&fr_to_le_bytes(x));
    Fr::from_uniform_bytes(&wide)
}

/// The native field element equal to `x`.
pub fn to_native(x: &Fr) -> NativeFr {
    NativeFr::from_le_bytes_mod_order(&x.to_repr())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{Field, UniformRand};
    use halo2_base::halo2_proofs::halo2curves::ff::Field as _;

    #[test]
    fn conversions_round_trip_and_agree_on_arithmetic() {
        let mut rng = ark_std::test_rng();
        for _ in 0..64 {
            let (a, b) = (NativeFr::rand(&mut rng), NativeFr::rand(&mut rng));
            assert_eq!(to_native(&to_halo2(&a)), a);
            assert_eq!(to_halo2(&(a * b)), to_halo2(&a) * to_halo2(&b));
            assert_eq!(to_halo2(&(a + b)), to_halo2(&a) + to_halo2(&b));
        }
        let minus_one = -NativeFr::ONE;
        assert_eq!(to_halo2(&minus_one), -Fr::ONE);
    }
}
