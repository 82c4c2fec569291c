//! The epoch file format: the JSON files an epoch is proven from.
//!
//! One file holds everything the native reference (and so the circuit) of
//! one statement needs for one device and one epoch: the device key, the
//! epoch and its beacon, the network's policy, the records with their
//! signatures and the device's signature over them. It is a JSON object
//! tagged by `statement` and `version`:
//!
//! ```json
//! {
//!   "statement": "uptime",
//!   "version": 1,
//!   "device": { "x": "1234…", "y": "5678…" },
//!   "epoch": 20250,
//!   "beacon": "9876…",
//!   "policy": { "slots_per_epoch": 96, "floor_slots": 48, … },
//!   "heartbeats": [ { "slot": 0, "response": "…", "latency_ms": 41 }, … ],
//!   "signed_head": { "head": "…", "signature": { "r8": { "x": "…", "y": "…" }, "s": "…" } }
//! }
//! ```
//!
//! Bandwidth files have `registry_root` and `receipts` (each
//! `{receipt, client_key, client_signature, registry_proof}`) instead of
//! `heartbeats`; coverage files have `claim`, `claim_signature` and
//! `reports` (each `{report, signature}`) and no `signed_head`. Field names
//! are those of the native types in `depin_statements::records`.
//! `examples/epochs/README.md` shows an abbreviated file of each statement.
//!
//! **Encoding.** Field elements (ids, hashes, the beacon, coordinates of
//! points) are canonical decimal strings below the BN254 scalar modulus,
//! exactly as circomlibjs prints them ([`fr_from_decimal`], never reduced).
//! Points are `{x, y}` in circomlib's Baby Jubjub coordinates and must lie on
//! the curve. A signature is `{r8: {x, y}, s}` with `s` a decimal integer
//! below `2^256` (an `s` at or above the subgroup order is well formed and
//! simply does not verify). Integers are JSON numbers, range-checked to
//! their Rust type (`u16`, `u32`, `u64`, `i32`).
//!
//! **Strictness.** Unknown fields, duplicate fields, a missing field, a
//! value of the wrong type or out of range, a version other than
//! [`FORMAT_VERSION`], an invalid policy, more records than the statement's
//! capacity, trailing data, inputs above [`MAX_INPUT_BYTES`] and nesting
//! deeper than 128 levels are all refused with an [`InputError`] whose
//! message names the field path, e.g.
//! `heartbeats[3].slot: expected an unsigned integer below 2^32, got 4294967296 at line 40 column 26`.
//! No input makes the parser panic.

use ark_ff::BigInt;
use depin_crypto::babyjubjub::Point;
use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::field::{fr_from_decimal, fr_to_string, u256_from_decimal, Fr};
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::format;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;

use super::{BandwidthEpoch, CoverageEpoch, EpochInput, UptimeEpoch};
use crate::records::{
    CoSignedReceipt, CoverageClaim, Heartbeat, Location, RegistryProof, SessionReceipt, SignedHead,
    SignedWitnessReport, WitnessReport,
};
use crate::{
    BandwidthPolicy, CoveragePolicy, StatementKind, UptimePolicy, REGISTRY_DEPTH, STATEMENT_VERSION,
};
/// The only file format version this crate reads and writes; it follows
/// the statements' version ([`STATEMENT_VERSION`]).
pub const FORMAT_VERSION: u32 = STATEMENT_VERSION;

/// Largest input accepted, in bytes (4 MiB). A full bandwidth epoch (32
/// receipts with 16 Merkle siblings each) is about 100 KB pretty-printed.
pub const MAX_INPUT_BYTES: usize = 4 << 20;

// ---------------------------------------------------------------------------
// Errors.

/// Why an input file was refused.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The input is larger than [`MAX_INPUT_BYTES`].
    #[error("input is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The input is not a well-formed document of this format: bad JSON, a
    /// missing, unknown or duplicate field, a value of the wrong type or out
    /// of range, an invalid point, policy or version. `path` names the field
    /// (`heartbeats[3].slot`), `.` for the document itself.
    #[error("{}{source}", path_prefix(.path))]
    Malformed {
        /// The path of the offending field.
        path: String,
        /// What is wrong, with the line and column.
        source: serde_json::Error,
    },
    /// More records than the statement's capacity.
    #[error(
        "{field}: {records} records exceed the {} capacity of {capacity}",
        statement.as_str()
    )]
    CapacityExceeded {
        /// The statement.
        statement: StatementKind,
        /// The array (`heartbeats`, `receipts`, `reports`).
        field: &'static str,
        /// Records given.
        records: usize,
        /// The statement's capacity.
        capacity: usize,
    },
    /// The file holds another statement than the one asked for.
    #[error(
        "statement: the input is for statement `{}`, expected `{}`",
        found.as_str(),
        expected.as_str()
    )]
    WrongStatement {
        /// The statement asked for.
        expected: StatementKind,
        /// The statement in the file.
        found: StatementKind,
    },
    /// The document could not be serialized (never expected).
    #[error("cannot serialize the input: {0}")]
    Serialize(serde_json::Error),
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() || path == "." {
        String::new()
    } else {
        format!("{path}: ")
    }
}

impl InputError {
    /// The path of the offending field, when the error has one.
    pub fn path(&self) -> Option<&str> {
        match self {
            InputError::Malformed { path, .. } => Some(path),
            InputError::CapacityExceeded { field, .. } => Some(field),
            InputError::WrongStatement { .. } => Some("statement"),
            _ => None,
        }
    }

    fn malformed(e: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = e.path().to_string();
        InputError::Malformed {
            path,
            source: e.into_inner(),
        }
    }
}

impl EpochInput {
    /// Parses a document (see the module docs). A leading UTF-8 byte order
    /// mark is skipped.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, InputError> {
        if bytes.len() > MAX_INPUT_BYTES {
            return Err(InputError::TooLarge {
                limit: MAX_INPUT_BYTES,
            });
        }
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        // First pass: find the statement (and check the JSON as a whole).
        let statement = match parse_document::<Peek>(bytes)?.0 {
            Some(s) => s,
            None => return Err(missing_statement()),
        };
        // Second pass: the statement's own document, with field paths.
        let parsed = match statement {
            StatementName::Uptime => {
                EpochInput::Uptime(parse_document::<UptimeDoc>(bytes)?.into_epoch()?)
            }
            StatementName::Bandwidth => {
                EpochInput::Bandwidth(parse_document::<BandwidthDoc>(bytes)?.into_epoch()?)
            }
            StatementName::Coverage => {
                EpochInput::Coverage(parse_document::<CoverageDoc>(bytes)?.into_epoch()?)
            }
        };
        Ok(parsed)
    }

    /// Parses a document from a string.
    pub fn from_json(s: &str) -> Result<Self, InputError> {
        Self::from_slice(s.as_bytes())
    }

    /// Reads and parses a file, refusing files above [`MAX_INPUT_BYTES`]
    /// before reading them whole.
    pub fn from_file(path: &Path) -> Result<Self, InputError> {
        let io = |source| InputError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(MAX_INPUT_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        Self::from_slice(&bytes)
    }

    /// Parses a document and checks that it is an epoch of `expected`.
    pub fn from_slice_as(bytes: &[u8], expected: StatementKind) -> Result<Self, InputError> {
        Self::from_slice(bytes)?.expect_kind(expected)
    }

    /// `self` if it is an epoch of `expected`, else
    /// [`InputError::WrongStatement`].
    pub fn expect_kind(self, expected: StatementKind) -> Result<Self, InputError> {
        let found = self.kind();
        if found == expected {
            Ok(self)
        } else {
            Err(InputError::WrongStatement { expected, found })
        }
    }

    /// The document as pretty-printed JSON (two-space indent, trailing
    /// newline); [`EpochInput::from_json`] reads it back to an equal value.
    pub fn to_json(&self) -> Result<String, InputError> {
        let text = match self {
            EpochInput::Uptime(e) => serde_json::to_string_pretty(&UptimeDoc::from_epoch(e)),
            EpochInput::Bandwidth(e) => serde_json::to_string_pretty(&BandwidthDoc::from_epoch(e)),
            EpochInput::Coverage(e) => serde_json::to_string_pretty(&CoverageDoc::from_epoch(e)),
        }
        .map_err(InputError::Serialize)?;
        Ok(text + "\n")
    }
}

fn parse_document<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, InputError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(InputError::malformed)?;
    de.end().map_err(|source| InputError::Malformed {
        path: ".".into(),
        source,
    })?;
    Ok(value)
}

fn missing_statement() -> InputError {
    InputError::Malformed {
        path: "statement".into(),
        source: de::Error::custom(
            "missing field `statement` (one of \"uptime\", \"bandwidth\", \"coverage\")",
        ),
    }
}

fn check_capacity(
    statement: StatementKind,
    field: &'static str,
    records: usize,
) -> Result<(), InputError> {
    let capacity = statement.capacity();
    if records > capacity {
        return Err(InputError::CapacityExceeded {
            statement,
            field,
            records,
            capacity,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Scalars: field elements, integers, points, signatures.

/// A field element as a canonical decimal string.
#[derive(Debug, Clone, Copy)]
struct DecFr(Fr);

impl Serialize for DecFr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&fr_to_string(&self.0))
    }
}

impl<'de> Deserialize<'de> for DecFr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DecFr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field element as a decimal string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DecFr, E> {
                fr_from_decimal(v)
                    .map(DecFr)
                    .map_err(|e| E::custom(format_args!("invalid field element: {e}")))
            }
        }
        d.deserialize_str(V)
    }
}

/// An unsigned integer below `2^256` as a decimal string (a signature's
/// `S`).
#[derive(Debug, Clone, Copy)]
struct DecU256(BigInt<4>);

impl Serialize for DecU256 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for DecU256 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DecU256;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal string of an integer below 2^256")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DecU256, E> {
                u256_from_decimal(v).map(DecU256).map_err(|_| {
                    E::custom("expected a decimal string (digits only) of an integer below 2^256")
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// Range-checked JSON integers with messages that say the range.
struct IntVisitor {
    min: i128,
    max: i128,
    expecting: &'static str,
}

impl Visitor<'_> for IntVisitor {
    type Value = i128;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i128, E> {
        self.visit_i128(i128::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i128, E> {
        self.visit_i128(i128::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<i128, E> {
        if (self.min..=self.max).contains(&v) {
            Ok(v)
        } else {
            Err(E::custom(format_args!(
                "expected {}, got {v}",
                self.expecting
            )))
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<i128, E> {
        match i128::try_from(v) {
            Ok(v) => self.visit_i128(v),
            Err(_) => Err(E::custom(format_args!(
                "expected {}, got {v}",
                self.expecting
            ))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i128, E> {
        let shown = if v.is_finite() && v.abs() < 1e15 {
            format!("{v}")
        } else {
            format!("{v:e}")
        };
        Err(E::custom(format_args!(
            "expected {}, got the non-integer or too large number {shown}",
            self.expecting
        )))
    }
}

fn de_int<'de, D: Deserializer<'de>>(
    d: D,
    min: i128,
    max: i128,
    expecting: &'static str,
) -> Result<i128, D::Error> {
    d.deserialize_i64(IntVisitor {
        min,
        max,
        expecting,
    })
}

fn de_u16<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let v = de_int(d, 0, i128::from(u16::MAX), "an unsigned integer below 2^16")?;
    u16::try_from(v).map_err(de::Error::custom)
}

fn de_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = de_int(d, 0, i128::from(u32::MAX), "an unsigned integer below 2^32")?;
    u32::try_from(v).map_err(de::Error::custom)
}

fn de_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = de_int(d, 0, i128::from(u64::MAX), "an unsigned integer below 2^64")?;
    u64::try_from(v).map_err(de::Error::custom)
}

fn de_i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let v = de_int(
        d,
        i128::from(i32::MIN),
        i128::from(i32::MAX),
        "an integer from -2^31 to 2^31 - 1",
    )?;
    i32::try_from(v).map_err(de::Error::custom)
}

/// A point of Baby Jubjub as `{x, y}`, validated on the curve.
#[derive(Debug, Clone, Copy)]
struct DecPoint(Point);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct XY {
    x: DecFr,
    y: DecFr,
}

impl Serialize for DecPoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        XY {
            x: DecFr(self.0.x),
            y: DecFr(self.0.y),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for DecPoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let xy = XY::deserialize(d)?;
        Point::new(xy.x.0, xy.y.0).map(DecPoint).map_err(|_| {
            de::Error::custom("(x, y) is not a point of Baby Jubjub (circomlib coordinates)")
        })
    }
}

/// A signature `{r8: {x, y}, s}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecSignature {
    r8: DecPoint,
    s: DecU256,
}

impl From<&Signature> for DecSignature {
    fn from(s: &Signature) -> Self {
        DecSignature {
            r8: DecPoint(s.r8),
            s: DecU256(s.s),
        }
    }
}

impl From<DecSignature> for Signature {
    fn from(s: DecSignature) -> Self {
        Signature {
            r8: s.r8.0,
            s: s.s.0,
        }
    }
}

/// A location `{x, y}` in metres (any `u32`; the rules check the range).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationDoc {
    #[serde(deserialize_with = "de_u32")]
    x: u32,
    #[serde(deserialize_with = "de_u32")]
    y: u32,
}

impl From<&Location> for LocationDoc {
    fn from(l: &Location) -> Self {
        LocationDoc { x: l.x, y: l.y }
    }
}

impl From<LocationDoc> for Location {
    fn from(l: LocationDoc) -> Self {
        Location { x: l.x, y: l.y }
    }
}

// ---------------------------------------------------------------------------
// Header fields.

/// The `statement` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum StatementName {
    Uptime,
    Bandwidth,
    Coverage,
}

impl<'de> Deserialize<'de> for StatementName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StatementName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("one of \"uptime\", \"bandwidth\", \"coverage\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatementName, E> {
                match v {
                    "uptime" => Ok(StatementName::Uptime),
                    "bandwidth" => Ok(StatementName::Bandwidth),
                    "coverage" => Ok(StatementName::Coverage),
                    _ => Err(E::custom(
                        "unknown statement, expected one of \"uptime\", \"bandwidth\", \"coverage\"",
                    )),
                }
            }
        }
        d.deserialize_str(V)
    }
}

/// The `version` field: only [`FORMAT_VERSION`].
#[derive(Debug, Clone, Copy)]
struct Version;

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(FORMAT_VERSION)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = de_u32(d)?;
        if v == FORMAT_VERSION {
            Ok(Version)
        } else {
            Err(de::Error::custom(format_args!(
                "unsupported version {v}: this prover reads version {FORMAT_VERSION}"
            )))
        }
    }
}

/// First pass: the `statement` field, skipping everything else.
struct Peek(Option<StatementName>);

impl<'de> Deserialize<'de> for Peek {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Peek;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object with a \"statement\" field")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Peek, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "statement" && found.is_none() {
                        found = Some(map.next_value::<StatementName>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Peek(found))
            }
        }
        d.deserialize_map(V)
    }
}

// ---------------------------------------------------------------------------
// Policies (validated while parsing).

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UptimePolicyDoc {
    #[serde(deserialize_with = "de_u32")]
    slots_per_epoch: u32,
    #[serde(deserialize_with = "de_u32")]
    floor_slots: u32,
    #[serde(deserialize_with = "de_u32")]
    max_latency_ms: u32,
    #[serde(deserialize_with = "de_u64")]
    base_reward: u64,
    #[serde(deserialize_with = "de_u64")]
    reward_per_slot: u64,
    #[serde(deserialize_with = "de_u64")]
    reward_cap: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BandwidthPolicyDoc {
    #[serde(deserialize_with = "de_u32")]
    max_bytes_per_s: u32,
    #[serde(deserialize_with = "de_u32")]
    rate_num: u32,
    #[serde(deserialize_with = "de_u32")]
    rate_shift: u32,
    #[serde(deserialize_with = "de_u64")]
    reward_cap: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoveragePolicyDoc {
    #[serde(deserialize_with = "de_u32")]
    min_witnesses: u32,
    #[serde(deserialize_with = "de_u64")]
    reward_per_witness: u64,
    #[serde(deserialize_with = "de_u64")]
    reward_cap: u64,
    #[serde(deserialize_with = "de_u32")]
    min_distance_m: u32,
    #[serde(deserialize_with = "de_u32")]
    max_distance_m: u32,
    #[serde(deserialize_with = "de_i32")]
    eirp_dbm: i32,
    #[serde(deserialize_with = "de_u32")]
    k_q32: u32,
    #[serde(deserialize_with = "de_u32")]
    cell_bits: u32,
}

/// A policy, validated when parsed.
#[derive(Debug, Clone, Copy)]
struct Valid<P>(P);

impl Serialize for Valid<UptimePolicy> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = &self.0;
        UptimePolicyDoc {
            slots_per_epoch: p.slots_per_epoch,
            floor_slots: p.floor_slots,
            max_latency_ms: p.max_latency_ms,
            base_reward: p.base_reward,
            reward_per_slot: p.reward_per_slot,
            reward_cap: p.reward_cap,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Valid<UptimePolicy> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = UptimePolicyDoc::deserialize(d)?;
        let policy = UptimePolicy {
            slots_per_epoch: p.slots_per_epoch,
            floor_slots: p.floor_slots,
            max_latency_ms: p.max_latency_ms,
            base_reward: p.base_reward,
            reward_per_slot: p.reward_per_slot,
            reward_cap: p.reward_cap,
        };
        policy
            .validate()
            .map_err(|e| de::Error::custom(format_args!("invalid policy: {e}")))?;
        Ok(Valid(policy))
    }
}

impl Serialize for Valid<BandwidthPolicy> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = &self.0;
        BandwidthPolicyDoc {
            max_bytes_per_s: p.max_bytes_per_s,
            rate_num: p.rate_num,
            rate_shift: p.rate_shift,
            reward_cap: p.reward_cap,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Valid<BandwidthPolicy> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = BandwidthPolicyDoc::deserialize(d)?;
        let policy = BandwidthPolicy {
            max_bytes_per_s: p.max_bytes_per_s,
            rate_num: p.rate_num,
            rate_shift: p.rate_shift,
            reward_cap: p.reward_cap,
        };
        policy
            .validate()
            .map_err(|e| de::Error::custom(format_args!("invalid policy: {e}")))?;
        Ok(Valid(policy))
    }
}

impl Serialize for Valid<CoveragePolicy> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = &self.0;
        CoveragePolicyDoc {
            min_witnesses: p.min_witnesses,
            reward_per_witness: p.reward_per_witness,
            reward_cap: p.reward_cap,
            min_distance_m: p.min_distance_m,
            max_distance_m: p.max_distance_m,
            eirp_dbm: p.eirp_dbm,
            k_q32: p.k_q32,
            cell_bits: p.cell_bits,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Valid<CoveragePolicy> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = CoveragePolicyDoc::deserialize(d)?;
        let policy = CoveragePolicy {
            min_witnesses: p.min_witnesses,
            reward_per_witness: p.reward_per_witness,
            reward_cap: p.reward_cap,
            min_distance_m: p.min_distance_m,
            max_distance_m: p.max_distance_m,
            eirp_dbm: p.eirp_dbm,
            k_q32: p.k_q32,
            cell_bits: p.cell_bits,
        };
        policy
            .validate()
            .map_err(|e| de::Error::custom(format_args!("invalid policy: {e}")))?;
        Ok(Valid(policy))
    }
}

// ---------------------------------------------------------------------------
// Records.

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedHeadDoc {
    head: DecFr,
    signature: DecSignature,
}

impl From<&SignedHead> for SignedHeadDoc {
    fn from(h: &SignedHead) -> Self {
        SignedHeadDoc {
            head: DecFr(h.head),
            signature: (&h.signature).into(),
        }
    }
}

impl From<SignedHeadDoc> for SignedHead {
    fn from(h: SignedHeadDoc) -> Self {
        SignedHead {
            head: h.head.0,
            signature: h.signature.into(),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeartbeatDoc {
    #[serde(deserialize_with = "de_u32")]
    slot: u32,
    response: DecFr,
    #[serde(deserialize_with = "de_u32")]
    latency_ms: u32,
}

impl From<&Heartbeat> for HeartbeatDoc {
    fn from(h: &Heartbeat) -> Self {
        HeartbeatDoc {
            slot: h.slot,
            response: DecFr(h.response),
            latency_ms: h.latency_ms,
        }
    }
}

impl From<HeartbeatDoc> for Heartbeat {
    fn from(h: HeartbeatDoc) -> Self {
        Heartbeat {
            slot: h.slot,
            response: h.response.0,
            latency_ms: h.latency_ms,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionReceiptDoc {
    device_id: DecFr,
    client_id: DecFr,
    #[serde(deserialize_with = "de_u32")]
    epoch: u32,
    #[serde(deserialize_with = "de_u32")]
    session: u32,
    #[serde(deserialize_with = "de_u64")]
    bytes: u64,
    #[serde(deserialize_with = "de_u32")]
    duration_s: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryProofDoc {
    #[serde(deserialize_with = "de_u16")]
    index: u16,
    siblings: [DecFr; REGISTRY_DEPTH],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoSignedReceiptDoc {
    receipt: SessionReceiptDoc,
    client_key: DecPoint,
    client_signature: DecSignature,
    registry_proof: RegistryProofDoc,
}

impl From<&CoSignedReceipt> for CoSignedReceiptDoc {
    fn from(r: &CoSignedReceipt) -> Self {
        let rc = &r.receipt;
        CoSignedReceiptDoc {
            receipt: SessionReceiptDoc {
                device_id: DecFr(rc.device_id),
                client_id: DecFr(rc.client_id),
                epoch: rc.epoch,
                session: rc.session,
                bytes: rc.bytes,
                duration_s: rc.duration_s,
            },
            client_key: DecPoint(r.client_key.0),
            client_signature: (&r.client_signature).into(),
            registry_proof: RegistryProofDoc {
                index: r.registry_proof.index,
                siblings: r.registry_proof.siblings.map(DecFr),
            },
        }
    }
}

impl From<CoSignedReceiptDoc> for CoSignedReceipt {
    fn from(r: CoSignedReceiptDoc) -> Self {
        let rc = r.receipt;
        CoSignedReceipt {
            receipt: SessionReceipt {
                device_id: rc.device_id.0,
                client_id: rc.client_id.0,
                epoch: rc.epoch,
                session: rc.session,
                bytes: rc.bytes,
                duration_s: rc.duration_s,
            },
            client_key: PublicKey(r.client_key.0),
            client_signature: r.client_signature.into(),
            registry_proof: RegistryProof {
                index: r.registry_proof.index,
                siblings: r.registry_proof.siblings.map(|s| s.0),
            },
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessReportDoc {
    witness: DecPoint,
    location: LocationDoc,
    #[serde(deserialize_with = "de_i32")]
    rssi_dbm: i32,
    beacon_id: DecFr,
    #[serde(deserialize_with = "de_u32")]
    epoch: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedWitnessReportDoc {
    report: WitnessReportDoc,
    signature: DecSignature,
}

impl From<&SignedWitnessReport> for SignedWitnessReportDoc {
    fn from(r: &SignedWitnessReport) -> Self {
        let rep = &r.report;
        SignedWitnessReportDoc {
            report: WitnessReportDoc {
                witness: DecPoint(rep.witness.0),
                location: (&rep.location).into(),
                rssi_dbm: rep.rssi_dbm,
                beacon_id: DecFr(rep.beacon_id),
                epoch: rep.epoch,
            },
            signature: (&r.signature).into(),
        }
    }
}

impl From<SignedWitnessReportDoc> for SignedWitnessReport {
    fn from(r: SignedWitnessReportDoc) -> Self {
        let rep = r.report;
        SignedWitnessReport {
            report: WitnessReport {
                witness: PublicKey(rep.witness.0),
                location: rep.location.into(),
                rssi_dbm: rep.rssi_dbm,
                beacon_id: rep.beacon_id.0,
                epoch: rep.epoch,
            },
            signature: r.signature.into(),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoverageClaimDoc {
    device_id: DecFr,
    #[serde(deserialize_with = "de_u32")]
    epoch: u32,
    location: LocationDoc,
    beacon_id: DecFr,
}

// ---------------------------------------------------------------------------
// Documents.

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UptimeDoc {
    statement: StatementName,
    version: Version,
    device: DecPoint,
    #[serde(deserialize_with = "de_u32")]
    epoch: u32,
    beacon: DecFr,
    policy: Valid<UptimePolicy>,
    heartbeats: Vec<HeartbeatDoc>,
    signed_head: SignedHeadDoc,
}

impl UptimeDoc {
    fn from_epoch(e: &UptimeEpoch) -> Self {
        UptimeDoc {
            statement: StatementName::Uptime,
            version: Version,
            device: DecPoint(e.device.0),
            epoch: e.epoch,
            beacon: DecFr(e.beacon),
            policy: Valid(e.policy),
            heartbeats: e.heartbeats.iter().map(HeartbeatDoc::from).collect(),
            signed_head: (&e.signed_head).into(),
        }
    }

    fn into_epoch(self) -> Result<UptimeEpoch, InputError> {
        expect_name(self.statement, StatementKind::Uptime)?;
        check_capacity(StatementKind::Uptime, "heartbeats", self.heartbeats.len())?;
        Ok(UptimeEpoch {
            device: PublicKey(self.device.0),
            epoch: self.epoch,
            beacon: self.beacon.0,
            policy: self.policy.0,
            heartbeats: self.heartbeats.into_iter().map(Heartbeat::from).collect(),
            signed_head: self.signed_head.into(),
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BandwidthDoc {
    statement: StatementName,
    version: Version,
    device: DecPoint,
    #[serde(deserialize_with = "de_u32")]
    epoch: u32,
    beacon: DecFr,
    policy: Valid<BandwidthPolicy>,
    registry_root: DecFr,
    receipts: Vec<CoSignedReceiptDoc>,
    signed_head: SignedHeadDoc,
}

impl BandwidthDoc {
    fn from_epoch(e: &BandwidthEpoch) -> Self {
        BandwidthDoc {
            statement: StatementName::Bandwidth,
            version: Version,
            device: DecPoint(e.device.0),
            epoch: e.epoch,
            beacon: DecFr(e.beacon),
            policy: Valid(e.policy),
            registry_root: DecFr(e.registry_root),
            receipts: e.receipts.iter().map(CoSignedReceiptDoc::from).collect(),
            signed_head: (&e.signed_head).into(),
        }
    }

    fn into_epoch(self) -> Result<BandwidthEpoch, InputError> {
        expect_name(self.statement, StatementKind::Bandwidth)?;
        check_capacity(StatementKind::Bandwidth, "receipts", self.receipts.len())?;
        Ok(BandwidthEpoch {
            device: PublicKey(self.device.0),
            epoch: self.epoch,
            beacon: self.beacon.0,
            policy: self.policy.0,
            registry_root: self.registry_root.0,
            receipts: self
                .receipts
                .into_iter()
                .map(CoSignedReceipt::from)
                .collect(),
            signed_head: self.signed_head.into(),
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoverageDoc {
    statement: StatementName,
    version: Version,
    device: DecPoint,
    #[serde(deserialize_with = "de_u32")]
    epoch: u32,
    beacon: DecFr,
    policy: Valid<CoveragePolicy>,
    claim: CoverageClaimDoc,
    claim_signature: DecSignature,
    reports: Vec<SignedWitnessReportDoc>,
}

impl CoverageDoc {
    fn from_epoch(e: &CoverageEpoch) -> Self {
        CoverageDoc {
            statement: StatementName::Coverage,
            version: Version,
            device: DecPoint(e.device.0),
            epoch: e.epoch,
            beacon: DecFr(e.beacon),
            policy: Valid(e.policy),
            claim: CoverageClaimDoc {
                device_id: DecFr(e.claim.device_id),
                epoch: e.claim.epoch,
                location: (&e.claim.location).into(),
                beacon_id: DecFr(e.claim.beacon_id),
            },
            claim_signature: (&e.claim_signature).into(),
            reports: e.reports.iter().map(SignedWitnessReportDoc::from).collect(),
        }
    }

    fn into_epoch(self) -> Result<CoverageEpoch, InputError> {
        expect_name(self.statement, StatementKind::Coverage)?;
        check_capacity(StatementKind::Coverage, "reports", self.reports.len())?;
        let c = self.claim;
        Ok(CoverageEpoch {
            device: PublicKey(self.device.0),
            epoch: self.epoch,
            beacon: self.beacon.0,
            policy: self.policy.0,
            claim: CoverageClaim {
                device_id: c.device_id.0,
                epoch: c.epoch,
                location: c.location.into(),
                beacon_id: c.beacon_id.0,
            },
            claim_signature: self.claim_signature.into(),
            reports: self
                .reports
                .into_iter()
                .map(SignedWitnessReport::from)
                .collect(),
        })
    }
}

fn expect_name(name: StatementName, expected: StatementKind) -> Result<(), InputError> {
    let found = match name {
        StatementName::Uptime => StatementKind::Uptime,
        StatementName::Bandwidth => StatementKind::Bandwidth,
        StatementName::Coverage => StatementKind::Coverage,
    };
    if found == expected {
        Ok(())
    } else {
        Err(InputError::WrongStatement { expected, found })
    }
}
