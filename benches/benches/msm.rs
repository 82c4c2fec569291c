//! MSM on BN254 G1: ours (`depin_prover_core::msm::msm_g1`) against arkworks
//! 0.6 `VariableBaseMSM::msm` and halo2curves 0.10 `msm_best` (feature
//! `asm`), same inputs, same process; and on G2 (the Groth16 prover's `B`
//! in G2), ours (`msm_g2`) against arkworks. Prints each median and the
//! ratios.
//!
//! `cargo bench -p depin-benches --bench msm` (G1 only: `-- msm-g1`; G2
//! only: `-- msm-g2`)
//! (sizes: `MSM_LOGS=16,18,20 cargo bench -p depin-benches --bench msm`;
//! G2 at `MSM_G2_LOGS`, default 12, 14, 16)
#![allow(missing_docs)]

use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{BigInteger, PrimeField, UniformRand};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use halo2curves::bn256 as h2;
use halo2curves::ff::PrimeField as _;
use halo2curves::CurveAffine as _;
use rand::SeedableRng;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

fn logs() -> Vec<u32> {
    std::env::var("MSM_LOGS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![12, 14, 16, 18, 20])
}

/// Distinct pseudo-random points cheaply: running sums of 64 random points.
fn points(n: usize) -> Vec<G1Affine> {
    let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let seeds: Vec<G1Projective> = (0..64)
        .map(|_| G1Projective::generator() * Fr::rand(&mut r))
        .collect();
    let mut acc = G1Projective::generator();
    let v: Vec<G1Projective> = (0..n)
        .map(|i| {
            acc += seeds[i % 64];
            acc
        })
        .collect();
    G1Projective::normalize_batch(&v)
}

fn scalars(n: usize) -> Vec<Fr> {
    let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(2);
    (0..n).map(|_| Fr::rand(&mut r)).collect()
}

fn h2_fq(x: ark_bn254::Fq) -> h2::Fq {
    let bytes: [u8; 32] = x.into_bigint().to_bytes_le().try_into().expect("32 bytes");
    h2::Fq::from_repr(bytes.into()).expect("canonical")
}

fn h2_fr(x: &Fr) -> h2::Fr {
    let bytes: [u8; 32] = x.into_bigint().to_bytes_le().try_into().expect("32 bytes");
    h2::Fr::from_repr(bytes.into()).expect("canonical")
}

fn h2_point(p: &G1Affine) -> h2::G1Affine {
    let (x, y) = p.xy().expect("not infinity");
    h2::G1Affine::from_xy(h2_fq(x), h2_fq(y)).expect("on curve")
}

/// Times one call per iteration and keeps every per-call time.
fn timed<T>(log: &Mutex<Vec<Duration>>, iters: u64, mut f: impl FnMut() -> T) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let s = Instant::now();
        black_box(f());
        let e = s.elapsed();
        total += e;
    }
    log.lock().expect("lock").push(total / iters as u32);
    total
}

/// Median of the last `k` recorded samples (criterion's measured ones).
fn median(log: &Mutex<Vec<Duration>>, k: usize) -> f64 {
    let v = log.lock().expect("lock");
    let mut last: Vec<f64> = v[v.len().saturating_sub(k)..]
        .iter()
        .map(|d| d.as_secs_f64() * 1e3)
        .collect();
    last.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    last[last.len() / 2]
}

/// The benchmark name filters given on the command line (none: all).
fn wanted(group: &str) -> bool {
    let f: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    f.is_empty() || f.iter().any(|x| group.contains(x.as_str()))
}

/// Distinct pseudo-random G2 points: running sums of 64 random points.
fn points_g2(n: usize) -> Vec<G2Affine> {
    let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let seeds: Vec<G2Projective> = (0..64)
        .map(|_| G2Projective::generator() * Fr::rand(&mut r))
        .collect();
    let mut acc = G2Projective::generator();
    let v: Vec<G2Projective> = (0..n)
        .map(|i| {
            acc += seeds[i % 64];
            acc
        })
        .collect();
    G2Projective::normalize_batch(&v)
}

fn bench_msm_g2(c: &mut Criterion) {
    if !wanted("msm-g2") {
        return;
    }
    let logs: Vec<u32> = std::env::var("MSM_G2_LOGS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![12, 14, 16]);
    let mut g = c.benchmark_group("msm-g2");
    let mut summary = Vec::new();
    for log in logs {
        let n = 1usize << log;
        let bases = points_g2(n);
        let sc = scalars(n);
        let ours = depin_prover_core::msm::msm_g2(&bases, &sc).expect("lengths");
        assert_eq!(ours, G2Projective::msm(&bases, &sc).expect("lengths"));
        let samples = 10;
        g.sample_size(samples);
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(4));
        let (t_ours, t_ark) = (Mutex::new(Vec::new()), Mutex::new(Vec::new()));
        g.bench_function(BenchmarkId::new("ours", n), |b| {
            b.iter_custom(|it| {
                timed(&t_ours, it, || {
                    depin_prover_core::msm::msm_g2(&bases, &sc).expect("lengths")
                })
            })
        });
        g.bench_function(BenchmarkId::new("arkworks", n), |b| {
            b.iter_custom(|it| timed(&t_ark, it, || G2Projective::msm(&bases, &sc)))
        });
        let (o, a) = (median(&t_ours, samples), median(&t_ark, samples));
        let line = format!(
            "msm-g2 2^{log}: ours {o:.1} ms | arkworks {a:.1} ms ({:.2}x)",
            a / o
        );
        println!("{line}");
        summary.push(line);
    }
    g.finish();
    println!("\nsummary (medians, ratio = arkworks / ours):");
    for l in summary {
        println!("{l}");
    }
}

fn bench_msm(c: &mut Criterion) {
    if !wanted("msm-g1") {
        return;
    }
    let mut g = c.benchmark_group("msm-g1");
    let mut summary = Vec::new();
    for log in logs() {
        let n = 1usize << log;
        let bases = points(n);
        let sc = scalars(n);
        // Conversions outside the timed region.
        let h2_bases: Vec<h2::G1Affine> = bases.iter().map(h2_point).collect();
        let h2_scalars: Vec<h2::Fr> = sc.iter().map(h2_fr).collect();
        // All three agree.
        let ours = depin_prover_core::msm::msm_g1(&bases, &sc).expect("lengths");
        assert_eq!(ours, G1Projective::msm(&bases, &sc).expect("lengths"));
        let h2_res: h2::G1Affine = halo2curves::msm::msm_best(&h2_scalars, &h2_bases).into();
        assert_eq!(h2_point(&ours.into_affine()), h2_res);

        let samples = if log >= 18 { 10 } else { 20 };
        g.sample_size(samples);
        g.warm_up_time(Duration::from_millis(if log >= 18 { 500 } else { 1000 }));
        g.measurement_time(Duration::from_secs(if log >= 18 { 8 } else { 4 }));
        let (t_ours, t_ark, t_h2) = (
            Mutex::new(Vec::new()),
            Mutex::new(Vec::new()),
            Mutex::new(Vec::new()),
        );
        g.bench_function(BenchmarkId::new("ours", n), |b| {
            b.iter_custom(|it| {
                timed(&t_ours, it, || {
                    depin_prover_core::msm::msm_g1(&bases, &sc).expect("lengths")
                })
            })
        });
        g.bench_function(BenchmarkId::new("arkworks", n), |b| {
            b.iter_custom(|it| timed(&t_ark, it, || G1Projective::msm(&bases, &sc)))
        });
        g.bench_function(BenchmarkId::new("halo2curves-asm", n), |b| {
            b.iter_custom(|it| {
                timed(&t_h2, it, || {
                    halo2curves::msm::msm_best(&h2_scalars, &h2_bases)
                })
            })
        });
        let (o, a, h) = (
            median(&t_ours, samples),
            median(&t_ark, samples),
            median(&t_h2, samples),
        );
        let line = format!(
            "msm 2^{log}: ours {o:.1} ms | arkworks {a:.1} ms ({:.2}x) | halo2curves asm {h:.1} ms ({:.2}x)",
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

criterion_group!(benches, bench_msm, bench_msm_g2);
criterion_main!(benches);
