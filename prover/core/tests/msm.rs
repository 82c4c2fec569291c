//! Every MSM path against the naive reference (double-and-add per term) and
//! against arkworks: sizes 0, 1, non-powers of two, zero and one scalars,
//! repeated and opposite bases, points at infinity, every window width.

use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{One, UniformRand, Zero};
use depin_prover_core::msm::{
    self, FixedBaseMsmG1, FixedBaseMsmG2, MsmAlgorithm, MsmError, XyzzPippenger,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn g1_points(n: usize, seed: u64) -> Vec<G1Affine> {
    let mut r = rng(seed);
    let g = G1Projective::generator();
    let v: Vec<G1Projective> = (0..n).map(|_| g * Fr::rand(&mut r)).collect();
    G1Projective::normalize_batch(&v)
}

fn g2_points(n: usize, seed: u64) -> Vec<G2Affine> {
    let mut r = rng(seed);
    let g = G2Projective::generator();
    let v: Vec<G2Projective> = (0..n).map(|_| g * Fr::rand(&mut r)).collect();
    G2Projective::normalize_batch(&v)
}

/// A point pool with repeats, negations and the point at infinity.
fn awkward_bases(pool: &[G1Affine], picks: &[(u8, u8)]) -> Vec<G1Affine> {
    picks
        .iter()
        .map(|&(i, kind)| {
            let p = pool[i as usize % pool.len()];
            match kind % 4 {
                0 | 1 => p,
                2 => -p,
                _ => G1Affine::identity(),
            }
        })
        .collect()
}

/// Scalars drawn from 0, 1, -1, 2, small, and random.
fn awkward_scalar(kind: u8, seed: u64) -> Fr {
    match kind % 6 {
        0 => Fr::zero(),
        1 => Fr::one(),
        2 => -Fr::one(),
        3 => Fr::from(2u64),
        4 => Fr::from(seed % 1000),
        _ => Fr::rand(&mut rng(seed)),
    }
}

fn all_paths_g1(bases: &[G1Affine], scalars: &[Fr]) {
    let want = msm::naive_msm_g1(bases, scalars).unwrap();
    assert_eq!(msm::msm_g1(bases, scalars).unwrap(), want, "msm_g1");
    assert_eq!(XyzzPippenger::msm(bases, scalars).unwrap(), want, "xyzz");
    for c in [1, 2, 3, 4, 5, 7, 8, 11, 13, 16] {
        assert_eq!(
            msm::msm_g1_with_window(bases, scalars, c).unwrap(),
            want,
            "batch-affine (IFMA where available), window {c}"
        );
        assert_eq!(
            msm::msm_with_window(bases, scalars, c).unwrap(),
            want,
            "batch-affine portable, window {c}"
        );
    }
    for c in [1, 3, 6, 9] {
        let fixed = FixedBaseMsmG1::with_window(bases, c).unwrap();
        assert_eq!(fixed.msm(scalars).unwrap(), want, "fixed-base, window {c}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn g1_awkward_inputs(
        picks in prop::collection::vec((0u8..6, 0u8..4), 0..40),
        kinds in prop::collection::vec(0u8..6, 40),
        seed in any::<u64>(),
    ) {
        let pool = g1_points(6, 7);
        let bases = awkward_bases(&pool, &picks);
        let scalars: Vec<Fr> = (0..bases.len())
            .map(|i| awkward_scalar(kinds[i], seed.wrapping_add(i as u64)))
            .collect();
        all_paths_g1(&bases, &scalars);
    }

    #[test]
    fn g1_random_inputs(n in 0usize..70, seed in any::<u64>()) {
        let bases = g1_points(n, seed);
        let mut r = rng(seed ^ 1);
        let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
        all_paths_g1(&bases, &scalars);
    }
}

#[test]
fn g1_large_against_arkworks() {
    // Above the batch-affine threshold, with repeats and negations so that
    // pairwise additions meet doublings and P + (-P).
    for &n in &[513usize, 1000, 4099] {
        let pool = g1_points(64, n as u64);
        let mut r = rng(n as u64);
        let bases: Vec<G1Affine> = (0..n)
            .map(|i| match i % 5 {
                0 => pool[i % 3],
                1 => -pool[i % 3],
                2 => G1Affine::identity(),
                _ => pool[i % 64],
            })
            .collect();
        let scalars: Vec<Fr> = (0..n)
            .map(|i| match i % 7 {
                0 => Fr::from(5u64),
                1 => Fr::zero(),
                2 => -Fr::one(),
                _ => Fr::rand(&mut r),
            })
            .collect();
        let want = G1Projective::msm(&bases, &scalars).unwrap();
        assert_eq!(msm::msm_g1(&bases, &scalars).unwrap(), want, "n = {n}");
        for c in [9, 12, 15] {
            assert_eq!(msm::msm_g1_with_window(&bases, &scalars, c).unwrap(), want);
            assert_eq!(msm::msm_with_window(&bases, &scalars, c).unwrap(), want);
        }
        let fixed = FixedBaseMsmG1::new(&bases);
        assert_eq!(fixed.msm(&scalars).unwrap(), want, "fixed n = {n}");
    }
}

#[test]
fn g1_all_same_point_and_scalar() {
    // Every entry lands in the same bucket: long lists, repeated doublings.
    let p = g1_points(1, 3)[0];
    let n = 1500;
    let bases = vec![p; n];
    let s = Fr::from(123_456_789u64);
    let scalars = vec![s; n];
    let want = (G1Projective::from(p) * (s * Fr::from(n as u64))).into_affine();
    assert_eq!(msm::msm_g1(&bases, &scalars).unwrap().into_affine(), want);
    for c in [4, 10] {
        assert_eq!(
            msm::msm_g1_with_window(&bases, &scalars, c)
                .unwrap()
                .into_affine(),
            want
        );
        assert_eq!(
            msm::msm_with_window(&bases, &scalars, c)
                .unwrap()
                .into_affine(),
            want
        );
    }
}

#[test]
fn g1_random_large_both_backends() {
    // Distinct random points: the IFMA chunks run without fallbacks here.
    let n = 5000;
    let bases = g1_points(n, 77);
    let mut r = rng(78);
    let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
    let want = G1Projective::msm(&bases, &scalars).unwrap();
    assert_eq!(msm::msm_g1(&bases, &scalars).unwrap(), want);
    assert_eq!(msm::msm_with_window(&bases, &scalars, 10).unwrap(), want);
    println!("IFMA used: {}", msm::g1_uses_ifma());
}

#[test]
fn g2_against_naive_and_arkworks() {
    for &n in &[0usize, 1, 2, 5, 17, 40] {
        let bases = g2_points(n, n as u64 + 100);
        let mut r = rng(n as u64);
        let mut scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
        if n > 3 {
            scalars[0] = Fr::zero();
            scalars[1] = Fr::one();
        }
        let want = msm::naive_msm_g2(&bases, &scalars).unwrap();
        assert_eq!(msm::msm_g2(&bases, &scalars).unwrap(), want, "n = {n}");
        if n > 0 {
            let fixed = FixedBaseMsmG2::with_window(&bases, 5).unwrap();
            assert_eq!(fixed.msm(&scalars).unwrap(), want);
        }
    }
    let n = 700;
    let bases = g2_points(n, 9);
    let mut r = rng(10);
    let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
    let want = G2Projective::msm(&bases, &scalars).unwrap();
    assert_eq!(msm::msm_g2(&bases, &scalars).unwrap(), want);
}

#[test]
fn errors_not_panics() {
    let bases = g1_points(3, 1);
    let scalars = vec![Fr::one(); 2];
    let mismatch = MsmError::LengthMismatch {
        bases: 3,
        scalars: 2,
    };
    assert_eq!(msm::msm_g1(&bases, &scalars), Err(mismatch.clone()));
    assert_eq!(msm::naive_msm_g1(&bases, &scalars), Err(mismatch.clone()));
    assert_eq!(msm::msm_g1_with_window(&bases, &scalars, 4), Err(mismatch));
    assert!(matches!(
        msm::msm_g1_with_window(&bases, &[Fr::one(); 3], 0),
        Err(MsmError::InvalidWindow { bits: 0, .. })
    ));
    assert!(matches!(
        FixedBaseMsmG1::with_window(&bases, 25),
        Err(MsmError::InvalidWindow { bits: 25, .. })
    ));
    let fixed = FixedBaseMsmG1::new(&bases);
    assert!(matches!(
        fixed.msm(&scalars),
        Err(MsmError::LengthMismatch { .. })
    ));
    assert_eq!(msm::msm_g1(&[], &[]).unwrap(), G1Projective::zero());
    assert_eq!(msm::msm_g2(&[], &[]).unwrap(), G2Projective::zero());
}
