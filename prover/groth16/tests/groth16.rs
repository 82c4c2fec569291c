//! Groth16 keys, proofs and their files, on small-capacity statement
//! circuits: proofs verify (ours and arkworks' own `SNARK::verify`), any
//! other public input is refused, setup and proofs are deterministic in
//! their seeds, and every malformed key or proof file gets its typed error.

use depin_testkit as support;

use ark_bn254::{Bn254, Fr};
use ark_groth16::Groth16;
use ark_serialize::{CanonicalSerialize, Compress};
use ark_snark::SNARK;
use ark_std::UniformRand;
use depin_evm::proof_dir::{
    write_proof_dir, ProofDir, ProofDirError, PROOF_BIN_FILE, PROOF_JSON_FILE, PUBLIC_JSON_FILE,
};
use depin_groth16::golden::CircuitVisitor;
use depin_groth16::keys::{
    dev_setup, dev_verifying_key, KeyDir, KeyError, Keys, ProvingKey, Trust, VerifyingKey,
};
use depin_groth16::prover::{
    circuit_shape, prove, verify, verify_statement, CircuitShape, Prover, ProverError,
};
use depin_prover_core::groth16::PackedKeyError;
use depin_proving::file::{FileError, FileHeader, FileType, FormatError, HEADER_LEN};
use depin_proving::{Proof, StatementProof};
use depin_statements::Header;
use depin_statements::{StatementKind, STATEMENT_VERSION};
use depin_statements_r1cs::uptime::UptimeCircuit;
use depin_statements_r1cs::StatementCircuit;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::OnceLock;
use support::{small_size, with_small};

const KINDS: [StatementKind; 3] = [
    StatementKind::Uptime,
    StatementKind::Bandwidth,
    StatementKind::Coverage,
];

/// Setup (seed 1) and a proof (seed 2) of a small circuit, plus what the
/// tests check about them.
struct Made {
    keys: Keys,
    proof: StatementProof,
    shape: CircuitShape,
    expected: Vec<Fr>,
}

struct Make;

impl CircuitVisitor for Make {
    type Output = Made;
    fn visit<C: StatementCircuit>(self, circuit: C) -> Made {
        let shape = circuit_shape(circuit.clone()).expect("shape");
        let expected = circuit.expected().to_field_elements();
        let keys = dev_setup(circuit.clone(), 1).expect("setup");
        let proof =
            prove(&keys.proving, circuit, &mut ChaCha20Rng::seed_from_u64(2)).expect("prove");
        Made {
            keys,
            proof,
            shape,
            expected,
        }
    }
}

/// `kind`'s small setup and proof, made once per test process.
fn made(kind: StatementKind) -> &'static Made {
    static CACHE: [OnceLock<Made>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    CACHE[usize::from(kind.code() - 1)].get_or_init(|| with_small(kind, Make))
}

#[test]
fn small_proofs_verify_and_other_public_inputs_do_not() {
    for kind in KINDS {
        let m = made(kind);
        assert_eq!(m.proof.kind, kind);
        assert_eq!(m.proof.public, m.expected, "{kind:?}: public inputs");
        assert_eq!(m.shape.public_inputs, kind.public_input_count());
        assert!(
            verify_statement(&m.keys.verifying, &m.proof).expect("verify"),
            "{kind:?}"
        );
        // arkworks' own verifier agrees.
        assert!(Groth16::<Bn254>::verify(
            m.keys.verifying.as_arkworks(),
            &m.proof.public,
            m.proof.proof.as_groth16().expect("groth16")
        )
        .expect("ark verify"));
        // Any single public input changed: refused.
        for i in 0..m.proof.public.len() {
            let mut public = m.proof.public.clone();
            public[i] += Fr::from(1u64);
            assert!(
                !verify(
                    &m.keys.verifying,
                    &public,
                    m.proof.proof.as_groth16().expect("groth16")
                )
                .expect("verify"),
                "{kind:?}: public input {i} changed but the proof verifies"
            );
        }
        // A wrong number of public inputs is an error, not a silent
        // truncation (arkworks zips).
        let mut longer = m.proof.public.clone();
        longer.push(Fr::from(0u64));
        assert!(matches!(
            verify(
                &m.keys.verifying,
                &longer,
                m.proof.proof.as_groth16().expect("groth16")
            ),
            Err(ProverError::PublicInputCount { .. })
        ));
        assert!(matches!(
            verify(
                &m.keys.verifying,
                &m.proof.public[1..],
                m.proof.proof.as_groth16().expect("groth16")
            ),
            Err(ProverError::PublicInputCount { .. })
        ));
        // The header unpacks to the statement, version, epoch and reward.
        let h = Header::unpack(&m.proof.public[0]).expect("header");
        assert_eq!(h.kind, kind.code());
        assert_eq!(h.version, STATEMENT_VERSION);
    }
}

#[test]
fn proofs_equal_arkworks_with_the_same_blinding() {
    struct Same;
    impl CircuitVisitor for Same {
        type Output = ();
        fn visit<C: StatementCircuit>(self, circuit: C) {
            let kind = C::KIND;
            let m = made(kind);
            let pk = &m.keys.proving.to_arkworks().expect("in memory");
            // prove() drew r then s from ChaCha20 seeded with 2.
            let mut rng = ChaCha20Rng::seed_from_u64(2);
            let r = Fr::rand(&mut rng);
            let s = Fr::rand(&mut rng);
            let theirs = Groth16::<Bn254>::create_proof_with_reduction(circuit.clone(), pk, r, s)
                .expect("arkworks");
            assert_eq!(m.proof.proof, Proof::Groth16(theirs), "{kind:?}");
            // A prover built once proves again and again, the same proofs.
            let prover = Prover::new(m.keys.proving.clone(), circuit.clone()).expect("prover");
            assert_eq!(prover.kind(), kind);
            assert_eq!(prover.shape(), m.shape);
            for seed in [2, 5] {
                let (p, t) = prover
                    .prove_timed(circuit.clone(), &mut ChaCha20Rng::seed_from_u64(seed))
                    .expect("prove");
                assert_eq!(t.matrices, std::time::Duration::ZERO);
                assert_eq!(t.groth16, t.witness_map + t.msm);
                assert!(Groth16::<Bn254>::verify(
                    &pk.vk,
                    &p.public,
                    p.proof.as_groth16().expect("groth16")
                )
                .expect("verify"));
                if seed == 2 {
                    assert_eq!(p, m.proof, "{kind:?}");
                }
            }
        }
    }
    for kind in KINDS {
        with_small(kind, Same);
    }
}

#[test]
fn prebuilt_provers_refuse_other_statements_and_shapes() {
    let m = made(StatementKind::Uptime);
    let (records, capacity) = small_size(StatementKind::Uptime);
    let depin_statements::epoch::EpochInput::Uptime(e) =
        support::truncated(StatementKind::Uptime, records)
    else {
        unreachable!()
    };
    let circuit = UptimeCircuit::with_capacity(&e.as_input(), capacity).expect("circuit");
    let smaller = UptimeCircuit::with_capacity(&e.as_input(), capacity - 1).expect("circuit");
    let bw = made(StatementKind::Bandwidth);
    let err = Prover::new(bw.keys.proving.clone(), circuit.clone()).expect_err("other kind");
    assert!(matches!(err, ProverError::WrongStatement { .. }), "{err}");
    let err = Prover::new(m.keys.proving.clone(), smaller.clone()).expect_err("other shape");
    assert!(matches!(err, ProverError::KeyMismatch { .. }), "{err}");
    let prover = Prover::new(m.keys.proving.clone(), circuit.clone()).expect("prover");
    let mut rng = ChaCha20Rng::seed_from_u64(0);
    let err = prover.prove(smaller, &mut rng).expect_err("other shape");
    assert!(matches!(err, ProverError::KeyMismatch { .. }), "{err}");
    let mut bad = circuit.public_inputs();
    bad[0] += Fr::from(1u64 << 40);
    let err = prover
        .prove(circuit.with_public_override(bad), &mut rng)
        .expect_err("unsatisfied");
    assert!(matches!(err, ProverError::Unsatisfied { .. }), "{err}");
    // The full-capacity prover of a small key: the shapes differ.
    let err = Prover::for_statement(m.keys.proving.clone()).expect_err("capacity");
    assert!(matches!(err, ProverError::KeyMismatch { .. }), "{err}");
}

#[test]
fn dev_verifying_key_equals_the_full_setups_verifying_key() {
    struct Both;
    impl CircuitVisitor for Both {
        type Output = ();
        fn visit<C: StatementCircuit>(self, circuit: C) {
            // made() used seed 1.
            let vk = dev_verifying_key(circuit, 1).expect("vk only");
            assert_eq!(vk, made(C::KIND).keys.verifying, "{:?}", C::KIND);
        }
    }
    for kind in KINDS {
        with_small(kind, Both);
    }
}

#[test]
fn setup_and_proofs_are_deterministic_in_their_seeds() {
    let kind = StatementKind::Uptime;
    let a = made(kind);
    let b = with_small(kind, Make);
    assert_eq!(
        a.keys.proving.to_bytes().expect("pk"),
        b.keys.proving.to_bytes().expect("pk")
    );
    assert_eq!(a.proof, b.proof);
    struct Other;
    impl CircuitVisitor for Other {
        type Output = (Keys, StatementProof, StatementProof);
        fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output {
            let keys = dev_setup(circuit.clone(), 3).expect("setup");
            let p1 = prove(
                &keys.proving,
                circuit.clone(),
                &mut ChaCha20Rng::seed_from_u64(2),
            )
            .expect("prove");
            let p2 =
                prove(&keys.proving, circuit, &mut ChaCha20Rng::seed_from_u64(9)).expect("prove");
            (keys, p1, p2)
        }
    }
    let (keys, p1, p2) = with_small(kind, Other);
    assert_ne!(
        keys.verifying, a.keys.verifying,
        "another seed, another key"
    );
    struct VkOnly;
    impl CircuitVisitor for VkOnly {
        type Output = VerifyingKey;
        fn visit<C: StatementCircuit>(self, circuit: C) -> VerifyingKey {
            dev_verifying_key(circuit, 3).expect("vk only")
        }
    }
    assert_eq!(
        with_small(kind, VkOnly),
        keys.verifying,
        "dev_verifying_key, seed 3"
    );
    assert_ne!(p1.proof, p2.proof, "another blinding, another proof");
    assert!(verify_statement(&keys.verifying, &p1).expect("verify"));
    assert!(verify_statement(&keys.verifying, &p2).expect("verify"));
    // A proof for one key does not verify under another.
    assert!(!verify_statement(&keys.verifying, &a.proof).expect("verify"));
}

#[test]
fn prove_refuses_unsatisfied_witnesses_and_mismatched_keys() {
    let m = made(StatementKind::Uptime);
    let (records, capacity) = small_size(StatementKind::Uptime);
    let input = support::truncated(StatementKind::Uptime, records);
    let depin_statements::epoch::EpochInput::Uptime(e) = input else {
        unreachable!()
    };
    let circuit = UptimeCircuit::with_capacity(&e.as_input(), capacity).expect("circuit");
    let mut rng = ChaCha20Rng::seed_from_u64(0);

    // A witness whose public inputs differ from what its records give.
    let mut bad = circuit.public_inputs();
    bad[0] += Fr::from(1u64 << 40); // epoch + 1
    let err = prove(
        &m.keys.proving,
        circuit.clone().with_public_override(bad),
        &mut rng,
    )
    .expect_err("unsatisfied");
    assert!(
        matches!(
            err,
            ProverError::Unsatisfied {
                kind: StatementKind::Uptime,
                ..
            }
        ),
        "{err}"
    );

    // A key for another statement.
    let bw = made(StatementKind::Bandwidth);
    let err = prove(&bw.keys.proving, circuit.clone(), &mut rng).expect_err("wrong kind");
    assert!(matches!(err, ProverError::WrongStatement { .. }), "{err}");

    // A key for another capacity.
    let smaller = UptimeCircuit::with_capacity(&e.as_input(), capacity - 1).expect("circuit");
    let err = prove(&m.keys.proving, smaller, &mut rng).expect_err("other shape");
    assert!(matches!(err, ProverError::KeyMismatch { .. }), "{err}");

    // A proof checked against another statement's key.
    assert!(matches!(
        verify_statement(&bw.keys.verifying, &m.proof),
        Err(ProverError::WrongStatement { .. })
    ));
}

/// Many writers publishing the same key directory at once, from threads
/// of one process (as test servers and the service do): every one
/// succeeds, exactly one publishes, the directory is whole and nothing
/// temporary is left beside it.
#[test]
fn concurrent_publishers_leave_one_whole_key_directory() {
    let m = made(StatementKind::Uptime);
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("uptime");
    let published: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| m.keys.publish_dir(&dir).expect("publish")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    });
    assert_eq!(published.iter().filter(|p| **p).count(), 1, "{published:?}");
    let pk = KeyDir::new(&dir)
        .load_proving_key(StatementKind::Uptime, Trust::Untrusted)
        .expect("whole key");
    assert_eq!(pk, m.keys.proving);
    let left: Vec<_> = std::fs::read_dir(root.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("uptime")]);
    // Publishing again keeps what is there.
    assert!(!m.keys.publish_dir(&dir).expect("publish again"));
}

#[test]
fn key_files_round_trip_trusted_and_untrusted() {
    let m = made(StatementKind::Coverage);
    let dir = tempfile::tempdir().expect("tempdir");
    m.keys.write_dir(dir.path()).expect("write");
    let keys = KeyDir::new(dir.path());
    for trust in [Trust::Trusted, Trust::Untrusted] {
        let pk = keys
            .load_proving_key(StatementKind::Coverage, trust)
            .expect("load pk");
        assert!(pk.is_mapped() && !m.keys.proving.is_mapped());
        assert_eq!(pk, m.keys.proving);
        // Viewed in place: the queries are slices of the mapped file.
        let view = pk.key_ref().expect("view");
        assert_eq!(
            view.to_arkworks(),
            m.keys.proving.to_arkworks().expect("owned")
        );
        // A clone shares the mapping; the file's bytes parse to the same key.
        assert_eq!(
            pk.clone().key_ref().expect("view").a_query.as_ptr(),
            view.a_query.as_ptr()
        );
        let bytes = std::fs::read(keys.proving_key()).expect("read");
        assert_eq!(
            ProvingKey::from_bytes(&bytes, StatementKind::Coverage, trust).expect("bytes"),
            pk
        );
        assert_eq!(pk.to_bytes().expect("bytes"), bytes);
    }
    assert_eq!(
        ProvingKey::load_trusted(&keys.proving_key(), StatementKind::Coverage).expect("trusted"),
        m.keys.proving
    );
    assert_eq!(
        ProvingKey::load_untrusted(&keys.proving_key(), StatementKind::Coverage)
            .expect("untrusted"),
        m.keys.proving
    );
    let vk = keys
        .load_verifying_key(StatementKind::Coverage)
        .expect("load vk");
    assert_eq!(vk, m.keys.verifying);
    assert_eq!(
        m.keys.proving.verifying_key().expect("vk"),
        m.keys.verifying
    );
    // The files are exactly header + arkworks' uncompressed serialization.
    let bytes = std::fs::read(keys.verifying_key()).expect("read");
    assert_eq!(
        &bytes[..HEADER_LEN],
        &FileHeader::new(FileType::VerifyingKey, StatementKind::Coverage).to_bytes()
    );
    assert_eq!(
        bytes.len() - HEADER_LEN,
        vk.as_arkworks().serialized_size(Compress::No)
    );
    assert_eq!(&bytes[..4], b"DPZK");
    let json = std::fs::read_to_string(keys.vk_json()).expect("vk.json");
    assert_eq!(
        &depin_evm::snarkjs::vk_from_json(&json).expect("parse"),
        vk.as_arkworks()
    );
}

fn pk_bytes(kind: StatementKind) -> (&'static Made, Vec<u8>) {
    let m = made(kind);
    let bytes = m.keys.proving.to_bytes().expect("bytes");
    (m, bytes)
}

fn pk_err(bytes: &[u8], kind: StatementKind, trust: Trust) -> FormatError {
    ProvingKey::from_bytes(bytes, kind, trust).expect_err("refused")
}

#[test]
fn malformed_key_files_get_typed_errors() {
    let (m, bytes) = pk_bytes(StatementKind::Uptime);
    for trust in [Trust::Trusted, Trust::Untrusted] {
        // Another statement.
        let e = pk_err(&bytes, StatementKind::Bandwidth, trust);
        assert!(
            matches!(
                e,
                FormatError::WrongStatement {
                    expected: StatementKind::Bandwidth,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("uptime"), "{e}");
        // Another statement version.
        let mut b = bytes.clone();
        b[8..12].copy_from_slice(&(STATEMENT_VERSION + 1).to_le_bytes());
        let e = pk_err(&b, StatementKind::Uptime, trust);
        assert!(
            matches!(e, FormatError::WrongStatementVersion { found, .. } if found == STATEMENT_VERSION + 1),
            "{e}"
        );
        // Another format version.
        let mut b = bytes.clone();
        b[4] = 9;
        assert!(matches!(
            pk_err(&b, StatementKind::Uptime, trust),
            FormatError::UnsupportedFormat { found: 9, .. }
        ));
        // Bad magic.
        let mut b = bytes.clone();
        b[0] = b'X';
        assert!(matches!(
            pk_err(&b, StatementKind::Uptime, trust),
            FormatError::BadMagic { .. }
        ));
        // A verifying key where a proving key is expected.
        let vk = m.keys.verifying.to_bytes().expect("vk");
        assert!(matches!(
            pk_err(&vk, StatementKind::Uptime, trust),
            FormatError::WrongFileType {
                expected: FileType::ProvingKey,
                ..
            }
        ));
        // A wrong public-input count in the header.
        let mut b = bytes.clone();
        b[12] = 7;
        assert!(matches!(
            pk_err(&b, StatementKind::Uptime, trust),
            FormatError::WrongPublicInputCount { found: 7, .. }
        ));
        // Truncated: in the header, and anywhere in the body.
        for len in [
            0,
            3,
            HEADER_LEN - 1,
            HEADER_LEN,
            HEADER_LEN + 5,
            bytes.len() / 2,
            bytes.len() - 1,
        ] {
            let e = pk_err(&bytes[..len], StatementKind::Uptime, trust);
            assert!(matches!(e, FormatError::Truncated(_)), "len {len}: {e}");
        }
        // Trailing bytes.
        let mut b = bytes.clone();
        b.extend_from_slice(&[0, 0, 0]);
        assert!(matches!(
            pk_err(&b, StatementKind::Uptime, trust),
            FormatError::TrailingBytes(3)
        ));
    }
}

#[test]
fn untrusted_load_refuses_points_off_the_curve() {
    let (m, bytes) = pk_bytes(StatementKind::Uptime);
    // The last point of the packed file is the last b_g2_query point (G2,
    // 128 bytes: x.c0, x.c1, y.c0, y.c1): change its y.
    let mut b = bytes.clone();
    let n = b.len();
    b[n - 10] ^= 0x01;
    let e = pk_err(&b, StatementKind::Uptime, Trust::Untrusted);
    let last = m.keys.proving.key_ref().expect("view").b_g2_query.len() - 1;
    assert!(
        matches!(
            e,
            FormatError::Packed(PackedKeyError::InvalidPoint { what: "b_g2_query", index, .. }) if index == last
        ),
        "{e}"
    );
    // The same through a mapped file, with the file named.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("proving_key.bin");
    std::fs::write(&path, &b).expect("write");
    let e = ProvingKey::load_untrusted(&path, StatementKind::Uptime).expect_err("refused");
    assert!(
        e.to_string().contains("proving_key.bin") && e.to_string().contains("b_g2_query"),
        "{e}"
    );
    assert!(ProvingKey::load_trusted(&path, StatementKind::Uptime).is_ok());
    // The trusted path does not look; the damage shows when proving (the
    // proof does not verify).
    let pk = ProvingKey::from_bytes(&b, StatementKind::Uptime, Trust::Trusted).expect("trusted");
    assert_ne!(pk, m.keys.proving);
    // A G2 point (in the verifying key's beta, early in the file) off the
    // curve: refused by the verifying key loader too.
    let vk = m.keys.verifying.to_bytes().expect("vk");
    let mut v = vk.clone();
    // alpha_g1 is 64 bytes after the header; beta_g2 starts there.
    v[HEADER_LEN + 64 + 3] ^= 0x01;
    let e = VerifyingKey::from_bytes(&v, StatementKind::Uptime).expect_err("refused");
    assert!(matches!(e, FormatError::Invalid { .. }), "{e}");
    let e =
        VerifyingKey::from_bytes(&vk[..vk.len() - 1], StatementKind::Uptime).expect_err("refused");
    assert!(matches!(e, FormatError::Truncated(_)), "{e}");
}

#[test]
fn key_file_errors_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = KeyDir::new(dir.path());
    let e = keys
        .load_proving_key(StatementKind::Uptime, Trust::Trusted)
        .expect_err("missing");
    assert!(matches!(e, KeyError::File(FileError::Io { .. })));
    assert!(e.to_string().contains("proving_key.bin"), "{e}");
    let m = made(StatementKind::Uptime);
    m.keys.write_dir(dir.path()).expect("write");
    let e = keys
        .load_verifying_key(StatementKind::Coverage)
        .expect_err("wrong statement");
    let text = e.to_string();
    assert!(text.contains("verifying_key.bin"), "{text}");
    assert!(
        text.contains("uptime") && text.contains("coverage"),
        "{text}"
    );
}

#[test]
fn proof_files_round_trip_and_refuse_damage() {
    let m = made(StatementKind::Bandwidth);
    let bytes = m.proof.to_bytes().expect("bytes");
    assert_eq!(bytes.len(), HEADER_LEN + 32 * 6 + 128);
    assert_eq!(
        StatementProof::from_bytes(&bytes, StatementKind::Bandwidth).expect("parse"),
        m.proof
    );
    assert!(matches!(
        StatementProof::from_bytes(&bytes, StatementKind::Coverage),
        Err(FormatError::WrongStatement { .. })
    ));
    for len in [10, HEADER_LEN + 40, bytes.len() - 1] {
        assert!(matches!(
            StatementProof::from_bytes(&bytes[..len], StatementKind::Bandwidth),
            Err(FormatError::Truncated(_))
        ));
    }
    let mut b = bytes.clone();
    b.push(0);
    assert!(matches!(
        StatementProof::from_bytes(&b, StatementKind::Bandwidth),
        Err(FormatError::TrailingBytes(1))
    ));
    // A public input at or above the modulus.
    let mut b = bytes.clone();
    b[HEADER_LEN..HEADER_LEN + 32].fill(0xff);
    assert!(matches!(
        StatementProof::from_bytes(&b, StatementKind::Bandwidth),
        Err(FormatError::Invalid { .. })
    ));

    // A proof directory holds both forms; each is read and verified.
    let dir = tempfile::tempdir().expect("tempdir");
    write_proof_dir(&m.proof, dir.path()).expect("write");
    let read = ProofDir::read(dir.path(), StatementKind::Bandwidth).expect("read");
    assert_eq!(read.bin.as_ref(), Some(&m.proof));
    assert_eq!(read.json.as_ref(), Some(&m.proof));
    assert_eq!(read.proofs().len(), 2);
    std::fs::remove_file(dir.path().join(PUBLIC_JSON_FILE)).expect("rm");
    assert!(matches!(
        ProofDir::read(dir.path(), StatementKind::Bandwidth),
        Err(ProofDirError::Incomplete { .. })
    ));
    std::fs::remove_file(dir.path().join(PROOF_JSON_FILE)).expect("rm");
    let read = ProofDir::read(dir.path(), StatementKind::Bandwidth).expect("bin only");
    assert!(read.json.is_none());
    std::fs::remove_file(dir.path().join(PROOF_BIN_FILE)).expect("rm");
    assert!(matches!(
        ProofDir::read(dir.path(), StatementKind::Bandwidth),
        Err(ProofDirError::Empty { .. })
    ));
}
