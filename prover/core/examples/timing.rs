//! Quick timing of ours against arkworks in one process (medians of a few
//! runs), for tuning; the criterion benches in `depin-benches` are the
//! reported figures.
//!
//! `cargo run --release -p depin-prover-core --example timing -- msm 16 18 20`
//! `cargo run --release -p depin-prover-core --example timing -- fft 20`
//! `cargo run --release -p depin-prover-core --example timing -- window 18 12 13 14 15 16`
//! `cargo run --release -p depin-prover-core --example timing -- fixed 16`
#![allow(missing_docs)]

use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::UniformRand;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use depin_prover_core::{fft::Domain, msm};
use rand::SeedableRng;
use std::time::Instant;

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    t[runs / 2]
}

/// Process CPU time (user + system) in ms, from /proc (Linux), or 0.
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0.0);
    ticks * 10.0
}

/// Runs `a` and `b` alternately `runs` times; medians of wall and CPU ms.
fn interleaved(runs: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> [(f64, f64); 2] {
    let mut t = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..runs {
        for (i, f) in [&mut a as &mut dyn FnMut(), &mut b].into_iter().enumerate() {
            let (w, c) = (Instant::now(), cpu_ms());
            f();
            t[2 * i].push(w.elapsed().as_secs_f64() * 1e3);
            t[2 * i + 1].push(cpu_ms() - c);
        }
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|x, y| x.partial_cmp(y).unwrap());
        v[v.len() / 2]
    };
    let [w0, c0, w1, c1] = &mut t;
    [(med(w0), med(c0)), (med(w1), med(c1))]
}

fn points(n: usize) -> Vec<G1Affine> {
    let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    // Random points cheaply: a few random points and their running sums.
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("msm");
    let nums: Vec<usize> = args.iter().skip(1).filter_map(|a| a.parse().ok()).collect();
    match what {
        "msm" => {
            for &log in &nums {
                let n = 1usize << log;
                let (b, s) = (points(n), scalars(n));
                let runs = if log >= 20 { 5 } else { 9 };
                let [(ow, oc), (aw, ac)] = interleaved(
                    runs,
                    || {
                        let _ = std::hint::black_box(msm::msm_g1(&b, &s).unwrap());
                    },
                    || {
                        let _ = std::hint::black_box(G1Projective::msm(&b, &s).unwrap());
                    },
                );
                assert_eq!(
                    msm::msm_g1(&b, &s).unwrap(),
                    G1Projective::msm(&b, &s).unwrap()
                );
                println!(
                    "msm 2^{log}: ours {ow:.1} ms wall / {oc:.0} ms cpu (c = {}), arkworks {aw:.1} / {ac:.0}; ratio wall {:.2}x, cpu {:.2}x",
                    msm::window_bits_g1(n),
                    aw / ow,
                    ac / oc
                );
            }
        }
        "fixed" => {
            for &log in &nums {
                let n = 1usize << log;
                let (b, s) = (points(n), scalars(n));
                let t = Instant::now();
                let fixed = msm::FixedBaseMsmG1::new(&b);
                let build = t.elapsed().as_secs_f64();
                let [(fw, fc), (vw, vc)] = interleaved(
                    5,
                    || {
                        let _ = std::hint::black_box(fixed.msm(&s).unwrap());
                    },
                    || {
                        let _ = std::hint::black_box(msm::msm_g1(&b, &s).unwrap());
                    },
                );
                assert_eq!(fixed.msm(&s).unwrap(), msm::msm_g1(&b, &s).unwrap());
                println!(
                    "fixed-base 2^{log} (c = {}, table built in {build:.1} s): {fw:.1} ms wall / {fc:.0} cpu; msm_g1 {vw:.1} / {vc:.0}; ratio {:.2}x",
                    fixed.window_bits(),
                    vw / fw
                );
            }
        }
        "window" => {
            let log = nums[0];
            let n = 1usize << log;
            let (b, s) = (points(n), scalars(n));
            for &c in &nums[1..] {
                let t = median_ms(3, || {
                    let _ = std::hint::black_box(msm::msm_g1_with_window(&b, &s, c).unwrap());
                });
                println!("msm 2^{log} c = {c}: {t:.1} ms");
            }
        }
        "fft" => {
            for &log in &nums {
                let n = 1usize << log;
                let x = scalars(n);
                let d = Domain::new(n).unwrap();
                let ad = Radix2EvaluationDomain::<Fr>::new(n).unwrap();
                let mut v = x.clone();
                let ours = median_ms(7, || {
                    v.copy_from_slice(&x);
                    d.fft_in_place(&mut v).unwrap();
                });
                let ark = median_ms(7, || {
                    v.copy_from_slice(&x);
                    ad.fft_in_place(&mut v);
                });
                println!(
                    "fft 2^{log}: ours {ours:.1} ms, arkworks {ark:.1} ms, ratio {:.2}x",
                    ark / ours
                );
            }
        }
        _ => eprintln!("usage: timing msm|window|fft LOG..."),
    }
}
