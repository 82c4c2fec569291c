//! `kill -9` while the SDK writes: a child process records heartbeats,
//! receipts and witness reports as fast as it can (every append synced)
//! and acknowledges batches now and then, printing what it was told:
//! `stored <seq> <kind> <epoch> <head>` after `record_*` returned, `acking <seq>`
//! before and `acked <seq>` after `ack` returned. The parent kills it with
//! SIGKILL at a random moment, 60 times, and after each kill reopens the
//! recorder and checks:
//!
//! - every record the child was told is stored, and not acknowledged, is
//!   delivered exactly once, in sequence order;
//! - nothing acknowledged is delivered again (the cursor is the last
//!   `acked`, or the `acking` in flight when the child died);
//! - at most one record more than the child was told about is delivered
//!   (the append in flight), with the next sequence number;
//! - every delivered record decodes, its signatures verify, it is the one
//!   the child reported (same head), and both hash chains continue without
//!   a fork across every crash (each head extends the previous record's);
//! - every fifth round the parent also appends a torn entry (a power cut
//!   mid-write) to the newest segment before the next child starts, and
//!   nothing changes. (Flipped bytes inside segments are the spool's unit
//!   tests.)
//!
//! The child is this test binary itself, re-run with `DEPIN_CRASH_CHILD`
//! set (the `crash_child` test does nothing otherwise).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use depin_device_sdk::chain::ChainKind;
use depin_device_sdk::crypto::eddsa::PrivateKey;
use depin_device_sdk::crypto::field::fr_to_string;
use depin_device_sdk::crypto::{fr_from_decimal, Fr};
use depin_device_sdk::recorder::Recorder;
use depin_device_sdk::records::{chain_step, Location};
use depin_device_sdk::signer::{ClientSigner, Device};
use depin_device_sdk::spool::SpoolConfig;
use depin_device_sdk::wire::SignedRecord;

const CHILD_ENV: &str = "DEPIN_CRASH_CHILD";
const ROUNDS: u32 = 60;

fn device() -> Device {
    Device::from_secret([0x5a; 32])
}

fn client() -> ClientSigner {
    ClientSigner::new(PrivateKey::from_bytes([0xc1; 32]))
}

fn spool_config() -> SpoolConfig {
    SpoolConfig {
        segment_bytes: 4096,
        ..SpoolConfig::with_max_bytes(1 << 20)
    }
}

/// xorshift64*, seeded per run (the seed is printed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The child: records until killed (or 5000 records).
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let seed: u64 = std::env::var("DEPIN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut rng = Rng(seed | 1);
    let mut rec = Recorder::open(PathBuf::from(dir), device(), spool_config()).expect("open");
    let client = client();
    let beacon = Fr::from(2024u64);
    for i in 0..5000u64 {
        let up = rec.uptime_state();
        let (epoch, slot) = match up {
            None => (1, 0),
            Some(s) if s.next + 3 >= 96 || s.len >= 96 => (s.epoch + 1, 0),
            Some(s) => (s.epoch, s.next + rng.below(3) as u32),
        };
        let bw_room = rec
            .bandwidth_state()
            .is_none_or(|b| b.epoch < epoch || b.len < 32);
        let stored = if i % 5 == 4 && bw_room {
            let p = rec
                .propose_receipt(epoch, client.id(), 1000 + i, 10)
                .expect("propose");
            let co = client.co_sign_unchecked(&p).expect("co-sign");
            rec.record_receipt(&co).expect("receipt")
        } else if i % 11 == 10 {
            rec.record_witness(Fr::from(i), Location { x: 10, y: 20 }, -70, epoch)
                .expect("witness")
        } else {
            rec.record_heartbeat(epoch, beacon, slot, i as u32 % 100)
                .expect("heartbeat")
        };
        let head = stored
            .record
            .chain_head()
            .map_or("-".to_string(), |(_, h)| fr_to_string(&h));
        println!(
            "stored {} {} {} {}",
            stored.seq,
            stored.record.kind().name(),
            stored.record.epoch(),
            head
        );
        if rng.below(8) == 0 {
            let batch = rec.peek_batch(1 + rng.below(20) as usize).expect("peek");
            if let Some(last) = batch.last() {
                println!("acking {}", last.seq);
                rec.ack(last.seq).expect("ack");
                println!("acked {}", last.seq);
            }
        }
    }
}

/// What the parent knows from the child's output, across rounds.
#[derive(Default)]
struct Model {
    /// Records the child was told are stored: seq -> (kind, epoch, head).
    stored: BTreeMap<u64, (String, u32, String)>,
    /// The last acknowledgement that returned.
    acked: u64,
    /// An acknowledgement begun but maybe not finished.
    acking: u64,
}

impl Model {
    fn read(&mut self, out: &str) {
        for line in out.lines() {
            // The harness may prefix the first line with `test crash_child ... `.
            let start = ["stored ", "acking ", "acked "]
                .iter()
                .filter_map(|k| line.find(k))
                .min();
            let Some(start) = start else { continue };
            let w: Vec<&str> = line[start..].split(' ').collect();
            match w.as_slice() {
                ["stored", seq, kind, epoch, head] => {
                    self.stored.insert(
                        seq.parse().unwrap(),
                        (
                            (*kind).to_string(),
                            epoch.parse().unwrap(),
                            (*head).to_string(),
                        ),
                    );
                }
                ["acking", seq] => self.acking = seq.parse().unwrap(),
                ["acked", seq] => self.acked = seq.parse().unwrap(),
                _ => {}
            }
        }
        self.acking = self.acking.max(self.acked);
    }
}

fn newest_segment(spool: &Path) -> Option<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(spool)
        .ok()?
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v.pop()
}

/// Runs the child (appending records), kills it (SIGKILL) after a random
/// moment, and returns its status and what it printed.
fn run_and_kill(dir: &Path, rng: &mut Rng) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .env("DEPIN_CRASH_SEED", rng.next().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let wait = Duration::from_millis(20 + rng.below(250));
    let start = Instant::now();
    while start.elapsed() < wait {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    (status, out)
}

/// Each delivered chained record extends the previous record of its chain
/// and epoch (or the genesis).
fn assert_no_fork(
    round: u32,
    records: &[(u64, SignedRecord)],
    chain_heads: &BTreeMap<u64, (ChainKind, u32, Fr)>,
    device_id: Fr,
) {
    for (seq, record) in records {
        let Some((kind, head)) = record.chain_head() else {
            continue;
        };
        let message = match record {
            SignedRecord::Heartbeat(h) => h.heartbeat.message(),
            SignedRecord::Receipt(r) => r.co_signed.receipt.message(),
            _ => unreachable!("only heartbeats and receipts are chained"),
        };
        let epoch = record.epoch();
        let prev = match chain_heads
            .range(..*seq)
            .rev()
            .find(|(_, (k, _, _))| *k == kind)
        {
            Some((_, (_, e, h))) if *e == epoch => *h,
            _ => kind.genesis(device_id, epoch),
        };
        assert_eq!(
            chain_step(prev, message),
            head,
            "round {round}: seq {seq} forks the {kind:?} chain"
        );
    }
}

/// A power cut mid-write: a partial entry at the tail of the newest
/// segment.
fn tear_tail(dir: &Path, rng: &mut Rng, told_max: u64) {
    if let Some(seg) = newest_segment(&dir.join("spool")) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
        let mut torn = b"DPR1".to_vec();
        torn.extend_from_slice(&206u32.to_le_bytes());
        torn.extend_from_slice(&(told_max + 100).to_le_bytes());
        torn.extend((0..rng.below(150)).map(|_| rng.next() as u8));
        f.write_all(&torn).unwrap();
    }
}

/// The chain head of every chained record the child reported stored.
fn told_heads(model: &Model) -> BTreeMap<u64, (ChainKind, u32, Fr)> {
    model
        .stored
        .iter()
        .filter(|(_, (_, _, h))| h != "-")
        .map(|(&seq, (kind, epoch, h))| {
            let k = if kind == "heartbeat" {
                ChainKind::Uptime
            } else {
                ChainKind::Bandwidth
            };
            (seq, (k, *epoch, fr_from_decimal(h).unwrap()))
        })
        .collect()
}

#[test]
fn kill_9_during_appends_loses_and_duplicates_nothing() {
    let seed = std::env::var("DEPIN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("crash test seed {seed} (DEPIN_CRASH_SEED={seed} reproduces the kill times)");
    let mut rng = Rng(seed | 1);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("device");
    let me = device();
    let pk = me.public_key();
    let mut model = Model::default();
    let mut killed_with_output = 0;
    let mut extra_records = 0;

    for round in 0..ROUNDS {
        let (status, out) = run_and_kill(&dir, &mut rng);
        let before = model.stored.len();
        model.read(&out);
        if model.stored.len() > before && !status.success() {
            killed_with_output += 1;
        }

        let mut rec = Recorder::open(&dir, me.clone(), spool_config())
            .unwrap_or_else(|e| panic!("round {round}: reopen: {e}"));
        let acked = rec.spool().acked();
        assert!(
            acked == model.acked || acked == model.acking,
            "round {round}: cursor {acked}, told acked {} / acking {}",
            model.acked,
            model.acking
        );
        // Whichever it is, it is durable from now on.
        model.acked = acked;
        model.acking = acked;
        let delivered = rec.peek_batch(usize::MAX).unwrap();
        let told_max = model.stored.keys().next_back().copied().unwrap_or(0);
        // Every chained record's head: what the child reported, plus the
        // append in flight (delivered, never reported).
        let mut chain_heads = told_heads(&model);
        let mut last = acked;
        let mut records = Vec::new();
        for d in &delivered {
            assert!(
                d.seq > last,
                "round {round}: order or duplicate at {}",
                d.seq
            );
            last = d.seq;
            let record = d
                .record
                .unwrap_or_else(|e| panic!("round {round}: seq {} corrupted: {e}", d.seq));
            record
                .verify_signatures(&pk)
                .unwrap_or_else(|e| panic!("round {round}: seq {}: {e}", d.seq));
            let head = record.chain_head();
            let head_text = head.map_or("-".to_string(), |(_, h)| fr_to_string(&h));
            match model.stored.get(&d.seq) {
                Some((kind, epoch, told_head)) => {
                    assert_eq!(kind, record.kind().name(), "round {round}: seq {}", d.seq);
                    assert_eq!(*epoch, record.epoch(), "round {round}: seq {}", d.seq);
                    assert_eq!(&head_text, told_head, "round {round}: seq {}", d.seq);
                }
                None => {
                    // The append in flight when the child died.
                    assert_eq!(d.seq, told_max + 1, "round {round}: unknown record");
                    extra_records += 1;
                    if let Some((kind, h)) = head {
                        chain_heads.insert(d.seq, (kind, record.epoch(), h));
                    }
                }
            }
            records.push((d.seq, record));
        }
        // Everything told stored and not acknowledged is delivered.
        let delivered_seqs: Vec<u64> = records.iter().map(|(s, _)| *s).collect();
        for &seq in model.stored.range(acked + 1..).map(|(s, _)| s) {
            assert!(
                delivered_seqs.binary_search(&seq).is_ok(),
                "round {round}: stored record {seq} lost"
            );
        }
        // No fork: each delivered chained record extends the previous
        // record of its chain and epoch (or the genesis).
        assert_no_fork(round, &records, &chain_heads, me.id());
        // The recorder resumes at the last stored head.
        if let Some(s) = rec.uptime_state() {
            let last_hb = chain_heads
                .values()
                .rev()
                .find(|(k, _, _)| *k == ChainKind::Uptime)
                .map(|v| v.2);
            assert_eq!(Some(s.head), last_hb, "round {round}: uptime state");
        }
        drop(rec);
        // The in-flight record is now known; the next child continues
        // after it.
        if let Some((seq, r)) = records.last() {
            if *seq > told_max {
                let head = r
                    .chain_head()
                    .map_or("-".to_string(), |(_, h)| fr_to_string(&h));
                model
                    .stored
                    .insert(*seq, (r.kind().name().to_string(), r.epoch(), head));
            }
        }

        if round % 5 == 4 {
            tear_tail(&dir, &mut rng, told_max);
        }
    }
    eprintln!(
        "{} records stored over {ROUNDS} kills ({killed_with_output} killed while recording), \
         {extra_records} in-flight appends found, acknowledged up to {}",
        model.stored.len(),
        model.acked
    );
    assert!(killed_with_output >= ROUNDS / 2, "the child rarely ran");
    assert!(model.stored.len() > 200, "too few records to mean anything");
}
