//! Points and scalars the chip tests share: random points of the whole
//! curve and of the prime subgroup, the eight torsion points.

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
