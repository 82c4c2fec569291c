//! EdDSA-Poseidon verification on Baby Jubjub as a halo2-base chip that
//! returns a bit.
//!
//! The scheme is circomlibjs's `signPoseidon` / `verifyPoseidon` (an EdDSA,
//! Bernstein, Duif, Lange, Schwabe, Yang, "High-speed high-security
//! signatures", CHES 2011, over Baby Jubjub, EIP-2494), verified exactly as
//! `depin_crypto::eddsa::PublicKey::verify` and the R1CS gadget
//! (`depin_gadgets::eddsa::verify`) verify it.
//!
//! # What is proven
//!
//! [`EddsaChip::verify`] returns a bit that is one if and only if native
//! verification accepts `(A, msg, (R8, S))`:
//!
//! 1. `S < l` (`l` the subgroup order), from the canonical 254-bit
//!    expansion of `S` compared with `l`;
//! 2. `A` and 3. `R8` on the curve;
//! 4. `8 A != O` and 5. `8 R8 != O`;
//! 6. the cofactored equation `8 (S Base8 - R8 - c 8A) = O` with
//!    `c = Poseidon(R8.x, R8.y, A.x, A.y, msg)` in its canonical 254 bits,
//!    checked as `x(4 D) = 0` for `D = S Base8 - (R8 + c 8A)`.
//!
//! It never makes the circuit unsatisfiable, whatever the cells hold: an
//! off-curve `A` or `R8` is replaced by the constant `Base8` before any
//! arithmetic (the bit is zero anyway), so every addition is complete and
//! every witness exists, and so a statement can use the bit to exclude a
//! bad record. `S Base8` uses the low 251 bits of `S` (`l < 2^251`; the
//! high bits are zero whenever check 1 holds).
//!
//! A native `S` at or above `p` has no faithful field encoding;
//! [`scalar_to_field`] maps it to `p - 1` (at least `l`, so refused), as
//! the R1CS gadget does.

use ark_ff::{BigInt, Field as _, PrimeField};
use depin_crypto::babyjubjub::{Point, SUBORDER};
use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::field::Fr as NativeFr;
use halo2_base::gates::GateInstructions;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field as _;
use halo2_base::{AssignedValue, Context};

use crate::babyjubjub::{AssignedPoint, BabyJubjubChip, CurveChipError, FixedBase};
use crate::field::to_halo2;
use crate::poseidon::{PoseidonChip, PoseidonChipError};
use crate::range::RangeGates;

/// `l < 2^251`: the bits of `S` that `S Base8` uses.
const SUBORDER_BITS: usize = 251;

/// The field element that stands for a native `S`: `S` when `S < p`,
/// otherwise `p - 1`, which is at least `l` and so refused as natively.
pub fn scalar_to_field(s: &BigInt<4>) -> Fr {
    to_halo2(&NativeFr::from_bigint(*s).unwrap_or(-NativeFr::ONE))
}

/// A signature `(R8, S)` as cells, `S` through [`scalar_to_field`].
#[derive(Clone, Copy, Debug)]
pub struct AssignedSignature {
    /// The nonce commitment `R8`.
    pub r8: AssignedPoint,
    /// The response `S`.
    pub s: AssignedValue<Fr>,
}

/// EdDSA-Poseidon verification over a halo2-base gate.
#[derive(Clone, Debug)]
pub struct EddsaChip<'g, G: GateInstructions<Fr>> {
    gate: &'g G,
    curve: BabyJubjubChip<'g, G>,
    range: RangeGates<'g, G>,
    challenge: PoseidonChip,
    id: PoseidonChip,
    /// `2^i Base8` for the low bits of `S`.
    base8: FixedBase,
}

/// Why the chip cannot be built or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EddsaChipError {
    /// A Poseidon of the wrong arity.
    #[error(transparent)]
    Poseidon(#[from] PoseidonChipError),
    /// A curve operation refused its constants.
    #[error(transparent)]
    Curve(#[from] CurveChipError),
}

impl<'g, G: GateInstructions<Fr>> EddsaChip<'g, G> {
    /// The chip over `gate`.
    pub fn new(gate: &'g G) -> Result<Self, EddsaChipError> {
        Ok(EddsaChip {
            gate,
            curve: BabyJubjubChip::new(gate),
            range: RangeGates::new(gate),
            challenge: PoseidonChip::new(5)?,
            id: PoseidonChip::new(2)?,
            base8: FixedBase::new(&Point::BASE8, SUBORDER_BITS).map_err(CurveChipError::from)?,
        })
    }

    /// Loads a public key as two witness cells (unchecked).
    pub fn load_public_key(&self, ctx: &mut Context<Fr>, pk: &PublicKey) -> AssignedPoint {
        self.curve.load_witness(ctx, &pk.0)
    }

    /// Loads a signature as witness cells (unchecked).
    pub fn load_signature(&self, ctx: &mut Context<Fr>, sig: &Signature) -> AssignedSignature {
        AssignedSignature {
            r8: self.curve.load_witness(ctx, &sig.r8),
            s: ctx.load_witness(scalar_to_field(&sig.s)),
        }
    }

    /// `Poseidon(A.x, A.y)`, the identifier of `PublicKey::id`.
    pub fn key_id(
        &self,
        ctx: &mut Context<Fr>,
        pk: &AssignedPoint,
    ) -> Result<AssignedValue<Fr>, EddsaChipError> {
        Ok(self.id.hash(ctx, self.gate, &[pk.x, pk.y])?)
    }

    /// The bit "native `PublicKey::verify(msg, sig)` accepts"; never makes
    /// the circuit unsatisfiable (see the module docs).
    pub fn verify(
        &self,
        ctx: &mut Context<Fr>,
        pk: &AssignedPoint,
        msg: AssignedValue<Fr>,
        sig: &AssignedSignature,
    ) -> Result<AssignedValue<Fr>, EddsaChipError> {
        let (g, curve) = (self.gate, &self.curve);
        let base8 = Point::BASE8;

        // Checks 2 and 3, and safe stand-ins for the arithmetic.
        let a_on = curve.is_on_curve(ctx, pk);
        let r_on = curve.is_on_curve(ctx, &sig.r8);
        let a = curve.select_or_constant(ctx, a_on, pk, &base8);
        let r8 = curve.select_or_constant(ctx, r_on, &sig.r8, &base8);

        // Checks 4 and 5: 8P = O iff x(4P) = 0.
        let a2 = curve.double(ctx, &a);
        let a4 = curve.double(ctx, &a2);
        let a_small = g.is_zero(ctx, a4.x);
        let a8 = curve.double(ctx, &a4);
        let r_small = curve.is_small_order(ctx, &r8);

        // Check 1, and S Base8 from the low bits.
        let s_bits = self.range.canonical_bits(ctx, sig.s);
        let s_ok = self.range.is_less_than_const(ctx, &s_bits, &SUBORDER);
        let sb = curve.fixed_base_mul(ctx, &self.base8, &s_bits[..SUBORDER_BITS])?;

        // Check 6, over the coordinates as given.
        let c = self
            .challenge
            .hash(ctx, g, &[sig.r8.x, sig.r8.y, pk.x, pk.y, msg])?;
        let c_bits = self.range.canonical_bits(ctx, c);
        let ca = curve.scalar_mul(ctx, &a8, &c_bits);
        let rhs = curve.add(ctx, &r8, &ca);
        let d = curve.sub(ctx, &sb, &rhs);
        let d2 = curve.double(ctx, &d);
        let d4 = curve.double(ctx, &d2);
        let eq = g.is_zero(ctx, d4.x);

        let a_big = g.not(ctx, a_small);
        let r_big = g.not(ctx, r_small);
        let mut ok = g.and(ctx, a_on, r_on);
        for bit in [a_big, r_big, s_ok, eq] {
            ok = g.and(ctx, ok, bit);
        }
        Ok(ok)
    }

    /// [`EddsaChip::verify`] with the bit constrained to one.
    pub fn enforce_verify(
        &self,
        ctx: &mut Context<Fr>,
        pk: &AssignedPoint,
        msg: AssignedValue<Fr>,
        sig: &AssignedSignature,
    ) -> Result<(), EddsaChipError> {
        let ok = self.verify(ctx, pk, msg, sig)?;
        self.gate.assert_is_const(ctx, &ok, &Fr::ONE);
        Ok(())
    }
}
