//! The Groth16 prover against arkworks' on small circuits: the same
//! matrices, the same QAP quotient `h`, the same proof for the same `r, s`;
//! proofs verify with `ark_groth16`; unsatisfied assignments, foreign keys
//! and malformed assignments are refused with typed errors.

use ark_bn254::{Bn254, Fr};
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_groth16::Groth16;
use ark_poly::GeneralEvaluationDomain;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, LinearCombination, Matrix,
    OptimizationGoal, SynthesisError, SynthesisMode, Variable, R1CS_PREDICATE_LABEL,
};
use ark_snark::SNARK;
use ark_std::UniformRand;
use depin_prover_core::groth16::{
    synthesize_witness, Assignment, CircuitProver, Groth16Error, R1cs,
};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Public `x` and `y = x^(2^steps)` (a squaring chain), bits with their
/// booleanity constraints, a symbolic linear combination with non-unit
/// coefficients, a zero witness and an unused witness.
#[derive(Clone)]
struct TestCircuit {
    x: Fr,
    steps: usize,
    bits: Vec<bool>,
    /// Adds one to the first square (the assignment no longer satisfies).
    wrong: bool,
}

impl TestCircuit {
    fn new(x: u64, steps: usize) -> Self {
        TestCircuit {
            x: Fr::from(x),
            steps,
            bits: vec![true, false, true, true, false],
            wrong: false,
        }
    }

    fn output(&self) -> Fr {
        let mut y = self.x;
        for _ in 0..self.steps {
            y.square_in_place();
        }
        y
    }
}

use ark_ff::Field;

impl ConstraintSynthesizer<Fr> for TestCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let x = cs.new_input_variable(|| Ok(self.x))?;
        let mut y_val = self.x;
        let mut y = x;
        for i in 0..self.steps {
            let mut next = y_val.square();
            if self.wrong && i == 0 {
                next += Fr::from(1u64);
            }
            let v = cs.new_witness_variable(|| Ok(next))?;
            cs.enforce_r1cs_constraint(
                || LinearCombination::from(y),
                || LinearCombination::from(y),
                || LinearCombination::from(v),
            )?;
            y = v;
            y_val = next;
        }
        let out = cs.new_input_variable(|| Ok(self.output()))?;
        cs.enforce_r1cs_constraint(
            || LinearCombination::from(y),
            || LinearCombination::from(Variable::One),
            || LinearCombination::from(out),
        )?;
        let mut bits = Vec::new();
        for &b in &self.bits {
            let v = cs.new_witness_variable(|| Ok(Fr::from(b)))?;
            cs.enforce_r1cs_constraint(
                || LinearCombination::from(v),
                || LinearCombination::from(v) - Variable::One,
                LinearCombination::zero,
            )?;
            bits.push((v, Fr::from(b)));
        }
        let (b0, b0_val) = bits[0];
        // s = 3 x + 2 b0 - 5 as a symbolic LC, w = s * x.
        let s = cs.new_lc(|| {
            LinearCombination::zero() + (Fr::from(3u64), x) + (Fr::from(2u64), b0)
                - (Fr::from(5u64), Variable::One)
        })?;
        let s_val = Fr::from(3u64) * self.x + Fr::from(2u64) * b0_val - Fr::from(5u64);
        let w = cs.new_witness_variable(|| Ok(s_val * self.x))?;
        cs.enforce_r1cs_constraint(
            || LinearCombination::from(s),
            || LinearCombination::from(x),
            || LinearCombination::from(w),
        )?;
        // A zero witness times anything is zero; an unused witness.
        let zero = cs.new_witness_variable(|| Ok(Fr::from(0u64)))?;
        cs.enforce_r1cs_constraint(
            || LinearCombination::from(zero),
            || LinearCombination::from(w) + (Fr::from(7u64), x),
            LinearCombination::zero,
        )?;
        let _unused = cs.new_witness_variable(|| Ok(Fr::from(42u64)))?;
        Ok(())
    }
}

fn setup(circuit: TestCircuit, seed: u64) -> ark_groth16::ProvingKey<Bn254> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    Groth16::<Bn254>::generate_random_parameters_with_reduction(circuit, &mut rng).expect("setup")
}

/// arkworks' matrices (setup mode, finalized) and full assignment (prove
/// mode with matrices, finalized).
fn arkworks_matrices_and_z(circuit: TestCircuit) -> (Vec<Matrix<Fr>>, Vec<Fr>, usize) {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: true,
        generate_lc_assignments: false,
    });
    circuit
        .generate_constraints(cs.clone())
        .expect("synthesize");
    cs.finalize();
    let matrices = cs.to_matrices().expect("matrices")[R1CS_PREDICATE_LABEL].clone();
    let mut z = cs.instance_assignment().expect("instance");
    z.extend(cs.witness_assignment().expect("witness"));
    (matrices, z, cs.num_constraints())
}

/// Circuit sizes around the domain boundaries (constraints + instance
/// variables = 2^k - 1, 2^k, 2^k + 1).
const STEPS: [usize; 5] = [1, 8, 22, 23, 24];

#[test]
fn assignment_and_matrices_match_arkworks() {
    for steps in STEPS {
        let c = TestCircuit::new(3, steps);
        let (matrices, z, m) = arkworks_matrices_and_z(c.clone());
        let ours = R1cs::from_circuit(c.clone()).expect("r1cs");
        let from_ark = R1cs::from_matrices(&matrices, 3, z.len() - 3).expect("r1cs");
        assert_eq!(ours, from_ark, "steps {steps}");
        assert_eq!(ours.num_constraints(), m);
        let a = synthesize_witness(c).expect("witness");
        assert_eq!(a.z(), &z[..], "steps {steps}");
        assert_eq!(a.num_instance(), 3);
        assert_eq!(a.public_inputs()[0], Fr::from(3u64));
        assert_eq!(ours.first_unsatisfied(a.z()).expect("eval"), None);
    }
}

#[test]
fn witness_map_equals_arkworks_libsnark_reduction() {
    for steps in STEPS {
        let c = TestCircuit::new(5, steps);
        let (matrices, z, m) = arkworks_matrices_and_z(c.clone());
        let expected = LibsnarkReduction::witness_map_from_matrices::<
            Fr,
            GeneralEvaluationDomain<Fr>,
        >(&matrices, 3, m, &z)
        .expect("arkworks h");
        let prover = CircuitProver::from_circuit(c).expect("prover");
        let h = prover.witness_map(&z).expect("h");
        assert_eq!(h, expected, "steps {steps}");
        assert_eq!(h.len(), prover.domain().size());
    }
}

#[test]
fn proofs_equal_arkworks_with_the_same_blinding_and_verify() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    for (i, steps) in STEPS.into_iter().enumerate() {
        let c = TestCircuit::new(2 + i as u64, steps);
        let pk = setup(c.clone(), i as u64);
        let prover = CircuitProver::from_circuit(c.clone()).expect("prover");
        prover.check_key(&pk).expect("key fits");
        for (r, s) in [
            (Fr::rand(&mut rng), Fr::rand(&mut rng)),
            (Fr::from(0u64), Fr::from(0u64)),
            (Fr::from(0u64), Fr::from(1u64)),
        ] {
            let (ours, t) = prover
                .prove_circuit(&pk, c.clone(), r, s)
                .expect("our proof");
            let theirs =
                Groth16::<Bn254>::create_proof_with_reduction(c.clone(), &pk, r, s).expect("ark");
            assert_eq!(ours, theirs, "steps {steps}");
            assert!(t.witness_map > std::time::Duration::ZERO);
            let public = [c.x, c.output()];
            assert!(Groth16::<Bn254>::verify(&pk.vk, &public, &ours).expect("verify"));
            // Another public input does not verify.
            let other = [c.x, c.output() + Fr::from(1u64)];
            assert!(!Groth16::<Bn254>::verify(&pk.vk, &other, &ours).expect("verify"));
        }
    }
}

#[test]
fn unsatisfied_assignments_are_refused_and_tampered_proofs_fail() {
    let c = TestCircuit::new(3, 8);
    let pk = setup(c.clone(), 1);
    let prover = CircuitProver::from_circuit(c.clone()).expect("prover");
    let (r, s) = (Fr::from(11u64), Fr::from(13u64));

    // The wrong first square: constraint 0 fails.
    let bad = TestCircuit {
        wrong: true,
        ..c.clone()
    };
    let err = prover
        .prove_circuit(&pk, bad, r, s)
        .expect_err("unsatisfied");
    assert!(matches!(err, Groth16Error::Unsatisfied(0)), "{err}");

    // A changed witness value anywhere is caught (+2 keeps no bit a bit).
    let good = synthesize_witness(c.clone()).expect("witness");
    for k in 3..good.z().len() - 1 {
        let mut z = good.z().to_vec();
        z[k] += Fr::from(2u64);
        let a = Assignment::new(z, 3).expect("assignment");
        let err = prover.prove(&pk, &a, r, s).expect_err("tampered");
        assert!(
            matches!(err, Groth16Error::Unsatisfied(_)),
            "variable {k}: {err}"
        );
    }
    // The unused witness (last) is free: the proof still verifies.
    let mut z = good.z().to_vec();
    *z.last_mut().expect("unused") += Fr::from(1u64);
    let proof = prover
        .prove(&pk, &Assignment::new(z, 3).expect("assignment"), r, s)
        .expect("proof");
    assert!(Groth16::<Bn254>::verify(&pk.vk, &[c.x, c.output()], &proof).expect("verify"));

    // A proof of an unsatisfied assignment (arkworks proves one without
    // checking) does not verify; ours refused it above.
    let (matrices, mut z, m) = arkworks_matrices_and_z(c.clone());
    z[3] += Fr::from(1u64);
    let forged =
        Groth16::<Bn254>::create_proof_with_reduction_and_matrices(&pk, r, s, &matrices, 3, m, &z)
            .expect("ark");
    assert!(!Groth16::<Bn254>::verify(&pk.vk, &[c.x, c.output()], &forged).expect("verify"));
}

#[test]
fn foreign_keys_and_malformed_assignments_get_typed_errors() {
    let c = TestCircuit::new(3, 8);
    let prover = CircuitProver::from_circuit(c.clone()).expect("prover");
    let other = setup(TestCircuit::new(3, 9), 1);
    let (r, s) = (Fr::from(1u64), Fr::from(2u64));
    let err = prover
        .prove_circuit(&other, c.clone(), r, s)
        .expect_err("foreign key");
    assert!(matches!(err, Groth16Error::KeyMismatch { .. }), "{err}");

    let pk = setup(c.clone(), 1);
    let good = synthesize_witness(c.clone()).expect("witness");
    let err = prover.witness_map(&good.z()[1..]).expect_err("short");
    assert!(
        matches!(err, Groth16Error::AssignmentLength { .. }),
        "{err}"
    );
    let mut z = good.z().to_vec();
    z[0] = Fr::from(2u64);
    assert!(matches!(
        prover.witness_map(&z),
        Err(Groth16Error::ConstantNotOne)
    ));
    assert!(matches!(
        Assignment::new(z, 3),
        Err(Groth16Error::ConstantNotOne)
    ));
    assert!(matches!(
        Assignment::new(good.z().to_vec(), 0),
        Err(Groth16Error::AssignmentLength { .. })
    ));
    let shifted = Assignment::new(good.z().to_vec(), 2).expect("assignment");
    assert!(matches!(
        prover.prove(&pk, &shifted, r, s),
        Err(Groth16Error::InstanceCount {
            expected: 3,
            found: 2
        })
    ));
    // Malformed matrices.
    assert!(matches!(
        R1cs::from_matrices(&[vec![], vec![]], 1, 0),
        Err(Groth16Error::NotR1cs(_))
    ));
    let row = vec![vec![(Fr::from(1u64), 5usize)]];
    assert!(matches!(
        R1cs::from_matrices(&[row.clone(), row.clone(), row], 1, 2),
        Err(Groth16Error::NotR1cs(_))
    ));
}
