//! Solidity Groth16 verifiers generated from verifying keys, and proofs in
//! the word order those verifiers read.
//!
//! [`render_verifier`] fills `prover/evm/templates/Groth16Verifier.sol.tpl` with
//! a verifying key, the statement's name and its version. The contract
//! (`verifier-contract/src/generated/<Statement>Verifier.sol`) hardcodes the
//! key, checks every public input against the scalar field modulus and every
//! proof coordinate against the base field modulus, computes the public
//! inputs' linear combination with ecMul and ecAdd, and makes one ecPairing
//! call with four pairs. The key's G2 points are stored negated, so the
//! equation `e(A, B) = e(alpha, beta) e(L, gamma) e(C, delta)` costs no
//! negation at run time. Every failure reverts with a custom error
//! (`InvalidProof`, `MalformedProof`, `MalformedInput`); success returns
//! true.
//!
//! A proof is passed as eight words ([`proof_words`]): `A.x, A.y, B.x.im,
//! B.x.re, B.y.im, B.y.re, C.x, C.y`. The EVM precompiles read a G2
//! coordinate `c0 + c1 * u` imaginary part first, the reverse of snarkjs's
//! `proof.json`. The point at infinity is `(0, 0)`.

use std::fmt::Write as _;
use std::path::Path;

use ark_bn254::{Bn254, Fq, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_groth16::{Proof, VerifyingKey};

/// The verifier template (`prover/evm/templates/Groth16Verifier.sol.tpl`).
pub const TEMPLATE: &str = include_str!("../templates/Groth16Verifier.sol.tpl");

/// Where the generated verifiers of the statements live, relative to the
/// repository root.
pub const GENERATED_DIR: &str = "verifier-contract/src/generated";

/// The verifier contract's name for `statement`: its `snake_case` name in
/// `PascalCase` followed by `Verifier` (`uptime` gives `UptimeVerifier`,
/// `test_uptime` gives `TestUptimeVerifier`).
///
/// # Panics
///
/// If `statement` is not a lowercase identifier (`[a-z][a-z0-9_]*`).
pub fn contract_name(statement: &str) -> String {
    assert!(
        statement.starts_with(|c: char| c.is_ascii_lowercase())
            && statement
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "statement name {statement:?} is not a lowercase identifier"
    );
    let mut name = String::with_capacity(statement.len() + 8);
    for part in statement.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars);
        }
    }
    name.push_str("Verifier");
    name
}

/// The generated verifier's path for `statement`, relative to the repository
/// root: `verifier-contract/src/generated/<Statement>Verifier.sol`.
pub fn verifier_path(statement: &str) -> String {
    format!("{GENERATED_DIR}/{}.sol", contract_name(statement))
}

/// The coordinates `(x, y)` of a G1 point as the EVM reads them; the point
/// at infinity is `(0, 0)`.
pub fn g1_words(p: &G1Affine) -> [Fq; 2] {
    p.xy().map_or([Fq::from(0u8); 2], |(x, y)| [x, y])
}

/// The coordinates of a G2 point as the EVM reads them: `x.im, x.re, y.im,
/// y.re` (`c1` before `c0`); the point at infinity is four zeros.
pub fn g2_words(p: &G2Affine) -> [Fq; 4] {
    p.xy()
        .map_or([Fq::from(0u8); 4], |(x, y)| [x.c1, x.c0, y.c1, y.c0])
}

/// A proof as the generated verifier's `uint256[8] proof`: `A.x, A.y,
/// B.x.im, B.x.re, B.y.im, B.y.re, C.x, C.y`.
pub fn proof_words(proof: &Proof<Bn254>) -> [Fq; 8] {
    let [ax, ay] = g1_words(&proof.a);
    let [bxi, bxr, byi, byr] = g2_words(&proof.b);
    let [cx, cy] = g1_words(&proof.c);
    [ax, ay, bxi, bxr, byi, byr, cx, cy]
}

/// The Solidity source of a Groth16 verifier for `vk`: contract
/// [`contract_name`]`(statement)`, with `STATEMENT = statement`,
/// `VERSION = version` and `N_PUBLIC` the key's number of public inputs.
///
/// The output is deterministic (the same key gives the same bytes), so the
/// committed verifiers are drift-checked against their keys.
///
/// # Panics
///
/// If `statement` is not a lowercase identifier (see [`contract_name`]) or
/// the key has no `IC_0` (`gamma_abc_g1` is empty).
pub fn render_verifier(vk: &VerifyingKey<Bn254>, statement: &str, version: u32) -> String {
    let contract = contract_name(statement);
    let ic = &vk.gamma_abc_g1;
    assert!(!ic.is_empty(), "verifying key has no IC_0");
    let n_public = ic.len() - 1;

    let [alpha_x, alpha_y] = g1_words(&vk.alpha_g1);
    let beta = g2_words(&(-vk.beta_g2));
    let gamma = g2_words(&(-vk.gamma_g2));
    let delta = g2_words(&(-vk.delta_g2));

    let mut ic_constants = String::new();
    for (i, point) in ic.iter().enumerate() {
        let [x, y] = g1_words(point);
        // Writing to a String cannot fail.
        let _ = writeln!(
            ic_constants,
            "    uint256 internal constant IC{i}_X =\n        {x};"
        );
        let _ = writeln!(
            ic_constants,
            "    uint256 internal constant IC{i}_Y =\n        {y};"
        );
    }

    let mut msm = String::new();
    for i in 0..n_public {
        let _ = write!(
            msm,
            "
            // L += input[{i}] * IC_{j}
            s := calldataload(add(input, {offset:#04x}))
            ok := and(ok, lt(s, R))
            mstore(add(m, 0x40), IC{j}_X)
            mstore(add(m, 0x60), IC{j}_Y)
            mstore(add(m, 0x80), s)
            called := and(called, staticcall(gas(), 0x07, add(m, 0x40), 0x60, add(m, 0x40), 0x40))
            called := and(called, staticcall(gas(), 0x06, m, 0x80, m, 0x40))
",
            j = i + 1,
            offset = 32 * i,
        );
    }

    let replacements: [(&str, String); 20] = [
        ("{{CONTRACT}}", contract),
        ("{{STATEMENT}}", statement.to_owned()),
        ("{{VERSION}}", version.to_string()),
        ("{{N_PUBLIC}}", n_public.to_string()),
        ("{{ALPHA_X}}", alpha_x.to_string()),
        ("{{ALPHA_Y}}", alpha_y.to_string()),
        ("{{BETA_NEG_X_IM}}", beta[0].to_string()),
        ("{{BETA_NEG_X_RE}}", beta[1].to_string()),
        ("{{BETA_NEG_Y_IM}}", beta[2].to_string()),
        ("{{BETA_NEG_Y_RE}}", beta[3].to_string()),
        ("{{GAMMA_NEG_X_IM}}", gamma[0].to_string()),
        ("{{GAMMA_NEG_X_RE}}", gamma[1].to_string()),
        ("{{GAMMA_NEG_Y_IM}}", gamma[2].to_string()),
        ("{{GAMMA_NEG_Y_RE}}", gamma[3].to_string()),
        ("{{DELTA_NEG_X_IM}}", delta[0].to_string()),
        ("{{DELTA_NEG_X_RE}}", delta[1].to_string()),
        ("{{DELTA_NEG_Y_IM}}", delta[2].to_string()),
        ("{{DELTA_NEG_Y_RE}}", delta[3].to_string()),
        ("{{IC_CONSTANTS}}", ic_constants),
        ("{{MSM}}", msm),
    ];
    let mut out = TEMPLATE.to_owned();
    for (placeholder, value) in &replacements {
        out = out.replace(placeholder, value);
    }
    debug_assert!(!out.contains("{{"), "unfilled placeholder in the template");
    out
}

/// Renders the verifier for `vk` ([`render_verifier`]) and writes it to
/// `out`, creating its folder. This is `depin-prover export-verifier`.
pub fn export_verifier(
    vk: &VerifyingKey<Bn254>,
    statement: &str,
    version: u32,
    out: &Path,
) -> std::io::Result<()> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(out, render_verifier(vk, statement, version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::CurveGroup;
    use ark_ff::{BigInteger, PrimeField};

    #[test]
    fn contract_names() {
        assert_eq!(contract_name("uptime"), "UptimeVerifier");
        assert_eq!(contract_name("bandwidth"), "BandwidthVerifier");
        assert_eq!(contract_name("test_coverage"), "TestCoverageVerifier");
        assert_eq!(
            verifier_path("coverage"),
            "verifier-contract/src/generated/CoverageVerifier.sol"
        );
    }

    #[test]
    #[should_panic(expected = "not a lowercase identifier")]
    fn contract_name_refuses_odd_names() {
        let _ = contract_name("Uptime; contract X {");
    }

    #[test]
    fn template_moduli_are_bn254() {
        let r = ark_bn254::Fr::MODULUS.to_string();
        let q = Fq::MODULUS.to_string();
        assert!(TEMPLATE.contains(&format!("R =\n        {r};")));
        assert!(TEMPLATE.contains(&format!("Q =\n        {q};")));
        assert_eq!(Fq::MODULUS.num_bits(), 254);
    }

    fn example_key(n_public: usize) -> VerifyingKey<Bn254> {
        let g1 = G1Affine::generator();
        let g2 = G2Affine::generator();
        let mul1 = |k: u64| (g1 * ark_bn254::Fr::from(k)).into_affine();
        let mul2 = |k: u64| (g2 * ark_bn254::Fr::from(k)).into_affine();
        VerifyingKey {
            alpha_g1: mul1(2),
            beta_g2: mul2(3),
            gamma_g2: mul2(5),
            delta_g2: mul2(7),
            gamma_abc_g1: (0..=n_public as u64).map(|i| mul1(11 + i)).collect(),
        }
    }

    #[test]
    fn renders_every_placeholder_and_input() {
        let vk = example_key(6);
        let sol = render_verifier(&vk, "bandwidth", 3);
        assert!(!sol.contains("{{"));
        assert!(sol.contains("contract BandwidthVerifier {"));
        assert!(sol.contains("string public constant STATEMENT = \"bandwidth\";"));
        assert!(sol.contains("uint32 public constant VERSION = 3;"));
        assert!(sol.contains("uint256 public constant N_PUBLIC = 6;"));
        assert!(sol.contains("uint256[6] calldata input"));
        assert!(sol.contains("IC6_Y =\n"));
        assert!(!sol.contains("IC7_X"));
        assert_eq!(sol.matches("staticcall(gas(), 0x07").count(), 6);
        assert_eq!(sol.matches("staticcall(gas(), 0x06").count(), 6);
        assert_eq!(sol.matches("staticcall(gas(), 0x08").count(), 1);
        assert!(sol.contains("s := calldataload(add(input, 0xa0))"));
        // Deterministic.
        assert_eq!(sol, render_verifier(&vk, "bandwidth", 3));
    }

    #[test]
    fn g2_points_are_negated_and_imaginary_first() {
        let vk = example_key(5);
        let sol = render_verifier(&vk, "uptime", 1);
        let beta = vk.beta_g2.xy().expect("finite");
        let neg_y = -beta.1;
        let constant = |name: &str, value: Fq| format!("{name} =\n        {value};");
        assert!(sol.contains(&constant("BETA_NEG_X_IM", beta.0.c1)));
        assert!(sol.contains(&constant("BETA_NEG_X_RE", beta.0.c0)));
        assert!(sol.contains(&constant("BETA_NEG_Y_IM", neg_y.c1)));
        assert!(sol.contains(&constant("BETA_NEG_Y_RE", neg_y.c0)));
        let alpha = vk.alpha_g1.xy().expect("finite");
        assert!(sol.contains(&constant("ALPHA_X", alpha.0)));
    }

    #[test]
    fn proof_word_order() {
        let g1 = G1Affine::generator();
        let g2 = G2Affine::generator();
        let proof = Proof::<Bn254> {
            a: g1,
            b: g2,
            c: G1Affine::zero(),
        };
        let w = proof_words(&proof);
        assert_eq!(w[0], Fq::from(1u8));
        assert_eq!(w[1], Fq::from(2u8));
        let (bx, by) = g2.xy().expect("finite");
        assert_eq!(w[2..6], [bx.c1, bx.c0, by.c1, by.c0]);
        assert_eq!(w[6..], [Fq::from(0u8); 2]);
    }

    #[test]
    fn export_writes_the_rendered_file() {
        let vk = example_key(5);
        let dir = std::env::temp_dir().join(format!("depin-solidity-{}", std::process::id()));
        let out = dir.join("nested/UptimeVerifier.sol");
        export_verifier(&vk, "uptime", 1, &out).expect("write");
        let written = std::fs::read_to_string(&out).expect("read back");
        assert_eq!(written, render_verifier(&vk, "uptime", 1));
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
