//! The plain Poseidon permutation, round by round as the paper and
//! circomlib's `poseidon_reference.js` state it.
//!
//! Every round adds `t` round constants, applies the S-box `x^5` to the whole
//! state (full rounds) or to its first element (partial rounds), and
//! multiplies the state by the dense `t x t` MDS matrix. This is the
//! definition that the R1CS gadget follows and that the optimised native
//! permutation of [`super::hash`] is tested against; it costs `t^2`
//! multiplications in every round.

use super::{params, Params, PoseidonError, MAX_INPUTS};
use crate::field::Fr;
use ark_ff::{AdditiveGroup, Field};

#[inline(always)]
fn pow5(x: Fr) -> Fr {
    let x2 = x.square();
    x2.square() * x
}

/// Applies the Poseidon permutation to `state[..p.t]` in place.
fn permute(p: &Params, state: &mut [Fr; MAX_INPUTS + 1]) {
    let t = p.t;
    let mut next = [Fr::ZERO; MAX_INPUTS + 1];
    for r in 0..p.rounds() {
        let rc = &p.c[r * t..(r + 1) * t];
        for (s, c) in state[..t].iter_mut().zip(rc) {
            *s += c;
        }
        if p.is_full_round(r) {
            for s in state[..t].iter_mut() {
                *s = pow5(*s);
            }
        } else {
            state[0] = pow5(state[0]);
        }
        for (i, out) in next[..t].iter_mut().enumerate() {
            let row = &p.m[i * t..(i + 1) * t];
            let mut acc = Fr::ZERO;
            for (m, s) in row.iter().zip(&state[..t]) {
                acc += *m * s;
            }
            *out = acc;
        }
        state[..t].copy_from_slice(&next[..t]);
    }
}

/// circomlib's `Poseidon(n)` of `inputs` (1 to 16 elements), computed with
/// the plain permutation.
pub fn hash(inputs: &[Fr]) -> Result<Fr, PoseidonError> {
    let p = params(inputs.len()).ok_or(PoseidonError::Arity(inputs.len()))?;
    let mut state = [Fr::ZERO; MAX_INPUTS + 1];
    state[1..p.t].copy_from_slice(inputs);
    permute(&p, &mut state);
    Ok(state[0])
}

/// circomlib's `Poseidon(N)` for an arity fixed at compile time, computed
/// with the plain permutation. Fails to compile for `N` outside `1..=16`.
pub fn hash_n<const N: usize>(inputs: &[Fr; N]) -> Fr {
    const { assert!(N >= 1 && N <= MAX_INPUTS, "Poseidon takes 1 to 16 inputs") };
    let p = match params(N) {
        Some(p) => p,
        // Unreachable: the const assertion above bounds N.
        None => return Fr::ZERO,
    };
    let mut state = [Fr::ZERO; MAX_INPUTS + 1];
    state[1..=N].copy_from_slice(inputs);
    permute(&p, &mut state);
    state[0]
}

/// `Poseidon(a, b)` computed with the plain permutation.
pub fn hash2(a: Fr, b: Fr) -> Fr {
    hash_n(&[a, b])
}
