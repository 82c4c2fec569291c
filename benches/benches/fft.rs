//! FFT over BN254 Fr: ours (`depin_prover_core::fft::Domain`) against
//! arkworks 0.6 `Radix2EvaluationDomain` and halo2curves 0.10 `best_fft`
//! (feature `asm`), same input, same process. Each timed call transforms a
//! fresh copy of the input (the copy is not timed). Prints each median and
//! the ratios.
//!
//! `cargo bench -p depin-benches --bench fft`
//! (sizes: `FFT_LOGS=20 cargo bench -p depin-benches --bench fft`)
#![allow(missing_docs)]

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField, UniformRand};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use depin_prover_core::fft::Domain;
use halo2curves::bn256 as h2;
use halo2curves::ff::PrimeField as _;
use rand::SeedableRng;
use std::sync::Mutex;
use std::time::{Duration, Instant};

fn logs() -> Vec<u32> {
    std::env::var("FFT_LOGS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| (14..=22).collect())
}

fn h2_fr(x: &Fr) -> h2::Fr {
    let bytes: [u8; 32] = x.into_bigint().to_bytes_le().try_into().expect("32 bytes");
    h2::Fr::from_repr(bytes.into()).expect("canonical")
}

/// Copies `input` into `buf` (untimed), then times `f(buf)`.
fn timed<T: Copy>(
    log: &Mutex<Vec<Duration>>,
    iters: u64,
    input: &[T],
    buf: &mut Vec<T>,
    mut f: impl FnMut(&mut Vec<T>),
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        buf.copy_from_slice(input);
        let s = Instant::now();
        f(buf);
        total += s.elapsed();
    }
    log.lock().expect("lock").push(total / iters as u32);
    total
}

fn median(log: &Mutex<Vec<Duration>>, k: usize) -> f64 {
    let v = log.lock().expect("lock");
    let mut last: Vec<f64> = v[v.len().saturating_sub(k)..]
        .iter()
        .map(|d| d.as_secs_f64() * 1e3)
        .collect();
    last.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    last[last.len() / 2]
}

fn bench_fft(c: &mut Criterion) {
    let mut g = c.benchmark_group("fft");
    let mut summary = Vec::new();
    for log in logs() {
        let n = 1usize << log;
        let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let x: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
        let ours = Domain::new(n).expect("size");
        let ark = Radix2EvaluationDomain::<Fr>::new(n).expect("size");
        let h2_x: Vec<h2::Fr> = x.iter().map(h2_fr).collect();
        let h2_omega = h2_fr(&ours.group_gen());
        // All three agree.
        let want = ark.fft(&x);
        assert_eq!(ours.fft(&x).expect("length"), want);
        let mut h2_y = h2_x.clone();
        halo2curves::fft::best_fft(&mut h2_y, h2_omega, log);
        assert!(h2_y.iter().zip(&want).all(|(a, b)| *a == h2_fr(b)));

        let samples = if log >= 20 { 10 } else { 20 };
        g.sample_size(samples);
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(if log >= 20 { 6 } else { 3 }));
        let (t_ours, t_ark, t_h2) = (
            Mutex::new(Vec::new()),
            Mutex::new(Vec::new()),
            Mutex::new(Vec::new()),
        );
        let mut buf = x.clone();
        let mut h2_buf = h2_x.clone();
        g.bench_function(BenchmarkId::new("ours", n), |b| {
            b.iter_custom(|it| {
                timed(&t_ours, it, &x, &mut buf, |v| {
                    ours.fft_in_place(v).expect("length")
                })
            })
        });
        g.bench_function(BenchmarkId::new("arkworks", n), |b| {
            b.iter_custom(|it| timed(&t_ark, it, &x, &mut buf, |v| ark.fft_in_place(v)))
        });
        g.bench_function(BenchmarkId::new("halo2curves-asm", n), |b| {
            b.iter_custom(|it| {
                timed(&t_h2, it, &h2_x, &mut h2_buf, |v| {
                    halo2curves::fft::best_fft(v, h2_omega, log)
                })
            })
        });
        let (o, a, h) = (
            median(&t_ours, samples),
            median(&t_ark, samples),
            median(&t_h2, samples),
        );
        let line = format!(
            "fft 2^{log}: ours {o:.2} ms | arkworks {a:.2} ms ({:.2}x) | halo2curves asm {h:.2} ms ({:.2}x)",
            a / o,
            h / o
        );
        println!("{line}");
        summary.push(line);
    }
    g.finish();
    println!("\nsummary (medians, ratio = baseline / ours):");
    for l in summary {
        println!("{l}");
    }
}

criterion_group!(benches, bench_fft);
criterion_main!(benches);
