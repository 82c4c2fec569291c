//! halo2 against Groth16 per statement at full capacity, in one run on one
//! machine, for BENCHMARKS.md: circuit size (rows and advice columns
//! against constraints), key generation (halo2: parameters of the
//! statement's size and keys; Groth16: the development setup), proving and
//! verification time, peak memory of key generation plus one proof, and
//! proof size. Both backends prove the statement's deterministic sample
//! epoch with development keys (insecure seeds). On-chain figures come from
//! forge (`scripts/forge.sh test --match-contract 'Halo2VerifierTest|GoldenTest' -vv`).
//!
//! `cargo run --release -p depin-halo2-prover --example halo2_figures [uptime|bandwidth|coverage]...`
//!
//! Linux only: the peak is the kernel's high-water mark of resident memory
//! (`VmHWM`), reset through `/proc/self/clear_refs` before each backend.

use std::time::Instant;

use depin_halo2::bandwidth::BandwidthCircuit;
use depin_halo2::coverage::CoverageCircuit;
use depin_halo2::layout::advice_cells;
use depin_halo2::statement::StatementCircuit;
use depin_halo2::uptime::UptimeCircuit;
use depin_halo2_prover::keys::statement_k;
use depin_halo2_prover::{dev_params, prove, verify, StatementKeys};
use depin_statements::StatementKind;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Peak resident memory since the last reset, in MiB.
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

fn reset_peak() -> anyhow::Result<()> {
    std::fs::write("/proc/self/clear_refs", "5")?;
    Ok(())
}

/// halo2's figures: (k, advice cells, advice columns, keygen s, prove s,
/// verify ms, proof bytes, peak MiB).
fn halo2<S: StatementCircuit>(kind: StatementKind, sample: S) -> anyhow::Result<String> {
    reset_peak()?;
    let cells = advice_cells(&sample)?;
    let t = Instant::now();
    let params = dev_params(statement_k(kind), 0xdeb1)?;
    let keys = StatementKeys::generate(&params, kind)?;
    drop(params);
    let keygen = t.elapsed();
    let t = Instant::now();
    let (public, proof) = prove(&keys, &sample, &mut ChaCha20Rng::seed_from_u64(7))?;
    let proving = t.elapsed();
    let t = Instant::now();
    anyhow::ensure!(
        verify(keys.params(), keys.verifying_key(), &public, &proof)?,
        "the proof does not verify"
    );
    let verifying = t.elapsed();
    let shape = &keys.shape().params;
    Ok(format!(
        "2^{} rows x {} advice columns ({} cells) | {:.1} s | {:.1} s | {:.1} ms | {} MiB | {} B",
        statement_k(kind),
        shape.num_advice_per_phase.iter().sum::<usize>(),
        cells,
        keygen.as_secs_f64(),
        proving.as_secs_f64(),
        verifying.as_secs_f64() * 1e3,
        peak_mib(),
        proof.len(),
    ))
}

/// Groth16's figures, the same columns.
fn groth16(kind: StatementKind) -> anyhow::Result<String> {
    reset_peak()?;
    let dir = std::env::temp_dir().join(format!("depin-halo2-figures-{}", std::process::id()));
    let r = depin_groth16::golden::generate(kind, &dir)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(format!(
        "{} constraints | {:.1} s | {:.1} s | {:.1} ms | {} MiB | 128 B (256 B on chain)",
        r.shape.constraints,
        r.setup.as_secs_f64(),
        r.prove.as_secs_f64(),
        r.verify.as_secs_f64() * 1e3,
        peak_mib(),
    ))
}

fn main() -> anyhow::Result<()> {
    let names: Vec<String> = std::env::args().skip(1).collect();
    let kinds: Vec<StatementKind> = if names.is_empty() {
        StatementKind::ALL.to_vec()
    } else {
        names
            .iter()
            .map(|n| {
                StatementKind::from_name(n).ok_or_else(|| anyhow::anyhow!("unknown statement {n}"))
            })
            .collect::<Result<_, _>>()?
    };
    println!(
        "| statement | backend | size | keygen | prove | verify (native) | peak memory | proof |"
    );
    println!("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for kind in kinds {
        let h = match kind {
            StatementKind::Uptime => halo2(kind, UptimeCircuit::sample()?)?,
            StatementKind::Bandwidth => halo2(kind, BandwidthCircuit::sample()?)?,
            StatementKind::Coverage => halo2(kind, CoverageCircuit::sample()?)?,
        };
        println!("| {} | halo2 | {h} |", kind.as_str());
        println!("| {} | Groth16 | {} |", kind.as_str(), groth16(kind)?);
    }
    Ok(())
}
