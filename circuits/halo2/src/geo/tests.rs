//! The path-loss gates against `depin_crypto::geo` with the mock prover:
//! many cases per circuit, each verdict constrained to the native one, so
//! a circuit is satisfied only if every verdict agrees.

use super::*;
use crate::range::signed_to_fr;
use depin_crypto::geo::{self as native, k_q32_for_mhz, max_dist_sq_scaled};
use halo2_base::gates::GateChip;
use halo2_base::utils::testing::base_test;
use proptest::prelude::*;

const DBM_MIN: i32 = -(1 << 15);
const DBM_MAX: i32 = (1 << 15) - 1;
const DIST_MAX: u64 = (1 << 63) - 1;

type Case = (u64, i32, i32, u32);

fn load(ctx: &mut Context<Fr>, case: &Case) -> [AssignedValue<Fr>; 4] {
    let (d, eirp, rssi, k) = *case;
    [
        ctx.load_witness(Fr::from(d)),
        ctx.load_witness(signed_to_fr(eirp.into())),
        ctx.load_witness(signed_to_fr(rssi.into())),
        ctx.load_witness(Fr::from(u64::from(k))),
    ]
}

fn constrain(
    ctx: &mut Context<Fr>,
    gate: &GateChip<Fr>,
    out: &AssignedPathLoss,
    expected: PathLoss,
) {
    for (bit, v) in [
        (out.plausible, PathLoss::Plausible),
        (
            out.stronger_than_transmitted,
            PathLoss::StrongerThanTransmitted,
        ),
        (out.below_sensitivity, PathLoss::BelowSensitivity),
        (out.too_strong_for_distance, PathLoss::TooStrongForDistance),
    ] {
        gate.assert_is_const(ctx, &bit, &Fr::from(u64::from(v == expected)));
    }
}

/// Every case's verdict equals the native one, with the domain enforced, in
/// circuits of up to 64 cases.
fn agree(cases: &[Case]) {
    for chunk in cases.chunks(64) {
        base_test().k(17).run_gate(|ctx, gate| {
            let geo = GeoGates::new(gate);
            for case in chunk {
                let [d, eirp, rssi, k] = load(ctx, case);
                geo.enforce_signed_dbm(ctx, eirp).unwrap();
                geo.enforce_signed_dbm(ctx, rssi).unwrap();
                geo.enforce_k_q32(ctx, k).unwrap();
                let out = geo.check_path_loss(ctx, d, eirp, rssi, k).unwrap();
                let expected = native::check_path_loss(case.0, case.1, case.2, case.3);
                assert_eq!(out.value(), Some(expected), "{case:?}");
                constrain(ctx, gate, &out, expected);
            }
        });
    }
}

fn boundary(loss: u32, k: u32) -> u64 {
    let rhs = max_dist_sq_scaled(loss, k).unwrap();
    u64::try_from(rhs >> LHS_SHIFT)
        .unwrap_or(DIST_MAX)
        .min(DIST_MAX)
}

#[test]
fn distance_matches_native_at_the_edges() {
    let max = (1u32 << 31) - 1;
    let edges = [0u32, 1, 2, max / 2, max - 1, max];
    base_test().k(14).run_gate(|ctx, gate| {
        let geo = GeoGates::new(gate);
        for &ax in &edges {
            for &by in &edges {
                let (a, b) = ((ax, by), (by, ax));
                let c = ctx.assign_witnesses([a.0, a.1, b.0, b.1].map(|v| Fr::from(u64::from(v))));
                for cell in &c {
                    geo.enforce_coordinate(ctx, *cell).unwrap();
                }
                let d = geo.distance_sq(ctx, (c[0], c[1]), (c[2], c[3]));
                gate.assert_is_const(ctx, &d, &Fr::from(native::distance_sq(a, b).unwrap()));
            }
        }
    });
}

#[test]
fn out_of_domain_inputs_are_refused() {
    for (v, ok) in [(1u64 << 31, false), ((1 << 31) - 1, true)] {
        base_test()
            .k(10)
            .expect_satisfied(ok)
            .run_gate(|ctx, gate| {
                let x = ctx.load_witness(Fr::from(v));
                GeoGates::new(gate).enforce_coordinate(ctx, x).unwrap();
            });
    }
    for (eirp, rssi, k, ok) in [
        (
            i64::from(DBM_MIN),
            i64::from(DBM_MAX),
            u64::from(u32::MAX),
            true,
        ),
        (i64::from(DBM_MIN) - 1, 0, 0, false),
        (0, i64::from(DBM_MAX) + 1, 0, false),
        (0, 0, 1 << 32, false),
    ] {
        base_test()
            .k(10)
            .expect_satisfied(ok)
            .run_gate(|ctx, gate| {
                let geo = GeoGates::new(gate);
                let c = ctx.assign_witnesses([signed_to_fr(eirp), signed_to_fr(rssi), Fr::from(k)]);
                geo.enforce_signed_dbm(ctx, c[0]).unwrap();
                geo.enforce_signed_dbm(ctx, c[1]).unwrap();
                geo.enforce_k_q32(ctx, c[2]).unwrap();
            });
    }
}

#[test]
fn loss_edges_match_native() {
    let k = k_q32_for_mhz(915);
    let eirp = 27;
    let mut cases = Vec::new();
    for loss in [
        -1i32, 0, 1, 9, 10, 11, 99, 100, 189, 190, 198, 199, 200, 201,
    ] {
        let mut dists = vec![0u64, 1, 1_000_000, DIST_MAX];
        if (0..=199).contains(&loss) {
            let b = boundary(loss.unsigned_abs(), k);
            dists.extend([b.saturating_sub(1), b, b.saturating_add(1).min(DIST_MAX)]);
        }
        cases.extend(dists.into_iter().map(|d| (d, eirp, eirp - loss, k)));
    }
    agree(&cases);
}

#[test]
fn every_loss_at_its_boundary_matches_native() {
    let mut cases = Vec::new();
    for (k, eirp) in [
        (k_q32_for_mhz(915), 36),
        (u32::MAX, DBM_MAX),
        (1, DBM_MIN + 199),
    ] {
        for loss in 0..=199i32 {
            let b = boundary(loss.unsigned_abs(), k);
            cases.push((b, eirp, eirp - loss, k));
            if b < DIST_MAX {
                cases.push((b + 1, eirp, eirp - loss, k));
                assert_eq!(
                    native::check_path_loss(b + 1, eirp, eirp - loss, k),
                    PathLoss::TooStrongForDistance
                );
            }
        }
    }
    agree(&cases);
}

#[test]
fn domain_extremes_match_native() {
    let ks = [0u32, 1, k_q32_for_mhz(915), u32::MAX];
    let dbm = [DBM_MIN, DBM_MIN + 1, -1, 0, 1, DBM_MAX - 1, DBM_MAX];
    let mut cases = Vec::new();
    for &k in &ks {
        for &eirp in &dbm {
            for &rssi in &dbm {
                for d in [0u64, DIST_MAX] {
                    cases.push((d, eirp, rssi, k));
                }
            }
        }
    }
    agree(&cases);
}

#[test]
fn only_the_euclidean_split_satisfies_the_gates() {
    // Every (q, r) a 5-bit q and a one-hot r can express, and r >= 10 (no
    // bit set). Out-of-range losses clamp to 0.
    let k = k_q32_for_mhz(915);
    for loss in [0i32, 15, 199, 200, -1] {
        let e = if (0..=199).contains(&loss) {
            u64::from(loss.unsigned_abs())
        } else {
            0
        };
        for q in 0..32u64 {
            for r in [0u64, 1, 5, 9, 10, 15] {
                let honest = (q, r) == (e / 10, e % 10);
                base_test()
                    .k(11)
                    .expect_satisfied(honest)
                    .run_gate(|ctx, gate| {
                        let [d, eirp, rssi, kc] = load(ctx, &(1_000_000, 27, 27 - loss, k));
                        GeoGates::new(gate)
                            .check_path_loss_with_split(ctx, d, eirp, rssi, kc, &|_| (q, r))
                            .unwrap();
                    });
            }
        }
    }
}

fn dbm() -> impl Strategy<Value = i32> {
    prop_oneof![
        DBM_MIN..=DBM_MAX,
        Just(DBM_MIN),
        Just(DBM_MAX),
        -150i32..=50
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![0u64..=DIST_MAX, 0u64..10_000_000_000, Just(DIST_MAX)],
        dbm(),
        dbm(),
        prop_oneof![any::<u32>(), Just(0u32), Just(u32::MAX)],
    )
}

fn near_boundary() -> impl Strategy<Value = Case> {
    (-3i32..=202, -20000i32..=20000, any::<u32>(), -2i64..=2).prop_map(|(loss, eirp, k, delta)| {
        let d = if (0..=199).contains(&loss) {
            let b = i128::from(boundary(loss.unsigned_abs(), k)) + i128::from(delta);
            u64::try_from(b.clamp(0, i128::from(DIST_MAX))).unwrap_or(DIST_MAX)
        } else {
            1_000_000
        };
        (d, eirp, eirp - loss, k)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn prop_path_loss_matches_native(
        anywhere in proptest::collection::vec(case(), 64),
        boundary in proptest::collection::vec(near_boundary(), 64),
    ) {
        agree(&anywhere);
        agree(&boundary);
    }
}
