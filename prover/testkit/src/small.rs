//! Small-capacity statement circuits built from the example epochs (a
//! prefix of their records, the device's chain head re-signed), so that
//! setup and proving take a second, not minutes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use depin_groth16::golden::CircuitVisitor;
use depin_statements::epoch::EpochInput;

use crate::examples;
use depin_statements::records::{HashChain, SignedHead};
use depin_statements::StatementKind;
use depin_statements_r1cs::bandwidth::BandwidthCircuit;
use depin_statements_r1cs::coverage::CoverageCircuit;
use depin_statements_r1cs::uptime::UptimeCircuit;

/// Records kept from each example epoch and the small circuit's capacity
/// (one padding slot): about 10k, 25k and 30k constraints.
pub fn small_size(kind: StatementKind) -> (usize, usize) {
    match kind {
        StatementKind::Uptime => (3, 4),
        StatementKind::Bandwidth => (1, 2),
        StatementKind::Coverage => (3, 4),
    }
}

/// The example keys (deterministic), written once under Cargo's target
/// temporary directory: into a fresh directory, then renamed into place, so
/// concurrent test processes never see a half-written key.
pub fn example_keys() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = crate::service::target_dir();
        std::fs::create_dir_all(&root).expect("the test cache directory");
        let dir = root.join("example-keys");
        if !dir.join("README.md").exists() {
            let fresh = tempfile::tempdir_in(&root).expect("tempdir");
            examples::write_example_keys(fresh.path()).expect("write example keys");
            // Another process may have won the race; its keys are the same.
            let kept = fresh.keep();
            if std::fs::rename(&kept, &dir).is_err() {
                let _ = std::fs::remove_dir_all(&kept);
            }
        }
        dir
    })
}

/// The example epoch of `kind`.
pub fn example(kind: StatementKind) -> EpochInput {
    examples::build(kind, example_keys()).expect("build example")
}

/// The example epoch cut to its first `n` records, the chain re-signed.
pub fn truncated(kind: StatementKind, n: usize) -> EpochInput {
    let mut epoch = example(kind);
    match &mut epoch {
        EpochInput::Uptime(e) => {
            e.heartbeats.truncate(n);
            let mut chain = HashChain::uptime(e.device.id(), e.epoch);
            for hb in &e.heartbeats {
                chain.push(hb.message());
            }
            let key = examples::example_private_key(examples::DEVICE_UPTIME);
            e.signed_head = SignedHead {
                head: chain.head(),
                signature: key.sign(&chain.head()),
            };
        }
        EpochInput::Bandwidth(e) => {
            e.receipts.truncate(n);
            let mut chain = HashChain::bandwidth(e.device.id(), e.epoch);
            for r in &e.receipts {
                chain.push(r.receipt.message());
            }
            let key = examples::example_private_key(examples::DEVICE_BANDWIDTH);
            e.signed_head = SignedHead {
                head: chain.head(),
                signature: key.sign(&chain.head()),
            };
        }
        EpochInput::Coverage(e) => e.reports.truncate(n),
    }
    epoch
}

/// Hands `kind`'s small circuit (the first records of the example, see
/// [`small_size`]) to `visitor`.
pub fn with_small<V: CircuitVisitor>(kind: StatementKind, visitor: V) -> V::Output {
    let (records, capacity) = small_size(kind);
    match truncated(kind, records) {
        EpochInput::Uptime(e) => visitor
            .visit(UptimeCircuit::with_capacity(&e.as_input(), capacity).expect("uptime circuit")),
        EpochInput::Bandwidth(e) => visitor.visit(
            BandwidthCircuit::with_capacity(&e.as_input(), capacity).expect("bandwidth circuit"),
        ),
        EpochInput::Coverage(e) => visitor.visit(
            CoverageCircuit::with_capacity(&e.as_input(), capacity).expect("coverage circuit"),
        ),
    }
}
