//! R1CS matrices in a compact compressed-sparse-row form.

use std::collections::HashMap;

use ark_bn254::Fr;
use ark_ff::{One, Zero};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, Matrix, OptimizationGoal,
    SynthesisMode, R1CS_PREDICATE_LABEL,
};

use super::Groth16Error;
use crate::par;

/// Coefficient index of `1` (an entry that adds `z[col]`).
const COEFF_ONE: u32 = 0;
/// Coefficient index of `-1` (an entry that subtracts `z[col]`).
const COEFF_MINUS_ONE: u32 = 1;

/// Rows evaluated per parallel task.
const ROW_CHUNK: usize = 1 << 12;

/// Most rows, columns or entries a matrix holds (indices are `u32`).
pub const MAX_R1CS_LEN: usize = u32::MAX as usize;

/// One sparse matrix: row `i`'s entries are
/// `entries[row_start[i]..row_start[i + 1]]`, each `[column, coefficient
/// index]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Csr {
    row_start: Vec<u32>,
    entries: Vec<[u32; 2]>,
}

impl Csr {
    fn row(&self, i: usize) -> &[[u32; 2]] {
        let (s, e) = (self.row_start[i] as usize, self.row_start[i + 1] as usize);
        &self.entries[s..e]
    }
}

/// The R1CS `(A z) ∘ (B z) = C z` of a circuit, `z = (1, instance...,
/// witness...)`: the three matrices in compressed sparse rows with `u32`
/// column indices and coefficients shared through one table (`1` and `-1`
/// need no multiplication), 8 bytes per non-zero entry instead of
/// arkworks' 40.
///
/// Built once per circuit shape ([`R1cs::from_circuit`], setup-mode
/// synthesis with the linear combinations inlined, exactly as arkworks'
/// Groth16 setup builds them) and reused by every proof, which then only
/// needs the assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct R1cs {
    num_instance: usize,
    num_witness: usize,
    num_constraints: usize,
    coeffs: Vec<Fr>,
    a: Csr,
    b: Csr,
    c: Csr,
}

/// A circuit's R1CS as arkworks' setup-mode synthesis gives it: the
/// `[A, B, C]` matrices (rows of `(coefficient, column)`) over `num_instance`
/// instance variables (the constant one included) and `num_witness` witness
/// variables.
#[derive(Debug, Clone)]
pub struct SetupMatrices {
    /// `[A, B, C]`.
    pub matrices: Vec<Matrix<Fr>>,
    /// Instance variables, the constant one included.
    pub num_instance: usize,
    /// Witness variables.
    pub num_witness: usize,
}

impl SetupMatrices {
    /// Synthesizes `circuit` in setup mode (optimising for constraints, as
    /// arkworks' Groth16 setup does), inlines its linear combinations and
    /// takes its R1CS matrices. The witness values in `circuit` are not used.
    pub fn of_circuit<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<Self, Groth16Error> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        circuit.generate_constraints(cs.clone())?;
        cs.finalize();
        Self::of_constraint_system(&cs)
    }

    /// The matrices of a synthesized (and finalized) constraint system.
    pub fn of_constraint_system(cs: &ConstraintSystemRef<Fr>) -> Result<Self, Groth16Error> {
        if cs.num_predicates() != 1 {
            return Err(Groth16Error::NotR1cs(format!(
                "{} predicates, expected only R1CS",
                cs.num_predicates()
            )));
        }
        let mut all = cs.to_matrices()?;
        let matrices = all
            .remove(R1CS_PREDICATE_LABEL)
            .ok_or_else(|| Groth16Error::NotR1cs("no R1CS predicate".into()))?;
        Ok(SetupMatrices {
            matrices,
            num_instance: cs.num_instance_variables(),
            num_witness: cs.num_witness_variables(),
        })
    }
}

impl R1cs {
    /// Synthesizes `circuit` in setup mode ([`SetupMatrices::of_circuit`])
    /// and compresses its matrices.
    pub fn from_circuit<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<Self, Groth16Error> {
        let m = SetupMatrices::of_circuit(circuit)?;
        Self::from_matrices(&m.matrices, m.num_instance, m.num_witness)
    }

    /// The matrices of a synthesized (and finalized) constraint system.
    pub fn from_constraint_system(cs: &ConstraintSystemRef<Fr>) -> Result<Self, Groth16Error> {
        let m = SetupMatrices::of_constraint_system(cs)?;
        Self::from_matrices(&m.matrices, m.num_instance, m.num_witness)
    }

    /// Compresses arkworks' `[A, B, C]` matrices (rows of `(coefficient,
    /// column)`) for `num_instance` instance variables (the constant one
    /// included) and `num_witness` witness variables.
    pub fn from_matrices(
        matrices: &[Matrix<Fr>],
        num_instance: usize,
        num_witness: usize,
    ) -> Result<Self, Groth16Error> {
        let [a, b, c] = matrices else {
            return Err(Groth16Error::NotR1cs(format!(
                "{} matrices, expected 3",
                matrices.len()
            )));
        };
        let num_constraints = a.len();
        if b.len() != num_constraints || c.len() != num_constraints {
            return Err(Groth16Error::NotR1cs(format!(
                "matrices with {}, {} and {} rows",
                a.len(),
                b.len(),
                c.len()
            )));
        }
        if num_instance == 0 {
            return Err(Groth16Error::NotR1cs(
                "no instance variable (the constant one is missing)".into(),
            ));
        }
        let num_variables = num_instance
            .checked_add(num_witness)
            .filter(|n| *n <= MAX_R1CS_LEN)
            .ok_or(Groth16Error::TooLarge)?;
        if num_constraints > MAX_R1CS_LEN {
            return Err(Groth16Error::TooLarge);
        }
        let mut coeffs = vec![Fr::one(), -Fr::one()];
        let mut index: HashMap<Fr, u32> = HashMap::new();
        index.insert(Fr::one(), COEFF_ONE);
        index.insert(-Fr::one(), COEFF_MINUS_ONE);
        let mut compress = |m: &Matrix<Fr>| -> Result<Csr, Groth16Error> {
            let total: usize = m.iter().map(Vec::len).sum();
            if total > MAX_R1CS_LEN {
                return Err(Groth16Error::TooLarge);
            }
            let mut row_start = Vec::with_capacity(m.len() + 1);
            let mut entries = Vec::with_capacity(total);
            row_start.push(0);
            for row in m {
                for &(coeff, col) in row {
                    if coeff.is_zero() {
                        continue;
                    }
                    if col >= num_variables {
                        return Err(Groth16Error::NotR1cs(format!(
                            "column {col} outside the {num_variables} variables"
                        )));
                    }
                    let k = match index.get(&coeff) {
                        Some(k) => *k,
                        None => {
                            let k =
                                u32::try_from(coeffs.len()).map_err(|_| Groth16Error::TooLarge)?;
                            coeffs.push(coeff);
                            index.insert(coeff, k);
                            k
                        }
                    };
                    entries.push([col as u32, k]);
                }
                row_start.push(entries.len() as u32);
            }
            Ok(Csr { row_start, entries })
        };
        let a = compress(a)?;
        let b = compress(b)?;
        let c = compress(c)?;
        Ok(R1cs {
            num_instance,
            num_witness,
            num_constraints,
            coeffs,
            a,
            b,
            c,
        })
    }

    /// Number of constraints (rows).
    pub fn num_constraints(&self) -> usize {
        self.num_constraints
    }

    /// Number of instance variables, the constant one included.
    pub fn num_instance(&self) -> usize {
        self.num_instance
    }

    /// Number of witness variables.
    pub fn num_witness(&self) -> usize {
        self.num_witness
    }

    /// Number of variables (columns): instance and witness.
    pub fn num_variables(&self) -> usize {
        self.num_instance + self.num_witness
    }

    /// Non-zero entries of A, B and C.
    pub fn num_entries(&self) -> [usize; 3] {
        [
            self.a.entries.len(),
            self.b.entries.len(),
            self.c.entries.len(),
        ]
    }

    /// Distinct coefficients (the shared table, `1` and `-1` included).
    pub fn num_coefficients(&self) -> usize {
        self.coeffs.len()
    }

    /// Refuses an assignment of the wrong length or without the leading one.
    pub(crate) fn check_assignment(&self, z: &[Fr]) -> Result<(), Groth16Error> {
        if z.len() != self.num_variables() {
            return Err(Groth16Error::AssignmentLength {
                expected: self.num_variables(),
                found: z.len(),
            });
        }
        if !z[0].is_one() {
            return Err(Groth16Error::ConstantNotOne);
        }
        Ok(())
    }

    /// `(A z, B z, C z)` on the constraints, each written into the first
    /// [`R1cs::num_constraints`] elements of `a`, `b` and `c` (which must be
    /// at least that long). `z` must have been checked.
    pub(crate) fn evaluate_into(&self, z: &[Fr], a: &mut [Fr], b: &mut [Fr], c: &mut [Fr]) {
        let m = self.num_constraints;
        self.eval(&self.a, z, &mut a[..m]);
        self.eval(&self.b, z, &mut b[..m]);
        self.eval(&self.c, z, &mut c[..m]);
    }

    fn eval(&self, mat: &Csr, z: &[Fr], out: &mut [Fr]) {
        let coeffs = &self.coeffs;
        par::for_each_chunk_mut(out, ROW_CHUNK, |ci, chunk| {
            let base = ci * ROW_CHUNK;
            for (j, o) in chunk.iter_mut().enumerate() {
                let mut acc = Fr::zero();
                for &[col, k] in mat.row(base + j) {
                    let v = &z[col as usize];
                    match k {
                        COEFF_ONE => acc += v,
                        COEFF_MINUS_ONE => acc -= v,
                        _ => acc += coeffs[k as usize] * v,
                    }
                }
                *o = acc;
            }
        });
    }

    /// `(A z, B z, C z)`, one element per constraint.
    pub fn evaluate(&self, z: &[Fr]) -> Result<[Vec<Fr>; 3], Groth16Error> {
        self.check_assignment(z)?;
        let m = self.num_constraints;
        let (mut a, mut b, mut c) = (
            vec![Fr::zero(); m],
            vec![Fr::zero(); m],
            vec![Fr::zero(); m],
        );
        self.evaluate_into(z, &mut a, &mut b, &mut c);
        Ok([a, b, c])
    }

    /// The first constraint `z` does not satisfy (`None`: all are).
    pub fn first_unsatisfied(&self, z: &[Fr]) -> Result<Option<usize>, Groth16Error> {
        let [a, b, c] = self.evaluate(z)?;
        Ok(first_unsatisfied(&a, &b, &c))
    }
}

/// The first `i` with `a[i] * b[i] != c[i]`.
pub(crate) fn first_unsatisfied(a: &[Fr], b: &[Fr], c: &[Fr]) -> Option<usize> {
    a.iter().zip(b).zip(c).position(|((a, b), c)| *a * b != *c)
}
