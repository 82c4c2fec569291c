use super::*;
use crate::range::signed_to_fr;
use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef, SynthesisMode};
use depin_crypto::geo::{self as native, k_q32_for_mhz, max_dist_sq_scaled};
use proptest::prelude::*;

const DBM_MIN: i32 = -(1 << 15);
const DBM_MAX: i32 = (1 << 15) - 1;
const DIST_MAX: u64 = (1 << 63) - 1;

struct Inputs {
    cs: ConstraintSystemRef<Fr>,
    dist: FpVar<Fr>,
    eirp: FpVar<Fr>,
    rssi: FpVar<Fr>,
    k: FpVar<Fr>,
}

fn alloc(dist_sq: u64, eirp: i32, rssi: i32, k: u32) -> Inputs {
    let cs = ConstraintSystem::<Fr>::new_ref();
    let w = |v: Fr| FpVar::new_witness(cs.clone(), || Ok(v)).unwrap();
    Inputs {
        dist: w(Fr::from(dist_sq)),
        eirp: w(signed_to_fr(eirp.into())),
        rssi: w(signed_to_fr(rssi.into())),
        k: w(Fr::from(k)),
        cs,
    }
}

/// The gadget's verdict (asserting satisfiability and one-hotness).
fn gadget(dist_sq: u64, eirp: i32, rssi: i32, k: u32) -> PathLoss {
    let v = alloc(dist_sq, eirp, rssi, k);
    enforce_path_loss_domain(&v.eirp, &v.rssi, &v.k).unwrap();
    let out = check_path_loss(&v.dist, &v.eirp, &v.rssi, &v.k).unwrap();
    assert!(
        v.cs.is_satisfied().unwrap(),
        "unsatisfiable at d2={dist_sq} eirp={eirp} rssi={rssi} k={k}"
    );
    out.value().unwrap()
}

fn agrees(dist_sq: u64, eirp: i32, rssi: i32, k: u32) {
    assert_eq!(
        gadget(dist_sq, eirp, rssi, k),
        native::check_path_loss(dist_sq, eirp, rssi, k),
        "d2={dist_sq} eirp={eirp} rssi={rssi} k={k}"
    );
}

/// The largest squared distance still plausible at `loss`, clamped to the
/// domain.
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
    for &ax in &edges {
        for &by in &edges {
            let (a, b) = ((ax, by), (by, ax));
            let cs = ConstraintSystem::<Fr>::new_ref();
            let w = |v: u32| FpVar::new_witness(cs.clone(), || Ok(Fr::from(v))).unwrap();
            let (a0, a1, b0, b1) = (w(a.0), w(a.1), w(b.0), w(b.1));
            for c in [&a0, &a1, &b0, &b1] {
                enforce_coordinate(c).unwrap();
            }
            let d = distance_sq((&a0, &a1), (&b0, &b1)).unwrap();
            assert!(cs.is_satisfied().unwrap());
            assert_eq!(
                d.value().unwrap(),
                Fr::from(native::distance_sq(a, b).unwrap())
            );
        }
    }
}

#[test]
fn out_of_range_coordinate_leaves_enforce_coordinate_unsatisfied() {
    for v in [1u64 << 31, (1 << 32) - 1, 1 << 40] {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let x = FpVar::new_witness(cs.clone(), || Ok(Fr::from(v))).unwrap();
        enforce_coordinate(&x).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }
}

#[test]
fn out_of_domain_inputs_leave_enforce_path_loss_domain_unsatisfied() {
    let ok = |eirp: i64, rssi: i64, k: u64| {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let w = |v: Fr| FpVar::new_witness(cs.clone(), || Ok(v)).unwrap();
        let (e, r, k) = (w(signed_to_fr(eirp)), w(signed_to_fr(rssi)), w(Fr::from(k)));
        enforce_path_loss_domain(&e, &r, &k).unwrap();
        cs.is_satisfied().unwrap()
    };
    assert!(ok(DBM_MIN.into(), DBM_MAX.into(), u32::MAX.into()));
    assert!(!ok(i64::from(DBM_MIN) - 1, 0, 0));
    assert!(!ok(0, i64::from(DBM_MAX) + 1, 0));
    assert!(!ok(0, 0, 1 << 32));
}

#[test]
fn loss_edges_match_native() {
    let k = k_q32_for_mhz(915);
    let eirp = 27;
    for loss in [
        -1i32, 0, 1, 9, 10, 11, 99, 100, 189, 190, 198, 199, 200, 201,
    ] {
        let rssi = eirp - loss;
        let mut dists = vec![0u64, 1, 1_000_000, DIST_MAX];
        if (0..=199).contains(&loss) {
            let b = boundary(loss.unsigned_abs(), k);
            dists.extend([b.saturating_sub(1), b, b.saturating_add(1).min(DIST_MAX)]);
        }
        for d in dists {
            agrees(d, eirp, rssi, k);
        }
    }
}

#[test]
fn every_loss_at_its_boundary_matches_native() {
    // For each loss in 0..=199 the boundary distance is plausible and one
    // more square metre is not (unless the boundary passes the domain).
    for (k, eirp) in [
        (k_q32_for_mhz(915), 36),
        (u32::MAX, DBM_MAX),
        (1, DBM_MIN + 199),
    ] {
        for loss in 0..=199i32 {
            let b = boundary(loss.unsigned_abs(), k);
            agrees(b, eirp, eirp - loss, k);
            if b < DIST_MAX {
                assert_eq!(
                    gadget(b + 1, eirp, eirp - loss, k),
                    PathLoss::TooStrongForDistance
                );
            }
        }
    }
}

#[test]
fn domain_extremes_match_native() {
    let ks = [0u32, 1, k_q32_for_mhz(915), u32::MAX];
    let dbm = [DBM_MIN, DBM_MIN + 1, -1, 0, 1, DBM_MAX - 1, DBM_MAX];
    for &k in &ks {
        for &eirp in &dbm {
            for &rssi in &dbm {
                for d in [0u64, DIST_MAX] {
                    agrees(d, eirp, rssi, k);
                }
            }
        }
    }
}

/// Whether the system is satisfied with `(q, r)` forced as the split.
fn satisfied_with_split(loss: i32, q: u64, r: u64) -> bool {
    let k = k_q32_for_mhz(915);
    let v = alloc(1_000_000, 27, 27 - loss, k);
    let _ = check_path_loss_with_split(&v.dist, &v.eirp, &v.rssi, &v.k, &|_| (q, r)).unwrap();
    v.cs.is_satisfied().unwrap()
}

#[test]
fn dishonest_loss_split_is_unsatisfiable() {
    // Every (q, r) a 5-bit q and a one-hot r can express, plus r >= 10
    // (no one-hot bit set). Only the Euclidean split of the clamped
    // loss satisfies the system; out-of-range losses clamp to 0.
    for loss in [0i32, 5, 15, 99, 150, 199, 200, -1] {
        let e = if (0..=199).contains(&loss) {
            loss.unsigned_abs().into()
        } else {
            0u64
        };
        for q in 0..32u64 {
            for r in 0..16u64 {
                let honest = (q, r) == (e / 10, e % 10);
                assert_eq!(
                    satisfied_with_split(loss, q, r),
                    honest,
                    "loss {loss} q {q} r {r}"
                );
            }
        }
    }
}

#[test]
fn constant_inputs_fold() {
    let k = k_q32_for_mhz(915);
    for (d, eirp, rssi) in [
        (1_000_000u64, 27, 27 - 93),
        (1_000_000, 27, 27 - 90),
        (0, 0, 1),
    ] {
        let c = |v: Fr| FpVar::Constant(v);
        let out = check_path_loss(
            &c(Fr::from(d)),
            &c(signed_to_fr(eirp.into())),
            &c(signed_to_fr(rssi.into())),
            &c(Fr::from(k)),
        )
        .unwrap();
        assert_eq!(
            out.value().unwrap(),
            native::check_path_loss(d, eirp, rssi, k)
        );
    }
}

#[test]
fn constraint_counts() {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Setup);
    let w = || FpVar::new_witness(cs.clone(), || Ok(Fr::ONE)).unwrap();
    let (x0, y0, x1, y1) = (w(), w(), w(), w());
    let before = cs.num_constraints();
    let d = distance_sq((&x0, &y0), (&x1, &y1)).unwrap();
    assert_eq!(cs.num_constraints() - before, 2);
    let before = cs.num_constraints();
    enforce_coordinate(&x0).unwrap();
    assert_eq!(cs.num_constraints() - before, COORD_BITS + 1);
    let (eirp, rssi, k) = (w(), w(), w());
    let before = cs.num_constraints();
    enforce_path_loss_domain(&eirp, &rssi, &k).unwrap();
    assert_eq!(cs.num_constraints() - before, 67);
    let before = cs.num_constraints();
    let _ = check_path_loss(&d, &eirp, &rssi, &k).unwrap();
    let n = cs.num_constraints() - before;
    println!("path-loss check: {n} constraints");
    assert_eq!(n, PATH_LOSS_CONSTRAINTS);
}

fn dbm() -> impl Strategy<Value = i32> {
    prop_oneof![
        DBM_MIN..=DBM_MAX,
        Just(DBM_MIN),
        Just(DBM_MAX),
        -150i32..=50,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn prop_distance_matches_native(
        a in (0u32..1 << 31, 0u32..1 << 31),
        b in (0u32..1 << 31, 0u32..1 << 31),
    ) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let w = |v: u32| FpVar::new_witness(cs.clone(), || Ok(Fr::from(v))).unwrap();
        let d = distance_sq((&w(a.0), &w(a.1)), (&w(b.0), &w(b.1))).unwrap();
        prop_assert_eq!(d.value().unwrap(), Fr::from(native::distance_sq(a, b).unwrap()));
    }

    #[test]
    fn prop_path_loss_matches_native_anywhere(
        d in prop_oneof![0u64..=DIST_MAX, 0u64..10_000_000_000, Just(DIST_MAX)],
        eirp in dbm(),
        rssi in dbm(),
        k in prop_oneof![any::<u32>(), Just(0u32), Just(u32::MAX)],
    ) {
        prop_assert_eq!(gadget(d, eirp, rssi, k), native::check_path_loss(d, eirp, rssi, k));
    }

    #[test]
    fn prop_path_loss_matches_native_near_the_boundary(
        loss in -3i32..=202,
        eirp in -20000i32..=20000,
        k in any::<u32>(),
        delta in -2i64..=2,
    ) {
        let rssi = eirp - loss;
        let d = if (0..=199).contains(&loss) {
            let b = i128::from(boundary(loss.unsigned_abs(), k)) + i128::from(delta);
            u64::try_from(b.clamp(0, i128::from(DIST_MAX))).unwrap()
        } else {
            1_000_000
        };
        prop_assert_eq!(gadget(d, eirp, rssi, k), native::check_path_loss(d, eirp, rssi, k));
    }
}
