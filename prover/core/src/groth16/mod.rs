//! A Groth16 prover over BN254 on this crate's MSM and FFT.
//!
//! Groth16 (J. Groth, "On the Size of Pairing-based Non-interactive
//! Arguments", EUROCRYPT 2016) proves an R1CS `(A z) ∘ (B z) = C z` through
//! its quadratic arithmetic program: with `u_i, v_i, w_i` the columns of A,
//! B and C interpolated over a domain of `n` roots of unity and `Z(x) =
//! x^n - 1`, the assignment `z` satisfies the R1CS exactly when `Z` divides
//! `A(x) B(x) - C(x)` (`A(x) = sum_i z_i u_i(x)`, ...). The prover
//! computes
//!
//! 1. the **assignment** `z` ([`synthesize_witness`]: prove-mode synthesis
//!    that records values only, no constraints);
//! 2. the **witness map** `h(x) = (A(x) B(x) - C(x)) / Z(x)`
//!    ([`CircuitProver::witness_map`], libsnark's reduction as arkworks'
//!    `LibsnarkReduction`: three inverse FFTs, three coset FFTs, a division
//!    by the constant `Z` on the coset and a coset inverse FFT, on
//!    [`crate::fft::Domain`]), from the circuit's matrices built once
//!    ([`R1cs`]);
//! 3. the **proof** `(A, B, C)` with blinding `r, s`:
//!    `A = alpha + sum_i z_i [u_i(tau)]_1 + r delta`,
//!    `B = beta + sum_i z_i [v_i(tau)]_2 + s delta`,
//!    `C = sum_{aux} z_i l_i + sum_j h_j [tau^j Z(tau) / delta]_1 + s A +
//!    r B_1 - r s delta`, the sums being MSMs on the proving key's queries
//!    ([`crate::msm::msm_g1`], [`crate::msm::msm_g2`]; the G1 and G2 ones
//!    concurrently; zero scalars and points at infinity skipped, unit
//!    scalars summed without the MSM).
//!
//! The prover reads a [`ProvingKeyRef`]: borrowed from an
//! `ark_groth16::ProvingKey`, or viewed in place in a packed key's bytes
//! (a memory-mapped file, no parsing). Proofs are arkworks'
//! (`ark_groth16::Proof`); with the same `r, s` a proof here equals
//! `ark_groth16::Groth16::create_proof_with_reduction`'s, point for point,
//! and it verifies with `ark_groth16::Groth16::verify`.

mod packed_key;
mod prove;
mod r1cs;
mod witness;

pub use packed_key::{read_packed, PackedKeyError, ProvingKeyRef, PACKED_MAGIC};
pub use prove::{CircuitProver, ProveTimings};
pub use r1cs::{R1cs, SetupMatrices, MAX_R1CS_LEN};
pub use witness::{synthesize_witness, Assignment};

use ark_relations::gr1cs::SynthesisError;

use crate::fft::FftError;
use crate::msm::MsmError;

/// Why a circuit could not be prepared or proven.
#[derive(Debug, thiserror::Error)]
pub enum Groth16Error {
    /// The circuit failed to synthesize.
    #[error("synthesis failed: {0}")]
    Synthesis(#[from] SynthesisError),
    /// The constraint system is not a plain R1CS (other predicates, wrong
    /// matrix shapes, columns outside the variables).
    #[error("not an R1CS: {0}")]
    NotR1cs(String),
    /// More rows, variables or entries than 32-bit indices address, or a
    /// domain larger than the FFT supports.
    #[error("the circuit is too large for this prover")]
    TooLarge,
    /// An assignment of the wrong length.
    #[error("the assignment has {found} variables, the circuit {expected}")]
    AssignmentLength {
        /// The circuit's variables.
        expected: usize,
        /// The assignment's.
        found: usize,
    },
    /// An assignment with another number of instance variables.
    #[error("the assignment has {found} instance variables, the circuit {expected}")]
    InstanceCount {
        /// The circuit's instance variables (the constant one included).
        expected: usize,
        /// The assignment's.
        found: usize,
    },
    /// A QAP quotient of the wrong length.
    #[error("the quotient has {found} coefficients, the domain {expected}")]
    QuotientLength {
        /// The domain size.
        expected: usize,
        /// The quotient's.
        found: usize,
    },
    /// The assignment's first variable is not the constant one.
    #[error("the assignment's first variable is not one")]
    ConstantNotOne,
    /// The assignment does not satisfy the constraint of this row.
    #[error("the assignment does not satisfy constraint {0}")]
    Unsatisfied(usize),
    /// The proving key was made for another circuit shape.
    #[error("the proving key's {query} has {found} elements, the circuit needs {expected}")]
    KeyMismatch {
        /// Which part of the key.
        query: &'static str,
        /// Its length.
        found: usize,
        /// The length the circuit needs.
        expected: usize,
    },
    /// The FFT domain could not be built or used.
    #[error(transparent)]
    Fft(#[from] FftError),
    /// An MSM was refused.
    #[error(transparent)]
    Msm(#[from] MsmError),
}
