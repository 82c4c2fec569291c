//! circomlib's optimised Poseidon permutation (`poseidon_opt.js`).
//!
//! It computes the same permutation as [`super::reference`], reorganised as
//! in Appendix B of the Poseidon paper (Grassi et al., USENIX Security 2021,
//! ePrint 2019/458) and in Filecoin's neptune, whose constants circomlibjs
//! ships as `poseidon_constants_opt.json`:
//!
//! - Round constants after the first round are pushed through the linear
//!   layer, so every partial round adds a single constant, to the one
//!   element its S-box touches.
//! - The dense MDS matrix of the partial rounds is factored into one dense
//!   matrix `P`, applied once before them, and one sparse matrix per partial
//!   round. A sparse matrix changes the first element by a dot product with a
//!   row `w` and every other element `k` by `state[0] * v[k]`, so a partial
//!   round costs `2t - 1` multiplications instead of `t^2`.
//!
//! On top of that, the state width is a compile-time constant, so loops over
//! the state have fixed trip counts; every dot product with a matrix row
//! interleaves its Montgomery reductions, one per three products
//! ([`Field::sum_of_products`], which BN254's two spare modulus bits allow);
//! the S-box `x^5` costs three multiplications; and the final linear layer
//! computes only the first state element, the hash output.

use super::constants as k;
use super::{opt_params, OptParams};
use crate::field::Fr;
use ark_ff::{AdditiveGroup, Field};

/// The optimised tables of width `T` (`super::opt_params`, the one map from
/// a width to its constants); a constant after inlining, so a caller of one
/// width links only that width's tables.
#[inline(always)]
fn tables<const T: usize>() -> OptParams {
    opt_params(T - 1).unwrap_or(OptParams {
        t: T,
        rounds_f: 0,
        rounds_p: 0,
        c: &[],
        s: &[],
        p: &[],
        m: &[],
    })
}

/// The `T` table entries starting at `at`.
#[inline(always)]
fn chunk<const T: usize>(table: &[Fr], at: usize) -> &[Fr; T] {
    table[at..]
        .first_chunk::<T>()
        .expect("Poseidon table shorter than its width")
}

#[inline(always)]
fn pow5(x: Fr) -> Fr {
    // Three multiplications; plain products measure slightly faster than
    // arkworks' dedicated squaring for this field.
    let x2 = x * x;
    let x4 = x2 * x2;
    x4 * x
}

#[inline(always)]
fn full_sbox<const T: usize>(state: &mut [Fr; T]) {
    for x in state.iter_mut() {
        *x = pow5(*x);
    }
}

#[inline(always)]
fn add_constants<const T: usize>(state: &mut [Fr; T], c: &[Fr], at: usize) {
    for (x, c) in state.iter_mut().zip(chunk::<T>(c, at)) {
        *x += c;
    }
}

/// `out[i] = sum_j m[i * T + j] * state[j]`.
#[inline(always)]
fn mix<const T: usize>(m: &[Fr], state: &[Fr; T]) -> [Fr; T] {
    core::array::from_fn(|i| Fr::sum_of_products(chunk::<T>(m, i * T), state))
}

/// The Poseidon permutation of width `T` applied to `state`; returns the
/// first element of the result.
fn permute<const T: usize>(mut state: [Fr; T]) -> Fr {
    let OptParams {
        rounds_p,
        c,
        s,
        p,
        m,
        ..
    } = tables::<T>();
    let half = k::N_ROUNDS_F / 2;

    add_constants(&mut state, c, 0);
    for r in 0..half - 1 {
        full_sbox(&mut state);
        add_constants(&mut state, c, (r + 1) * T);
        state = mix(m, &state);
    }
    full_sbox(&mut state);
    add_constants(&mut state, c, half * T);
    state = mix(p, &state);

    let partial_c = &c[(half + 1) * T..];
    let width = 2 * T - 1;
    for r in 0..rounds_p {
        let (w, v) = s[r * width..(r + 1) * width].split_at(T);
        let s0 = pow5(state[0]) + partial_c[r];
        state[0] = s0;
        let first = Fr::sum_of_products(chunk::<T>(w, 0), &state);
        for (x, v) in state[1..].iter_mut().zip(v) {
            *x += s0 * v;
        }
        state[0] = first;
    }

    let tail = (half + 1) * T + rounds_p;
    for r in 0..half - 1 {
        full_sbox(&mut state);
        add_constants(&mut state, c, tail + r * T);
        state = mix(m, &state);
    }
    full_sbox(&mut state);
    Fr::sum_of_products(chunk::<T>(m, 0), &state)
}

/// Hashes `N` inputs with width `T = N + 1`.
#[inline(always)]
pub(super) fn hash<const N: usize, const T: usize>(inputs: &[Fr; N]) -> Fr {
    let mut state = [Fr::ZERO; T];
    state[1..].copy_from_slice(inputs);
    permute(state)
}
