//! circomlib's Poseidon hash as a halo2-base chip.
//!
//! Poseidon (Grassi, Khovratovich, Rechberger, Roy, Schofnegger, "Poseidon:
//! A New Hash Function for Zero-Knowledge Proof Systems", USENIX Security
//! 2021, <https://eprint.iacr.org/2019/458>) with circomlib's parameters:
//! width `t = n + 1` for `n` inputs, 8 full rounds, the partial rounds of
//! `depin_crypto::poseidon::constants::N_ROUNDS_P`, S-box `x^5`, and
//! circomlib's round constants and MDS matrices (the very tables the native
//! code uses). circomlib's framing: the state starts as `[0, inputs...]`,
//! and the hash is the first element after the permutation.
//!
//! What is proven: the returned cell equals `Poseidon(n)` of the input
//! cells, every round constrained (the round constants and the matrix are
//! fixed constants of the circuit, not witnesses). Each round costs `t`
//! additions of constants, 3 multiplications per S-box (`x^2`, `x^4`,
//! `x^5`) and `t` inner products of length `t`; the chip follows the plain
//! permutation of `depin_crypto::poseidon::reference` round by round.

use depin_crypto::poseidon::{params, Params};
use halo2_base::gates::GateInstructions;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::utils::ScalarField;
use halo2_base::{AssignedValue, Context, QuantumCell::Constant};

use crate::field::to_halo2;

/// Why a Poseidon chip cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoseidonChipError {
    /// circomlib's Poseidon takes 1 to 16 inputs.
    #[error("circomlib's Poseidon takes 1 to 16 inputs, not {0}")]
    Arity(usize),
}

/// `Poseidon(n)` for one arity `n`, with its constants in halo2's field.
#[derive(Debug, Clone)]
pub struct PoseidonChip {
    t: usize,
    rounds_f: usize,
    rounds_p: usize,
    /// Round constants, `t` a round.
    c: Vec<Fr>,
    /// The MDS matrix, row-major (`m[i * t + j]`).
    m: Vec<Fr>,
}

impl PoseidonChip {
    /// The chip for `n` inputs (`1..=16`).
    pub fn new(n: usize) -> Result<Self, PoseidonChipError> {
        let Params {
            t,
            rounds_f,
            rounds_p,
            c,
            m,
        } = params(n).ok_or(PoseidonChipError::Arity(n))?;
        Ok(PoseidonChip {
            t,
            rounds_f,
            rounds_p,
            c: c.iter().map(to_halo2).collect(),
            m: m.iter().map(to_halo2).collect(),
        })
    }

    /// The number of inputs it hashes.
    pub fn arity(&self) -> usize {
        self.t - 1
    }

    /// `Poseidon(n)` of `inputs` (exactly `n` cells).
    pub fn hash(
        &self,
        ctx: &mut Context<Fr>,
        gate: &impl GateInstructions<Fr>,
        inputs: &[AssignedValue<Fr>],
    ) -> Result<AssignedValue<Fr>, PoseidonChipError> {
        if inputs.len() != self.arity() {
            return Err(PoseidonChipError::Arity(inputs.len()));
        }
        let mut state = Vec::with_capacity(self.t);
        state.push(ctx.load_zero());
        state.extend_from_slice(inputs);
        let t = self.t;
        let half = self.rounds_f / 2;
        for r in 0..self.rounds_f + self.rounds_p {
            let full = r < half || r >= half + self.rounds_p;
            let rc = &self.c[r * t..(r + 1) * t];
            for (i, (s, c)) in state.iter_mut().zip(rc).enumerate() {
                let added = gate.add(ctx, *s, Constant(*c));
                *s = if full || i == 0 {
                    pow5(ctx, gate, added)
                } else {
                    added
                };
            }
            state = (0..t)
                .map(|i| {
                    let row = self.m[i * t..(i + 1) * t].iter().map(|m| Constant(*m));
                    gate.inner_product(ctx, state.iter().copied(), row)
                })
                .collect();
        }
        Ok(state[0])
    }
}

/// `x^5` in three multiplications.
fn pow5<F: ScalarField>(
    ctx: &mut Context<F>,
    gate: &impl GateInstructions<F>,
    x: AssignedValue<F>,
) -> AssignedValue<F> {
    let x2 = gate.mul(ctx, x, x);
    let x4 = gate.mul(ctx, x2, x2);
    gate.mul(ctx, x4, x)
}

/// circomlib's Poseidon for every arity `1..=16`, the chip picked by the
/// number of inputs.
#[derive(Debug, Clone)]
pub struct Poseidon {
    chips: Vec<PoseidonChip>,
}

impl Poseidon {
    /// The chips of every arity.
    pub fn new() -> Result<Self, PoseidonChipError> {
        let chips = (1..=16).map(PoseidonChip::new).collect::<Result<_, _>>()?;
        Ok(Poseidon { chips })
    }

    /// `Poseidon(n)` of `inputs`, `n = inputs.len()` in `1..=16`.
    pub fn hash(
        &self,
        ctx: &mut Context<Fr>,
        gate: &impl GateInstructions<Fr>,
        inputs: &[AssignedValue<Fr>],
    ) -> Result<AssignedValue<Fr>, PoseidonChipError> {
        let chip = inputs
            .len()
            .checked_sub(1)
            .and_then(|i| self.chips.get(i))
            .ok_or(PoseidonChipError::Arity(inputs.len()))?;
        chip.hash(ctx, gate, inputs)
    }
}
