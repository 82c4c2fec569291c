//! Shared by the integration tests: a small test circuit, a small-capacity
//! uptime statement, development powers of tau, and the pinned snarkjs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ark_bn254::Fr;
use ark_ff::Field;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::convert::ToBitsGadget;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};

/// A few hundred constraints with two public inputs: `steps` rounds of
/// `y <- y^2 + k_i x + i` (`k_i` full-size constants), a bit
/// decomposition of `y` (powers-of-two coefficients), and `out = y`.
#[derive(Debug, Clone)]
pub struct TestCircuit {
    /// The first public input.
    pub x: Fr,
    /// Rounds.
    pub steps: usize,
}

/// The round constant `k_i`.
fn k(i: usize) -> Fr {
    Fr::from(7u64).pow([i as u64 + 200]) + Fr::from(i as u64)
}

impl TestCircuit {
    /// The circuit on `x` with 40 rounds.
    pub fn new(x: u64) -> Self {
        TestCircuit {
            x: Fr::from(x),
            steps: 40,
        }
    }

    /// The output (the second public input).
    pub fn output(&self) -> Fr {
        let mut y = self.x;
        for i in 0..self.steps {
            y = y.square() + k(i) * self.x + Fr::from(i as u64);
        }
        y
    }

    /// The public inputs.
    pub fn public_inputs(&self) -> Vec<Fr> {
        vec![self.x, self.output()]
    }
}

impl ConstraintSynthesizer<Fr> for TestCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let out = self.output();
        let x = FpVar::new_input(cs.clone(), || Ok(self.x))?;
        let o = FpVar::new_input(cs.clone(), || Ok(out))?;
        let mut y = x.clone();
        for i in 0..self.steps {
            let sq = FpVar::new_witness(cs.clone(), || y.value().map(|v| v.square()))?;
            y.mul_equals(&y, &sq)?;
            y = sq + &x * k(i) + FpVar::constant(Fr::from(i as u64));
        }
        y.to_bits_le()?;
        y.enforce_equal(&o)?;
        Ok(())
    }
}

/// The workspace root (the folder holding `tools/js`).
pub fn workspace_root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        if dir.join("tools/js/package.json").exists() {
            return dir;
        }
        if !dir.pop() {
            panic!("no tools/js above {}", env!("CARGO_MANIFEST_DIR"));
        }
    }
}

/// The pinned snarkjs (`scripts/setup.sh` installs it), or `None` with a
/// message when it is not installed; under CI (`CI` set) its absence fails
/// the test.
pub fn snarkjs() -> Option<PathBuf> {
    let path = workspace_root().join("tools/js/node_modules/.bin/snarkjs");
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{} is missing: run scripts/setup.sh (CI must run the snarkjs interop tests)",
            path.display()
        );
    }
    eprintln!(
        "SKIPPED: {} is missing (run scripts/setup.sh to run the snarkjs interop tests)",
        path.display()
    );
    None
}

/// Runs snarkjs with `args`; returns whether it exited with success and
/// its output (stdout and stderr).
pub fn run_snarkjs(snarkjs: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(snarkjs)
        .args(args)
        .output()
        .expect("snarkjs runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs snarkjs and requires success and `needle` in its output.
pub fn snarkjs_ok(snarkjs: &Path, args: &[&str], needle: &str) -> String {
    let (ok, text) = run_snarkjs(snarkjs, args);
    assert!(
        ok && text.contains(needle),
        "snarkjs {args:?} failed or did not print {needle:?}:\n{text}"
    );
    text
}

/// A shared temporary folder for one test binary.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// A development `.ptau` of `power` (made once per test binary and power).
pub fn dev_ptau(power: u32) -> PathBuf {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let path = scratch().join(format!("dev_{power}.ptau"));
    if !path.exists() {
        depin_circom::ptau::write_dev(&path, power, b"test seed", "insecure development setup")
            .expect("dev ptau");
    }
    path
}

/// A small-capacity uptime statement (two heartbeat slots, one heartbeat).
pub fn small_uptime() -> depin_statements_r1cs::uptime::UptimeCircuit {
    use depin_crypto::eddsa::PrivateKey;
    use depin_statements::records::{HashChain, Heartbeat, SignedHead};
    use depin_statements::uptime::UptimeInput;
    let key = PrivateKey::from_bytes([0x42; 32]);
    let device = key.public_key();
    let epoch = 7;
    let beacon = Fr::from(123_456_789u64);
    let heartbeats = vec![Heartbeat::answer(beacon, device.id(), 0, 25)];
    let mut chain = HashChain::uptime(device.id(), epoch);
    for hb in &heartbeats {
        chain.push(hb.message());
    }
    let head = chain.head();
    let input = UptimeInput {
        device,
        epoch,
        beacon,
        policy: depin_statements_r1cs::uptime::SAMPLE_POLICY,
        heartbeats: &heartbeats,
        signed_head: SignedHead {
            head,
            signature: key.sign(&head),
        },
    };
    depin_statements_r1cs::uptime::UptimeCircuit::with_capacity(&input, 2).expect("circuit")
}
