//! Test harness shared by the statement circuits.
//!
//! [`R1cs`] is an R1CS checker independent of arkworks' own
//! `is_satisfied`: it takes the finalized matrices and the full assignment
//! and evaluates `(A z) * (B z) = (C z)` row by row, which lets a test change
//! single witness values and re-check only the rows that use them.

use ark_bn254::Fr;
use ark_ff::Field;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, Matrix, OptimizationGoal,
    SynthesisError, R1CS_PREDICATE_LABEL,
};

/// A finalized constraint system: matrices and assignment.
pub struct R1cs {
    /// Rows of A, B, C as `(coefficient, column)` pairs.
    pub a: Matrix<Fr>,
    /// Rows of B.
    pub b: Matrix<Fr>,
    /// Rows of C.
    pub c: Matrix<Fr>,
    /// `[1, instance..., witness...]`.
    pub z: Vec<Fr>,
    /// Number of instance columns (including the constant one).
    pub num_instance: usize,
    /// For each column, the rows that use it.
    rows_of: Vec<Vec<usize>>,
}

impl R1cs {
    /// Synthesizes `circuit` (in proving mode, LCs inlined as for Groth16).
    pub fn synthesize<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<Self, SynthesisError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        circuit.generate_constraints(cs.clone())?;
        cs.finalize();
        Self::from_cs(&cs)
    }

    fn from_cs(cs: &ConstraintSystemRef<Fr>) -> Result<Self, SynthesisError> {
        let mut m = cs.to_matrices()?;
        let mut r1cs = m
            .remove(R1CS_PREDICATE_LABEL)
            .ok_or(SynthesisError::MissingCS)?;
        if r1cs.len() != 3 {
            return Err(SynthesisError::Unsatisfiable);
        }
        let c = r1cs.pop().ok_or(SynthesisError::MissingCS)?;
        let b = r1cs.pop().ok_or(SynthesisError::MissingCS)?;
        let a = r1cs.pop().ok_or(SynthesisError::MissingCS)?;
        let inner = cs.borrow().ok_or(SynthesisError::MissingCS)?;
        let mut z = inner.instance_assignment()?.to_vec();
        let num_instance = z.len();
        z.extend_from_slice(inner.witness_assignment()?);
        drop(inner);
        let mut rows_of = vec![Vec::new(); z.len()];
        for (row, ((ra, rb), rc)) in a.iter().zip(&b).zip(&c).enumerate() {
            for &(_, col) in ra.iter().chain(rb).chain(rc) {
                if rows_of[col].last() != Some(&row) {
                    rows_of[col].push(row);
                }
            }
        }
        Ok(R1cs {
            a,
            b,
            c,
            z,
            num_instance,
            rows_of,
        })
    }

    fn row_holds(&self, row: usize) -> bool {
        let dot = |r: &[(Fr, usize)]| r.iter().map(|(k, i)| *k * self.z[*i]).sum::<Fr>();
        dot(&self.a[row]) * dot(&self.b[row]) == dot(&self.c[row])
    }

    /// Number of constraints.
    pub fn num_constraints(&self) -> usize {
        self.a.len()
    }

    /// The public inputs (without the constant one).
    pub fn public_inputs(&self) -> &[Fr] {
        &self.z[1..self.num_instance]
    }

    /// Whether every row holds.
    pub fn is_satisfied(&self) -> bool {
        (0..self.a.len()).all(|r| self.row_holds(r))
    }

    /// Whether every row holds with the public inputs replaced by `public`.
    pub fn is_satisfied_with_public(&mut self, public: &[Fr]) -> bool {
        let saved: Vec<Fr> = self.z[1..self.num_instance].to_vec();
        if public.len() != saved.len() {
            return false;
        }
        self.z[1..self.num_instance].copy_from_slice(public);
        let ok = self.is_satisfied();
        self.z[1..self.num_instance].copy_from_slice(&saved);
        ok
    }

    /// The witness columns whose value can be changed alone (by adding
    /// `delta`) while every constraint still holds: witnesses the
    /// constraints do not pin down. For a circuit that determines its whole
    /// witness from the public inputs and the records, this is empty.
    pub fn free_witnesses(&mut self, delta: Fr) -> Vec<usize> {
        let mut free = Vec::new();
        for col in self.num_instance..self.z.len() {
            let old = self.z[col];
            self.z[col] += delta;
            let rows = &self.rows_of[col];
            if rows.iter().all(|&r| self.row_holds(r)) {
                free.push(col - self.num_instance);
            }
            self.z[col] = old;
        }
        free
    }

    /// Witness columns no constraint mentions.
    pub fn unused_witnesses(&self) -> Vec<usize> {
        (self.num_instance..self.z.len())
            .filter(|&c| self.rows_of[c].is_empty())
            .map(|c| c - self.num_instance)
            .collect()
    }
}

/// A perturbation for [`R1cs::free_witnesses`] that is neither small nor a
/// sign flip: `1/7`.
pub fn delta() -> Fr {
    Fr::from(7u64).inverse().unwrap_or(Fr::ONE)
}
