//! Proofs, public inputs and verifying keys in snarkjs's JSON (Groth16 on
//! `bn128`, snarkjs 0.7), both ways.
//!
//! The files are exactly what `snarkjs groth16 prove` and `snarkjs zkey
//! export verificationkey` write, key order and layout included (snarkjs
//! writes with `bfj`, one space of indentation, no final newline):
//!
//! - `proof.json`: `{"pi_a": G1, "pi_b": G2, "pi_c": G1, "protocol":
//!   "groth16", "curve": "bn128"}`;
//! - `public.json`: the public inputs as decimal strings, in order;
//! - `vk.json`: `{"protocol", "curve", "nPublic", "vk_alpha_1",
//!   "vk_beta_2", "vk_gamma_2", "vk_delta_2", "vk_alphabeta_12", "IC"}`.
//!
//! Every number is a decimal string. A G1 point is `[x, y, "1"]` (the point
//! at infinity `["0", "1", "0"]`); a G2 point is `[[x.c0, x.c1], [y.c0,
//! y.c1], ["1", "0"]]` (infinity `[["0", "0"], ["1", "0"], ["0", "0"]]`),
//! where `c0 + c1 * u` is an element of `Fq2 = Fq[u] / (u^2 + 1)`.
//! `vk_alphabeta_12` is the pairing `e(alpha, beta)` in `Fq12`, as
//! `[[[..], [..], [..]], [[..], [..], [..]]]` (`Fq12 = Fq6[w]`, `Fq6 =
//! Fq2[v]`); snarkjs's verifier does not read it, but its exporter writes it
//! and so do we.
//!
//! Parsing is strict: every number must be a canonical decimal below its
//! field's modulus, every point on the curve and in the prime-order
//! subgroup, `protocol` must be `groth16` and `curve` `bn128`, and errors
//! name the offending field (`pi_b[1][0]`, `IC[3]`, `public[2]`).

use ark_bn254::{Bn254, Fq, Fq12, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::AffineRepr;
use ark_ff::{BigInt, PrimeField, Zero};
use ark_groth16::{Proof, VerifyingKey};
use depin_crypto::field::{u256_from_decimal, U256Error};
use serde::{Deserialize, Serialize};

/// snarkjs's name for the proof system.
pub const PROTOCOL: &str = "groth16";
/// snarkjs's name for BN254.
pub const CURVE: &str = "bn128";

/// Why a snarkjs JSON file was refused.
#[derive(Debug, thiserror::Error)]
pub enum SnarkjsError {
    /// Not JSON, or not the expected shape (serde names the place).
    #[error("not a snarkjs {what}: {source}")]
    Json {
        /// `proof`, `public inputs` or `verifying key`.
        what: &'static str,
        /// serde_json's reason (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A field's value was refused.
    #[error("{field}: {reason}")]
    Field {
        /// The field, e.g. `pi_b[1][0]` or `IC[2]`.
        field: String,
        /// Why.
        reason: String,
    },
}

fn field_err(field: impl Into<String>, reason: impl Into<String>) -> SnarkjsError {
    SnarkjsError::Field {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A G1 point as snarkjs writes it.
pub type G1Json = [String; 3];
/// A G2 point as snarkjs writes it.
pub type G2Json = [[String; 2]; 3];
/// An `Fq12` element as snarkjs writes it.
pub type Fq12Json = [[[String; 2]; 3]; 2];

/// `proof.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofJson {
    /// `A`.
    pub pi_a: G1Json,
    /// `B`.
    pub pi_b: G2Json,
    /// `C`.
    pub pi_c: G1Json,
    /// `"groth16"`.
    pub protocol: String,
    /// `"bn128"`.
    pub curve: String,
}

/// `vk.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyingKeyJson {
    /// `"groth16"`.
    pub protocol: String,
    /// `"bn128"`.
    pub curve: String,
    /// Number of public inputs.
    #[serde(rename = "nPublic")]
    pub n_public: usize,
    /// `alpha` in G1.
    pub vk_alpha_1: G1Json,
    /// `beta` in G2.
    pub vk_beta_2: G2Json,
    /// `gamma` in G2.
    pub vk_gamma_2: G2Json,
    /// `delta` in G2.
    pub vk_delta_2: G2Json,
    /// `e(alpha, beta)`; snarkjs's verifier does not read it, so it is
    /// optional when parsing (and checked when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vk_alphabeta_12: Option<Fq12Json>,
    /// `gamma_abc_g1`: `nPublic + 1` points.
    #[serde(rename = "IC")]
    pub ic: Vec<G1Json>,
}

/// Serializes like snarkjs (`bfj.write(file, value, {space: 1})`): one
/// space of indentation, every array element on its own line, no final
/// newline.
pub fn to_snarkjs_string<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut ser)?;
    // serde_json writes only valid UTF-8.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// A BN254 base or scalar field element in decimal.
fn dec<F: PrimeField>(x: &F) -> String {
    x.into_bigint().to_string()
}

/// Parses a canonical decimal (digits only, below the modulus) into a
/// 4-limb prime field element.
fn parse_dec<F: PrimeField<BigInt = BigInt<4>>>(s: &str, field: &str) -> Result<F, SnarkjsError> {
    let value = u256_from_decimal(s).map_err(|e| match e {
        U256Error::Empty => field_err(field, "empty number"),
        U256Error::NotDecimal => field_err(
            field,
            format!("{s:?} is not a decimal integer (digits 0-9 only)"),
        ),
        U256Error::TooLarge => field_err(field, "value is not below the field modulus"),
    })?;
    F::from_bigint(value).ok_or_else(|| field_err(field, "value is not below the field modulus"))
}

/// A G1 point as `[x, y, "1"]` (infinity `["0", "1", "0"]`).
pub fn g1_to_json(p: &G1Affine) -> G1Json {
    match p.xy() {
        Some((x, y)) => [dec(&x), dec(&y), "1".into()],
        None => ["0".into(), "1".into(), "0".into()],
    }
}

/// A G2 point as `[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]` (infinity
/// `[["0", "0"], ["1", "0"], ["0", "0"]]`).
pub fn g2_to_json(p: &G2Affine) -> G2Json {
    let fq2 = |v: &Fq2| [dec(&v.c0), dec(&v.c1)];
    match p.xy() {
        Some((x, y)) => [fq2(&x), fq2(&y), ["1".into(), "0".into()]],
        None => [
            ["0".into(), "0".into()],
            ["1".into(), "0".into()],
            ["0".into(), "0".into()],
        ],
    }
}

/// An `Fq12` element as snarkjs writes a pairing result.
pub fn fq12_to_json(v: &Fq12) -> Fq12Json {
    let fq2 = |v: &Fq2| [dec(&v.c0), dec(&v.c1)];
    [
        [fq2(&v.c0.c0), fq2(&v.c0.c1), fq2(&v.c0.c2)],
        [fq2(&v.c1.c0), fq2(&v.c1.c1), fq2(&v.c1.c2)],
    ]
}

/// Parses a G1 point; `field` names it in errors.
pub fn g1_from_json(p: &G1Json, field: &str) -> Result<G1Affine, SnarkjsError> {
    let x: Fq = parse_dec(&p[0], &format!("{field}[0]"))?;
    let y: Fq = parse_dec(&p[1], &format!("{field}[1]"))?;
    match p[2].as_str() {
        "1" => {
            let point = G1Affine::new_unchecked(x, y);
            if !point.is_on_curve() {
                return Err(field_err(field, "not a point on BN254 G1"));
            }
            if !point.is_in_correct_subgroup_assuming_on_curve() {
                return Err(field_err(field, "not in the prime-order subgroup"));
            }
            Ok(point)
        }
        "0" if x.is_zero() && y == Fq::from(1u64) => Ok(G1Affine::zero()),
        "0" => Err(field_err(
            field,
            "the point at infinity must be written [\"0\", \"1\", \"0\"]",
        )),
        other => Err(field_err(
            format!("{field}[2]"),
            format!("{other:?}: expected \"1\" (affine) or \"0\" (infinity)"),
        )),
    }
}

fn fq2_from_json(v: &[String; 2], field: &str) -> Result<Fq2, SnarkjsError> {
    Ok(Fq2::new(
        parse_dec(&v[0], &format!("{field}[0]"))?,
        parse_dec(&v[1], &format!("{field}[1]"))?,
    ))
}

/// Parses a G2 point; `field` names it in errors.
pub fn g2_from_json(p: &G2Json, field: &str) -> Result<G2Affine, SnarkjsError> {
    let x = fq2_from_json(&p[0], &format!("{field}[0]"))?;
    let y = fq2_from_json(&p[1], &format!("{field}[1]"))?;
    let z = (p[2][0].as_str(), p[2][1].as_str());
    match z {
        ("1", "0") => {
            let point = G2Affine::new_unchecked(x, y);
            if !point.is_on_curve() {
                return Err(field_err(field, "not a point on BN254 G2"));
            }
            if !point.is_in_correct_subgroup_assuming_on_curve() {
                return Err(field_err(field, "not in the prime-order subgroup"));
            }
            Ok(point)
        }
        ("0", "0") if x.is_zero() && y == Fq2::from(1u64) => Ok(G2Affine::zero()),
        ("0", "0") => Err(field_err(
            field,
            "the point at infinity must be written [[\"0\", \"0\"], [\"1\", \"0\"], [\"0\", \"0\"]]",
        )),
        _ => Err(field_err(
            format!("{field}[2]"),
            "expected [\"1\", \"0\"] (affine) or [\"0\", \"0\"] (infinity)",
        )),
    }
}

fn check_protocol(protocol: &str, curve: &str) -> Result<(), SnarkjsError> {
    if protocol != PROTOCOL {
        return Err(field_err(
            "protocol",
            format!("{protocol:?}: expected \"{PROTOCOL}\""),
        ));
    }
    if curve != CURVE {
        return Err(field_err(
            "curve",
            format!("{curve:?}: expected \"{CURVE}\""),
        ));
    }
    Ok(())
}

/// A proof as `proof.json`'s structure.
pub fn proof_to_json_value(proof: &Proof<Bn254>) -> ProofJson {
    ProofJson {
        pi_a: g1_to_json(&proof.a),
        pi_b: g2_to_json(&proof.b),
        pi_c: g1_to_json(&proof.c),
        protocol: PROTOCOL.into(),
        curve: CURVE.into(),
    }
}

/// A proof as `proof.json`'s text.
pub fn proof_to_json(proof: &Proof<Bn254>) -> Result<String, serde_json::Error> {
    to_snarkjs_string(&proof_to_json_value(proof))
}

/// Parses `proof.json`.
pub fn proof_from_json(text: &str) -> Result<Proof<Bn254>, SnarkjsError> {
    let json: ProofJson = serde_json::from_str(text).map_err(|source| SnarkjsError::Json {
        what: "proof",
        source,
    })?;
    proof_from_json_value(&json)
}

/// Checks and converts `proof.json`'s structure.
pub fn proof_from_json_value(json: &ProofJson) -> Result<Proof<Bn254>, SnarkjsError> {
    check_protocol(&json.protocol, &json.curve)?;
    Ok(Proof {
        a: g1_from_json(&json.pi_a, "pi_a")?,
        b: g2_from_json(&json.pi_b, "pi_b")?,
        c: g1_from_json(&json.pi_c, "pi_c")?,
    })
}

/// Public inputs as `public.json`'s text.
pub fn public_to_json(public: &[Fr]) -> Result<String, serde_json::Error> {
    let v: Vec<String> = public.iter().map(dec).collect();
    to_snarkjs_string(&v)
}

/// Parses `public.json` (canonical decimals below the scalar modulus).
pub fn public_from_json(text: &str) -> Result<Vec<Fr>, SnarkjsError> {
    let v: Vec<String> = serde_json::from_str(text).map_err(|source| SnarkjsError::Json {
        what: "public inputs",
        source,
    })?;
    v.iter()
        .enumerate()
        .map(|(i, s)| parse_dec(s, &format!("public[{i}]")))
        .collect()
}

/// `e(alpha, beta)`, as snarkjs's `vk_alphabeta_12`.
pub fn alphabeta(vk: &VerifyingKey<Bn254>) -> Fq12 {
    Bn254::pairing(vk.alpha_g1, vk.beta_g2).0
}

/// A verifying key as `vk.json`'s structure.
pub fn vk_to_json_value(vk: &VerifyingKey<Bn254>) -> VerifyingKeyJson {
    VerifyingKeyJson {
        protocol: PROTOCOL.into(),
        curve: CURVE.into(),
        n_public: vk.gamma_abc_g1.len().saturating_sub(1),
        vk_alpha_1: g1_to_json(&vk.alpha_g1),
        vk_beta_2: g2_to_json(&vk.beta_g2),
        vk_gamma_2: g2_to_json(&vk.gamma_g2),
        vk_delta_2: g2_to_json(&vk.delta_g2),
        vk_alphabeta_12: Some(fq12_to_json(&alphabeta(vk))),
        ic: vk.gamma_abc_g1.iter().map(g1_to_json).collect(),
    }
}

/// A verifying key as `vk.json`'s text.
pub fn vk_to_json(vk: &VerifyingKey<Bn254>) -> Result<String, serde_json::Error> {
    to_snarkjs_string(&vk_to_json_value(vk))
}

/// Parses `vk.json`.
pub fn vk_from_json(text: &str) -> Result<VerifyingKey<Bn254>, SnarkjsError> {
    let json: VerifyingKeyJson =
        serde_json::from_str(text).map_err(|source| SnarkjsError::Json {
            what: "verifying key",
            source,
        })?;
    vk_from_json_value(&json)
}

/// Checks and converts `vk.json`'s structure.
pub fn vk_from_json_value(json: &VerifyingKeyJson) -> Result<VerifyingKey<Bn254>, SnarkjsError> {
    check_protocol(&json.protocol, &json.curve)?;
    if json.ic.len() != json.n_public + 1 {
        return Err(field_err(
            "IC",
            format!(
                "{} points, nPublic {} needs {}",
                json.ic.len(),
                json.n_public,
                json.n_public + 1
            ),
        ));
    }
    let vk = VerifyingKey {
        alpha_g1: g1_from_json(&json.vk_alpha_1, "vk_alpha_1")?,
        beta_g2: g2_from_json(&json.vk_beta_2, "vk_beta_2")?,
        gamma_g2: g2_from_json(&json.vk_gamma_2, "vk_gamma_2")?,
        delta_g2: g2_from_json(&json.vk_delta_2, "vk_delta_2")?,
        gamma_abc_g1: json
            .ic
            .iter()
            .enumerate()
            .map(|(i, p)| g1_from_json(p, &format!("IC[{i}]")))
            .collect::<Result<_, _>>()?,
    };
    if let Some(ab) = &json.vk_alphabeta_12 {
        if *ab != fq12_to_json(&alphabeta(&vk)) {
            return Err(field_err(
                "vk_alphabeta_12",
                "is not e(vk_alpha_1, vk_beta_2)",
            ));
        }
    }
    Ok(vk)
}
