//! circomlib's Poseidon as R1CS constraints.
//!
//! The permutation is the one of [`depin_crypto::poseidon`] (Grassi et al.,
//! ePrint 2019/458) with the same constants. Additions of round constants and
//! the MDS mix are linear and cost nothing; each S-box `x^5` costs three
//! multiplication constraints, and S-boxes of values known at synthesis time
//! (the zero capacity element in the first round) fold to constants. For two
//! inputs that is `3 * (8 * 3 + 57 - 1) = 240` constraints, circomlib's count.

use ark_bn254::Fr;
use ark_r1cs_std::fields::{fp::FpVar, FieldVar};
use ark_relations::gr1cs::SynthesisError;
use depin_crypto::poseidon::{params, MAX_INPUTS};

fn pow5(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

/// circomlib's `Poseidon(n)` of `inputs` (1 to 16 variables).
///
/// Returns [`SynthesisError::Unsatisfiable`] for an arity circomlib does not
/// define.
pub fn hash(inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let p = params(inputs.len()).ok_or(SynthesisError::Unsatisfiable)?;
    debug_assert!(inputs.len() <= MAX_INPUTS);
    let t = p.t;
    let mut state: Vec<FpVar<Fr>> = Vec::with_capacity(t);
    state.push(FpVar::zero());
    state.extend(inputs.iter().cloned());
    for r in 0..p.rounds() {
        for (s, c) in state.iter_mut().zip(&p.c[r * t..(r + 1) * t]) {
            *s += *c;
        }
        if p.is_full_round(r) {
            for s in state.iter_mut() {
                *s = pow5(s)?;
            }
        } else {
            state[0] = pow5(&state[0])?;
        }
        state = (0..t)
            .map(|i| {
                state
                    .iter()
                    .zip(&p.m[i * t..(i + 1) * t])
                    .fold(FpVar::zero(), |acc, (s, m)| acc + s * *m)
            })
            .collect();
    }
    Ok(state.swap_remove(0))
}

/// `Poseidon(a, b)`.
pub fn hash2(a: &FpVar<Fr>, b: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    hash(&[a.clone(), b.clone()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;
    use ark_r1cs_std::{alloc::AllocVar, eq::EqGadget, GR1CSVar};
    use ark_relations::gr1cs::ConstraintSystem;

    #[test]
    fn matches_native_for_every_arity() {
        let mut rng = ark_std::test_rng();
        for n in 1..=MAX_INPUTS {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let xs: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            let vars: Vec<_> = xs
                .iter()
                .map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap())
                .collect();
            let out = hash(&vars).unwrap();
            let expected = depin_crypto::poseidon::hash(&xs).unwrap();
            assert_eq!(out.value().unwrap(), expected, "arity {n}");
            let pubout = FpVar::new_input(cs.clone(), || Ok(expected)).unwrap();
            out.enforce_equal(&pubout).unwrap();
            assert!(cs.is_satisfied().unwrap());
        }
    }

    #[test]
    fn wrong_output_is_unsatisfied() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = FpVar::new_witness(cs.clone(), || Ok(Fr::from(1u64))).unwrap();
        let b = FpVar::new_witness(cs.clone(), || Ok(Fr::from(2u64))).unwrap();
        let out = hash2(&a, &b).unwrap();
        let wrong = FpVar::new_input(cs.clone(), || Ok(Fr::from(3u64))).unwrap();
        out.enforce_equal(&wrong).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }

    #[test]
    fn two_inputs_cost_240_constraints() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = FpVar::new_witness(cs.clone(), || Ok(Fr::from(1u64))).unwrap();
        let b = FpVar::new_witness(cs.clone(), || Ok(Fr::from(2u64))).unwrap();
        let _ = hash2(&a, &b).unwrap();
        assert_eq!(cs.num_constraints(), 240);
    }

    #[test]
    fn bad_arity_is_an_error() {
        assert!(hash(&[]).is_err());
    }
}
