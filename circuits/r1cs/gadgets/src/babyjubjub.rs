//! Baby Jubjub points as R1CS variables, in circomlib's coordinates.
//!
//! Baby Jubjub (Bellés-Muñoz, Whitehat, Baylina, Daza, Tapia-Muñoz,
//! "Twisted Edwards Elliptic Curves for Zero-Knowledge Circuits",
//! Mathematics 9(23), 2021, and EIP-2494) is the twisted Edwards curve
//! `a x^2 + y^2 = 1 + d x^2 y^2` with `a = 168700`, `d = 168696` over the
//! BN254 scalar field, exactly as [`depin_crypto::babyjubjub`] and circomlib
//! write it. A [`PointVar`] holds the affine coordinates `(x, y)` as two
//! [`FpVar`]s; every gadget computes the same point as
//! [`depin_crypto::babyjubjub::Point`] arithmetic (the tests check this on
//! random and torsion points).
//!
//! # What is proven
//!
//! The formulas are the affine twisted Edwards ones of Bernstein, Birkner,
//! Joye, Lange and Peters ("Twisted Edwards Curves", AFRICACRYPT 2008).
//! Because `a` is a square and `d` is not a square in the field (tested in
//! this module), they are *complete* for points on the curve (their
//! Theorem 3.3): the denominators `1 ± d x1 x2 y1 y2` never vanish, so the
//! identity, torsion points and `P + P` need no special case.
//!
//! - [`PointVar::add`]: `(x1 y2 + y1 x2) / (1 + d t)`,
//!   `(y1 y2 - a x1 x2) / (1 - d t)` with `t = x1 x2 y1 y2`, as circomlib's
//!   `BabyAdd`: 6 constraints ([`ADD_CONSTRAINTS`]), 3 when one operand is a
//!   constant.
//! - [`PointVar::double`]: `2 x y / (a x^2 + y^2)`,
//!   `(y^2 - a x^2) / (2 - a x^2 - y^2)`, which uses the curve equation to
//!   replace `1 ± d x^2 y^2`: 5 constraints ([`DOUBLE_CONSTRAINTS`]).
//! - [`PointVar::is_on_curve`] (5 constraints) returns the bit, and
//!   [`PointVar::enforce_on_curve`] (3 constraints) enforces it.
//! - [`PointVar::mul_by_cofactor`]: three doublings (15 constraints).
//! - [`PointVar::is_small_order`]: `8 P = O` iff `x(4 P) = 0` (12
//!   constraints). The only points with `x = 0` are `(0, 1)` and `(0, -1)`,
//!   the points of order dividing 2, so `x(4P) = 0` iff `4P` has order at
//!   most 2 iff `8P = O`.
//! - [`PointVar::scalar_mul_le`]: `k P` for a variable point and
//!   little-endian bits of `k`, with 2-bit signed windows (digits
//!   `±1, ±3`): about 10 constraints per bit
//!   ([`scalar_mul_constraints`]); 2,541 for 254 bits.
//! - [`PointVar::fixed_base_mul_le`]: `k B` for a constant point `B` with
//!   3-bit windows over tables of constants: 9 constraints per window
//!   ([`fixed_base_mul_constraints`]); 748 for 251 bits.
//!
//! # Preconditions
//!
//! Allocation does not check that a point is on the curve: callers that
//! receive untrusted points use [`PointVar::is_on_curve`] (and substitute a
//! constant point before doing arithmetic, as [`crate::eddsa`] does) or
//! [`PointVar::enforce_on_curve`]. On a point off the curve the arithmetic
//! gadgets compute values that are not the group law, and the constraint
//! system may become unsatisfiable (a denominator can be zero).

use std::borrow::Borrow;
use std::sync::OnceLock;

use ark_bn254::Fr;
use ark_ec::CurveGroup;
use ark_ed_on_bn254::EdwardsProjective;
use ark_ff::{AdditiveGroup, Field};
use ark_r1cs_std::{
    alloc::{AllocVar, AllocationMode},
    boolean::Boolean,
    eq::EqGadget,
    fields::{fp::FpVar, FieldVar},
    select::CondSelectGadget,
    GR1CSVar,
};
use ark_relations::gr1cs::{ConstraintSystemRef, Namespace, SynthesisError};
use depin_crypto::babyjubjub::{Point, A, D};

/// Constraints of [`PointVar::add`] on two variable points.
pub const ADD_CONSTRAINTS: usize = 6;
/// Constraints of [`PointVar::double`] on a variable point.
pub const DOUBLE_CONSTRAINTS: usize = 5;
/// Constraints of [`PointVar::is_on_curve`] on a variable point.
pub const IS_ON_CURVE_CONSTRAINTS: usize = 5;
/// Constraints of [`PointVar::is_small_order`] on a variable point.
pub const IS_SMALL_ORDER_CONSTRAINTS: usize = 12;

/// Constraints of [`PointVar::scalar_mul_le`] for `n` variable bits and a
/// variable point: `10 n + 1` for even `n >= 2`, `10 n + 9` for odd
/// `n >= 3`.
pub const fn scalar_mul_constraints(n: usize) -> usize {
    match n {
        0 => 0,
        1 => 2,
        _ => {
            // 3P: 11; final correction: 8; top window: 2 (a single bit)
            // or 20 (two bits); 20 per further 2-bit window.
            let rest = n - 1;
            let top = if rest % 2 == 1 { 2 } else { 20 };
            11 + 8 + top + 20 * ((rest - 1) / 2)
        }
    }
}

/// Constraints of [`PointVar::fixed_base_mul_le`] for `n` variable bits:
/// per 3-bit window a lookup (3 constraints, 1 for a 2-bit window, 0 for a
/// 1-bit window) and, after the first window, an addition (6).
pub const fn fixed_base_mul_constraints(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let windows = n.div_ceil(3);
    let last = match n % 3 {
        0 => 3,
        1 => 0,
        _ => 1,
    };
    3 * (windows - 1) + last + ADD_CONSTRAINTS * (windows - 1)
}

/// A Baby Jubjub point in circomlib's coordinates, as two field variables.
///
/// Allocation does not enforce that the point is on the curve (see the
/// module docs).
#[derive(Clone, Debug)]
pub struct PointVar {
    /// circomlib `x`.
    pub x: FpVar<Fr>,
    /// circomlib `y`.
    pub y: FpVar<Fr>,
}

/// `num / den`, one constraint unless `den` is a constant. When `den` is zero
/// the witness is zero and the constraint `q * den = num` holds only if
/// `num` is zero too.
fn div(num: &FpVar<Fr>, den: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    if let FpVar::Constant(d) = den {
        let inv = d.inverse().ok_or(SynthesisError::Unsatisfiable)?;
        return Ok(num * inv);
    }
    let cs = num.cs().or(den.cs());
    let q = FpVar::new_witness(cs, || {
        let n = num.value()?;
        let d = den.value()?;
        Ok(d.inverse().map_or(Fr::ZERO, |i| n * i))
    })?;
    q.mul_equals(den, num)?;
    Ok(q)
}

impl PointVar {
    /// Wraps two coordinates (no constraint, no check).
    pub fn new(x: FpVar<Fr>, y: FpVar<Fr>) -> Self {
        PointVar { x, y }
    }

    /// A constant point (no variables).
    pub fn constant(p: Point) -> Self {
        PointVar {
            x: FpVar::Constant(p.x),
            y: FpVar::Constant(p.y),
        }
    }

    /// The neutral element `(0, 1)` as a constant.
    pub fn identity() -> Self {
        Self::constant(Point::IDENTITY)
    }

    /// `-P = (-x, y)`, free.
    pub fn negate(&self) -> Self {
        PointVar {
            x: FpVar::zero() - &self.x,
            y: self.y.clone(),
        }
    }

    /// The bit `a x^2 + y^2 = 1 + d x^2 y^2`. Never makes the system
    /// unsatisfiable. 5 constraints.
    pub fn is_on_curve(&self) -> Result<Boolean<Fr>, SynthesisError> {
        let x2 = self.x.square()?;
        let y2 = self.y.square()?;
        // x^2 (a - d y^2) + y^2 - 1 = 0
        let lhs = &x2 * (FpVar::Constant(A) - &y2 * D) + &y2;
        lhs.is_one()
    }

    /// Enforces `a x^2 + y^2 = 1 + d x^2 y^2`. 3 constraints.
    pub fn enforce_on_curve(&self) -> Result<(), SynthesisError> {
        let x2 = self.x.square()?;
        let y2 = self.y.square()?;
        x2.mul_equals(
            &(FpVar::Constant(A) - &y2 * D),
            &(FpVar::Constant(Fr::ONE) - &y2),
        )
    }

    /// Complete twisted Edwards addition (circomlib's `BabyAdd`). Both points
    /// must be on the curve. 6 constraints, 3 if one point is a constant.
    pub fn add(&self, other: &Self) -> Result<Self, SynthesisError> {
        let (x1, y1, x2, y2) = (&self.x, &self.y, &other.x, &other.y);
        let beta = x1 * y2;
        let gamma = y1 * x2;
        let delta = (y1 - x1 * A) * (x2 + y2);
        let tau = &beta * &gamma;
        let dtau = &tau * D;
        let x3 = div(&(&beta + &gamma), &(&dtau + Fr::ONE))?;
        let y3 = div(
            &(delta + &beta * A - &gamma),
            &(FpVar::Constant(Fr::ONE) - &dtau),
        )?;
        Ok(PointVar { x: x3, y: y3 })
    }

    /// `self - other`. Both points must be on the curve. 6 constraints.
    pub fn sub(&self, other: &Self) -> Result<Self, SynthesisError> {
        self.add(&other.negate())
    }

    /// Doubling with the curve equation folded into the denominators. The
    /// point must be on the curve. 5 constraints.
    pub fn double(&self) -> Result<Self, SynthesisError> {
        let xx = self.x.square()?;
        let yy = self.y.square()?;
        let xy = &self.x * &self.y;
        let axx = &xx * A;
        let x3 = div(&xy.double()?, &(&axx + &yy))?;
        let y3 = div(
            &(&yy - &axx),
            &(FpVar::Constant(Fr::from(2u64)) - &axx - &yy),
        )?;
        Ok(PointVar { x: x3, y: y3 })
    }

    /// `8 P`, three doublings (15 constraints). The point must be on the
    /// curve.
    pub fn mul_by_cofactor(&self) -> Result<Self, SynthesisError> {
        self.double()?.double()?.double()
    }

    /// The bit `8 P = O`, computed as `x(4 P) = 0` (see the module docs).
    /// The point must be on the curve. 12 constraints.
    pub fn is_small_order(&self) -> Result<Boolean<Fr>, SynthesisError> {
        self.double()?.double()?.x.is_zero()
    }

    /// `k P` for `k = sum bits[i] 2^i` (any number of bits, each value of
    /// `k` allowed, including multiples of the point's order). The point
    /// must be on the curve; every step is a complete addition or a doubling
    /// of points on the curve, so no input makes the system unsatisfiable.
    ///
    /// Method: with `k = b0 + 2 h`, the bits of `h` are read in 2-bit windows
    /// `(e0, e1)` as signed digits `2 (e0 + 2 e1) - 3` in `{-3, -1, 1, 3}`;
    /// Horner's rule from `P` gives `4^m P + (2 h - 4^m + 1) P = (2 h + 1) P`,
    /// and a final conditional subtraction of `P` when `b0 = 0` gives `k P`.
    /// A digit costs 4 constraints (`|d| = 3` iff `e0 = e1`, a select between
    /// `P` and `3P`, a conditional negation of `x`), its window two doublings
    /// and one addition. Cost: [`scalar_mul_constraints`].
    pub fn scalar_mul_le(&self, bits: &[Boolean<Fr>]) -> Result<Self, SynthesisError> {
        let Some((b0, rest)) = bits.split_first() else {
            return Ok(Self::identity());
        };
        if rest.is_empty() {
            return Self::conditionally_select(b0, self, &Self::identity());
        }
        let p3 = self.double()?.add(self)?;
        // Top window: a lone bit e0 (e1 = 0) gives 4P + (2 e0 - 3) P, that
        // is 3P or P.
        let (mut acc, full) = if rest.len() % 2 == 1 {
            let (top, low) = rest.split_last().ok_or(SynthesisError::Unsatisfiable)?;
            (Self::conditionally_select(top, &p3, self)?, low)
        } else {
            (self.clone(), rest)
        };
        for w in full.chunks_exact(2).rev() {
            let (e0, e1) = (&w[0], &w[1]);
            acc = acc.double()?.double()?;
            let three = !(e0 ^ e1);
            let mag = Self::conditionally_select(&three, &p3, self)?;
            let x = FpVar::conditionally_select(e1, &mag.x, &(FpVar::zero() - &mag.x))?;
            acc = acc.add(&PointVar { x, y: mag.y })?;
        }
        let minus = acc.sub(self)?;
        Self::conditionally_select(b0, &acc, &minus)
    }

    /// `k B` for a constant point `B` and `k = sum bits[i] 2^i`, with 3-bit
    /// windows: window `w` looks up `j 8^w B` (`j` in `0..8`, the identity
    /// for `j = 0`) among constants and the lookups are added with complete
    /// additions. Tables for `Base8` are computed once per process.
    ///
    /// Returns [`SynthesisError::Unsatisfiable`] if `base` is not on the
    /// curve. Cost: [`fixed_base_mul_constraints`].
    pub fn fixed_base_mul_le(base: &Point, bits: &[Boolean<Fr>]) -> Result<Self, SynthesisError> {
        let windows = bits.len().div_ceil(3);
        let owned;
        let tables: &[[Point; 8]] = if *base == Point::BASE8 && windows <= BASE8_WINDOWS {
            base8_tables()?
        } else {
            owned = window_tables(base, windows)?;
            &owned
        };
        let mut acc: Option<PointVar> = None;
        for (chunk, table) in bits.chunks(3).zip(tables) {
            let term = lookup_const(chunk, table)?;
            acc = Some(match acc {
                None => term,
                Some(a) => a.add(&term)?,
            });
        }
        Ok(acc.unwrap_or_else(Self::identity))
    }
}

/// Windows cached for `Base8` (enough for 258 bits).
const BASE8_WINDOWS: usize = 86;

fn base8_tables() -> Result<&'static [[Point; 8]], SynthesisError> {
    static TABLES: OnceLock<Vec<[Point; 8]>> = OnceLock::new();
    if let Some(t) = TABLES.get() {
        return Ok(t);
    }
    let t = window_tables(&Point::BASE8, BASE8_WINDOWS)?;
    Ok(TABLES.get_or_init(|| t))
}

/// `table[w][j] = j 8^w base`.
fn window_tables(base: &Point, windows: usize) -> Result<Vec<[Point; 8]>, SynthesisError> {
    let b = base.to_ark().map_err(|_| SynthesisError::Unsatisfiable)?;
    let mut step: EdwardsProjective = b.into();
    let mut out = Vec::with_capacity(windows);
    for _ in 0..windows {
        let mut row = [EdwardsProjective::ZERO; 8];
        for j in 1..8 {
            row[j] = row[j - 1] + step;
        }
        let affine = EdwardsProjective::normalize_batch(&row);
        out.push(core::array::from_fn(|j| Point::from_ark(&affine[j])));
        for _ in 0..3 {
            step.double_in_place();
        }
    }
    Ok(out)
}

/// `c0 + b0 (c1 - c0) + b1 (c2 - c0) + b01 (c3 - c2 - c1 + c0)`, linear.
fn lookup2_coord(b0: &FpVar<Fr>, b1: &FpVar<Fr>, b01: &FpVar<Fr>, c: [Fr; 4]) -> FpVar<Fr> {
    FpVar::Constant(c[0])
        + b0 * (c[1] - c[0])
        + b1 * (c[2] - c[0])
        + b01 * (c[3] - c[2] - c[1] + c[0])
}

/// `table[bits]` for 1 to 3 bits (`table.len() >= 2^bits.len()`): 0, 1 or 3
/// constraints.
fn lookup_const(bits: &[Boolean<Fr>], table: &[Point]) -> Result<PointVar, SynthesisError> {
    let fp: Vec<FpVar<Fr>> = bits.iter().map(|b| FpVar::from(b.clone())).collect();
    match bits {
        [_] => {
            let coord = |c0: Fr, c1: Fr| FpVar::Constant(c0) + &fp[0] * (c1 - c0);
            Ok(PointVar {
                x: coord(table[0].x, table[1].x),
                y: coord(table[0].y, table[1].y),
            })
        }
        [b0, b1] => {
            let b01 = FpVar::from(b0 & b1);
            let coord = |f: fn(&Point) -> Fr| {
                lookup2_coord(&fp[0], &fp[1], &b01, core::array::from_fn(|j| f(&table[j])))
            };
            Ok(PointVar {
                x: coord(|p| p.x),
                y: coord(|p| p.y),
            })
        }
        [b0, b1, _] => {
            let b01 = FpVar::from(b0 & b1);
            let coord = |f: fn(&Point) -> Fr| {
                let lo =
                    lookup2_coord(&fp[0], &fp[1], &b01, core::array::from_fn(|j| f(&table[j])));
                let hi = lookup2_coord(
                    &fp[0],
                    &fp[1],
                    &b01,
                    core::array::from_fn(|j| f(&table[4 + j])),
                );
                &lo + &fp[2] * (hi - &lo)
            };
            Ok(PointVar {
                x: coord(|p| p.x),
                y: coord(|p| p.y),
            })
        }
        _ => Err(SynthesisError::Unsatisfiable),
    }
}

impl GR1CSVar<Fr> for PointVar {
    type Value = Point;

    fn cs(&self) -> ConstraintSystemRef<Fr> {
        self.x.cs().or(self.y.cs())
    }

    fn value(&self) -> Result<Point, SynthesisError> {
        Ok(Point {
            x: self.x.value()?,
            y: self.y.value()?,
        })
    }
}

impl AllocVar<Point, Fr> for PointVar {
    /// Allocates both coordinates in `mode`; does not check the curve
    /// equation.
    fn new_variable<T: Borrow<Point>>(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<T, SynthesisError>,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let ns = cs.into();
        let cs = ns.cs();
        let p = f().map(|p| *p.borrow());
        let x = FpVar::new_variable(cs.clone(), || p.map(|p| p.x), mode)?;
        let y = FpVar::new_variable(cs, || p.map(|p| p.y), mode)?;
        Ok(PointVar { x, y })
    }
}

impl CondSelectGadget<Fr> for PointVar {
    /// 2 constraints (none for a constant condition).
    fn conditionally_select(
        cond: &Boolean<Fr>,
        true_value: &Self,
        false_value: &Self,
    ) -> Result<Self, SynthesisError> {
        Ok(PointVar {
            x: FpVar::conditionally_select(cond, &true_value.x, &false_value.x)?,
            y: FpVar::conditionally_select(cond, &true_value.y, &false_value.y)?,
        })
    }
}

impl EqGadget<Fr> for PointVar {
    /// Coordinate-wise equality: 5 constraints.
    fn is_eq(&self, other: &Self) -> Result<Boolean<Fr>, SynthesisError> {
        Ok(self.x.is_eq(&other.x)? & self.y.is_eq(&other.y)?)
    }

    fn conditional_enforce_equal(
        &self,
        other: &Self,
        should_enforce: &Boolean<Fr>,
    ) -> Result<(), SynthesisError> {
        self.x.conditional_enforce_equal(&other.x, should_enforce)?;
        self.y.conditional_enforce_equal(&other.y, should_enforce)
    }
}

#[cfg(test)]
mod tests;
