//! Known answers, computed independently with circomlibjs (the pinned
//! `tools/js` copy): `F.toString(poseidon([tag, ...]))` with each tag as
//! `BigInt("0x" + Buffer.from(name).toString("hex"))`. A failure here means
//! a message, hash or tag format changed: bump `STATEMENT_VERSION` and the
//! tags instead.

use crate::policy::{BandwidthPolicy, UptimePolicy};
use crate::public::{nullifier, StatementKind};
use crate::records::{
    beacon_id, challenge, uptime_genesis, CoverageClaim, Heartbeat, Location, SessionReceipt,
};
use crate::tags;
use depin_crypto::poseidon::hash_n;
use depin_crypto::{fr_from_decimal, Fr};

fn fr(s: &str) -> Fr {
    fr_from_decimal(s).unwrap()
}

#[test]
fn formats_match_circomlibjs() {
    let d = Fr::from(1u64);
    let cases: [(Fr, &str); 9] = [
        (
            nullifier(d, 2, StatementKind::Uptime),
            "4094567290763026606468964948165621231202645975632284698796959585803242051838",
        ),
        (
            challenge(Fr::from(3u64), d, 4),
            "10092964261381377229420454798837330305191572308235748473394970767508344434125",
        ),
        (
            Heartbeat {
                slot: 4,
                response: Fr::from(5u64),
                latency_ms: 6,
            }
            .message(),
            "13620864753363292786459160464806907294941496581980802964461594886070593041168",
        ),
        (
            uptime_genesis(d, 2),
            "15123209700612360055301744131568619064621268725812712474577574909478443659834",
        ),
        (
            SessionReceipt {
                device_id: d,
                client_id: Fr::from(2u64),
                epoch: 3,
                session: 4,
                bytes: 5,
                duration_s: 6,
            }
            .message(),
            "2207523217190336423027183181537318724978516040737612204924823656364198037975",
        ),
        (
            beacon_id(Fr::from(3u64), d),
            "21551975327981479572062684159378137960753641221516283886756327446928452450130",
        ),
        (
            CoverageClaim {
                device_id: d,
                epoch: 2,
                location: Location { x: 3, y: 4 },
                beacon_id: Fr::from(5u64),
            }
            .message(),
            "4788108698295974440668050020972867398117024971676966502034243005801136896448",
        ),
        (
            UptimePolicy {
                slots_per_epoch: 96,
                floor_slots: 10,
                max_latency_ms: 200,
                base_reward: 100,
                reward_per_slot: 5,
                reward_cap: 100_000,
            }
            .hash(),
            "8922157822802136402485470814756429155431016929557093829708709506636313988171",
        ),
        (
            BandwidthPolicy {
                max_bytes_per_s: 1_000_000,
                rate_num: 1,
                rate_shift: 10,
                reward_cap: 1_000_000_000,
            }
            .hash(),
            "4673373573451018337620154182564155992020900637391975755892347035822092335644",
        ),
    ];
    for (i, (got, want)) in cases.iter().enumerate() {
        assert_eq!(*got, fr(want), "case {i}");
    }
    // A negative RSSI enters the report message as p - 90.
    let z = Fr::from(0u64);
    assert_eq!(
        hash_n(&[
            tags::fr(tags::WITNESS_REPORT),
            z,
            z,
            z,
            Fr::from(-90i32),
            z,
            z
        ]),
        fr("1217590644117678801765655563089788913865572058306911272467036965184445483198")
    );
}
