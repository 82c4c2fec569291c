//! Native cryptography: Poseidon (ours, our plain reference permutation and
//! light-poseidon), EdDSA-Poseidon signing and verification, and batch
//! verification against one-by-one.
//!
//! `cargo bench -p depin-benches --bench crypto`
//!
//! `poseidon/ours` is the optimised permutation (`poseidon::hash`),
//! `poseidon/reference` the plain one (`poseidon::reference::hash`) on the
//! same inputs; their ratio is the speed-up of the optimisation.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use depin_crypto::eddsa::{batch_verify, BatchItem, PrivateKey};
use depin_crypto::{poseidon, Fr};
use light_poseidon::{Poseidon, PoseidonHasher};
use rand::SeedableRng;
use std::hint::black_box;

fn bench_poseidon(c: &mut Criterion) {
    let mut g = c.benchmark_group("poseidon");
    g.throughput(Throughput::Elements(1));
    for n in [2usize, 5, 12, 16] {
        let xs: Vec<Fr> = (0..n as u64)
            .map(|i| Fr::from(i * 1_000_003 + 17))
            .collect();
        g.bench_with_input(BenchmarkId::new("ours", n), &xs, |b, xs| {
            b.iter(|| poseidon::hash(black_box(xs)))
        });
        if matches!(n, 2 | 5 | 16) {
            g.bench_with_input(BenchmarkId::new("reference", n), &xs, |b, xs| {
                b.iter(|| poseidon::reference::hash(black_box(xs)))
            });
        }
        if n <= 12 {
            let mut lp = Poseidon::<Fr>::new_circom(n).expect("arity");
            g.bench_with_input(BenchmarkId::new("light-poseidon", n), &xs, |b, xs| {
                b.iter(|| lp.hash(black_box(xs)))
            });
        }
    }
    g.finish();
}

fn bench_eddsa(c: &mut Criterion) {
    let mut g = c.benchmark_group("eddsa");
    g.throughput(Throughput::Elements(1));
    let sk = PrivateKey::from_bytes([7u8; 32]);
    let pk = sk.public_key();
    let msg = Fr::from(123_456u64);
    let sig = sk.sign(&msg);
    g.bench_function("sign", |b| b.iter(|| sk.sign(black_box(&msg))));
    g.bench_function("verify", |b| b.iter(|| pk.verify(black_box(&msg), &sig)));
    g.finish();

    let mut g = c.benchmark_group("eddsa-batch");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(42);
    for n in [64usize, 1024] {
        let signed = depin_benches::signed_messages(n);
        g.throughput(Throughput::Elements(n as u64));
        g.sample_size(10);
        g.bench_with_input(BenchmarkId::new("one-by-one", n), &signed, |b, s| {
            b.iter(|| s.iter().all(|(pk, m, sig)| pk.verify(m, sig).is_ok()))
        });
        g.bench_with_input(BenchmarkId::new("batch", n), &signed, |b, s| {
            let items: Vec<BatchItem<'_>> = s
                .iter()
                .map(|(key, msg, sig)| BatchItem { key, msg, sig })
                .collect();
            b.iter(|| batch_verify(black_box(&items), &mut rng).is_ok())
        });
    }
    g.finish();
}

criterion_group!(benches, bench_poseidon, bench_eddsa);
criterion_main!(benches);
