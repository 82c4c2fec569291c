//! Poseidon over BN254 exactly as circomlib defines it.
//!
//! Poseidon is the sponge-free permutation-based hash of Grassi, Khovratovich,
//! Rechberger, Roy and Schofnegger, "Poseidon: A New Hash Function for
//! Zero-Knowledge Proof Systems" (USENIX Security 2021, ePrint 2019/458).
//! circomlib instantiates it with the S-box `x^5`, 8 full rounds, the partial
//! round counts of the paper's table rounded up to a multiple of `t`, and
//! round constants and MDS matrices produced by the paper's Grain LFSR
//! script. For `n` inputs the state has width `t = n + 1`; the initial state
//! is `[0, in_1, ..., in_n]` and the hash is the first state element after
//! the permutation.
//!
//! The round constants in [`constants`] are generated from circomlibjs's own
//! parameter file, so this is the same function that circom circuits, device
//! firmware and JS wallets compute: `hash(&[1, 2])` is
//! `7853200120776062878684798364095072458815029376092732009249414926327459813530`.
//!
//! [`hash`], [`hash_n`] and [`hash2`] run circomlib's optimised permutation
//! (`poseidon_opt.js`: the partial rounds use sparse matrices, after the
//! Poseidon paper's Appendix B), with constants generated from circomlibjs's
//! `poseidon_constants_opt.json`. [`reference`] is the plain round-by-round
//! permutation; it is the definition that the R1CS gadget follows and that
//! the optimised one is tested against on every arity.

#[rustfmt::skip]
#[allow(missing_docs, clippy::unreadable_literal)]
pub mod constants;
mod opt;
pub mod reference;

use crate::field::{fe, Fr};
use ark_ff::AdditiveGroup;

/// Maximum number of inputs circomlib's Poseidon accepts.
pub const MAX_INPUTS: usize = 16;

/// Why a Poseidon hash could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PoseidonError {
    /// circomlib's Poseidon takes between 1 and 16 inputs.
    #[error("Poseidon takes 1 to {MAX_INPUTS} inputs, got {0}")]
    Arity(usize),
}

/// The parameters of one state width: round counts, round constants
/// (`t * (full + partial)` of them, round-major) and the row-major MDS matrix.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// State width, `inputs + 1`.
    pub t: usize,
    /// Number of full rounds (always 8).
    pub rounds_f: usize,
    /// Number of partial rounds.
    pub rounds_p: usize,
    /// Round constants, `c[r * t + i]` is added to state element `i` in round `r`.
    pub c: &'static [Fr],
    /// MDS matrix, `m[i * t + j]` multiplies state element `j` into element `i`.
    pub m: &'static [Fr],
}

impl Params {
    /// Total number of rounds.
    pub const fn rounds(&self) -> usize {
        self.rounds_f + self.rounds_p
    }

    /// Whether round `r` applies the S-box to the whole state.
    pub const fn is_full_round(&self, r: usize) -> bool {
        r < self.rounds_f / 2 || r >= self.rounds_f / 2 + self.rounds_p
    }
}

macro_rules! params_table {
    ($n:expr; $($inputs:literal => $c:ident, $m:ident;)*) => {
        /// The circomlib parameters for `n` inputs, or `None` outside `1..=16`.
        pub fn params(n: usize) -> Option<Params> {
            match n {
                $($inputs => Some(Params {
                    t: $inputs + 1,
                    rounds_f: constants::N_ROUNDS_F,
                    rounds_p: constants::N_ROUNDS_P[$inputs - 1],
                    c: &constants::$c,
                    m: &constants::$m,
                }),)*
                _ => None,
            }
        }
    };
}

params_table! { n;
    1 => C2, M2; 2 => C3, M3; 3 => C4, M4; 4 => C5, M5;
    5 => C6, M6; 6 => C7, M7; 7 => C8, M8; 8 => C9, M9;
    9 => C10, M10; 10 => C11, M11; 11 => C12, M12; 12 => C13, M13;
    13 => C14, M14; 14 => C15, M15; 15 => C16, M16; 16 => C17, M17;
}

/// The tables of circomlib's optimised permutation for one state width
/// (see the `opt` module's docs): the same permutation as [`Params`]
/// describes, with the partial rounds' constants folded so that each adds
/// one constant, and their dense matrix factored into `p` and one sparse
/// matrix per round.
#[derive(Clone, Copy, Debug)]
pub struct OptParams {
    /// State width, `inputs + 1`.
    pub t: usize,
    /// Number of full rounds (always 8).
    pub rounds_f: usize,
    /// Number of partial rounds.
    pub rounds_p: usize,
    /// `t` initial constants, `t` after each of the first full rounds'
    /// S-boxes but the last, `t` after the last first-half S-box, one per
    /// partial round, then `t` after each second-half S-box but the final
    /// one.
    pub c: &'static [Fr],
    /// `2t - 1` per partial round: the row `w` (`t` entries) that gives the
    /// new first element, then the column `v` (`t - 1` entries) that adds
    /// `state[0] * v[k - 1]` to element `k`.
    pub s: &'static [Fr],
    /// The dense matrix applied once before the partial rounds, row-major.
    pub p: &'static [Fr],
    /// The MDS matrix of the full rounds, row-major.
    pub m: &'static [Fr],
}

macro_rules! opt_params_table {
    ($($inputs:literal => $c:ident, $s:ident, $p:ident, $m:ident;)*) => {
        /// The optimised tables for `n` inputs, or `None` outside `1..=16`.
        #[inline(always)]
        pub fn opt_params(n: usize) -> Option<OptParams> {
            match n {
                $($inputs => Some(OptParams {
                    t: $inputs + 1,
                    rounds_f: constants::N_ROUNDS_F,
                    rounds_p: constants::N_ROUNDS_P[$inputs - 1],
                    c: &constants::$c,
                    s: &constants::$s,
                    p: &constants::$p,
                    m: &constants::$m,
                }),)*
                _ => None,
            }
        }
    };
}

opt_params_table! {
    1 => OPT_C2, OPT_S2, OPT_P2, M2; 2 => OPT_C3, OPT_S3, OPT_P3, M3;
    3 => OPT_C4, OPT_S4, OPT_P4, M4; 4 => OPT_C5, OPT_S5, OPT_P5, M5;
    5 => OPT_C6, OPT_S6, OPT_P6, M6; 6 => OPT_C7, OPT_S7, OPT_P7, M7;
    7 => OPT_C8, OPT_S8, OPT_P8, M8; 8 => OPT_C9, OPT_S9, OPT_P9, M9;
    9 => OPT_C10, OPT_S10, OPT_P10, M10; 10 => OPT_C11, OPT_S11, OPT_P11, M11;
    11 => OPT_C12, OPT_S12, OPT_P12, M12; 12 => OPT_C13, OPT_S13, OPT_P13, M13;
    13 => OPT_C14, OPT_S14, OPT_P14, M14; 14 => OPT_C15, OPT_S15, OPT_P15, M15;
    15 => OPT_C16, OPT_S16, OPT_P16, M16; 16 => OPT_C17, OPT_S17, OPT_P17, M17;
}

/// circomlib's `Poseidon(n)` of `inputs` (1 to 16 elements).
pub fn hash(inputs: &[Fr]) -> Result<Fr, PoseidonError> {
    macro_rules! by_arity {
        ($($n:literal)*) => {
            match inputs.len() {
                $($n => match <&[Fr; $n]>::try_from(inputs) {
                    Ok(xs) => Ok(hash_n(xs)),
                    Err(_) => Err(PoseidonError::Arity(inputs.len())),
                },)*
                n => Err(PoseidonError::Arity(n)),
            }
        };
    }
    by_arity!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
}

/// circomlib's `Poseidon(N)` for an arity fixed at compile time.
///
/// Only the constants of arity `N` are referenced, so firmware that hashes
/// with a few fixed arities links only their tables. Fails to compile for
/// `N` outside `1..=16`.
pub fn hash_n<const N: usize>(inputs: &[Fr; N]) -> Fr {
    const { assert!(N >= 1 && N <= MAX_INPUTS, "Poseidon takes 1 to 16 inputs") };
    match N {
        1 => opt::hash::<N, 2>(inputs),
        2 => opt::hash::<N, 3>(inputs),
        3 => opt::hash::<N, 4>(inputs),
        4 => opt::hash::<N, 5>(inputs),
        5 => opt::hash::<N, 6>(inputs),
        6 => opt::hash::<N, 7>(inputs),
        7 => opt::hash::<N, 8>(inputs),
        8 => opt::hash::<N, 9>(inputs),
        9 => opt::hash::<N, 10>(inputs),
        10 => opt::hash::<N, 11>(inputs),
        11 => opt::hash::<N, 12>(inputs),
        12 => opt::hash::<N, 13>(inputs),
        13 => opt::hash::<N, 14>(inputs),
        14 => opt::hash::<N, 15>(inputs),
        15 => opt::hash::<N, 16>(inputs),
        16 => opt::hash::<N, 17>(inputs),
        // Unreachable: the const assertion above bounds N.
        _ => Fr::ZERO,
    }
}

/// `Poseidon(a, b)`, the two-to-one compression used by hash chains and
/// Merkle trees.
pub fn hash2(a: Fr, b: Fr) -> Fr {
    hash_n(&[a, b])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::fr_from_decimal;
    use ark_ff::Field;

    #[test]
    fn circomlib_known_answer() {
        let h = hash(&[Fr::from(1u64), Fr::from(2u64)]).unwrap();
        assert_eq!(
            h,
            fr_from_decimal(
                "7853200120776062878684798364095072458815029376092732009249414926327459813530"
            )
            .unwrap()
        );
        assert_eq!(hash2(Fr::from(1u64), Fr::from(2u64)), h);
    }

    #[test]
    fn arity_bounds_are_typed_errors() {
        assert_eq!(hash(&[]), Err(PoseidonError::Arity(0)));
        assert_eq!(hash(&[Fr::ZERO; 17]), Err(PoseidonError::Arity(17)));
        assert!(hash(&[Fr::ZERO; 16]).is_ok());
    }

    #[test]
    fn fixed_arity_matches_dynamic() {
        let xs: [Fr; 5] = core::array::from_fn(|i| Fr::from(i as u64 + 7));
        assert_eq!(hash_n(&xs), hash(&xs).unwrap());
    }

    #[test]
    fn optimised_matches_reference_on_every_arity() {
        for n in 1..=MAX_INPUTS {
            let xs: [Fr; MAX_INPUTS] = core::array::from_fn(|i| Fr::from((i * n) as u64) - Fr::ONE);
            assert_eq!(hash(&xs[..n]), reference::hash(&xs[..n]), "arity {n}");
        }
    }

    #[test]
    fn table_shapes() {
        for n in 1..=MAX_INPUTS {
            let p = params(n).unwrap();
            assert_eq!(p.t, n + 1);
            assert_eq!(p.c.len(), p.t * p.rounds());
            assert_eq!(p.m.len(), p.t * p.t);
        }
        assert!(params(0).is_none() && params(17).is_none());
    }
}
