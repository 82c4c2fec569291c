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
//! cells, every round constrained (the constants and matrices are fixed
//! constants of the circuit, not witnesses). The chip follows circomlib's
//! optimised permutation (`depin_crypto::poseidon::opt_params`, Appendix B
//! of the paper): the same function as the plain one, with the partial
//! rounds' constants folded into one per round and their dense matrix
//! factored into one dense matrix and a sparse one per round. A full round
//! costs `t` S-boxes (three multiplications, the next constant added in the
//! last) and `t` inner products of length `t`; a partial round one S-box,
//! one inner product of length `t` and `t - 1` multiply-adds.

use depin_crypto::poseidon::{opt_params, OptParams};
use halo2_base::gates::GateInstructions;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::{
    AssignedValue, Context,
    QuantumCell::{Constant, Existing},
};

use crate::field::to_halo2;

/// Why a Poseidon chip cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoseidonChipError {
    /// circomlib's Poseidon takes 1 to 16 inputs.
    #[error("circomlib's Poseidon takes 1 to 16 inputs, not {0}")]
    Arity(usize),
}

/// `Poseidon(n)` for one arity `n`, with circomlib's optimised tables in
/// halo2's field.
#[derive(Debug, Clone)]
pub struct PoseidonChip {
    t: usize,
    rounds_f: usize,
    rounds_p: usize,
    c: Vec<Fr>,
    s: Vec<Fr>,
    p: Vec<Fr>,
    m: Vec<Fr>,
}

impl PoseidonChip {
    /// The chip for `n` inputs (`1..=16`).
    pub fn new(n: usize) -> Result<Self, PoseidonChipError> {
        let OptParams {
            t,
            rounds_f,
            rounds_p,
            c,
            s,
            p,
            m,
        } = opt_params(n).ok_or(PoseidonChipError::Arity(n))?;
        let conv = |xs: &[depin_crypto::field::Fr]| xs.iter().map(to_halo2).collect();
        Ok(PoseidonChip {
            t,
            rounds_f,
            rounds_p,
            c: conv(c),
            s: conv(s),
            p: conv(p),
            m: conv(m),
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
        let t = self.t;
        let half = self.rounds_f / 2;
        // The initial constants: the first is added to the zero capacity
        // element, so it is a constant cell.
        let mut state = Vec::with_capacity(t);
        state.push(ctx.load_constant(self.c[0]));
        for (x, c) in inputs.iter().zip(&self.c[1..t]) {
            state.push(gate.add(ctx, *x, Constant(*c)));
        }

        // First half of the full rounds: S-box and the next constants in one
        // gate per element, then the MDS matrix (the dense `P` last).
        for r in 0..half {
            let next = &self.c[(r + 1) * t..(r + 2) * t];
            let sboxed = self.full_sbox(ctx, gate, &state, next);
            let matrix = if r + 1 == half { &self.p } else { &self.m };
            state = mix(ctx, gate, matrix, t, &sboxed);
        }

        // Partial rounds with the sparse matrices.
        let partial_c = &self.c[(half + 1) * t..];
        let width = 2 * t - 1;
        for (sparse, c) in self
            .s
            .chunks_exact(width)
            .zip(partial_c)
            .take(self.rounds_p)
        {
            let (w, v) = sparse.split_at(t);
            let s0 = pow5_plus(ctx, gate, state[0], *c);
            state[0] = s0;
            let first = dot(ctx, gate, &state, w);
            for (x, v) in state[1..].iter_mut().zip(v) {
                *x = gate.mul_add(ctx, s0, Constant(*v), *x);
            }
            state[0] = first;
        }

        // Second half; the last round computes only the first element.
        let tail = (half + 1) * t + self.rounds_p;
        for r in 0..half - 1 {
            let next = &self.c[tail + r * t..tail + (r + 1) * t];
            let sboxed = self.full_sbox(ctx, gate, &state, next);
            state = mix(ctx, gate, &self.m, t, &sboxed);
        }
        let sboxed: Vec<_> = state.iter().map(|x| pow5(ctx, gate, *x)).collect();
        Ok(dot(ctx, gate, &sboxed, &self.m[..t]))
    }

    /// `x^5 + c` for every element and its constant.
    fn full_sbox(
        &self,
        ctx: &mut Context<Fr>,
        gate: &impl GateInstructions<Fr>,
        state: &[AssignedValue<Fr>],
        constants: &[Fr],
    ) -> Vec<AssignedValue<Fr>> {
        state
            .iter()
            .zip(constants)
            .map(|(x, c)| pow5_plus(ctx, gate, *x, *c))
            .collect()
    }
}

/// `matrix * state` for a row-major `t x t` matrix of constants.
fn mix(
    ctx: &mut Context<Fr>,
    gate: &impl GateInstructions<Fr>,
    matrix: &[Fr],
    t: usize,
    state: &[AssignedValue<Fr>],
) -> Vec<AssignedValue<Fr>> {
    matrix
        .chunks_exact(t)
        .map(|row| dot(ctx, gate, state, row))
        .collect()
}

/// `sum row[j] * state[j]` for a row of constants.
fn dot(
    ctx: &mut Context<Fr>,
    gate: &impl GateInstructions<Fr>,
    state: &[AssignedValue<Fr>],
    row: &[Fr],
) -> AssignedValue<Fr> {
    gate.inner_product(
        ctx,
        state.iter().map(|x| Existing(*x)),
        row.iter().map(|m| Constant(*m)),
    )
}

/// `x^5`: three multiplications.
fn pow5(
    ctx: &mut Context<Fr>,
    gate: &impl GateInstructions<Fr>,
    x: AssignedValue<Fr>,
) -> AssignedValue<Fr> {
    let x2 = gate.mul(ctx, x, x);
    let x4 = gate.mul(ctx, x2, x2);
    gate.mul(ctx, x4, x)
}

/// `x^5 + c`: the addition folded into the last multiplication.
fn pow5_plus(
    ctx: &mut Context<Fr>,
    gate: &impl GateInstructions<Fr>,
    x: AssignedValue<Fr>,
    c: Fr,
) -> AssignedValue<Fr> {
    let x2 = gate.mul(ctx, x, x);
    let x4 = gate.mul(ctx, x2, x2);
    gate.mul_add(ctx, x4, x, Constant(c))
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
