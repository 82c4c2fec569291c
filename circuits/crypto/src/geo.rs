//! Integer geometry and the free-space path-loss bound of the coverage
//! statement.
//!
//! Locations are integer metres on a planar grid (a projected coordinate
//! system chosen by the network, e.g. a UTM zone or a local east/north
//! frame), each coordinate below `2^31`, so squared distances fit in 63 bits
//! and everything is exact in both native code and circuits.
//!
//! Free-space path loss (Friis, "A Note on a Simple Transmission Formula",
//! Proc. IRE 1946) at distance `d` and frequency `f` is
//! `FSPL(d) = 20 log10(4 pi d f / c)` dB. A witness that hears a transmitter
//! of EIRP `P` dBm at `rssi` dBm has seen a loss `L = P - rssi`; physics
//! requires `FSPL(d) <= L`, i.e. `d^2 <= K * 10^(L/10)` with
//! `K = (c / (4 pi f))^2`. A witness reporting a stronger signal than that is
//! lying about its signal or its distance (Helium's proof-of-coverage
//! "RSSI too high for distance" rule).
//!
//! To stay exact, `L` is a whole number of dB in `0..=199`, written
//! `L = 10 q + r`, and `10^(L/10) = 10^q * T[r]` with `T[r]` the Q20 fixed
//! point value of `10^(r/10)` rounded down; `K` is given in Q32 fixed point.
//! The bound tested is
//! `d^2 * 2^52 <= K_q32 * 10^q * T_q20[r]`, all in `u128`.

/// Largest loss in dB the bound accepts; weaker signals are below any
/// receiver's sensitivity and are implausible.
pub const MAX_LOSS_DB: i64 = 199;

/// `floor(10^(r/10) * 2^20)` for `r = 0..=9`.
pub const TEN_POW_TENTHS_Q20: [u64; 10] = [
    1_048_576, 1_320_078, 1_661_880, 2_092_184, 2_633_903, 3_315_888, 4_174_456, 5_255_329,
    6_616_067, 8_329_135,
];

/// Fixed-point shift of the left-hand side: Q32 (`K`) plus Q20 (`T`).
pub const LHS_SHIFT: u32 = 52;

/// Largest grid coordinate, in metres (`2^31 - 1`).
pub const MAX_COORD: u32 = (1 << 31) - 1;

/// Smallest EIRP or RSSI, in dBm, that the path-loss rule is defined for.
pub const MIN_DBM: i32 = -(1 << 15);
/// Largest EIRP or RSSI, in dBm, that the path-loss rule is defined for.
pub const MAX_DBM: i32 = (1 << 15) - 1;

/// Whether a grid coordinate is in the domain (`<= MAX_COORD`).
pub const fn coordinate_in_domain(c: u32) -> bool {
    c <= MAX_COORD
}

/// Whether a dBm value is in the domain (`MIN_DBM..=MAX_DBM`).
pub const fn dbm_in_domain(v: i32) -> bool {
    v >= MIN_DBM && v <= MAX_DBM
}

/// Squared Euclidean distance between two grid points, in square metres,
/// or `None` when a coordinate is outside the domain (`> MAX_COORD`), where
/// the result could exceed 63 bits. Within the domain it is exact.
pub fn distance_sq(a: (u32, u32), b: (u32, u32)) -> Option<u64> {
    if ![a.0, a.1, b.0, b.1]
        .iter()
        .all(|c| coordinate_in_domain(*c))
    {
        return None;
    }
    let dx = u64::from(a.0.abs_diff(b.0));
    let dy = u64::from(a.1.abs_diff(b.1));
    Some(dx * dx + dy * dy)
}

/// Outcome of the path-loss check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathLoss {
    /// The reported signal is physically possible at that distance.
    Plausible,
    /// The signal is stronger than the transmitter's EIRP.
    StrongerThanTransmitted,
    /// The loss exceeds [`MAX_LOSS_DB`].
    BelowSensitivity,
    /// The signal is stronger than free space allows at that distance.
    TooStrongForDistance,
}

/// The right-hand side `K_q32 * 10^q * T_q20[r]` for a loss of `loss_db`.
pub fn max_dist_sq_scaled(loss_db: u32, k_q32: u32) -> Option<u128> {
    if i64::from(loss_db) > MAX_LOSS_DB {
        return None;
    }
    let q = loss_db / 10;
    let r = (loss_db % 10) as usize;
    Some(u128::from(k_q32) * 10u128.pow(q) * u128::from(TEN_POW_TENTHS_Q20[r]))
}

/// Checks a witness's reported signal against free-space path loss.
///
/// `eirp_dbm` is the transmitter's EIRP and `rssi_dbm` what the witness
/// reports; `k_q32` is `(c / (4 pi f))^2` in Q32 (see [`k_q32_for_mhz`]).
/// The rule is defined (and the circuit agrees with it) for dBm values in
/// [`MIN_DBM`]`..=`[`MAX_DBM`] and `dist_sq < 2^63`; callers refuse records
/// outside that domain before asking.
pub fn check_path_loss(dist_sq: u64, eirp_dbm: i32, rssi_dbm: i32, k_q32: u32) -> PathLoss {
    let loss = i64::from(eirp_dbm) - i64::from(rssi_dbm);
    if loss < 0 {
        return PathLoss::StrongerThanTransmitted;
    }
    if loss > MAX_LOSS_DB {
        return PathLoss::BelowSensitivity;
    }
    let rhs = match max_dist_sq_scaled(loss as u32, k_q32) {
        Some(v) => v,
        None => return PathLoss::BelowSensitivity,
    };
    if u128::from(dist_sq) << LHS_SHIFT <= rhs {
        PathLoss::Plausible
    } else {
        PathLoss::TooStrongForDistance
    }
}

/// `(c / (4 pi f))^2` in Q32 for a carrier of `mhz` megahertz (rounded
/// down). For 915 MHz this is 2,919,707 (about 6.8e-4 m^2).
pub fn k_q32_for_mhz(mhz: u32) -> u32 {
    // (c / (4 pi f))^2 = (299_792_458 / (4 pi * mhz * 1e6))^2 m^2.
    // Computed in integers: c^2 * 2^32 / (16 pi^2 f^2), pi^2 approximated by
    // 9.869604401089358 as the rational 9_869_604_401 / 1e9.
    if mhz == 0 {
        return u32::MAX;
    }
    let c2: u128 = 299_792_458u128 * 299_792_458u128;
    let num = c2 * (1u128 << 32) * 1_000_000_000;
    let f = u128::from(mhz) * 1_000_000;
    let den = 16 * 9_869_604_401u128 * f * f;
    u32::try_from(num / den).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_floor_of_powers() {
        for (r, t) in TEN_POW_TENTHS_Q20.iter().enumerate() {
            let exact = 10f64.powf(r as f64 / 10.0) * (1u64 << 20) as f64;
            assert_eq!(*t, exact.floor() as u64, "r = {r}");
        }
    }

    #[test]
    fn k_for_915_mhz() {
        let k = k_q32_for_mhz(915);
        assert_eq!(k, 2_919_707);
        let exact = (299_792_458f64 / (4.0 * core::f64::consts::PI * 915e6)).powi(2);
        assert!((f64::from(k) / 2f64.powi(32) - exact).abs() / exact < 1e-6);
    }

    #[test]
    fn free_space_bound_matches_float_model() {
        let k = k_q32_for_mhz(915);
        // At 1 km and 915 MHz, FSPL is about 91.7 dB.
        let d2 = 1000u64 * 1000;
        assert_eq!(check_path_loss(d2, 27, 27 - 93, k), PathLoss::Plausible);
        assert_eq!(
            check_path_loss(d2, 27, 27 - 90, k),
            PathLoss::TooStrongForDistance
        );
        assert_eq!(
            check_path_loss(d2, 27, 28, k),
            PathLoss::StrongerThanTransmitted
        );
        assert_eq!(
            check_path_loss(d2, 27, 27 - 200, k),
            PathLoss::BelowSensitivity
        );
    }

    #[test]
    fn no_overflow_at_the_extremes() {
        let far = distance_sq((0, 0), (MAX_COORD, MAX_COORD)).unwrap();
        assert!(far < 1 << 63);
        assert_eq!(distance_sq((0, 0), (MAX_COORD + 1, 0)), None);
        assert_eq!(distance_sq((u32::MAX, 0), (0, u32::MAX)), None);
        assert!(dbm_in_domain(MIN_DBM) && !dbm_in_domain(MIN_DBM - 1));
        assert!(dbm_in_domain(MAX_DBM) && !dbm_in_domain(MAX_DBM + 1));
        // The largest constant and loss allow about 8.9e9 m: still exact.
        assert_eq!(
            check_path_loss(far, 36, 36 - 199, u32::MAX),
            PathLoss::Plausible
        );
        assert_eq!(
            check_path_loss(far, 36, 36 - 150, u32::MAX),
            PathLoss::TooStrongForDistance
        );
        assert!(max_dist_sq_scaled(199, u32::MAX).is_some());
    }
}
