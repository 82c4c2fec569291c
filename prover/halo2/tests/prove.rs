//! Proving and verifying small statements end to end with real KZG keys
//! (development parameters from a seed): a proof of an honest epoch
//! verifies, so does a second proof of it (other bytes), and another public
//! input, a flipped proof byte, a truncated or extended proof, another
//! statement's proof or keys are refused with the specific error or a
//! `false`.

use depin_crypto::eddsa::PrivateKey;
use depin_crypto::field::Fr as NativeFr;
use depin_halo2::layout::keygen_builder;
use depin_halo2::statement::StatementCircuit;
use depin_halo2::uptime::UptimeCircuit;
use depin_halo2_prover::params::dev_params;
use depin_halo2_prover::{prove, verify, Bn256, Fr, Halo2Error, StatementKeys};
use depin_statements::records::Heartbeat;
use depin_statements::sample::uptime::UptimeEpoch;
use depin_statements::{StatementKind, UptimePolicy};
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::OnceLock;

const K: u32 = 16;
const CAPACITY: usize = 2;

fn epoch(slots: u32) -> UptimeEpoch {
    let key = PrivateKey::from_bytes([7; 32]);
    let beacon = NativeFr::from(42u64);
    let id = key.public_key().id();
    let hbs: Vec<Heartbeat> = (0..slots)
        .map(|s| Heartbeat::answer(beacon, id, s, 30))
        .collect();
    let policy = UptimePolicy {
        slots_per_epoch: 16,
        floor_slots: 1,
        max_latency_ms: 200,
        base_reward: 100,
        reward_per_slot: 7,
        reward_cap: 1_000_000,
    };
    UptimeEpoch::signed(&key, 7, beacon, policy, hbs)
}

fn circuit(slots: u32) -> UptimeCircuit {
    UptimeCircuit::with_capacity(&epoch(slots).as_input(), CAPACITY).expect("circuit")
}

/// Development parameters, made once for the whole test binary.
fn params() -> ParamsKZG<Bn256> {
    static PARAMS: OnceLock<ParamsKZG<Bn256>> = OnceLock::new();
    PARAMS
        .get_or_init(|| dev_params(K, 0xdeb1).expect("params"))
        .clone()
}

fn keys() -> StatementKeys {
    let params = params();
    let builder = keygen_builder(&circuit(CAPACITY as u32), K).expect("layout");
    StatementKeys::from_builder(params, StatementKind::Uptime, &builder).expect("keys")
}

#[test]
fn proofs_verify_and_bind_every_byte() {
    let keys = keys();
    let statement = circuit(2);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (public, proof) = prove(&keys, &statement, &mut rng).expect("prove");
    assert_eq!(public, statement.public_inputs());
    assert!(verify(keys.params(), keys.verifying_key(), &public, &proof).expect("verify"));
    eprintln!("proof: {} bytes", proof.len());

    // Another proof of the same epoch: other bytes (halo2-axiom draws the
    // vanishing argument's random polynomial from the thread RNG), valid.
    let (_, other) = prove(&keys, &statement, &mut ChaCha20Rng::seed_from_u64(1)).expect("prove");
    assert_ne!(other, proof);
    assert!(verify(keys.params(), keys.verifying_key(), &public, &other).expect("verify"));

    // Every public input is bound.
    for i in 0..public.len() {
        let mut bad = public.clone();
        bad[i] += Fr::ONE;
        assert!(
            !verify(keys.params(), keys.verifying_key(), &bad, &proof).expect("verify"),
            "input {i}"
        );
    }
    // A flipped byte anywhere, a truncated or extended proof.
    for at in [0, 31, 64, proof.len() / 2, proof.len() - 1] {
        let mut bad = proof.clone();
        bad[at] ^= 1;
        assert!(
            !verify(keys.params(), keys.verifying_key(), &public, &bad).expect("verify"),
            "byte {at}"
        );
    }
    assert!(!verify(
        keys.params(),
        keys.verifying_key(),
        &public,
        &proof[..proof.len() - 32]
    )
    .expect("verify"));
    let mut longer = proof.clone();
    longer.extend_from_slice(&[0; 32]);
    assert!(!verify(keys.params(), keys.verifying_key(), &public, &longer).expect("verify"));
    assert!(!verify(keys.params(), keys.verifying_key(), &public, &[]).expect("verify"));

    // A different epoch (one heartbeat) proves its own reward under the same keys.
    let fewer = circuit(1);
    let (public1, proof1) = prove(&keys, &fewer, &mut rng).expect("prove");
    assert_ne!(public1, public);
    assert!(verify(keys.params(), keys.verifying_key(), &public1, &proof1).expect("verify"));
    assert!(!verify(keys.params(), keys.verifying_key(), &public, &proof1).expect("verify"));
}

#[test]
fn keys_are_deterministic_and_refuse_other_statements() {
    let a = keys();
    let b = keys();
    assert_eq!(a.verifying_key_bytes(), b.verifying_key_bytes());
    let json: serde_json::Value = serde_json::from_str(&a.summary_json()).expect("json");
    assert_eq!(json["k"], K);
    assert_eq!(json["public_inputs"], 5);

    // Keys of another statement refuse the circuit.
    let params = params();
    let builder = keygen_builder(&circuit(CAPACITY as u32), K).expect("layout");
    let coverage_keys =
        StatementKeys::from_builder(params, StatementKind::Coverage, &builder).expect("keys");
    let err = prove(
        &coverage_keys,
        &circuit(2),
        &mut ChaCha20Rng::seed_from_u64(1),
    )
    .unwrap_err();
    assert!(matches!(err, Halo2Error::WrongStatement { .. }), "{err}");
}
