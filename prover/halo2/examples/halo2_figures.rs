//! The halo2 backend's figures per statement at full capacity, for
//! BENCHMARKS.md: rows (`k`), advice cells and columns, key generation,
//! proving and verification time, proof size, verifier source size and
//! peak memory. Development parameters from a fixed seed.
//!
//! `cargo run --release -p depin-halo2-prover --example halo2_figures [uptime|bandwidth|coverage]...`

use std::time::Instant;

use depin_halo2::bandwidth::BandwidthCircuit;
use depin_halo2::coverage::CoverageCircuit;
use depin_halo2::layout::advice_cells;
use depin_halo2::statement::StatementCircuit;
use depin_halo2::uptime::UptimeCircuit;
use depin_halo2_prover::keys::statement_k;
use depin_halo2_prover::solidity::verifier_source;
use depin_halo2_prover::{dev_params, prove, verify, StatementKeys};
use depin_statements::StatementKind;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Peak resident memory of this process so far, in MiB.
fn peak_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

fn figures<S: StatementCircuit>(
    params: &halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG<depin_halo2_prover::Bn256>,
    kind: StatementKind,
    sample: S,
) -> anyhow::Result<()> {
    let cells = advice_cells(&sample)?;
    let t = Instant::now();
    let keys = StatementKeys::generate(params, kind)?;
    let keygen = t.elapsed();
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let t = Instant::now();
    let (public, proof) = prove(&keys, &sample, &mut rng)?;
    let proving = t.elapsed();
    let t = Instant::now();
    let ok = verify(keys.params(), keys.verifying_key(), &public, &proof)?;
    let verifying = t.elapsed();
    anyhow::ensure!(ok, "the proof does not verify");
    let source = verifier_source(&keys, "Verifier");
    let shape = &keys.shape().params;
    println!(
        "{}: k {}, {} advice cells in {} advice columns ({} fixed); keygen {:.1} s, proving {:.1} s, verifying {:.0} ms; proof {} bytes; verifier source {} bytes; peak memory {} MiB",
        kind.as_str(),
        statement_k(kind),
        cells,
        shape.num_advice_per_phase.iter().sum::<usize>(),
        shape.num_fixed,
        keygen.as_secs_f64(),
        proving.as_secs_f64(),
        verifying.as_secs_f64() * 1e3,
        proof.len(),
        source.len(),
        peak_mib(),
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let kinds: Vec<StatementKind> = {
        let names: Vec<String> = std::env::args().skip(1).collect();
        if names.is_empty() {
            StatementKind::ALL.to_vec()
        } else {
            names
                .iter()
                .map(|n| {
                    StatementKind::from_name(n)
                        .ok_or_else(|| anyhow::anyhow!("unknown statement {n}"))
                })
                .collect::<Result<_, _>>()?
        }
    };
    for kind in kinds {
        let t = Instant::now();
        let params = dev_params(statement_k(kind), 0xdeb1)?;
        println!(
            "development KZG parameters, k = {}: {:.1} s",
            statement_k(kind),
            t.elapsed().as_secs_f64()
        );
        match kind {
            StatementKind::Uptime => figures(&params, kind, UptimeCircuit::sample()?)?,
            StatementKind::Bandwidth => figures(&params, kind, BandwidthCircuit::sample()?)?,
            StatementKind::Coverage => figures(&params, kind, CoverageCircuit::sample()?)?,
        }
    }
    Ok(())
}
