//! Prints the R1CS constraint count of every gadget, measured by
//! synthesizing it into a fresh constraint system.
//!
//! `cargo run --release -p depin-benches --example constraint_counts`

use ark_bn254::Fr;
use ark_r1cs_std::{alloc::AllocVar, fields::fp::FpVar, prelude::Boolean};
use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef, SynthesisError};
use depin_crypto::eddsa::PrivateKey;
use depin_gadgets::{eddsa, geo, merkle, poseidon, range};

fn count(f: impl FnOnce(ConstraintSystemRef<Fr>) -> Result<(), SynthesisError>) -> usize {
    let cs = ConstraintSystem::<Fr>::new_ref();
    f(cs.clone()).expect("synthesis");
    assert!(cs.is_satisfied().expect("satisfiable"));
    cs.num_constraints()
}

fn witness(cs: &ConstraintSystemRef<Fr>, v: u64) -> FpVar<Fr> {
    FpVar::new_witness(cs.clone(), || Ok(Fr::from(v))).expect("witness")
}

fn main() {
    println!("| gadget | constraints |\n| --- | ---: |");
    for n in 1..=16usize {
        let c = count(|cs| {
            let xs: Vec<_> = (0..n as u64).map(|i| witness(&cs, i + 1)).collect();
            poseidon::hash(&xs).map(|_| ())
        });
        println!(
            "| Poseidon, {n} input{} | {c} |",
            if n == 1 { "" } else { "s" }
        );
    }
    let sk = PrivateKey::from_bytes([3u8; 32]);
    let msg = Fr::from(42u64);
    let sig = sk.sign(&msg);
    let c = count(|cs| {
        let pk = eddsa::PublicKeyVar::new_witness(cs.clone(), || Ok(sk.public_key()))?;
        let s = eddsa::SignatureVar::new_witness(cs.clone(), || Ok(sig))?;
        let m = FpVar::new_witness(cs.clone(), || Ok(msg))?;
        eddsa::enforce_verify(&pk, &m, &s)
    });
    println!("| EdDSA-Poseidon verification (circomlib: 4,217) | {c} |");
    for depth in [1usize, 16] {
        let leaves: Vec<Fr> = (1..=4u64).map(Fr::from).collect();
        let tree = depin_crypto::merkle::MerkleTree::new(depth.max(2), &leaves).expect("tree");
        let proof = tree.proof(1).expect("proof");
        let c = count(|cs| {
            let root = FpVar::new_input(cs.clone(), || Ok(tree.root()))?;
            let leaf = witness(&cs, 2);
            let idx = witness(&cs, 1);
            let bits = range::to_bits_le(&idx, tree.depth())?;
            let sibs: Vec<_> = proof
                .siblings
                .iter()
                .map(|s| FpVar::new_witness(cs.clone(), || Ok(*s)))
                .collect::<Result<_, _>>()?;
            merkle::enforce_member(&root, &leaf, &bits, &sibs)
        });
        println!(
            "| Merkle membership, depth {} (with index bits) | {c} |",
            tree.depth()
        );
    }
    println!(
        "| Merkle membership, per level | {} |",
        merkle::CONSTRAINTS_PER_LEVEL
    );
    for n in [16usize, 32, 64] {
        let c = count(|cs| range::enforce_bits(&witness(&cs, 5), n));
        println!("| range check, {n} bits | {c} |");
        let c = count(|cs| {
            let _: Boolean<Fr> = range::is_less_than(&witness(&cs, 5), &witness(&cs, 9), n)?;
            Ok(())
        });
        println!("| comparison a < b, {n} bits | {c} |");
    }
    let c = count(|cs| {
        let d = geo::distance_sq(
            (&witness(&cs, 0), &witness(&cs, 0)),
            (&witness(&cs, 300), &witness(&cs, 400)),
        )?;
        let eirp = FpVar::new_witness(cs.clone(), || Ok(Fr::from(27u64)))?;
        let rssi = FpVar::new_witness(cs.clone(), || Ok(range::signed_to_fr(-80)))?;
        let k = witness(&cs, u64::from(depin_crypto::geo::k_q32_for_mhz(915)));
        let _ = geo::check_path_loss(&d, &eirp, &rssi, &k)?;
        Ok(())
    });
    println!("| distance and free-space path-loss bound | {c} |");
}
