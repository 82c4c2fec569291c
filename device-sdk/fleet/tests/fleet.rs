//! The fleet simulator against the real prover service (in process, no
//! proving keys): every honest record is accepted, every cheater's record
//! gets its cheat's reason, and a second run changes nothing.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use depin_device_sdk::client::RecordOutcome;
use depin_fleet::{Behaviour, CheatKind, Fleet, FleetConfig, Phase, Progress, ProgressFn};
use depin_service::start;
use depin_statements::StatementKind;

use depin_testkit::service as support;

const TOKEN: &str = "fleet-test-operator-token-0123";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_records_are_accepted_and_each_cheat_gets_its_reason() {
    let data = tempfile::tempdir().unwrap();
    let server = start(support::ingest_config(data.path(), TOKEN))
        .await
        .unwrap();
    let url = format!("http://{}", server.addr);

    let config = FleetConfig {
        cheater_fraction: 0.6,
        slots_per_epoch: 24,
        seed: 11,
        concurrency: 4,
        ..FleetConfig::new(10, 3)
    };
    let fleet = Fleet::new(config).unwrap();
    let kinds: BTreeSet<CheatKind> = fleet
        .devices()
        .iter()
        .filter_map(|d| match d.behaviour {
            Behaviour::Cheater(k) => Some(k),
            Behaviour::Honest => None,
        })
        .collect();
    assert_eq!(
        kinds.len(),
        CheatKind::ALL.len(),
        "every cheat kind appears"
    );
    let honest: BTreeSet<StatementKind> = fleet
        .devices()
        .iter()
        .filter(|d| d.behaviour.is_honest())
        .map(|d| d.statement)
        .collect();
    assert_eq!(honest.len(), 3, "honest devices cover every statement");

    let submitted = Arc::new(AtomicU64::new(0));
    let seen = submitted.clone();
    let progress: ProgressFn = Arc::new(move |p: Progress| {
        if p.phase == Phase::Submitting {
            seen.fetch_max(p.done, Ordering::Relaxed);
        }
    });
    let (setup, report) = fleet.run(&url, TOKEN, progress.clone()).await.unwrap();
    assert!(setup.published);
    assert_eq!(
        setup.registered_devices,
        10 + 3,
        "devices and the spoofer's witnesses"
    );
    assert_eq!(setup.clients_in_registry.len(), fleet.clients().len());
    assert_eq!(submitted.load(Ordering::Relaxed), 10);

    for d in &report.devices {
        assert!(d.errors.is_empty() && d.failed == 0, "{d:?}");
        assert!(d.sent > 0, "{d:?}");
        if d.statement == StatementKind::Coverage {
            assert_eq!(d.claim, Some(RecordOutcome::Accepted), "{d:?}");
        }
        match d.behaviour {
            Behaviour::Honest => {
                assert_eq!(d.accepted, d.sent, "{d:?}");
                assert!(d.reasons().is_empty(), "{d:?}");
                if d.statement == StatementKind::Coverage {
                    assert!(d.accepted >= setup.coverage.min_witnesses, "{d:?}");
                }
            }
            Behaviour::Cheater(kind) => {
                assert_eq!(d.accepted, 0, "{d:?}");
                let reason = kind.expected_reason();
                let reasons = d.reasons();
                assert_eq!(reasons.len(), 1, "{kind}: {d:?}");
                assert_eq!(reasons.get(&reason), Some(&d.sent), "{kind}: {d:?}");
                // Where the service decides it.
                let decided = match kind {
                    CheatKind::ForeignSignature | CheatKind::SelfWitness => &d.refused,
                    CheatKind::SpoofedCoverage => &d.rejected_when_proving,
                    CheatKind::ReplayedRecords
                    | CheatKind::ImplausibleBandwidth
                    | CheatKind::OutsideEpoch => &d.rejected,
                };
                assert_eq!(decided.get(&reason), Some(&d.sent), "{kind}: {d:?}");
            }
        }
    }
    assert_eq!(report.honest.accepted, report.honest.sent);
    assert_eq!(report.cheaters.accepted, 0);
    assert!(report.by_reason.values().all(|t| t.honest == 0));

    // Again: nothing new is registered or published, the records are the
    // same and the service answers them with the same verdicts.
    let (again, report2) = fleet.run(&url, TOKEN, progress).await.unwrap();
    assert!(!again.published);
    assert_eq!(again.registered_devices, 0);
    assert_eq!(again.beacon, setup.beacon);
    assert_eq!(report2.devices, report.devices);

    server.shutdown();
    server.wait().await.unwrap();
}
