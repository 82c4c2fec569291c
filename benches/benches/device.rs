//! The device SDK: records signed per second (a heartbeat: challenge,
//! message, chain step and signature of the new head; a bandwidth receipt:
//! the client's co-signature, the device's check of it and its signed
//! head), the wire encoding, and the durable spool with and without fsync.
//!
//! `cargo bench -p depin-benches --bench device`
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use depin_crypto::eddsa::PrivateKey;
use depin_crypto::Fr;
use depin_device_sdk::chain::{HeartbeatChain, ReceiptChain};
use depin_device_sdk::recorder::Recorder;
use depin_device_sdk::signer::{ClientSigner, Device};
use depin_device_sdk::spool::{Spool, SpoolConfig};
use depin_device_sdk::wire::{SignedRecord, MAX_RECORD_LEN};

fn bench_signing(c: &mut Criterion) {
    let mut g = c.benchmark_group("device-sign");
    g.throughput(Throughput::Elements(1));
    let device = Device::from_secret([7; 32]);
    let client = ClientSigner::new(PrivateKey::from_bytes([8; 32]));
    let beacon = Fr::from(123_456u64);
    let uptime = HeartbeatChain::new(device.id(), 1);
    g.bench_function("heartbeat", |b| {
        b.iter(|| {
            let mut chain = uptime;
            chain.heartbeat(&device, black_box(beacon), 0, 20)
        })
    });
    let bandwidth = ReceiptChain::new(device.id(), 1);
    let proposal = bandwidth.propose(client.id(), 1 << 20, 60);
    g.bench_function("receipt-co-sign", |b| {
        b.iter(|| client.co_sign_unchecked(black_box(&proposal)))
    });
    let co = client.co_sign_unchecked(&proposal).expect("co-sign");
    g.bench_function("receipt-append", |b| {
        b.iter(|| {
            let mut chain = bandwidth;
            chain.append(&device, black_box(&co))
        })
    });
    let mut chain = uptime;
    let hb = SignedRecord::from(chain.heartbeat(&device, beacon, 0, 20).expect("heartbeat"));
    let mut buf = [0u8; MAX_RECORD_LEN];
    g.bench_function("heartbeat-encode-decode", |b| {
        b.iter(|| {
            let n = black_box(&hb).encode(&mut buf).expect("encode");
            SignedRecord::decode(&buf[..n])
        })
    });
    g.finish();
}

/// Appends `iters` 206-byte records, acknowledging everything every 4096
/// appends (outside the timing) so the spool stays small.
fn spool_appends(spool: &mut Spool, payload: &[u8], iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(4096);
        let start = Instant::now();
        for _ in 0..n {
            spool.append(black_box(payload)).expect("append");
        }
        total += start.elapsed();
        left -= n;
        let last = spool.next_seq() - 1;
        spool.ack(last).expect("ack");
    }
    total
}

fn bench_spool(c: &mut Criterion) {
    let mut g = c.benchmark_group("device-spool");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(4));
    let payload = [0x5au8; 206];
    for sync in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = SpoolConfig {
            sync,
            ..SpoolConfig::with_max_bytes(64 << 20)
        };
        let mut spool = Spool::open(dir.path(), cfg).expect("spool");
        let name = if sync {
            "append-fsync"
        } else {
            "append-no-sync"
        };
        g.bench_function(name, |b| {
            b.iter_custom(|iters| spool_appends(&mut spool, &payload, iters))
        });
    }
    // Sign and store: what `record heartbeat` costs a device.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rec = Recorder::open(
        dir.path(),
        Device::from_secret([7; 32]),
        SpoolConfig::with_max_bytes(64 << 20),
    )
    .expect("recorder");
    let beacon = Fr::from(123_456u64);
    let mut epoch = 1;
    let mut slot = 0;
    g.bench_function("recorder-heartbeat-fsync", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                if slot == 96 {
                    slot = 0;
                    epoch += 1;
                    let last = rec.spool().next_seq() - 1;
                    rec.ack(last).expect("ack");
                }
                let start = Instant::now();
                rec.record_heartbeat(epoch, beacon, slot, 20)
                    .expect("record");
                total += start.elapsed();
                slot += 1;
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, bench_signing, bench_spool);
criterion_main!(benches);
