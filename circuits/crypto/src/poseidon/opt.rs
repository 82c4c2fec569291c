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
use crate::field::Fr;
use ark_ff::{AdditiveGroup, Field};

/// The optimised constants of one state width.
struct Tables {
    rounds_p: usize,
    /// `t` initial constants, `t` after each of the first four full rounds'
    /// S-boxes, one per partial round, `t` after each of the last full rounds
    /// but the final one.
    c: &'static [Fr],
    /// `2t - 1` per partial round: the row `w`, then the column `v`.
    s: &'static [Fr],
    /// Dense matrix before the partial rounds, row-major.
    p: &'static [Fr],
    /// The MDS matrix of the full rounds, row-major.
    m: &'static [Fr],
}

macro_rules! tables {
    ($($t:literal => $c:ident, $s:ident, $p:ident, $m:ident;)*) => {
        /// The tables of width `T`; a constant after inlining, so a caller
        /// of one width links only that width's tables.
        #[inline(always)]
        fn tables<const T: usize>() -> Tables {
            match T {
                $($t => Tables {
                    rounds_p: k::N_ROUNDS_P[$t - 2],
                    c: &k::$c,
                    s: &k::$s,
                    p: &k::$p,
                    m: &k::$m,
                },)*
                _ => Tables { rounds_p: 0, c: &[], s: &[], p: &[], m: &[] },
            }
        }
    };
}

tables! {
    2 => OPT_C2, OPT_S2, OPT_P2, M2;
    3 => OPT_C3, OPT_S3, OPT_P3, M3;
    4 => OPT_C4, OPT_S4, OPT_P4, M4;
    5 => OPT_C5, OPT_S5, OPT_P5, M5;
    6 => OPT_C6, OPT_S6, OPT_P6, M6;
    7 => OPT_C7, OPT_S7, OPT_P7, M7;
    8 => OPT_C8, OPT_S8, OPT_P8, M8;
    9 => OPT_C9, OPT_S9, OPT_P9, M9;
    10 => OPT_C10, OPT_S10, OPT_P10, M10;
    11 => OPT_C11, OPT_S11, OPT_P11, M11;
    12 => OPT_C12, OPT_S12, OPT_P12, M12;
    13 => OPT_C13, OPT_S13, OPT_P13, M13;
    14 => OPT_C14, OPT_S14, OPT_P14, M14;
    15 => OPT_C15, OPT_S15, OPT_P15, M15;
    16 => OPT_C16, OPT_S16, OPT_P16, M16;
    17 => OPT_C17, OPT_S17, OPT_P17, M17;
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
    let Tables {
        rounds_p,
        c,
        s,
        p,
        m,
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
