//! Baby Jubjub points as halo2-base cells, in circomlib's coordinates.
//!
//! Baby Jubjub (Bellés-Muñoz, Whitehat, Baylina, Daza, Tapia-Muñoz,
//! "Twisted Edwards Elliptic Curves for Zero-Knowledge Circuits",
//! Mathematics 9(23), 2021, and EIP-2494) is the twisted Edwards curve
//! `a x^2 + y^2 = 1 + d x^2 y^2`, `a = 168700`, `d = 168696`, over the BN254
//! scalar field, exactly as `depin_crypto::babyjubjub` writes it. An
//! [`AssignedPoint`] holds the affine coordinates as two cells; every
//! operation of [`BabyJubjubChip`] computes the point that
//! `depin_crypto::babyjubjub::Point` arithmetic computes (the tests check
//! this on random, torsion and identity points).
//!
//! # What is proven
//!
//! The formulas are the affine twisted Edwards ones of Bernstein, Birkner,
//! Joye, Lange and Peters ("Twisted Edwards Curves", AFRICACRYPT 2008).
//! With `a` a square and `d` a non-square in the field they are *complete*
//! for points on the curve (their Theorem 3.3): the denominators
//! `1 ± d x1 x2 y1 y2` never vanish, so the identity, torsion points and
//! `P + P` need no special case.
//!
//! - [`BabyJubjubChip::add`]: `(x1 y2 + y1 x2) / (1 + d t)`,
//!   `(y1 y2 - a x1 x2) / (1 - d t)`, `t = x1 x2 y1 y2` (circomlib's
//!   `BabyAdd`); [`BabyJubjubChip::add_constant`] with one point fixed.
//! - [`BabyJubjubChip::double`]: `2 x y / (a x^2 + y^2)`,
//!   `(y^2 - a x^2) / (2 - a x^2 - y^2)`, the curve equation replacing
//!   `1 ± d x^2 y^2`.
//! - [`BabyJubjubChip::is_on_curve`]: the bit of the curve equation;
//!   [`BabyJubjubChip::is_small_order`]: `8 P = O` iff `x(4 P) = 0` (the only
//!   points with `x = 0` are `(0, ±1)`, of order at most 2).
//! - [`BabyJubjubChip::scalar_mul`]: `k P` from the little-endian bits of
//!   `k`, double-and-add from the top bit with a selected complete addition
//!   per bit; [`BabyJubjubChip::fixed_base_mul`]: `k B` for a constant `B`,
//!   one selected addition of the constant `2^i B` per bit.
//!
//! # Preconditions
//!
//! Loading does not check that a point is on the curve. A point from outside
//! is first tested with [`BabyJubjubChip::is_on_curve`] and replaced by a
//! constant point on the curve before any arithmetic (as [`crate::eddsa`]
//! does). Off the curve a denominator can vanish: the quotient's witness is
//! then zero and the circuit is unsatisfied, never a panic.

use depin_crypto::babyjubjub::{Point, PointError, A, D};
use halo2_base::gates::GateInstructions;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::{
    AssignedValue, Context,
    QuantumCell::{self, Constant, Existing, Witness},
};

use crate::field::to_halo2;

/// A Baby Jubjub point in circomlib's coordinates as two cells (not checked
/// to be on the curve, see the module docs).
#[derive(Clone, Copy, Debug)]
pub struct AssignedPoint {
    /// circomlib `x`.
    pub x: AssignedValue<Fr>,
    /// circomlib `y`.
    pub y: AssignedValue<Fr>,
}

impl AssignedPoint {
    /// The point's coordinates as native values.
    pub fn value(&self) -> Point {
        Point {
            x: crate::field::to_native(self.x.value()),
            y: crate::field::to_native(self.y.value()),
        }
    }
}

/// Why a curve operation cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CurveChipError {
    /// A constant point is not on the curve.
    #[error("constant point: {0}")]
    Point(#[from] PointError),
    /// More scalar bits than the fixed base's table holds.
    #[error("{bits} scalar bits for a fixed-base table of {table}")]
    FixedBaseWidth {
        /// Bits given.
        bits: usize,
        /// Multiples in the table.
        table: usize,
    },
}

/// The multiples `2^i B`, `i < bits`, of a constant point `B` on the curve,
/// for [`BabyJubjubChip::fixed_base_mul`].
#[derive(Clone, Debug)]
pub struct FixedBase {
    powers: Vec<Point>,
}

impl FixedBase {
    /// The table of `base` for scalars of up to `bits` bits; a base off the
    /// curve is refused.
    pub fn new(base: &Point, bits: usize) -> Result<Self, PointError> {
        let mut powers = Vec::with_capacity(bits);
        let mut p = Point::new(base.x, base.y)?;
        for _ in 0..bits {
            powers.push(p);
            p = p.add(&p)?;
        }
        Ok(FixedBase { powers })
    }
}

/// Baby Jubjub arithmetic on top of a halo2-base gate.
#[derive(Clone, Copy, Debug)]
pub struct BabyJubjubChip<'g, G: GateInstructions<Fr>> {
    gate: &'g G,
}

/// `num / den` in one gate: the witness `q` (zero when `den` is zero) with
/// `q * den = num` constrained, so a zero denominator leaves the circuit
/// unsatisfied unless `num` is zero too, and never panics.
fn div(ctx: &mut Context<Fr>, num: AssignedValue<Fr>, den: AssignedValue<Fr>) -> AssignedValue<Fr> {
    let inv = Option::<Fr>::from(den.value().invert()).unwrap_or(Fr::ZERO);
    let q = inv * num.value();
    ctx.assign_region(
        [Constant(Fr::ZERO), Witness(q), Existing(den), Existing(num)],
        [0],
    );
    ctx.get(-3)
}

impl<'g, G: GateInstructions<Fr>> BabyJubjubChip<'g, G> {
    /// The chip over `gate`.
    pub fn new(gate: &'g G) -> Self {
        BabyJubjubChip { gate }
    }

    /// Loads `p` as two witness cells (unchecked).
    pub fn load_witness(&self, ctx: &mut Context<Fr>, p: &Point) -> AssignedPoint {
        AssignedPoint {
            x: ctx.load_witness(to_halo2(&p.x)),
            y: ctx.load_witness(to_halo2(&p.y)),
        }
    }

    /// Loads `p` as two constant cells.
    pub fn load_constant(&self, ctx: &mut Context<Fr>, p: &Point) -> AssignedPoint {
        AssignedPoint {
            x: ctx.load_constant(to_halo2(&p.x)),
            y: ctx.load_constant(to_halo2(&p.y)),
        }
    }

    /// The bit `a x^2 + y^2 = 1 + d x^2 y^2`, for any cells.
    pub fn is_on_curve(&self, ctx: &mut Context<Fr>, p: &AssignedPoint) -> AssignedValue<Fr> {
        let g = self.gate;
        let xx = g.mul(ctx, p.x, p.x);
        let yy = g.mul(ctx, p.y, p.y);
        let lhs = g.mul_add(ctx, xx, Constant(to_halo2(&A)), yy);
        let xxyy = g.mul(ctx, xx, yy);
        let rhs = g.mul_add(ctx, xxyy, Constant(to_halo2(&D)), Constant(Fr::ONE));
        g.is_equal(ctx, lhs, rhs)
    }

    /// `P + Q` by the complete formula, `Q`'s coordinates given as any
    /// cells (witnesses or constants). Both points must be on the curve.
    fn add_cells(
        &self,
        ctx: &mut Context<Fr>,
        p: &AssignedPoint,
        qx: QuantumCell<Fr>,
        qy: QuantumCell<Fr>,
    ) -> AssignedPoint {
        let g = self.gate;
        let x1x2 = g.mul(ctx, p.x, qx);
        let y1y2 = g.mul(ctx, p.y, qy);
        let x1y2 = g.mul(ctx, p.x, qy);
        let num_x = g.mul_add(ctx, p.y, qx, x1y2);
        let num_y = g.mul_add(ctx, x1x2, Constant(-to_halo2(&A)), y1y2);
        let t = g.mul(ctx, x1x2, y1y2);
        let d = to_halo2(&D);
        let den_x = g.mul_add(ctx, t, Constant(d), Constant(Fr::ONE));
        let den_y = g.mul_add(ctx, t, Constant(-d), Constant(Fr::ONE));
        AssignedPoint {
            x: div(ctx, num_x, den_x),
            y: div(ctx, num_y, den_y),
        }
    }

    /// `P + Q`, both on the curve.
    pub fn add(
        &self,
        ctx: &mut Context<Fr>,
        p: &AssignedPoint,
        q: &AssignedPoint,
    ) -> AssignedPoint {
        self.add_cells(ctx, p, Existing(q.x), Existing(q.y))
    }

    /// `P + Q` for a constant `Q`; `P` on the curve.
    pub fn add_constant(
        &self,
        ctx: &mut Context<Fr>,
        p: &AssignedPoint,
        q: &Point,
    ) -> AssignedPoint {
        self.add_cells(ctx, p, Constant(to_halo2(&q.x)), Constant(to_halo2(&q.y)))
    }

    /// `-P = (-x, y)`.
    pub fn negate(&self, ctx: &mut Context<Fr>, p: &AssignedPoint) -> AssignedPoint {
        AssignedPoint {
            x: self.gate.neg(ctx, p.x),
            y: p.y,
        }
    }

    /// `P - Q`, both on the curve.
    pub fn sub(
        &self,
        ctx: &mut Context<Fr>,
        p: &AssignedPoint,
        q: &AssignedPoint,
    ) -> AssignedPoint {
        let minus_q = self.negate(ctx, q);
        self.add(ctx, p, &minus_q)
    }

    /// `2 P`, on the curve.
    pub fn double(&self, ctx: &mut Context<Fr>, p: &AssignedPoint) -> AssignedPoint {
        let g = self.gate;
        let a = to_halo2(&A);
        let xx = g.mul(ctx, p.x, p.x);
        let yy = g.mul(ctx, p.y, p.y);
        let xy = g.mul(ctx, p.x, p.y);
        let den_x = g.mul_add(ctx, xx, Constant(a), yy);
        let num_x = g.add(ctx, xy, xy);
        let num_y = g.mul_add(ctx, xx, Constant(-a), yy);
        let den_y = g.sub(ctx, Constant(Fr::from(2u64)), den_x);
        AssignedPoint {
            x: div(ctx, num_x, den_x),
            y: div(ctx, num_y, den_y),
        }
    }

    /// `sel ? P : Q` for a bit `sel`.
    pub fn select(
        &self,
        ctx: &mut Context<Fr>,
        sel: AssignedValue<Fr>,
        p: &AssignedPoint,
        q: &AssignedPoint,
    ) -> AssignedPoint {
        AssignedPoint {
            x: self.gate.select(ctx, p.x, q.x, sel),
            y: self.gate.select(ctx, p.y, q.y, sel),
        }
    }

    /// `sel ? P : B` for a bit `sel` and a constant `B`: how an untrusted
    /// point is replaced by a safe one before arithmetic.
    pub fn select_or_constant(
        &self,
        ctx: &mut Context<Fr>,
        sel: AssignedValue<Fr>,
        p: &AssignedPoint,
        b: &Point,
    ) -> AssignedPoint {
        AssignedPoint {
            x: self.gate.select(ctx, p.x, Constant(to_halo2(&b.x)), sel),
            y: self.gate.select(ctx, p.y, Constant(to_halo2(&b.y)), sel),
        }
    }

    /// The bit `8 P = O`, as `x(4 P) = 0`. `P` on the curve.
    pub fn is_small_order(&self, ctx: &mut Context<Fr>, p: &AssignedPoint) -> AssignedValue<Fr> {
        let p2 = self.double(ctx, p);
        let p4 = self.double(ctx, &p2);
        self.gate.is_zero(ctx, p4.x)
    }

    /// `k P` for `k = sum bits[i] 2^i` (`bits` constrained boolean by the
    /// caller; any `k`, multiples of the order included). `P` on the curve;
    /// every step is a complete addition or doubling, so no input makes the
    /// circuit unsatisfiable.
    pub fn scalar_mul(
        &self,
        ctx: &mut Context<Fr>,
        p: &AssignedPoint,
        bits: &[AssignedValue<Fr>],
    ) -> AssignedPoint {
        let Some((top, rest)) = bits.split_last() else {
            return self.load_constant(ctx, &Point::IDENTITY);
        };
        let mut acc = self.select_or_constant(ctx, *top, p, &Point::IDENTITY);
        for bit in rest.iter().rev() {
            acc = self.double(ctx, &acc);
            let sum = self.add(ctx, &acc, p);
            acc = self.select(ctx, *bit, &sum, &acc);
        }
        acc
    }

    /// `k B` for the constant `B` of `table` and `k = sum bits[i] 2^i`
    /// (`bits` boolean, at most the table's width): the constants `2^i B`
    /// added under their bits.
    pub fn fixed_base_mul(
        &self,
        ctx: &mut Context<Fr>,
        table: &FixedBase,
        bits: &[AssignedValue<Fr>],
    ) -> Result<AssignedPoint, CurveChipError> {
        if bits.len() > table.powers.len() {
            return Err(CurveChipError::FixedBaseWidth {
                bits: bits.len(),
                table: table.powers.len(),
            });
        }
        let Some((first, rest)) = bits.split_first() else {
            return Ok(self.load_constant(ctx, &Point::IDENTITY));
        };
        let base = &table.powers[0];
        let mut acc = AssignedPoint {
            x: self
                .gate
                .select(ctx, Constant(to_halo2(&base.x)), Constant(Fr::ZERO), *first),
            y: self
                .gate
                .select(ctx, Constant(to_halo2(&base.y)), Constant(Fr::ONE), *first),
        };
        for (bit, power) in rest.iter().zip(&table.powers[1..]) {
            let sum = self.add_constant(ctx, &acc, power);
            acc = self.select(ctx, *bit, &sum, &acc);
        }
        Ok(acc)
    }
}
