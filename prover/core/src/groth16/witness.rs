//! The assignment of a circuit: prove-mode synthesis without matrices.

use ark_bn254::Fr;
use ark_ff::One;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisError, SynthesisMode,
};

use super::Groth16Error;

/// A full assignment `z = (1, instance..., witness...)` and how many of its
/// leading variables are instance variables (the constant one included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    z: Vec<Fr>,
    num_instance: usize,
}

impl Assignment {
    /// An assignment from `z` whose first `num_instance` variables are the
    /// instance (`z[0]` must be one).
    pub fn new(z: Vec<Fr>, num_instance: usize) -> Result<Self, Groth16Error> {
        if num_instance == 0 || num_instance > z.len() {
            return Err(Groth16Error::AssignmentLength {
                expected: num_instance.max(1),
                found: z.len(),
            });
        }
        if !z[0].is_one() {
            return Err(Groth16Error::ConstantNotOne);
        }
        Ok(Assignment { z, num_instance })
    }

    /// All variables, `z[0] = 1` first.
    pub fn z(&self) -> &[Fr] {
        &self.z
    }

    /// Instance variables, the constant one included.
    pub fn num_instance(&self) -> usize {
        self.num_instance
    }

    /// The public inputs: the instance without the constant one.
    pub fn public_inputs(&self) -> &[Fr] {
        &self.z[1..self.num_instance]
    }

    /// The witness variables.
    pub fn witness(&self) -> &[Fr] {
        &self.z[self.num_instance..]
    }

    /// The variables.
    pub fn into_vec(self) -> Vec<Fr> {
        self.z
    }
}

/// Synthesizes `circuit` in prove mode without building constraints: the
/// constraint system records only the variables' values (no linear
/// combinations, no matrices, nothing to inline), so this costs the
/// circuit's own witness computation and little more. The constraints are
/// not checked here; [`super::CircuitProver::witness_map`] checks them
/// against the prebuilt matrices.
///
/// The optimisation goal is the setup's (`Constraints`), so gadgets that
/// choose their encoding by it allocate the same variables in the same
/// order.
pub fn synthesize_witness<C: ConstraintSynthesizer<Fr>>(
    circuit: C,
) -> Result<Assignment, Groth16Error> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: false,
        generate_lc_assignments: false,
    });
    circuit.generate_constraints(cs.clone())?;
    let (mut z, witness) = {
        let mut inner = cs
            .borrow_mut()
            .ok_or(Groth16Error::Synthesis(SynthesisError::MissingCS))?;
        let a = &mut inner.assignments;
        (
            std::mem::take(&mut a.instance_assignment),
            std::mem::take(&mut a.witness_assignment),
        )
    };
    let num_instance = z.len();
    z.reserve_exact(witness.len());
    z.extend_from_slice(&witness);
    Assignment::new(z, num_instance)
}
