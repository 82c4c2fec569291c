//! What the chip and statement tests share: random points of the whole
//! curve and of the prime subgroup, the eight torsion points; a statement
//! circuit accepting exactly the reference's public inputs, and having the
//! R1CS circuit's.

#![allow(dead_code)]

use ark_ff::{AdditiveGroup, Field, PrimeField, UniformRand};
use depin_crypto::babyjubjub::{Point, Scalar, A, D, SUBORDER};
use depin_crypto::field::Fr;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// A seeded RNG.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// A uniformly random point of the whole curve (order dividing `8 l`).
pub fn random_curve_point(rng: &mut ChaCha20Rng) -> Point {
    loop {
        let y = Fr::rand(rng);
        let y2 = y.square();
        let Some(inv) = (A - D * y2).inverse() else {
            continue;
        };
        if let Some(x) = ((Fr::ONE - y2) * inv).sqrt() {
            return Point::new(x, y).unwrap();
        }
    }
}

/// A random point of the prime-order subgroup.
pub fn random_subgroup_point(rng: &mut ChaCha20Rng) -> Point {
    Point::BASE8
        .mul_bigint(Scalar::rand(rng).into_bigint())
        .unwrap()
}

/// The eight points of order dividing 8, as multiples of one of order 8.
pub fn torsion() -> Vec<Point> {
    let mut r = rng(0xb7b7);
    loop {
        let t = random_curve_point(&mut r).mul_bigint(SUBORDER).unwrap();
        if t.mul_bigint([4u64]).unwrap() != Point::IDENTITY {
            return (0..8u64).map(|j| t.mul_bigint([j]).unwrap()).collect();
        }
    }
}

/// The point of order two, `(0, -1)`.
pub fn order_two() -> Point {
    Point::new(Fr::ZERO, -Fr::ONE).unwrap()
}

/// `p` moved off the curve.
pub fn off_curve(p: Point) -> Point {
    Point {
        x: p.x,
        y: p.y + Fr::ONE,
    }
}

/// `circuit` accepts exactly `expected` (the reference's public inputs) at
/// `k`: satisfied with them and, when `tamper`, refused with the reward
/// moved (header +- 2^72) or any other input moved by one (the last also
/// down by one). `verdicts` is printed when it refuses.
pub fn accepts_exactly<S: depin_halo2::statement::StatementCircuit>(
    circuit: &S,
    k: u32,
    expected: &[halo2_base::halo2_proofs::halo2curves::bn256::Fr],
    verdicts: &dyn core::fmt::Debug,
    tamper: bool,
) {
    use depin_halo2::layout::mock_check;
    use halo2_base::halo2_proofs::halo2curves::bn256::Fr as H;
    use halo2_base::halo2_proofs::halo2curves::ff::Field as _;
    assert_eq!(circuit.public_inputs(), expected);
    mock_check(circuit, k, expected.to_vec())
        .expect("layout")
        .unwrap_or_else(|e| panic!("refused the reference's inputs ({verdicts:?}): {e}"));
    if !tamper {
        return;
    }
    let unit = H::from(2u64).pow_vartime([72u64]);
    let last = expected.len() - 1;
    let changes = [(0, unit), (0, -unit)]
        .into_iter()
        .chain((1..expected.len()).map(|i| (i, H::ONE)))
        .chain([(last, -H::ONE)]);
    for (i, d) in changes {
        let mut other = expected.to_vec();
        other[i] += d;
        assert!(
            mock_check(circuit, k, other).expect("layout").is_err(),
            "public input {i} changed by {d:?} still accepted"
        );
    }
}

/// The halo2 circuit's public inputs are the R1CS circuit's for the same
/// epoch: both backends prove the same reward and nullifier.
pub fn same_public<R: depin_statements_r1cs::common::StatementCircuit>(
    halo2: &impl depin_halo2::statement::StatementCircuit,
    r1cs: &R,
) {
    let r1cs_public: Vec<_> = r1cs
        .public_inputs()
        .iter()
        .map(depin_halo2::field::to_halo2)
        .collect();
    assert_eq!(halo2.public_inputs(), r1cs_public);
}
