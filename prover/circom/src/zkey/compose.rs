//! The group sums of `zkey new`: for every wire `i`, `sum_t k_t P_t` over
//! the wire's terms `(basis, index, k)`, where the points are a `.ptau`'s
//! Lagrange bases and the coefficients the circuit's matrix entries.
//!
//! A statement's matrices have millions of entries with full-size
//! coefficients (Poseidon's MDS entries in inlined linear combinations),
//! spread over wires of a few to a few hundred terms, so a scalar
//! multiplication per entry dominates. Instead each such wire is one
//! interleaved multi-scalar multiplication (Straus' method with width-`w`
//! NAF digits: Hankerson, Menezes and Vanstone, *Guide to Elliptic Curve
//! Cryptography*, section 3.3.3, interleaving with NAFs): the doublings
//! are shared by all the wire's terms, every term pays about
//! `bits / (w + 1)` mixed additions and its table of `2^(w-2)` odd
//! multiples, and a coefficient `±1` costs one addition. Wires with
//! thousands of terms go to `depin-prover-core`'s bucket MSM. Every path
//! is checked against `compose_reference`, one scalar multiplication per
//! term.

use ark_bn254::Fr;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup};
use ark_ff::{BigInteger, One, PrimeField, Zero};
use depin_prover_core::msm::{msm_with_window, window_bits};
use depin_prover_core::par;

/// A term of a wire's sum: which basis (index into the bases given to
/// [`compose`]), which point, the coefficient.
pub type Term = (u8, u32, Fr);

/// Wires with at least this many terms are summed with the bucket MSM
/// (its setup per call outweighs its cheaper additions on shorter ones; on
/// the uptime statement `zkey new` took the same time with 1,024 and
/// 8,192).
const MSM_TERMS: usize = 1024;

/// The NAF width of the interleaved method: tables of 8 odd multiples,
/// about one addition per 6 bits.
const NAF_WIDTH: usize = 5;

/// Wires per parallel task.
const WIRES_PER_TASK: usize = 64;

/// `sum k * point` over each wire's terms, normalised.
pub fn compose<P: SWCurveConfig<ScalarField = Fr>>(
    bases: &[&[Affine<P>]],
    wires: &[Vec<Term>],
) -> Vec<Affine<P>> {
    let tasks = wires.len().div_ceil(WIRES_PER_TASK);
    let sums: Vec<Projective<P>> = par::map(tasks, |t| {
        let chunk = &wires[t * WIRES_PER_TASK..((t + 1) * WIRES_PER_TASK).min(wires.len())];
        chunk
            .iter()
            .map(|terms| wire_sum(bases, terms))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    Projective::<P>::normalize_batch(&sums)
}

/// One wire's sum.
fn wire_sum<P: SWCurveConfig<ScalarField = Fr>>(
    bases: &[&[Affine<P>]],
    terms: &[Term],
) -> Projective<P> {
    let point = |(b, i, _): &Term| bases[*b as usize][*i as usize];
    if terms.len() >= MSM_TERMS {
        let points: Vec<Affine<P>> = terms.iter().map(point).collect();
        let scalars: Vec<Fr> = terms.iter().map(|t| t.2).collect();
        // Lengths agree and the window is in range by construction.
        if let Ok(s) = msm_with_window(&points, &scalars, window_bits(points.len())) {
            return s;
        }
    }
    interleaved(terms.iter().map(|t| (point(t), t.2)))
}

/// A scalar as signed NAF digits, least significant first, of whichever
/// of `k` and `-k` is shorter (the sign folded into the digits).
fn naf_digits(k: Fr) -> Vec<i64> {
    let pos = k.into_bigint();
    let neg = (-k).into_bigint();
    if neg.num_bits() < pos.num_bits() {
        let mut d = neg.find_wnaf(NAF_WIDTH).unwrap_or_default();
        d.iter_mut().for_each(|x| *x = -*x);
        d
    } else {
        pos.find_wnaf(NAF_WIDTH).unwrap_or_default()
    }
}

/// `sum k * P` by Straus' interleaved method (see the module docs).
fn interleaved<P: SWCurveConfig<ScalarField = Fr>>(
    terms: impl Iterator<Item = (Affine<P>, Fr)>,
) -> Projective<P> {
    let one = Fr::one();
    let mut direct = Projective::<P>::zero();
    // Per remaining term: its NAF digits and its odd multiples P, 3P, ...
    let mut digits: Vec<Vec<i64>> = Vec::new();
    let mut tables: Vec<Projective<P>> = Vec::new();
    let per_table = 1usize << (NAF_WIDTH - 2);
    for (p, k) in terms {
        if k.is_zero() || p.is_zero() {
            continue;
        }
        if k == one {
            direct += p;
            continue;
        }
        if k == -one {
            direct -= p;
            continue;
        }
        let twice = p.into_group().double();
        let mut m = p.into_group();
        tables.push(m);
        for _ in 1..per_table {
            m += twice;
            tables.push(m);
        }
        digits.push(naf_digits(k));
    }
    if digits.is_empty() {
        return direct;
    }
    let tables = Projective::<P>::normalize_batch(&tables);
    let len = digits.iter().map(Vec::len).max().unwrap_or(0);
    let mut acc = Projective::<P>::zero();
    for bit in (0..len).rev() {
        acc.double_in_place();
        for (t, d) in digits.iter().enumerate() {
            let Some(&z) = d.get(bit) else { continue };
            if z > 0 {
                acc += tables[t * per_table + (z as usize) / 2];
            } else if z < 0 {
                acc -= tables[t * per_table + (z.unsigned_abs() as usize) / 2];
            }
        }
    }
    acc + direct
}

/// The reference: one scalar multiplication per term.
#[cfg(test)]
pub fn compose_reference<P: SWCurveConfig<ScalarField = Fr>>(
    bases: &[&[Affine<P>]],
    wires: &[Vec<Term>],
) -> Vec<Affine<P>> {
    let sums: Vec<Projective<P>> = wires
        .iter()
        .map(|terms| {
            terms
                .iter()
                .map(|(b, i, k)| bases[*b as usize][*i as usize] * k)
                .sum()
        })
        .collect();
    Projective::<P>::normalize_batch(&sums)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{G1Affine, G1Projective, G2Affine, G2Projective};
    use ark_ff::UniformRand;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A coefficient of every kind the circuits have: ±1, small of either
    /// sign, powers of two, full size, zero.
    fn coefficient(rng: &mut impl Rng) -> Fr {
        match rng.gen_range(0..7) {
            0 => Fr::one(),
            1 => -Fr::one(),
            2 => Fr::from(rng.gen_range(2u64..1 << 20)),
            3 => -Fr::from(rng.gen::<u64>()),
            4 => Fr::from(2u64).pow([rng.gen_range(60u64..254)]),
            5 => Fr::zero(),
            _ => Fr::rand(rng),
        }
    }

    fn wires(rng: &mut impl Rng, n_bases: usize, points: usize) -> Vec<Vec<Term>> {
        // Empty, one term, short, around the MSM threshold, long; a point
        // repeated within a wire.
        [0, 1, 2, 7, 31, MSM_TERMS - 1, MSM_TERMS, 300]
            .into_iter()
            .map(|len| {
                (0..len)
                    .map(|j| {
                        let i = if j == 1 { 0 } else { rng.gen_range(0..points) };
                        (rng.gen_range(0..n_bases) as u8, i as u32, coefficient(rng))
                    })
                    .collect()
            })
            .collect()
    }

    use ark_ff::Field;

    #[test]
    fn g1_sums_match_the_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let b: Vec<Vec<G1Affine>> = (0..3)
            .map(|_| {
                let mut v: Vec<G1Affine> = (0..40)
                    .map(|_| G1Projective::rand(&mut rng).into_affine())
                    .collect();
                v[3] = G1Affine::zero();
                v
            })
            .collect();
        let bases: Vec<&[G1Affine]> = b.iter().map(Vec::as_slice).collect();
        let w = wires(&mut rng, 3, 40);
        assert_eq!(compose(&bases, &w), compose_reference(&bases, &w));
    }

    #[test]
    fn g2_sums_match_the_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let b: Vec<G2Affine> = (0..20)
            .map(|_| G2Projective::rand(&mut rng).into_affine())
            .collect();
        let bases: [&[G2Affine]; 1] = [&b];
        let w = wires(&mut rng, 1, 20);
        assert_eq!(compose(&bases, &w), compose_reference(&bases, &w));
    }

    #[test]
    fn interleaved_handles_cancelling_terms() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let p = G1Projective::rand(&mut rng).into_affine();
        let k = Fr::rand(&mut rng);
        let terms = [(p, k), (p, -k), (p, Fr::one()), (p, -Fr::one())];
        assert!(interleaved(terms.into_iter()).is_zero());
        let terms = [(p, k), (p, k)];
        assert_eq!(interleaved(terms.into_iter()), p * (k + k));
    }
}
