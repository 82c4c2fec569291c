//! A simulated fleet of devices driving a running prover service.
//!
//! [`Fleet::new`] derives every key from [`FleetConfig::seed`] and gives
//! each device a statement (uptime, bandwidth, coverage) and a behaviour:
//! honest, or one of the [`CheatKind`]s. [`Fleet::prepare`] registers the
//! devices and the bandwidth clients with the operator API and publishes
//! the epoch (beacon and policies) unless it is published already;
//! [`Fleet::submit`] makes each device's records for the epoch and submits
//! them over gRPC, concurrently over devices, and returns a
//! [`FleetReport`] of the service's verdicts. [`Fleet::run`] does both.
//! Everything is idempotent: the same configuration run again registers
//! nothing new, publishes nothing, makes the same records and gets the
//! same verdicts (the service answers a resent record with its first
//! verdict).
//!
//! **Honest devices** produce realistic epochs: uptime devices miss a few
//! heartbeats ([`FleetConfig::missed_heartbeats`]) and report latencies
//! within the policy's bound; bandwidth devices serve a mix of sessions to
//! registered clients within the throughput bound; coverage devices claim
//! their location and are witnessed by up to
//! [`FleetConfig::witnesses_per_device`] honest neighbours (any honest
//! device of the fleet acts as a witness) at plausible distances, with a
//! signal weaker than free-space path loss allows.
//!
//! **Cheaters** send only cheating records, so that a correct prover gives
//! them a reward of 0; each [`CheatKind`] has the statement it attacks and
//! the [`RejectReason`] the service must give
//! ([`CheatKind::expected_reason`]). Cheat kinds are assigned round-robin
//! over the cheaters, so every kind appears once the fleet has at least
//! [`CheatKind::ALL`]`.len()` cheaters.
//!
//! The distance and path-loss rules of coverage are decided by the service
//! when it proves (they need the device's claimed location), so at ingest
//! it accepts such witness reports. The report therefore also gives, for
//! coverage, the verdicts of the native reference
//! ([`depin_statements::coverage::evaluate`]) over the reports the service
//! accepted: [`DeviceReport::rejected_when_proving`].
//!
//! Locations are laid out on a jittered grid in integer metres; payout
//! addresses are not modelled.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ark_ff::PrimeField;
use depin_crypto::eddsa::{PrivateKey, PublicKey};
use depin_crypto::field::fr_from_decimal;
use depin_crypto::geo::{check_path_loss, distance_sq, k_q32_for_mhz, PathLoss};
use depin_crypto::Fr;
use depin_statements::coverage::{evaluate, CoverageInput};
use depin_statements::records::{
    beacon_id, Heartbeat, Location, SessionReceipt, SignedWitnessReport,
};
use depin_statements::{
    BandwidthPolicy, CoveragePolicy, RejectReason, StatementKind, UptimePolicy, Verdict,
};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tonic::Code;

use depin_device_sdk::client::{
    pb, signature, BandwidthChain, ClientConfig, ClientError, ClientReceipt, OperatorClient,
    ProverClient, RecordOutcome, UptimeChain,
};
use depin_device_sdk::signer::{Device, SignedClaim};
use depin_device_sdk::submit::to_request;
use depin_device_sdk::wire::SignedRecord;
use depin_proto::convert;

/// How a cheater cheats. Each kind attacks one statement and must be
/// refused or rejected for one reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheatKind {
    /// Uptime: resubmits heartbeats made for another device, or for an
    /// earlier epoch's beacon, in its own (validly signed) chain; the
    /// challenge binds device and beacon (`wrong_challenge`, stored and
    /// rejected).
    ReplayedRecords,
    /// Uptime: signs its chain heads with a key that is not the registered
    /// one (`bad_signature`, refused).
    ForeignSignature,
    /// Bandwidth: receipts co-signed by a colluding registered client that
    /// claim more bytes than the duration allows at the policy's maximum
    /// rate (`implausible_throughput`, stored and rejected).
    ImplausibleBandwidth,
    /// Coverage: witness reports from the cheater's own witnesses with a
    /// signal far stronger than free space allows at their distance
    /// (`signal_too_strong`, decided when proving).
    SpoofedCoverage,
    /// Coverage: the device witnesses its own beacon (`self_witness`,
    /// refused).
    SelfWitness,
    /// Uptime: heartbeats for slots past the epoch's last slot
    /// (`out_of_epoch`, stored and rejected).
    OutsideEpoch,
}

impl CheatKind {
    /// Every kind, in the order cheaters are assigned them.
    pub const ALL: [CheatKind; 6] = [
        CheatKind::ReplayedRecords,
        CheatKind::ForeignSignature,
        CheatKind::ImplausibleBandwidth,
        CheatKind::SpoofedCoverage,
        CheatKind::SelfWitness,
        CheatKind::OutsideEpoch,
    ];

    /// A stable snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CheatKind::ReplayedRecords => "replayed_records",
            CheatKind::ForeignSignature => "foreign_signature",
            CheatKind::ImplausibleBandwidth => "implausible_bandwidth",
            CheatKind::SpoofedCoverage => "spoofed_coverage",
            CheatKind::SelfWitness => "self_witness",
            CheatKind::OutsideEpoch => "outside_epoch",
        }
    }

    /// The statement the cheat attacks.
    pub const fn statement(self) -> StatementKind {
        match self {
            CheatKind::ReplayedRecords | CheatKind::ForeignSignature | CheatKind::OutsideEpoch => {
                StatementKind::Uptime
            }
            CheatKind::ImplausibleBandwidth => StatementKind::Bandwidth,
            CheatKind::SpoofedCoverage | CheatKind::SelfWitness => StatementKind::Coverage,
        }
    }

    /// The reason every one of the cheater's records must get.
    pub const fn expected_reason(self) -> RejectReason {
        match self {
            CheatKind::ReplayedRecords => RejectReason::WrongChallenge,
            CheatKind::ForeignSignature => RejectReason::BadSignature,
            CheatKind::ImplausibleBandwidth => RejectReason::ImplausibleThroughput,
            CheatKind::SpoofedCoverage => RejectReason::SignalTooStrong,
            CheatKind::SelfWitness => RejectReason::SelfWitness,
            CheatKind::OutsideEpoch => RejectReason::OutOfEpoch,
        }
    }
}

impl core::fmt::Display for CheatKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a device is honest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Behaviour {
    /// Sends realistic, valid records.
    Honest,
    /// Sends only records of this cheat.
    Cheater(CheatKind),
}

impl Behaviour {
    /// Whether the device is honest.
    pub const fn is_honest(self) -> bool {
        matches!(self, Behaviour::Honest)
    }

    /// `honest`, or the cheat kind's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Behaviour::Honest => "honest",
            Behaviour::Cheater(k) => k.as_str(),
        }
    }
}

/// The fleet's parameters. [`FleetConfig::new`] or [`Default`], then set
/// the fields or use the `with_*` methods.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// Number of devices (not counting the cheaters' extra witness keys and
    /// the bandwidth clients).
    pub devices: usize,
    /// The epoch to submit records for.
    pub epoch: u32,
    /// Fraction of the devices that cheat, `0.0..=1.0` (rounded to the
    /// nearest count).
    pub cheater_fraction: f64,
    /// Seed of every key, role, location and record.
    pub seed: u64,
    /// Uptime slots per epoch when this fleet publishes the epoch
    /// (`1..=96`); an already published epoch keeps its policy.
    pub slots_per_epoch: u32,
    /// The beacon to publish; `None` derives one from the seed and epoch.
    /// An already published epoch keeps its beacon.
    pub beacon: Option<Fr>,
    /// Probability that an honest uptime device misses a heartbeat.
    pub missed_heartbeats: f64,
    /// Bandwidth clients registered (honest devices serve them).
    pub clients: usize,
    /// Honest witnesses per coverage device, at most (`1..=16`).
    pub witnesses_per_device: usize,
    /// Records per `SubmitRecords` request (`>= 1`).
    pub batch_size: usize,
    /// Devices submitting (or being registered) at once (`>= 1`).
    pub concurrency: usize,
    /// Deadlines and retries of every call.
    pub client: ClientConfig,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            devices: 100,
            epoch: 1,
            cheater_fraction: 0.2,
            seed: 1,
            slots_per_epoch: 96,
            beacon: None,
            missed_heartbeats: 0.05,
            clients: 8,
            witnesses_per_device: 5,
            batch_size: 32,
            concurrency: 16,
            client: ClientConfig::default(),
        }
    }
}

impl FleetConfig {
    /// `devices` devices submitting for `epoch`, other fields default.
    pub fn new(devices: usize, epoch: u32) -> Self {
        FleetConfig {
            devices,
            epoch,
            ..FleetConfig::default()
        }
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the fraction of cheaters.
    pub fn with_cheater_fraction(mut self, fraction: f64) -> Self {
        self.cheater_fraction = fraction;
        self
    }

    /// Sets the uptime slots per epoch (used when publishing).
    pub fn with_slots_per_epoch(mut self, slots: u32) -> Self {
        self.slots_per_epoch = slots;
        self
    }

    /// Sets the concurrency.
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }

    /// Sets the client's deadlines and retries.
    pub fn with_client(mut self, client: ClientConfig) -> Self {
        self.client = client;
        self
    }

    fn validate(&self) -> Result<(), FleetError> {
        let bad = |m: &str| Err(FleetError::Config(m.into()));
        if self.devices == 0 {
            return bad("devices must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.cheater_fraction) {
            return bad("cheater_fraction must be within 0..=1");
        }
        if !(0.0..1.0).contains(&self.missed_heartbeats) {
            return bad("missed_heartbeats must be within 0..1");
        }
        if !(1..=96).contains(&self.slots_per_epoch) {
            return bad("slots_per_epoch must be within 1..=96");
        }
        if self.clients == 0 || self.clients > 1 << 16 {
            return bad("clients must be within 1..=65536");
        }
        if !(1..=16).contains(&self.witnesses_per_device) {
            return bad("witnesses_per_device must be within 1..=16");
        }
        if self.batch_size == 0 || self.concurrency == 0 {
            return bad("batch_size and concurrency must be at least 1");
        }
        Ok(())
    }
}

/// Why the fleet could not run.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The configuration is invalid.
    #[error("invalid fleet configuration: {0}")]
    Config(String),
    /// A call the whole run depends on (connecting, registering,
    /// publishing) failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The epoch's published policy cannot be read.
    #[error("epoch {epoch}'s published policy: {reason}")]
    Policy {
        /// The epoch.
        epoch: u32,
        /// What is wrong.
        reason: String,
    },
    /// The epoch was published before any of the fleet's clients was
    /// registered, so its client registry holds none of them.
    #[error(
        "epoch {epoch} was published before the fleet's bandwidth clients were registered: \
         its registry holds none of them (simulate a later epoch)"
    )]
    NoRegisteredClients {
        /// The epoch.
        epoch: u32,
    },
    /// A worker task panicked or was cancelled.
    #[error("fleet task failed: {0}")]
    Task(String),
}

/// One simulated device.
#[derive(Debug, Clone)]
pub struct FleetDevice {
    /// Its position in the fleet.
    pub index: usize,
    /// Its id, `Poseidon(A.x, A.y)`.
    pub id: Fr,
    /// Its public key.
    pub public_key: PublicKey,
    /// The statement it earns with.
    pub statement: StatementKind,
    /// Honest, or how it cheats.
    pub behaviour: Behaviour,
    device: Device,
}

impl FleetDevice {
    /// The device's signing key (derived from the seed).
    pub fn key(&self) -> &PrivateKey {
        self.device.key()
    }

    /// The device's signed request for the proof of its statement in
    /// `epoch` (published with `beacon`): what a prover takes while the
    /// epoch still takes records.
    pub fn prove_request(&self, epoch: u32, beacon: Fr) -> pb::ProveEpochRequest {
        depin_device_sdk::client::prove_request(
            &self.device,
            convert::kind_to_pb(self.statement),
            epoch,
            beacon,
        )
    }
}

/// A phase of the run, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Registering devices and clients, publishing the epoch; counted in
    /// registrations.
    Registering,
    /// Submitting records; counted in devices done.
    Submitting,
}

/// Progress of a phase: `done` of `total` units, and records answered so
/// far (submitting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The phase.
    pub phase: Phase,
    /// Units done.
    pub done: u64,
    /// Units in the phase.
    pub total: u64,
    /// Records answered by the service so far.
    pub records: u64,
}

/// A progress callback, called from the fleet's tasks.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// A progress callback that ignores progress.
pub fn no_progress() -> ProgressFn {
    Arc::new(|_| {})
}

/// The epoch as published, and what [`Fleet::prepare`] did.
#[derive(Debug, Clone)]
pub struct EpochSetup {
    /// The epoch.
    pub epoch: u32,
    /// Its beacon.
    pub beacon: Fr,
    /// Its uptime policy.
    pub uptime: UptimePolicy,
    /// Its bandwidth policy.
    pub bandwidth: BandwidthPolicy,
    /// Its coverage policy.
    pub coverage: CoveragePolicy,
    /// Whether this call published the epoch (false: it was published).
    pub published: bool,
    /// Devices (and cheaters' witness keys) this call registered; the
    /// others were registered already.
    pub registered_devices: usize,
    /// Indices of the fleet's clients in the epoch's client registry (the
    /// snapshot taken when it was published).
    pub clients_in_registry: Vec<usize>,
}

/// The service's verdicts on one device's records.
///
/// A device's records are those that decide its reward: its heartbeats or
/// receipts, and for coverage the witness reports of its beacon (whoever
/// submitted them); its coverage claim is counted apart ([`Self::claim`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceReport {
    /// The device's index in the fleet.
    pub index: usize,
    /// Its id.
    pub id: Fr,
    /// Its statement.
    pub statement: StatementKind,
    /// Honest, or its cheat.
    pub behaviour: Behaviour,
    /// Records sent.
    pub sent: u32,
    /// Records accepted (for coverage: accepted at ingest and by the
    /// rules decided when proving).
    pub accepted: u32,
    /// Records stored but rejected at ingest, by reason.
    pub rejected: BTreeMap<RejectReason, u32>,
    /// Records refused at ingest (not stored), by reason.
    pub refused: BTreeMap<RejectReason, u32>,
    /// Coverage witness reports accepted at ingest that the native
    /// reference rejects for the rules the service decides when proving
    /// (distance, path loss), by reason.
    pub rejected_when_proving: BTreeMap<RejectReason, u32>,
    /// Records without a verdict (the call failed; see `errors`).
    pub failed: u32,
    /// The verdict on the coverage claim (coverage devices).
    pub claim: Option<RecordOutcome>,
    /// Errors of the calls that carried this device's records.
    pub errors: Vec<String>,
}

impl DeviceReport {
    fn new(d: &FleetDevice) -> Self {
        DeviceReport {
            index: d.index,
            id: d.id,
            statement: d.statement,
            behaviour: d.behaviour,
            sent: 0,
            accepted: 0,
            rejected: BTreeMap::new(),
            refused: BTreeMap::new(),
            rejected_when_proving: BTreeMap::new(),
            failed: 0,
            claim: None,
            errors: Vec::new(),
        }
    }

    /// Every record not accepted, by reason (rejected, refused or rejected
    /// when proving).
    pub fn reasons(&self) -> BTreeMap<RejectReason, u32> {
        let mut all = self.rejected.clone();
        for (r, n) in self.refused.iter().chain(&self.rejected_when_proving) {
            *all.entry(*r).or_default() += n;
        }
        all
    }

    fn count(&mut self, o: RecordOutcome) {
        match o {
            RecordOutcome::Accepted => self.accepted += 1,
            RecordOutcome::Rejected(r) => *self.rejected.entry(r).or_default() += 1,
            RecordOutcome::Refused(r) => *self.refused.entry(r).or_default() += 1,
        }
    }
}

/// Sums over a set of devices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Devices.
    pub devices: u64,
    /// Records sent.
    pub sent: u64,
    /// Records accepted.
    pub accepted: u64,
    /// Records stored but rejected at ingest.
    pub rejected: u64,
    /// Records refused at ingest.
    pub refused: u64,
    /// Coverage reports rejected by the rules decided when proving.
    pub rejected_when_proving: u64,
    /// Records without a verdict.
    pub failed: u64,
}

impl Totals {
    fn add(&mut self, d: &DeviceReport) {
        let sum = |m: &BTreeMap<RejectReason, u32>| m.values().map(|v| u64::from(*v)).sum::<u64>();
        self.devices += 1;
        self.sent += u64::from(d.sent);
        self.accepted += u64::from(d.accepted);
        self.rejected += sum(&d.rejected);
        self.refused += sum(&d.refused);
        self.rejected_when_proving += sum(&d.rejected_when_proving);
        self.failed += u64::from(d.failed);
    }
}

/// Records not accepted for one reason, split by honest devices and
/// cheaters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReasonTotals {
    /// Honest devices' records.
    pub honest: u64,
    /// Cheaters' records.
    pub cheaters: u64,
}

/// What the service made of the fleet's records.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetReport {
    /// The epoch.
    pub epoch: u32,
    /// One report per device, in fleet order.
    pub devices: Vec<DeviceReport>,
    /// Sums per statement (honest and cheaters).
    pub by_statement: BTreeMap<StatementKind, Totals>,
    /// Sums over honest devices.
    pub honest: Totals,
    /// Sums over cheaters.
    pub cheaters: Totals,
    /// Records not accepted, by reason.
    pub by_reason: BTreeMap<RejectReason, ReasonTotals>,
    /// Wall time of the submission.
    pub elapsed: Duration,
}

impl FleetReport {
    fn from_devices(epoch: u32, devices: Vec<DeviceReport>, elapsed: Duration) -> Self {
        let mut r = FleetReport {
            epoch,
            by_statement: BTreeMap::new(),
            honest: Totals::default(),
            cheaters: Totals::default(),
            by_reason: BTreeMap::new(),
            devices: Vec::new(),
            elapsed,
        };
        for d in &devices {
            r.by_statement.entry(d.statement).or_default().add(d);
            let honest = d.behaviour.is_honest();
            if honest {
                r.honest.add(d);
            } else {
                r.cheaters.add(d);
            }
            for (reason, n) in d.reasons() {
                let t = r.by_reason.entry(reason).or_default();
                if honest {
                    t.honest += u64::from(n);
                } else {
                    t.cheaters += u64::from(n);
                }
            }
        }
        r.devices = devices;
        r
    }

    /// Sums over the devices `keep` selects.
    pub fn totals_where(&self, keep: impl Fn(&DeviceReport) -> bool) -> Totals {
        let mut t = Totals::default();
        for d in self.devices.iter().filter(|d| keep(d)) {
            t.add(d);
        }
        t
    }
}

// Key derivation roles.
const ROLE_DEVICE: u8 = 1;
const ROLE_CLIENT: u8 = 2;
const ROLE_SYBIL: u8 = 3;
const ROLE_FOREIGN: u8 = 4;
const ROLE_RECORDS: u8 = 5;
const ROLE_ROLES: u8 = 6;
const ROLE_BEACON: u8 = 7;
const ROLE_LAYOUT: u8 = 8;

/// Witness keys a [`CheatKind::SpoofedCoverage`] cheater controls.
const SYBILS: usize = 3;

fn rng(seed: u64, role: u8, index: u64) -> ChaCha20Rng {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s[8] = role;
    s[9..17].copy_from_slice(&index.to_le_bytes());
    s[17..].copy_from_slice(b"depin-fleet-sim");
    ChaCha20Rng::from_seed(s)
}

fn derive_key(seed: u64, role: u8, index: u64) -> PrivateKey {
    let mut k = [0u8; 32];
    rng(seed, role, index).fill_bytes(&mut k);
    PrivateKey::from_bytes(k)
}

fn derive_beacon(seed: u64, epoch: u32) -> Fr {
    let mut b = [0u8; 64];
    rng(seed, ROLE_BEACON, u64::from(epoch)).fill_bytes(&mut b);
    Fr::from_le_bytes_mod_order(&b)
}

/// The simulated fleet: keys, statements and behaviours.
#[derive(Debug, Clone)]
pub struct Fleet {
    config: FleetConfig,
    devices: Vec<FleetDevice>,
    clients: Vec<PrivateKey>,
    /// The witness keys of each spoofing cheater (empty for others).
    sybils: Vec<Vec<Device>>,
}

impl Fleet {
    /// Derives the fleet's keys and roles from the configuration.
    pub fn new(config: FleetConfig) -> Result<Fleet, FleetError> {
        config.validate()?;
        let n = config.devices;
        let cheaters = ((n as f64) * config.cheater_fraction).round() as usize;
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng(config.seed, ROLE_ROLES, 0));
        let mut is_cheater = vec![false; n];
        for i in order.into_iter().take(cheaters.min(n)) {
            is_cheater[i] = true;
        }
        const HONEST: [StatementKind; 3] = [
            StatementKind::Uptime,
            StatementKind::Bandwidth,
            StatementKind::Coverage,
        ];
        let (mut honest_seen, mut cheat_seen) = (0, 0);
        let mut devices = Vec::with_capacity(n);
        let mut sybils = Vec::with_capacity(n);
        for (i, cheat) in is_cheater.into_iter().enumerate() {
            let behaviour = if cheat {
                cheat_seen += 1;
                Behaviour::Cheater(CheatKind::ALL[(cheat_seen - 1) % CheatKind::ALL.len()])
            } else {
                honest_seen += 1;
                Behaviour::Honest
            };
            let statement = match behaviour {
                Behaviour::Honest => HONEST[(honest_seen - 1) % HONEST.len()],
                Behaviour::Cheater(k) => k.statement(),
            };
            let device = Device::new(derive_key(config.seed, ROLE_DEVICE, i as u64));
            sybils.push(match behaviour {
                Behaviour::Cheater(CheatKind::SpoofedCoverage) => (0..SYBILS)
                    .map(|j| {
                        Device::new(derive_key(config.seed, ROLE_SYBIL, (i * SYBILS + j) as u64))
                    })
                    .collect(),
                _ => Vec::new(),
            });
            devices.push(FleetDevice {
                index: i,
                id: device.id(),
                public_key: device.public_key(),
                statement,
                behaviour,
                device,
            });
        }
        let clients = (0..config.clients)
            .map(|j| derive_key(config.seed, ROLE_CLIENT, j as u64))
            .collect();
        Ok(Fleet {
            config,
            devices,
            clients,
            sybils,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &FleetConfig {
        &self.config
    }

    /// The devices, in fleet order.
    pub fn devices(&self) -> &[FleetDevice] {
        &self.devices
    }

    /// The bandwidth clients' keys.
    pub fn clients(&self) -> &[PrivateKey] {
        &self.clients
    }

    /// The policies this fleet publishes for an epoch nobody published.
    pub fn publish_request(&self) -> pb::PublishEpochRequest {
        let c = &self.config;
        let uptime = UptimePolicy {
            slots_per_epoch: c.slots_per_epoch,
            floor_slots: c.slots_per_epoch.div_ceil(2),
            max_latency_ms: 250,
            base_reward: 100,
            reward_per_slot: 10,
            reward_cap: 1_000,
        };
        let bandwidth = BandwidthPolicy {
            max_bytes_per_s: 1 << 20,
            rate_num: 1,
            rate_shift: 20,
            reward_cap: 1_000_000,
        };
        let coverage = CoveragePolicy {
            min_witnesses: 2,
            reward_per_witness: 50,
            reward_cap: 400,
            min_distance_m: 300,
            max_distance_m: 20_000,
            eirp_dbm: 27,
            k_q32: k_q32_for_mhz(915),
            cell_bits: 12,
        };
        let beacon = c.beacon.unwrap_or_else(|| derive_beacon(c.seed, c.epoch));
        convert::publish_epoch_pb(c.epoch, &beacon, &uptime, &bandwidth, &coverage)
    }

    /// Registers every device (and the spoofing cheaters' witness keys)
    /// and every client, then publishes the epoch unless it is published
    /// already (an epoch is immutable: a published one is used as it is).
    /// Safe to call again.
    pub async fn prepare(
        &self,
        operator: &OperatorClient,
        prover: &ProverClient,
        progress: ProgressFn,
    ) -> Result<EpochSetup, FleetError> {
        let keys: Vec<PublicKey> = self
            .devices
            .iter()
            .map(|d| d.public_key)
            .chain(self.sybils.iter().flatten().map(|s| s.public_key()))
            .collect();
        let total = (keys.len() + self.clients.len() + 1) as u64;
        let done = Arc::new(AtomicU64::new(0));
        let tick = {
            let done = done.clone();
            let progress = progress.clone();
            move || {
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(Progress {
                    phase: Phase::Registering,
                    done: d,
                    total,
                    records: 0,
                })
            }
        };
        // Devices, concurrently.
        let sem = Arc::new(Semaphore::new(self.config.concurrency));
        let mut set = JoinSet::new();
        for key in keys {
            let mut op = operator.clone();
            let sem = sem.clone();
            let tick = tick.clone();
            set.spawn(async move {
                let _permit = sem.acquire_owned().await;
                let r = op.register_device(&key).await.map(|r| r.created);
                tick();
                r
            });
        }
        let mut registered_devices = 0;
        while let Some(r) = set.join_next().await {
            if r.map_err(|e| FleetError::Task(e.to_string()))?? {
                registered_devices += 1;
            }
        }
        // Clients, in order (their registry indices are assigned in order).
        let mut op = operator.clone();
        let mut indices = Vec::with_capacity(self.clients.len());
        for c in &self.clients {
            indices.push(op.register_client(&c.public_key()).await?.index);
            tick();
        }
        let mut prover = prover.clone();
        let epoch = self.config.epoch;
        let (published, created) = match prover.get_policy(epoch).await {
            Ok(p) => (p, false),
            Err(ClientError::Status(s)) if s.code() == Code::NotFound => {
                match op.publish_epoch(self.publish_request()).await {
                    Ok(r) => (
                        r.published.ok_or_else(|| FleetError::Policy {
                            epoch,
                            reason: "PublishEpoch answered without the epoch".into(),
                        })?,
                        r.created,
                    ),
                    // Published meanwhile by someone else, with other values.
                    Err(ClientError::Status(s)) if s.code() == Code::AlreadyExists => {
                        (prover.get_policy(epoch).await?, false)
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        tick();
        let mut setup = epoch_setup(&published)?;
        setup.published = created;
        setup.registered_devices = registered_devices;
        setup.clients_in_registry = indices
            .iter()
            .enumerate()
            .filter(|(_, i)| **i < published.registry_size)
            .map(|(j, _)| j)
            .collect();
        let has_bandwidth = self
            .devices
            .iter()
            .any(|d| d.statement == StatementKind::Bandwidth);
        if has_bandwidth && setup.clients_in_registry.is_empty() {
            return Err(FleetError::NoRegisteredClients { epoch });
        }
        Ok(setup)
    }

    /// Makes every device's records for the epoch of `setup` and submits
    /// them, `config.concurrency` devices at a time. A failed call is
    /// counted in the report ([`DeviceReport::failed`], `errors`); it does
    /// not stop the run.
    pub async fn submit(
        &self,
        prover: &ProverClient,
        setup: &EpochSetup,
        progress: ProgressFn,
    ) -> Result<FleetReport, FleetError> {
        let started = Instant::now();
        let plan = Arc::new(Plan::new(self, setup));
        let n = self.devices.len();
        let sem = Arc::new(Semaphore::new(self.config.concurrency));
        let done = Arc::new(AtomicU64::new(0));
        let records = Arc::new(AtomicU64::new(0));
        let mut set = JoinSet::new();
        for i in 0..n {
            let plan = plan.clone();
            let sem = sem.clone();
            let mut prover = prover.clone();
            let (done, records, progress) = (done.clone(), records.clone(), progress.clone());
            set.spawn(async move {
                let _permit = sem.acquire_owned().await;
                let answered = submit_device(&plan, i, &mut prover, &records).await?;
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(Progress {
                    phase: Phase::Submitting,
                    done: d,
                    total: n as u64,
                    records: records.load(Ordering::Relaxed),
                });
                Ok::<_, FleetError>(answered)
            });
        }
        let mut tally = Tally {
            reports: self.devices.iter().map(DeviceReport::new).collect(),
            ingested: HashMap::new(),
            claims: HashMap::new(),
        };
        while let Some(joined) = set.join_next().await {
            tally.add(joined.map_err(|e| FleetError::Task(e.to_string()))??);
        }
        let Tally {
            mut reports,
            ingested,
            claims,
        } = tally;
        self.judge_coverage(setup, &mut reports, ingested, &claims);
        Ok(FleetReport::from_devices(
            setup.epoch,
            reports,
            started.elapsed(),
        ))
    }

    /// Coverage: the rules decided when proving, by the native reference,
    /// over the reports the service accepted (`ingested`, by target), for
    /// the devices whose claim it accepted.
    fn judge_coverage(
        &self,
        setup: &EpochSetup,
        reports: &mut [DeviceReport],
        ingested: HashMap<usize, Vec<SignedWitnessReport>>,
        claims: &HashMap<usize, SignedClaim>,
    ) {
        for (target, reps) in ingested {
            let rep = &mut reports[target];
            let Some(claim) = claims.get(&target) else {
                // No accepted claim: nothing can be proven; count the
                // reports as the service answered them.
                rep.accepted += reps.len() as u32;
                continue;
            };
            for chunk in reps.chunks(depin_statements::COVERAGE_CAPACITY) {
                let input = CoverageInput {
                    device: self.devices[target].public_key,
                    epoch: setup.epoch,
                    beacon: setup.beacon,
                    policy: setup.coverage,
                    claim: claim.claim,
                    claim_signature: claim.signature,
                    reports: chunk,
                };
                match evaluate(&input) {
                    Ok(ev) => {
                        for v in ev.verdicts {
                            match v {
                                Verdict::Accepted => rep.accepted += 1,
                                Verdict::Rejected(r) => {
                                    *rep.rejected_when_proving.entry(r).or_default() += 1
                                }
                            }
                        }
                    }
                    Err(e) => {
                        rep.accepted += chunk.len() as u32;
                        rep.errors.push(format!("native coverage reference: {e}"));
                    }
                }
            }
        }
    }

    /// Connects to `endpoint`, [`prepare`](Self::prepare)s with the
    /// operator token and [`submit`](Self::submit)s.
    pub async fn run(
        &self,
        endpoint: &str,
        operator_token: &str,
        progress: ProgressFn,
    ) -> Result<(EpochSetup, FleetReport), FleetError> {
        let prover = ProverClient::connect(endpoint, self.config.client.clone()).await?;
        let operator =
            OperatorClient::connect(endpoint, operator_token, self.config.client.clone()).await?;
        let setup = self.prepare(&operator, &prover, progress.clone()).await?;
        let report = self.submit(&prover, &setup, progress).await?;
        Ok((setup, report))
    }
}

fn epoch_setup(p: &pb::EpochPolicy) -> Result<EpochSetup, FleetError> {
    let bad = |reason: &str| FleetError::Policy {
        epoch: p.epoch,
        reason: reason.into(),
    };
    let beacon = fr_from_decimal(&p.beacon).map_err(|e| bad(&format!("beacon: {e}")))?;
    let u = p.uptime.as_ref().ok_or_else(|| bad("no uptime policy"))?;
    let b = p
        .bandwidth
        .as_ref()
        .ok_or_else(|| bad("no bandwidth policy"))?;
    let c = p
        .coverage
        .as_ref()
        .ok_or_else(|| bad("no coverage policy"))?;
    Ok(EpochSetup {
        epoch: p.epoch,
        beacon,
        uptime: convert::uptime_policy(u),
        bandwidth: convert::bandwidth_policy(b),
        coverage: convert::coverage_policy(c),
        published: false,
        registered_devices: 0,
        clients_in_registry: Vec::new(),
    })
}

/// The answers to one device's requests: each request with the outcome
/// of each of its records (or the error that stopped it).
type Answered = Vec<(Outgoing, Vec<Result<RecordOutcome, String>>)>;

/// Makes device `i`'s requests and sends them; counts the records answered.
async fn submit_device(
    plan: &Arc<Plan>,
    i: usize,
    prover: &mut ProverClient,
    records: &AtomicU64,
) -> Result<Answered, FleetError> {
    let p = plan.clone();
    let sends = tokio::task::spawn_blocking(move || p.sends(i))
        .await
        .map_err(|e| FleetError::Task(e.to_string()))?;
    let mut answered = Vec::with_capacity(sends.len());
    for s in sends {
        let result = prover.submit(&s.request).await;
        let outcomes = match result {
            Ok(resp) if resp.verdicts.len() == s.targets.len() => resp
                .verdicts
                .iter()
                .map(|v| RecordOutcome::try_from(v).map_err(|e| e.to_string()))
                .collect(),
            Ok(resp) => vec![
                Err(format!(
                    "{} verdicts for {} records",
                    resp.verdicts.len(),
                    s.targets.len()
                ));
                s.targets.len()
            ],
            Err(e) => vec![Err(e.to_string()); s.targets.len()],
        };
        let answered_now = outcomes.iter().filter(|o| o.is_ok()).count() as u64;
        records.fetch_add(answered_now, Ordering::Relaxed);
        answered.push((s, outcomes));
    }
    Ok(answered)
}

/// The service's answers, per device.
struct Tally {
    reports: Vec<DeviceReport>,
    /// Witness reports accepted at ingest, by target, and the accepted
    /// claims: for the rules decided when proving.
    ingested: HashMap<usize, Vec<SignedWitnessReport>>,
    claims: HashMap<usize, SignedClaim>,
}

impl Tally {
    /// Counts one device's answered requests.
    fn add(&mut self, answered: Answered) {
        for (send, outcomes) in answered {
            for (j, o) in outcomes.into_iter().enumerate() {
                let target = send.targets[j];
                let rep = &mut self.reports[target];
                let is_claim = send.claim.is_some();
                match o {
                    Err(e) => {
                        if !is_claim {
                            rep.sent += 1;
                            rep.failed += 1;
                        }
                        if !rep.errors.contains(&e) {
                            rep.errors.push(e);
                        }
                    }
                    Ok(o) if is_claim => {
                        rep.claim = Some(o);
                        if let (RecordOutcome::Accepted, Some(c)) = (o, send.claim) {
                            self.claims.insert(target, c);
                        }
                    }
                    Ok(o) => {
                        rep.sent += 1;
                        match (o, &send.reports) {
                            (RecordOutcome::Accepted, Some(reps)) => {
                                self.ingested.entry(target).or_default().push(reps[j]);
                            }
                            _ => rep.count(o),
                        }
                    }
                }
            }
        }
    }
}

/// One request and whose records it carries.
struct Outgoing {
    request: pb::SubmitRecordsRequest,
    /// The device each record counts for.
    targets: Vec<usize>,
    /// The native witness reports, for the rules decided when proving.
    reports: Option<Vec<SignedWitnessReport>>,
    /// The native claim, for the same.
    claim: Option<SignedClaim>,
}

/// Everything the per-device record makers share.
struct Plan {
    seed: u64,
    epoch: u32,
    beacon: Fr,
    uptime: UptimePolicy,
    bandwidth: BandwidthPolicy,
    coverage: CoveragePolicy,
    missed: f64,
    batch: usize,
    devices: Vec<FleetDevice>,
    sybils: Vec<Vec<Device>>,
    clients: Vec<PrivateKey>,
    locations: Vec<Location>,
    /// Per witness: (witnessed device, rssi).
    heard: Vec<Vec<(usize, i32)>>,
    beacon_ids: Vec<Fr>,
    /// An honest uptime device whose heartbeats replaying cheaters copy.
    victim: Option<usize>,
}

/// The free-space loss in dB at squared distance `d2` (`K` in Q32).
fn free_space_loss_db(d2: u64, k_q32: u32) -> f64 {
    10.0 * ((d2 as f64) * 4_294_967_296.0 / f64::from(k_q32.max(1))).log10()
}

/// An RSSI that the path-loss rule finds plausible at `d2`, `extra` dB
/// below the free-space bound, or `None` past the sensitivity limit.
fn plausible_rssi(d2: u64, p: &CoveragePolicy, extra: i32) -> Option<i32> {
    let mut loss = free_space_loss_db(d2, p.k_q32).ceil() as i32 + 1 + extra;
    loop {
        let rssi = p.eirp_dbm - loss;
        match check_path_loss(d2, p.eirp_dbm, rssi, p.k_q32) {
            PathLoss::Plausible => return Some(rssi),
            PathLoss::BelowSensitivity => return None,
            _ => loss += 1,
        }
    }
}

/// An RSSI far stronger than free space allows at `d2`.
fn spoofed_rssi(d2: u64, p: &CoveragePolicy) -> i32 {
    let mut loss = (free_space_loss_db(d2, p.k_q32).floor() as i32 - 30).max(0);
    while loss > 0
        && check_path_loss(d2, p.eirp_dbm, p.eirp_dbm - loss, p.k_q32) == PathLoss::Plausible
    {
        loss = (loss - 10).max(0);
    }
    p.eirp_dbm - loss
}

const ORIGIN: u32 = 1_000_000;

impl Plan {
    fn new(fleet: &Fleet, setup: &EpochSetup) -> Self {
        let n = fleet.devices.len();
        let cov = setup.coverage;
        let (min_d, max_d) = (u64::from(cov.min_distance_m), u64::from(cov.max_distance_m));
        // A jittered grid whose neighbours are within the policy's bounds.
        let mut spacing = (2 * min_d + 200).max(1_500);
        let mut jitter = spacing / 5;
        if spacing * 2 >= max_d {
            spacing = (min_d + max_d) / 2;
            jitter = 0;
        }
        let cols = (n as f64).sqrt().ceil().max(1.0) as usize;
        let mut lr = rng(fleet.config.seed, ROLE_LAYOUT, 0);
        let locations: Vec<Location> = (0..n)
            .map(|i| {
                let mut j = || {
                    if jitter == 0 {
                        0
                    } else {
                        lr.gen_range(0..=2 * jitter) as i64 - jitter as i64
                    }
                };
                let x = ORIGIN as i64 + (i % cols) as i64 * spacing as i64 + j();
                let y = ORIGIN as i64 + (i / cols) as i64 * spacing as i64 + j();
                Location {
                    x: x.clamp(0, i64::from(u32::MAX >> 1)) as u32,
                    y: y.clamp(0, i64::from(u32::MAX >> 1)) as u32,
                }
            })
            .collect();
        let beacon_ids: Vec<Fr> = fleet
            .devices
            .iter()
            .map(|d| beacon_id(setup.beacon, d.id))
            .collect();
        // Honest coverage devices are witnessed by their nearest honest
        // neighbours within the distance bounds.
        let mut heard = vec![Vec::new(); n];
        let reach = ((max_d / spacing.max(1)) as usize).clamp(1, 3);
        for (t, d) in fleet.devices.iter().enumerate() {
            if !(d.behaviour.is_honest() && d.statement == StatementKind::Coverage) {
                continue;
            }
            let (tc, tr) = (t % cols, t / cols);
            let mut cands: Vec<(u64, usize)> = Vec::new();
            for r in tr.saturating_sub(reach)..=tr + reach {
                for c in tc.saturating_sub(reach)..=(tc + reach).min(cols - 1) {
                    let w = r * cols + c;
                    if w == t || w >= n || !fleet.devices[w].behaviour.is_honest() {
                        continue;
                    }
                    let a = (locations[t].x, locations[t].y);
                    let b = (locations[w].x, locations[w].y);
                    if let Some(d2) = distance_sq(a, b) {
                        if d2 > min_d * min_d && d2 < max_d * max_d {
                            cands.push((d2, w));
                        }
                    }
                }
            }
            cands.sort_unstable();
            let mut wr = rng(fleet.config.seed, ROLE_LAYOUT, 1 + t as u64);
            for (d2, w) in cands.into_iter().take(fleet.config.witnesses_per_device) {
                if let Some(rssi) = plausible_rssi(d2, &cov, wr.gen_range(0..=15)) {
                    heard[w].push((t, rssi));
                }
            }
        }
        let victim = fleet
            .devices
            .iter()
            .position(|d| d.behaviour.is_honest() && d.statement == StatementKind::Uptime);
        Plan {
            seed: fleet.config.seed,
            epoch: setup.epoch,
            beacon: setup.beacon,
            uptime: setup.uptime,
            bandwidth: setup.bandwidth,
            coverage: cov,
            missed: fleet.config.missed_heartbeats,
            batch: fleet.config.batch_size,
            devices: fleet.devices.clone(),
            sybils: fleet.sybils.clone(),
            clients: setup
                .clients_in_registry
                .iter()
                .map(|i| fleet.clients[*i].clone())
                .collect(),
            locations,
            heard,
            beacon_ids,
            victim,
        }
    }

    /// A bandwidth device's receipts (an honest mix, or implausible ones
    /// for the cheater), co-signed by the fleet's clients, in batches.
    fn bandwidth_sends(&self, i: usize, r: &mut ChaCha20Rng) -> Vec<Outgoing> {
        let d = &self.devices[i];
        let mut out = Vec::new();
        let cheat = !d.behaviour.is_honest();
        let max = u64::from(self.bandwidth.max_bytes_per_s);
        let sessions = if cheat {
            r.gen_range(3..=6u32)
        } else {
            r.gen_range(4..=12u32)
        };
        let receipts: Vec<ClientReceipt> = (0..sessions)
            .map(|session| {
                let client = &self.clients[r.gen_range(0..self.clients.len())];
                let duration_s = r.gen_range(60..=3_600u32);
                let cap = u64::from(duration_s) * max;
                let bytes = if cheat {
                    cap * r.gen_range(2..=8u64)
                } else {
                    ((cap as f64) * r.gen_range(0.05..0.9)) as u64
                };
                let receipt = SessionReceipt {
                    device_id: d.id,
                    client_id: client.public_key().id(),
                    epoch: self.epoch,
                    session,
                    bytes,
                    duration_s,
                };
                ClientReceipt::sign(client, receipt)
            })
            .collect();
        let mut chain = BandwidthChain::new(d.key().clone(), self.epoch);
        for c in receipts.chunks(self.batch) {
            out.push(Outgoing {
                request: chain.batch(c),
                targets: vec![i; c.len()],
                reports: None,
                claim: None,
            });
        }
        out
    }

    /// A spoofing cheater's sybil witnesses: reports at plausible
    /// distances with signals stronger than free space allows.
    fn spoofed_sends(&self, i: usize) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let c = &self.coverage;
        let dist = (u64::from(c.min_distance_m) + u64::from(c.max_distance_m)) / 4;
        let dist = dist.max(u64::from(c.min_distance_m) + 1) as u32;
        let loc = self.locations[i];
        let offsets = [(dist, 0), (0, dist), (dist, dist)];
        for (k, sybil) in self.sybils[i].iter().enumerate() {
            let (dx, dy) = offsets[k % offsets.len()];
            let at = Location {
                x: loc.x + dx,
                y: loc.y + dy,
            };
            let d2 = distance_sq((loc.x, loc.y), (at.x, at.y)).unwrap_or(0);
            if let Ok(rep) =
                sybil.witness_report(self.beacon_ids[i], at, spoofed_rssi(d2, c), self.epoch)
            {
                out.extend(self.report_sends(&[rep], &[i]));
            }
        }
        out
    }

    /// The reports device `i` makes as a witness of its neighbours.
    fn neighbour_sends(&self, i: usize) -> Vec<Outgoing> {
        if self.heard[i].is_empty() {
            return Vec::new();
        }
        let d = &self.devices[i];
        let loc = self.locations[i];
        let mut reports = Vec::new();
        let mut targets = Vec::new();
        for (t, rssi) in &self.heard[i] {
            if let Ok(rep) = d
                .device
                .witness_report(self.beacon_ids[*t], loc, *rssi, self.epoch)
            {
                reports.push(rep);
                targets.push(*t);
            }
        }

        self.report_sends(&reports, &targets)
    }

    /// Device `i`'s requests: its own records, and the witness reports it
    /// makes (or its witness keys make) for other devices.
    fn sends(&self, i: usize) -> Vec<Outgoing> {
        let d = &self.devices[i];
        let mut r = rng(
            self.seed,
            ROLE_RECORDS,
            (u64::from(self.epoch) << 32) | i as u64,
        );
        let mut out = Vec::new();
        let own = |req: pb::SubmitRecordsRequest, n: usize| Outgoing {
            request: req,
            targets: vec![i; n],
            reports: None,
            claim: None,
        };
        let u = &self.uptime;
        let honest_slots = |r: &mut ChaCha20Rng| -> Vec<u32> {
            (0..u.slots_per_epoch)
                .filter(|_| !r.gen_bool(self.missed))
                .collect()
        };
        let latency = |r: &mut ChaCha20Rng| r.gen_range(0..=u.max_latency_ms.saturating_mul(3) / 4);
        let uptime_batches = |hbs: &[Heartbeat], batch: usize| -> Vec<Outgoing> {
            let mut chain = UptimeChain::new(d.key().clone(), self.epoch);
            hbs.chunks(batch)
                .map(|c| own(chain.batch(c), c.len()))
                .collect()
        };
        match (d.statement, d.behaviour) {
            (StatementKind::Uptime, Behaviour::Honest) => {
                let hbs: Vec<Heartbeat> = honest_slots(&mut r)
                    .into_iter()
                    .map(|s| Heartbeat::answer(self.beacon, d.id, s, latency(&mut r)))
                    .collect();
                out.extend(uptime_batches(&hbs, self.batch));
            }
            (_, Behaviour::Cheater(CheatKind::ReplayedRecords)) => {
                // Another device's heartbeats, or this device's for an
                // earlier epoch's beacon, in this device's own chain.
                let (beacon, id) = match self.victim {
                    Some(v) if i % 2 == 0 => (self.beacon, self.devices[v].id),
                    _ => (derive_beacon(self.seed, self.epoch.wrapping_sub(1)), d.id),
                };
                let hbs: Vec<Heartbeat> = honest_slots(&mut r)
                    .into_iter()
                    .map(|s| Heartbeat::answer(beacon, id, s, latency(&mut r)))
                    .collect();
                out.extend(uptime_batches(&hbs, self.batch));
            }
            (_, Behaviour::Cheater(CheatKind::ForeignSignature)) => {
                // One batch: its head is signed by a key that is not the
                // registered one. (A later batch would not continue the
                // stored chain, which holds none of these.)
                let hbs: Vec<Heartbeat> = honest_slots(&mut r)
                    .into_iter()
                    .map(|s| Heartbeat::answer(self.beacon, d.id, s, latency(&mut r)))
                    .collect();
                let foreign = derive_key(self.seed, ROLE_FOREIGN, i as u64);
                let mut send = uptime_batches(&hbs, hbs.len().max(1));
                for s in &mut send {
                    if let Some(pb::submit_records_request::Records::Uptime(b)) =
                        &mut s.request.records
                    {
                        for rec in &mut b.records {
                            if rec.head_signature.is_some() {
                                let head = fr_from_decimal(&rec.head).unwrap_or_default();
                                rec.head_signature = Some(signature(&foreign.sign(&head)));
                            }
                        }
                    }
                }
                out.extend(send);
            }
            (_, Behaviour::Cheater(CheatKind::OutsideEpoch)) => {
                let start = u.slots_per_epoch;
                let n = r.gen_range(4..=12u32);
                let hbs: Vec<Heartbeat> = (start..start + n)
                    .map(|s| Heartbeat::answer(self.beacon, d.id, s, latency(&mut r)))
                    .collect();
                out.extend(uptime_batches(&hbs, self.batch));
            }
            (StatementKind::Bandwidth, Behaviour::Honest)
            | (_, Behaviour::Cheater(CheatKind::ImplausibleBandwidth)) => {
                out.extend(self.bandwidth_sends(i, &mut r));
            }
            (_, Behaviour::Cheater(CheatKind::SelfWitness)) => {
                out.extend(self.claim(i));
                let loc = self.locations[i];
                let reports: Vec<SignedWitnessReport> = (0..3)
                    .filter_map(|k| {
                        d.device
                            .witness_report(self.beacon_ids[i], loc, -60 - 5 * k, self.epoch)
                            .ok()
                    })
                    .collect();
                out.extend(self.report_sends(&reports, &vec![i; reports.len()]));
            }
            (_, Behaviour::Cheater(CheatKind::SpoofedCoverage)) => {
                out.extend(self.claim(i));
                out.extend(self.spoofed_sends(i));
            }
            (StatementKind::Coverage, Behaviour::Honest) => out.extend(self.claim(i)),
        }
        // Honest devices witness their coverage neighbours.
        out.extend(self.neighbour_sends(i));
        out
    }

    /// The device's coverage claim (none if its location were out of
    /// range, which the layout never makes).
    fn claim(&self, i: usize) -> Option<Outgoing> {
        let c = self.devices[i]
            .device
            .coverage_claim(self.epoch, self.beacon, self.locations[i])
            .ok()?;
        Some(Outgoing {
            request: to_request(&[SignedRecord::Claim(c)]).ok()?,
            targets: vec![i],
            reports: None,
            claim: Some(c),
        })
    }

    /// Requests of `reports` (all by one witness), `batch` at a time.
    fn report_sends(&self, reports: &[SignedWitnessReport], targets: &[usize]) -> Vec<Outgoing> {
        reports
            .chunks(self.batch)
            .zip(targets.chunks(self.batch))
            .filter_map(|(reps, ts)| {
                let recs: Vec<SignedRecord> =
                    reps.iter().map(|r| SignedRecord::Witness(*r)).collect();
                to_request(&recs).ok().map(|request| Outgoing {
                    request,
                    targets: ts.to_vec(),
                    reports: Some(reps.to_vec()),
                    claim: None,
                })
            })
            .collect()
    }
}
