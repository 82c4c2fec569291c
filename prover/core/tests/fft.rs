//! FFTs against the naive DFT, round trips, coset FFTs against evaluation
//! at shifted points, and arkworks' radix-2 domain at sizes past the cache
//! block (where the radix-4 and radix-2 sweeps run).

use ark_bn254::Fr;
use ark_ff::{FftField, Field, One, UniformRand, Zero};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use depin_prover_core::fft::{naive_dft, naive_evaluate, Domain, FftError};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn random(n: usize, seed: u64) -> Vec<Fr> {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    (0..n).map(|_| Fr::rand(&mut r)).collect()
}

#[test]
fn sizes_outside_the_range_are_errors() {
    for n in [0usize, 1, 3, 6, 12, 1000, 1 << 25, 1 << 26, usize::MAX] {
        assert_eq!(Domain::new(n), Err(FftError::UnsupportedSize(n)), "{n}");
    }
    assert_eq!(
        Domain::with_coset_offset(8, Fr::zero()),
        Err(FftError::ZeroCosetOffset)
    );
    for log in 1..=12 {
        assert_eq!(Domain::new(1 << log).unwrap().size(), 1 << log);
    }
}

#[test]
fn mismatched_lengths_are_errors() {
    let d = Domain::new(8).unwrap();
    for len in [0usize, 1, 7, 9, 16] {
        let mut v = vec![Fr::one(); len];
        let want = Err(FftError::LengthMismatch {
            expected: 8,
            got: len,
        });
        assert_eq!(d.fft_in_place(&mut v), want);
        assert_eq!(d.ifft_in_place(&mut v), want);
        assert_eq!(d.coset_fft_in_place(&mut v), want);
        assert_eq!(d.coset_ifft_in_place(&mut v), want);
        assert!(d.ifft(&v).is_err());
        assert!(d.coset_ifft(&v).is_err());
    }
    // Copying forward transforms zero-pad shorter inputs, refuse longer ones.
    assert!(d.fft(&[Fr::one(); 9]).is_err());
    assert!(d.coset_fft(&[Fr::one(); 9]).is_err());
    let padded = d.fft(&[Fr::one(); 3]).unwrap();
    let mut full = vec![Fr::one(), Fr::one(), Fr::one()];
    full.resize(8, Fr::zero());
    assert_eq!(padded, naive_dft(&full, d.group_gen()));
}

#[test]
fn small_sizes_against_naive_dft() {
    for log in 1..=9u32 {
        let n = 1usize << log;
        let d = Domain::new(n).unwrap();
        assert_eq!(d.group_gen().pow([n as u64]), Fr::one());
        assert_ne!(d.group_gen().pow([n as u64 / 2]), Fr::one());
        let x = random(n, log as u64);
        let want = naive_dft(&x, d.group_gen());
        assert_eq!(d.fft(&x).unwrap(), want, "fft 2^{log}");
        assert_eq!(d.ifft(&want).unwrap(), x, "ifft 2^{log}");
        assert_eq!(
            naive_dft(&want, d.group_gen_inv())
                .into_iter()
                .map(|v| v * d.size_inv())
                .collect::<Vec<_>>(),
            x
        );
        // Coset: evaluation at g * omega^k.
        let g = d.coset_offset();
        let coset: Vec<Fr> = (0..n)
            .map(|k| naive_evaluate(&x, g * d.element(k)))
            .collect();
        assert_eq!(d.coset_fft(&x).unwrap(), coset, "coset fft 2^{log}");
        assert_eq!(d.coset_ifft(&coset).unwrap(), x, "coset ifft 2^{log}");
    }
}

#[test]
fn custom_coset_offset() {
    let g = Fr::from(12345u64);
    let d = Domain::with_coset_offset(16, g).unwrap();
    let x = random(16, 5);
    let want: Vec<Fr> = (0..16)
        .map(|k| naive_evaluate(&x, g * d.element(k)))
        .collect();
    assert_eq!(d.coset_fft(&x).unwrap(), want);
}

#[test]
fn large_sizes_against_arkworks_and_round_trip() {
    // 2^14: one radix-2 sweep; 2^15: one radix-4 sweep; 2^16: both, then
    // cache blocks; 2^17: two radix-4 sweeps.
    for log in 13..=17u32 {
        let n = 1usize << log;
        let d = Domain::new(n).unwrap();
        let ark = Radix2EvaluationDomain::<Fr>::new(n).unwrap();
        assert_eq!(d.group_gen(), ark.group_gen());
        let x = random(n, 100 + log as u64);
        let y = d.fft(&x).unwrap();
        assert_eq!(y, ark.fft(&x), "fft 2^{log}");
        assert_eq!(d.ifft(&y).unwrap(), x, "round trip 2^{log}");
        let coset = ark.get_coset(Fr::GENERATOR).unwrap();
        let cy = d.coset_fft(&x).unwrap();
        assert_eq!(cy, coset.fft(&x), "coset fft 2^{log}");
        assert_eq!(d.coset_ifft(&cy).unwrap(), x, "coset round trip 2^{log}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_vectors_against_naive(log in 1u32..=7, seed in any::<u64>(), zeros in any::<u8>()) {
        let n = 1usize << log;
        let d = Domain::new(n).unwrap();
        let mut x = random(n, seed);
        // Some all-zero and sparse inputs.
        for (i, v) in x.iter_mut().enumerate() {
            if (zeros as usize >> (i % 8)) & 1 == 1 {
                *v = Fr::zero();
            }
        }
        let y = d.fft(&x).unwrap();
        prop_assert_eq!(&y, &naive_dft(&x, d.group_gen()));
        prop_assert_eq!(d.ifft(&y).unwrap(), x.clone());
        let cy = d.coset_fft(&x).unwrap();
        prop_assert_eq!(d.coset_ifft(&cy).unwrap(), x);
    }
}
