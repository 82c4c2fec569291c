//! Each format on its own: round trips, and tampered or truncated files
//! refused with the error that names what is wrong.

mod common;

use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{FftField, Field, One, Zero};
use common::{dev_ptau, scratch, TestCircuit};
use depin_circom::blake2b::{format_hash, Blake2b};
use depin_circom::container::{self, ContainerError, SectionTable};
use depin_circom::encoding;
use depin_circom::ptau::{self, Ptau, PtauError};
use depin_circom::r1cs::{R1cs, R1csError};
use depin_circom::rng::ChaCha;
use depin_circom::wtns::{self, WtnsError};
use depin_circom::zkey::{self, Layout, VerifyStep, Zkey, ZkeyError};
use depin_circom::ZkeyProver;
use depin_prover_core::groth16::synthesize_witness;
use proptest::prelude::*;

// ---------------------------------------------------------------- BLAKE2b

#[test]
fn blake2b_matches_rfc_7693_and_the_blake2_crate() {
    // RFC 7693, appendix A: BLAKE2b-512("abc").
    let abc = Blake2b::digest(b"abc");
    assert_eq!(
        hex::encode(abc),
        "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1\
         7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
    );
    use blake2::Digest;
    for len in [0usize, 1, 127, 128, 129, 256, 257, 1000] {
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let want = blake2::Blake2b512::digest(&data);
        assert_eq!(Blake2b::digest(&data).as_slice(), want.as_slice(), "{len}");
    }
}

proptest! {
    #[test]
    fn blake2b_in_pieces_and_resumed_is_the_one_shot_hash(
        data in proptest::collection::vec(any::<u8>(), 0..700),
        cuts in proptest::collection::vec(0usize..700, 0..5),
    ) {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        cuts.sort_unstable();
        let mut h = Blake2b::new();
        let mut last = 0;
        for c in cuts {
            h.update(&data[last..c]);
            // Saving and resuming the state changes nothing.
            h = Blake2b::from_partial_state(&h.partial_state()).unwrap();
            last = c;
        }
        h.update(&data[last..]);
        prop_assert_eq!(h.finalize(), Blake2b::digest(&data));
    }
}

#[test]
fn blake2b_partial_state_refuses_impossible_states() {
    let mut h = Blake2b::new();
    h.update(&[1u8; 300]);
    let good = h.partial_state();
    let mut bad = good;
    bad[200] = 129; // more than a block buffered
    assert!(Blake2b::from_partial_state(&bad).is_err());
    let mut bad = good;
    bad[192] = 5; // not whole blocks compressed
    assert!(Blake2b::from_partial_state(&bad).is_err());
}

#[test]
fn format_hash_is_four_lines_of_words() {
    let h = Blake2b::digest(b"");
    let s = format_hash(&h, Some("T:"));
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0], "T:");
    assert_eq!(lines[1], "\t\t786a02f7 42015903 c6c6fd85 2552d272");
}

// ---------------------------------------------------------------- ChaCha

#[test]
fn chacha_is_rfc_8439_chacha20_with_a_zero_nonce() {
    // RFC 8439 A.1, test vector 1: all-zero key, nonce and counter.
    let mut c = ChaCha::new([0; 8]);
    let words: Vec<u32> = (0..4).map(|_| c.next_u32()).collect();
    assert_eq!(words, [0xade0b876, 0x903df1a0, 0xe56a5d40, 0x28bd8653]);
    // Test vector 2: the second block (counter 1) starts 9f 07 e7 be.
    let mut c = ChaCha::new([0; 8]);
    for _ in 0..16 {
        c.next_u32();
    }
    assert_eq!(c.next_u32(), 0xbee7079f);
}

#[test]
fn drawn_points_are_on_their_curves_and_in_their_groups() {
    let mut rng = ChaCha::new([1, 2, 3, 4, 5, 6, 7, 8]);
    for _ in 0..4 {
        let p = depin_circom::rng::g1_from_rng(&mut rng);
        assert!(p.is_on_curve() && !p.is_zero());
        let q = depin_circom::rng::g2_from_rng(&mut rng);
        assert!(q.is_on_curve() && q.is_in_correct_subgroup_assuming_on_curve());
    }
    let h = depin_circom::rng::hash_to_g2(&[7u8; 64]);
    assert_eq!(h, depin_circom::rng::hash_to_g2(&[7u8; 64]));
}

// ---------------------------------------------------------------- container

fn sample_container() -> Vec<u8> {
    container::to_bytes(b"test", 1, &[(2, b"ab"), (1, b"cdef")])
}

#[test]
fn container_reads_sections_in_any_order() {
    let bytes = sample_container();
    let t = SectionTable::parse(&bytes, "test", 1).unwrap();
    assert_eq!(t.sections().len(), 2);
    assert_eq!(t.body(&bytes, 1, "one").unwrap().data(), b"cdef");
    assert_eq!(t.body(&bytes, 2, "two").unwrap().data(), b"ab");
    assert!(matches!(
        t.body(&bytes, 3, "three"),
        Err(ContainerError::MissingSection {
            id: 3,
            name: "three",
            ..
        })
    ));
}

#[test]
fn container_refuses_bad_files() {
    let bytes = sample_container();
    assert!(matches!(
        SectionTable::parse(&bytes, "tesu", 1),
        Err(ContainerError::BadMagic { .. })
    ));
    assert!(matches!(
        SectionTable::parse(&bytes[..8], "test", 1),
        Err(ContainerError::TruncatedHeader { len: 8, .. })
    ));
    assert!(matches!(
        SectionTable::parse(&container::to_bytes(b"test", 3, &[]), "test", 2),
        Err(ContainerError::UnsupportedVersion { version: 3, .. })
    ));
    for cut in [13, 20, bytes.len() - 1] {
        assert!(
            matches!(
                SectionTable::parse(&bytes[..cut], "test", 1),
                Err(ContainerError::SectionOutOfBounds { .. })
            ),
            "cut at {cut}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        SectionTable::parse(&longer, "test", 1),
        Err(ContainerError::TrailingBytes { extra: 1, .. })
    ));
    let dup = container::to_bytes(b"test", 1, &[(1, b"a"), (1, b"b")]);
    assert!(matches!(
        SectionTable::parse(&dup, "test", 1),
        Err(ContainerError::DuplicateSection { id: 1, .. })
    ));
    // A section size that overflows the file.
    let mut huge = bytes.clone();
    huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        SectionTable::parse(&huge, "test", 1),
        Err(ContainerError::SectionOutOfBounds { .. })
    ));
}

#[test]
fn section_reader_is_bounded_and_must_be_consumed() {
    let bytes = sample_container();
    let t = SectionTable::parse(&bytes, "test", 1).unwrap();
    let mut r = t.body(&bytes, 1, "one").unwrap();
    assert!(r.u64().is_err());
    assert_eq!(r.u32().unwrap(), u32::from_le_bytes(*b"cdef"));
    r.finish().unwrap();
    let r = t.body(&bytes, 1, "one").unwrap();
    let err = r.finish().unwrap_err().to_string();
    assert!(err.contains("section 1 (one)"), "{err}");
}

// ---------------------------------------------------------------- encoding

proptest! {
    #[test]
    fn points_round_trip_in_lem_form(k in any::<u64>()) {
        let p = (G1Affine::generator() * Fr::from(k)).into_affine();
        let mut b = [0u8; 64];
        encoding::g1_to_lem(&p, &mut b);
        prop_assert_eq!(encoding::g1_from_lem(&b).unwrap(), p);
        let q = (G2Affine::generator() * Fr::from(k)).into_affine();
        let mut b = [0u8; 128];
        encoding::g2_to_lem(&q, &mut b);
        prop_assert_eq!(encoding::g2_from_lem_checked(&b).unwrap(), q);
        let v = Fr::from(k) - Fr::from(3u64);
        let mut c = [0u8; 32];
        encoding::coeff_to_zkey(&v, &mut c);
        prop_assert_eq!(encoding::coeff_from_zkey(&c).unwrap(), v);
    }
}

#[test]
fn bad_points_are_refused() {
    let mut b = [0u8; 64];
    encoding::g1_to_lem(&G1Affine::generator(), &mut b);
    b[40] ^= 1;
    assert_eq!(
        encoding::g1_from_lem(&b),
        Err(encoding::PointError::NotOnCurve)
    );
    let b = [0xffu8; 64];
    assert_eq!(
        encoding::g1_from_lem(&b),
        Err(encoding::PointError::NotCanonical)
    );
    assert_eq!(encoding::g1_from_lem(&[0u8; 64]), Ok(G1Affine::zero()));
}

// ---------------------------------------------------------------- r1cs, wtns

#[test]
fn r1cs_round_trips_and_is_the_circuit() {
    let c = TestCircuit::new(3);
    let r1cs = R1cs::from_circuit(c.clone()).unwrap();
    assert_eq!(r1cs.n_pub_in, 2);
    assert_eq!(r1cs.n_pub_out, 0);
    assert!(r1cs.n_constraints() > 200, "{}", r1cs.n_constraints());
    let bytes = r1cs.to_bytes();
    assert_eq!(R1cs::from_bytes(&bytes).unwrap(), r1cs);
    let z = synthesize_witness(c.clone()).unwrap();
    r1cs.check_witness(z.z()).unwrap();
    assert_eq!(z.public_inputs(), c.public_inputs().as_slice());
    // Rows are sorted, without repeated wires or zero coefficients.
    for row in &r1cs.constraints {
        for lc in [&row.a, &row.b, &row.c] {
            assert!(lc.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(lc.iter().all(|(_, k)| !k.is_zero()));
        }
    }
    let mut bad = z.z().to_vec();
    bad[5] += Fr::one();
    assert!(matches!(
        r1cs.check_witness(&bad),
        Err(R1csError::Unsatisfied(_))
    ));
}

/// The byte offset of the first coefficient of the constraints section.
fn first_coefficient(bytes: &[u8]) -> usize {
    let t = SectionTable::parse(bytes, "r1cs", 1).unwrap();
    let s = t.get(2).unwrap();
    s.offset as usize + 4 + 4
}

#[test]
fn tampered_r1cs_is_refused_naming_the_section() {
    let bytes = R1cs::from_circuit(TestCircuit::new(3)).unwrap().to_bytes();
    // A coefficient not below r.
    let mut bad = bytes.clone();
    let at = first_coefficient(&bad);
    bad[at..at + 32].fill(0xff);
    let err = R1cs::from_bytes(&bad).unwrap_err().to_string();
    assert!(
        err.contains("section 2 (constraints)") && err.contains("not below r"),
        "{err}"
    );
    // A wire past the last one.
    let mut bad = bytes.clone();
    bad[at - 4..at].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = R1cs::from_bytes(&bad).unwrap_err().to_string();
    assert!(err.contains("wire 4294967295"), "{err}");
    // Another prime.
    let mut bad = bytes.clone();
    bad[12 + 12 + 4] ^= 1;
    let err = R1cs::from_bytes(&bad).unwrap_err().to_string();
    assert!(err.contains("section 1 (header)"), "{err}");
    // Truncated.
    assert!(R1cs::from_bytes(&bytes[..bytes.len() - 3]).is_err());
    // Custom gates have no Groth16 setup.
    let t = SectionTable::parse(&bytes, "r1cs", 1).unwrap();
    let body = |id| {
        let s = t.get(id).unwrap();
        &bytes[s.offset as usize..(s.offset + s.size) as usize]
    };
    let with_gates = container::to_bytes(
        b"r1cs",
        1,
        &[(1, body(1)), (2, body(2)), (3, body(3)), (4, &[])],
    );
    let err = R1cs::from_bytes(&with_gates).unwrap_err().to_string();
    assert!(err.contains("custom gates"), "{err}");
}

#[test]
fn wtns_round_trips_and_refuses_bad_values() {
    let z = synthesize_witness(TestCircuit::new(5)).unwrap().into_vec();
    let bytes = wtns::to_bytes(&z);
    assert_eq!(wtns::from_bytes(&bytes).unwrap(), z);
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n - 32..].fill(0xff);
    let err = wtns::from_bytes(&bad).unwrap_err().to_string();
    assert!(
        err.contains("section 2 (values)") && err.contains("not below r"),
        "{err}"
    );
    let mut bad = bytes.clone();
    bad[12 + 12 + 4] ^= 1; // the prime
    assert!(matches!(
        wtns::from_bytes(&bad),
        Err(WtnsError::Container(ContainerError::BadSection {
            id: 1,
            ..
        }))
    ));
    // A count that disagrees with the values.
    let mut bad = bytes.clone();
    bad[12 + 12 + 36..12 + 12 + 40].copy_from_slice(&1u32.to_le_bytes());
    let err = wtns::from_bytes(&bad).unwrap_err().to_string();
    assert!(err.contains("for 1 values"), "{err}");
}

// ---------------------------------------------------------------- ptau

#[test]
fn dev_ptau_has_consistent_powers_and_lagrange_sections() {
    let path = dev_ptau(5);
    let mut p = Ptau::open(&path).unwrap();
    assert_eq!(p.power(), 5);
    assert!(p.is_prepared());
    let tau = p.tau_g1(0, 63).unwrap();
    assert_eq!(tau[0], G1Affine::generator());
    for k in 0..=6u32 {
        let n = 1usize << k;
        let l = p.lagrange_g1(12, k).unwrap();
        // sum_i omega^(i j) L_i(tau) = tau^j: the basis interpolates x^j
        // (for the last domain, only below the missing top power).
        let omega = Fr::get_root_of_unity(n as u64).unwrap();
        let top = if k == 6 { n - 1 } else { n };
        for j in [0usize, 1, n / 2, n.saturating_sub(2)]
            .into_iter()
            .filter(|j| *j < top)
        {
            let scalars: Vec<Fr> = (0..n).map(|i| omega.pow([(i * j) as u64])).collect();
            let got = G1Projective::msm(&l, &scalars).unwrap().into_affine();
            assert_eq!(got, tau[j], "power {k}, j {j}");
        }
    }
    let alpha = p.alpha_g1().unwrap();
    let la = p.lagrange_g1(14, 3).unwrap();
    let sum = la
        .iter()
        .fold(G1Projective::zero(), |a, q| a + q)
        .into_affine();
    assert_eq!(sum, alpha, "sum of alpha L_i is alpha");
    let contributions = p.contributions().unwrap();
    assert_eq!(contributions.len(), 1);
    assert_eq!(
        contributions[0].name.as_deref(),
        Some("insecure development setup")
    );
}

#[test]
fn ptau_hash_is_checked_and_small_files_are_refused() {
    let path = dev_ptau(5);
    let hash = ptau::file_blake2b(&path).unwrap();
    // snarkjs's display (four lines of words) is accepted too.
    let shown = format_hash(&hash, None);
    assert_eq!(ptau::check_blake2b(&path, &shown).unwrap(), hash);
    let mut wrong = hash;
    wrong[0] ^= 1;
    assert!(matches!(
        ptau::check_blake2b(&path, &hex::encode(wrong)),
        Err(PtauError::HashMismatch { .. })
    ));
    assert!(matches!(
        ptau::check_blake2b(&path, "abcd"),
        Err(PtauError::BadHash(_))
    ));
    // The test circuit needs more than 2^5.
    let r1cs = R1cs::from_circuit(TestCircuit::new(1)).unwrap();
    let needed = r1cs.domain_power();
    let mut p = Ptau::open(&path).unwrap();
    match zkey::new(&r1cs, &mut p) {
        Err(ZkeyError::Ptau(PtauError::PowerTooSmall {
            power: 5,
            needed: n,
            ..
        })) => {
            assert_eq!(n, needed)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(zkey::required_ptau_power(14), 14);
    assert_eq!(zkey::required_ptau_power(15), 16);
}

#[test]
fn truncated_or_tampered_ptau_is_refused() {
    let path = dev_ptau(5);
    let bytes = std::fs::read(&path).unwrap();
    let cut = scratch().join("cut.ptau");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    assert!(matches!(
        Ptau::open(&cut),
        Err(PtauError::Container(
            ContainerError::SectionOutOfBounds { .. }
        ))
    ));
    // A tau point off the curve.
    let t = SectionTable::parse(&bytes, "ptau", 1).unwrap();
    let s = t.get(2).unwrap();
    let mut bad = bytes.clone();
    bad[s.offset as usize + 64 + 5] ^= 1;
    let tampered = scratch().join("tampered.ptau");
    std::fs::write(&tampered, &bad).unwrap();
    let mut p = Ptau::open(&tampered).unwrap();
    assert!(matches!(
        p.tau_g1(0, 4),
        Err(PtauError::InvalidPoint {
            section: "tauG1",
            index: 1,
            ..
        })
    ));
    // The insecure development power is bounded.
    assert!(matches!(
        ptau::write_dev(&scratch().join("x.ptau"), 0, b"s", "n"),
        Err(PtauError::UnsupportedPower { .. })
    ));
}

// ---------------------------------------------------------------- zkey

fn test_zkey() -> (R1cs, Zkey) {
    let r1cs = R1cs::from_circuit(TestCircuit::new(3)).unwrap();
    let mut p = Ptau::open(&dev_ptau(r1cs.domain_power())).unwrap();
    let key = zkey::new(&r1cs, &mut p).unwrap();
    (r1cs, key)
}

#[test]
fn zkey_round_trips_in_both_layouts() {
    let (_, key) = test_zkey();
    for layout in [Layout::New, Layout::Contributed] {
        let bytes = key.to_bytes(layout);
        assert_eq!(Zkey::from_bytes(&bytes).unwrap(), key);
    }
    assert_ne!(key.to_bytes(Layout::New), key.to_bytes(Layout::Contributed));
}

#[test]
fn a_key_is_checked_against_its_circuit() {
    let (r1cs, key) = test_zkey();
    key.check_circuit(&r1cs).unwrap();
    // Another number of rounds: other sizes.
    let longer = R1cs::from_circuit(TestCircuit {
        steps: 41,
        ..TestCircuit::new(3)
    })
    .unwrap();
    assert!(matches!(
        key.check_circuit(&longer),
        Err(ZkeyError::OtherCircuit(m)) if m.contains("wires")
    ));
    // The same sizes, one coefficient changed.
    let mut other = key.clone();
    let last = other.coeffs.len() / 2;
    other.coeffs[last].value += Fr::from(1u64);
    assert!(matches!(
        other.check_circuit(&r1cs),
        Err(ZkeyError::OtherCircuit(m)) if m.contains(&format!("coefficient {last}"))
    ));
}

#[test]
fn contributions_and_beacon_verify_and_change_delta() {
    let (r1cs, init) = test_zkey();
    let mut key = init.clone();
    let mut rng = rand::rngs::OsRng;
    let h1 = zkey::contribute(&mut key, Some("alice"), b"some entropy", &mut rng);
    let h2 = zkey::contribute(&mut key, None, b"", &mut rng);
    let h3 = zkey::beacon(&mut key, Some("beacon"), &[0x0b; 32], 10).unwrap();
    assert_ne!(key.header.delta_2, init.header.delta_2);
    let t = zkey::verify_from_init(&init, &key).unwrap();
    let hashes: Vec<_> = t.entries.iter().map(|e| e.hash).collect();
    assert_eq!(hashes, [h1, h2, h3]);
    assert_eq!(t.entries[0].name.as_deref(), Some("alice"));
    assert!(t.find(&hex::encode(h2)).is_some());
    assert!(t.find(&format_hash(&h3, None)).is_some());
    let text = t.to_string();
    assert!(text.contains("contribution #3 beacon:"), "{text}");
    let mut p = Ptau::open(&dev_ptau(r1cs.domain_power())).unwrap();
    zkey::verify_from_r1cs(&r1cs, &mut p, &key).unwrap();
    // The same beacon on the same key gives the same contribution.
    let mut again = init.clone();
    zkey::contribute(&mut again, Some("alice"), b"x", &mut rng);
    let mut a = again.clone();
    let mut b = again.clone();
    assert_eq!(
        zkey::beacon(&mut a, None, &[1, 2, 3], 10).unwrap(),
        zkey::beacon(&mut b, None, &[1, 2, 3], 10).unwrap()
    );
    assert!(zkey::beacon(&mut a, None, &[], 10).is_err());
    assert!(zkey::beacon(&mut a, None, &[1], 9).is_err());
}

fn expect_step(init: &Zkey, key: &Zkey, step: VerifyStep) {
    match zkey::verify_from_init(init, key) {
        Err(ZkeyError::Verify { step: s, .. }) if s == step => {}
        other => panic!("expected a failure at {step}, got {other:?}"),
    }
}

#[test]
fn tampered_keys_are_refused_at_the_step_that_fails() {
    let (_, init) = test_zkey();
    let mut key = init.clone();
    let mut rng = rand::rngs::OsRng;
    zkey::contribute(&mut key, Some("a"), b"", &mut rng);
    zkey::contribute(&mut key, Some("b"), b"", &mut rng);
    zkey::verify_from_init(&init, &key).unwrap();
    let two = (G1Affine::generator() * Fr::from(2u64)).into_affine();

    let mut k = key.clone();
    k.mpc.contributions[1].transcript[0] ^= 1;
    expect_step(&init, &k, VerifyStep::Transcript(2));

    let mut k = key.clone();
    let c = &mut k.mpc.contributions[0];
    c.g2_spx = (c.g2_spx * Fr::from(2u64)).into_affine();
    expect_step(&init, &k, VerifyStep::ProofOfKnowledge(1));

    let mut k = key.clone();
    k.mpc.contributions[0].delta_after = two;
    expect_step(&init, &k, VerifyStep::DeltaChain(1));

    let mut k = key.clone();
    k.header.delta_1 = two;
    expect_step(&init, &k, VerifyStep::Delta1);

    let mut k = key.clone();
    k.header.alpha_1 = two;
    expect_step(&init, &k, VerifyStep::Alpha);

    let mut k = key.clone();
    k.mpc.cs_hash[3] ^= 1;
    // The transcripts hash the circuit hash: the first check to fail.
    expect_step(&init, &k, VerifyStep::Transcript(1));

    let mut k = key.clone();
    k.ic[0] = two;
    expect_step(&init, &k, VerifyStep::IcSection);

    let mut k = key.clone();
    k.coeffs[0].value += Fr::one();
    expect_step(&init, &k, VerifyStep::CoefficientsSection);

    let mut k = key.clone();
    k.a[1] = two;
    expect_step(&init, &k, VerifyStep::ASection);

    let mut k = key.clone();
    k.c[2] = (k.c[2] * Fr::from(3u64)).into_affine();
    expect_step(&init, &k, VerifyStep::CSection);

    let mut k = key.clone();
    k.h[0] = (k.h[0] * Fr::from(3u64)).into_affine();
    expect_step(&init, &k, VerifyStep::HSection);

    let mut k = key.clone();
    k.h.pop();
    expect_step(&init, &k, VerifyStep::HSection);
}

#[test]
fn tampered_zkey_files_are_refused_naming_the_section() {
    let (_, key) = test_zkey();
    let bytes = key.to_bytes(Layout::Contributed);
    let t = SectionTable::parse(&bytes, "zkey", 2).unwrap();
    // An A point off the curve.
    let s = t.get(5).unwrap();
    let mut bad = bytes.clone();
    bad[s.offset as usize + 64 + 7] ^= 1;
    let err = Zkey::from_bytes(&bad).unwrap_err().to_string();
    assert!(
        err.contains("section 5 (A)") && err.contains("point 1"),
        "{err}"
    );
    // A coefficient row outside the domain.
    let s = t.get(4).unwrap();
    let mut bad = bytes.clone();
    let at = s.offset as usize + 4 + 4;
    bad[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = Zkey::from_bytes(&bad).unwrap_err().to_string();
    assert!(err.contains("section 4 (coefficients)"), "{err}");
    // Not Groth16.
    let s = t.get(1).unwrap();
    let mut bad = bytes.clone();
    bad[s.offset as usize] = 2;
    assert!(matches!(
        Zkey::from_bytes(&bad),
        Err(ZkeyError::NotGroth16(2))
    ));
    // Truncated.
    assert!(Zkey::from_bytes(&bytes[..bytes.len() - 1]).is_err());
}

// ---------------------------------------------------------------- proving

#[test]
fn proofs_from_a_zkey_verify_with_arkworks() {
    let (_, init) = test_zkey();
    let mut key = init;
    zkey::contribute(&mut key, Some("a"), b"", &mut rand::rngs::OsRng);
    let vk = key.verifying_key();
    let prover = ZkeyProver::new(key).unwrap();
    let c = TestCircuit::new(11);
    let z = synthesize_witness(c.clone()).unwrap();
    let proof = prover.prove(z.z(), &mut rand::rngs::OsRng).unwrap();
    let pvk = ark_groth16::prepare_verifying_key(&vk);
    assert!(depin_circom::prove::verify(
        &pvk,
        &proof,
        &c.public_inputs()
    ));
    let mut other = c.public_inputs();
    other[1] += Fr::one();
    assert!(!depin_circom::prove::verify(&pvk, &proof, &other));
    // A witness that does not satisfy the circuit gives no proof.
    let mut bad = z.z().to_vec();
    let last = bad.len() - 1;
    bad[last] += Fr::one();
    assert!(matches!(
        prover.prove(&bad, &mut rand::rngs::OsRng),
        Err(depin_circom::ProveError::NotVerified)
    ));
    assert!(matches!(
        prover.prove(&bad[1..], &mut rand::rngs::OsRng),
        Err(depin_circom::ProveError::WitnessLength { .. })
    ));
}

#[test]
fn the_witness_map_is_the_quotient_at_the_odd_points() {
    // p_j = (A z)(w^(2j+1)) (B z)(w^(2j+1)) - (C z)(w^(2j+1)), directly
    // from the interpolated polynomials.
    let (r1cs, key) = test_zkey();
    let n = key.header.domain_size as usize;
    let prover = ZkeyProver::new(key).unwrap();
    let z = synthesize_witness(TestCircuit::new(2)).unwrap().into_vec();
    let p = prover.witness_map(&z).unwrap();
    let m = r1cs.n_constraints();
    let eval_rows = |matrix: usize| -> Vec<Fr> {
        let mut v: Vec<Fr> = r1cs
            .constraints
            .iter()
            .map(|c| {
                let lc = if matrix == 0 { &c.a } else { &c.b };
                lc.iter().map(|(w, k)| z[*w as usize] * k).sum()
            })
            .collect();
        v.resize(n, Fr::zero());
        v
    };
    let mut a = eval_rows(0);
    let ones = r1cs.n_public() as usize + 1;
    a[m..m + ones].copy_from_slice(&z[..ones]);
    let b = eval_rows(1);
    let c: Vec<Fr> = a.iter().zip(&b).map(|(x, y)| *x * y).collect();
    let omega = Fr::get_root_of_unity(n as u64).unwrap();
    let w = Fr::get_root_of_unity(2 * n as u64).unwrap();
    // Lagrange interpolation at x from the evaluations on the domain.
    let at = |evals: &[Fr], x: Fr| -> Fr {
        let zx = x.pow([n as u64]) - Fr::one();
        let n_inv = Fr::from(n as u64).inverse().unwrap();
        (0..n)
            .map(|i| {
                let wi = omega.pow([i as u64]);
                evals[i] * zx * n_inv * wi * (x - wi).inverse().unwrap()
            })
            .sum()
    };
    for j in [0usize, 1, n / 2, n - 1] {
        let x = w.pow([(2 * j + 1) as u64]);
        assert_eq!(p[j], at(&a, x) * at(&b, x) - at(&c, x), "point {j}");
    }
}
