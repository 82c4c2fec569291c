//! Poseidon domain tags.
//!
//! Every hash this crate defines puts a tag first, so that messages of
//! different kinds never collide: a heartbeat can never be read as a receipt,
//! a claim or a policy, whatever its fields. A tag is the big-endian integer
//! of an ASCII string of at most 16 bytes (so below `2^128`, far below the
//! field modulus). In JavaScript:
//! `BigInt("0x" + Buffer.from("depin.uptime.hb").toString("hex"))`.
//!
//! A tag names a format: a record or policy whose fields change gets a new
//! tag (and policies also carry [`crate::STATEMENT_VERSION`]).

use depin_crypto::Fr;

/// The big-endian integer of an ASCII tag of at most 16 bytes. Only ever
/// evaluated at compile time (for the constants below), where a longer
/// string fails the build.
const fn ascii_tag(s: &[u8]) -> u128 {
    assert!(s.len() <= 16, "a domain tag has at most 16 bytes");
    let mut v: u128 = 0;
    let mut i = 0;
    while i < s.len() {
        v = (v << 8) | s[i] as u128;
        i += 1;
    }
    v
}

/// A tag as a field element.
pub fn fr(tag: u128) -> Fr {
    Fr::from(tag)
}

/// Uptime heartbeat message: `Poseidon(HEARTBEAT, slot, response, latency_ms)`.
pub const HEARTBEAT: u128 = ascii_tag(b"depin.uptime.hb");
/// Uptime hash-chain genesis: `Poseidon(UPTIME_CHAIN, device_id, epoch)`.
pub const UPTIME_CHAIN: u128 = ascii_tag(b"depin.uptime.gen");
/// Uptime slot challenge: `Poseidon(CHALLENGE, beacon, device_id, slot)`.
pub const CHALLENGE: u128 = ascii_tag(b"depin.uptime.chl");
/// Bandwidth session receipt message.
pub const RECEIPT: u128 = ascii_tag(b"depin.bw.receipt");
/// Bandwidth hash-chain genesis: `Poseidon(BANDWIDTH_CHAIN, device_id, epoch)`.
pub const BANDWIDTH_CHAIN: u128 = ascii_tag(b"depin.bw.gen");
/// Coverage witness report message.
pub const WITNESS_REPORT: u128 = ascii_tag(b"depin.cov.report");
/// Coverage device claim message.
pub const COVERAGE_CLAIM: u128 = ascii_tag(b"depin.cov.claim");
/// Coverage beacon id: `Poseidon(BEACON_ID, beacon, device_id)`.
pub const BEACON_ID: u128 = ascii_tag(b"depin.cov.beacon");
/// Nullifier: `Poseidon(NULLIFIER, device_id, epoch, kind)`.
pub const NULLIFIER: u128 = ascii_tag(b"depin.nullifier");
/// Uptime policy hash.
pub const UPTIME_POLICY: u128 = ascii_tag(b"depin.pol.uptime");
/// Bandwidth policy hash.
pub const BANDWIDTH_POLICY: u128 = ascii_tag(b"depin.pol.bw");
/// Coverage policy hash.
pub const COVERAGE_POLICY: u128 = ascii_tag(b"depin.pol.cov");

/// A device's request to prove its epoch:
/// `Poseidon(PROVE_REQUEST, device_id, kind, epoch, beacon)`. Signed by the
/// device, never part of a statement.
pub const PROVE_REQUEST: u128 = ascii_tag(b"depin.prove.req");

/// Every tag with its string, for tests and documentation.
pub const ALL: [(&str, u128); 13] = [
    ("depin.uptime.hb", HEARTBEAT),
    ("depin.uptime.gen", UPTIME_CHAIN),
    ("depin.uptime.chl", CHALLENGE),
    ("depin.bw.receipt", RECEIPT),
    ("depin.bw.gen", BANDWIDTH_CHAIN),
    ("depin.cov.report", WITNESS_REPORT),
    ("depin.cov.claim", COVERAGE_CLAIM),
    ("depin.cov.beacon", BEACON_ID),
    ("depin.nullifier", NULLIFIER),
    ("depin.pol.uptime", UPTIME_POLICY),
    ("depin.pol.bw", BANDWIDTH_POLICY),
    ("depin.pol.cov", COVERAGE_POLICY),
    ("depin.prove.req", PROVE_REQUEST),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_distinct_and_match_their_strings() {
        for (i, (s, t)) in ALL.iter().enumerate() {
            let mut v = 0u128;
            for b in s.bytes() {
                v = (v << 8) | u128::from(b);
            }
            assert_eq!(v, *t, "{s}");
            assert!(*t != 0);
            for (s2, t2) in &ALL[i + 1..] {
                assert_ne!(t, t2, "{s} and {s2}");
            }
        }
    }

    #[test]
    fn heartbeat_tag_value() {
        // 0x646570696e2e757074696d652e6862 ("depin.uptime.hb").
        assert_eq!(HEARTBEAT, 0x0064_6570_696e_2e75_7074_696d_652e_6862);
    }
}
