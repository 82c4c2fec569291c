//! One statement's halo2 keys: the circuit's shape (columns and row break
//! points at the statement's `k`), the proving key and the verifying key,
//! generated from the KZG parameters and the statement's full-capacity
//! sample circuit (`depin_halo2::*::sample`). Key generation is
//! deterministic: the same parameters give the same keys, byte for byte, so
//! a node makes them at start instead of storing a proving key, and a
//! committed verifying key can be checked for drift.

use depin_halo2::bandwidth::BandwidthCircuit;
use depin_halo2::coverage::CoverageCircuit;
use depin_halo2::layout::{keygen_builder, Shape};
use depin_halo2::uptime::UptimeCircuit;
use depin_statements::StatementKind;
use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::halo2_proofs::plonk::{keygen_pk, keygen_vk, Circuit, ProvingKey, VerifyingKey};
use halo2_base::halo2_proofs::poly::commitment::Params;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_base::halo2_proofs::SerdeFormat;

use std::path::Path;

use depin_statements::STATEMENT_VERSION;
use halo2_base::gates::circuit::BaseCircuitParams;

use crate::params::{downsized, ParamsError};
use crate::prover::Halo2Error;
use crate::{Bn256, Fr, G1Affine};

/// The `k` (`2^k` rows) of each statement's circuit: the advice cells of
/// its full-capacity circuit spread over a few columns (docs/halo2.md),
/// few enough that the generated verifier stays well under the contract
/// size limit.
pub const fn statement_k(kind: StatementKind) -> u32 {
    match kind {
        StatementKind::Uptime => 18,
        StatementKind::Bandwidth => 19,
        StatementKind::Coverage => 18,
    }
}

/// The verifying key file of a halo2 key directory (halo2's raw encoding).
pub const VERIFYING_KEY_FILE: &str = "verifying_key.bin";
/// The circuit shape file (the configuration the verifying key is read
/// with, and the row break points a prover lays the cells out with).
pub const SHAPE_FILE: &str = "shape.json";
/// The summary of the keys ([`StatementKeys::summary_json`]).
pub const VK_JSON_FILE: &str = "vk.json";

/// One statement's keys, with the parameters cut to its size.
#[derive(Debug)]
pub struct StatementKeys {
    kind: StatementKind,
    params: ParamsKZG<Bn256>,
    shape: Shape,
    pk: ProvingKey<G1Affine>,
    num_instance: usize,
}

impl StatementKeys {
    /// Generates `kind`'s keys from `params`: of the statement's `k`, or
    /// larger (then cut down, which recomputes their Lagrange basis, a group
    /// FFT of minutes at `k = 18`).
    pub fn generate(params: &ParamsKZG<Bn256>, kind: StatementKind) -> Result<Self, Halo2Error> {
        let k = statement_k(kind);
        let params = downsized(params, k)?;
        let builder = match kind {
            StatementKind::Uptime => keygen_builder(&UptimeCircuit::sample()?, k)?,
            StatementKind::Bandwidth => keygen_builder(&BandwidthCircuit::sample()?, k)?,
            StatementKind::Coverage => keygen_builder(&CoverageCircuit::sample()?, k)?,
        };
        Self::from_builder(params, kind, &builder)
    }

    /// Keys for a circuit laid out by `keygen_builder` at `params`' `k`
    /// (tests use small statements).
    pub fn from_builder(
        params: ParamsKZG<Bn256>,
        kind: StatementKind,
        builder: &BaseCircuitBuilder<Fr>,
    ) -> Result<Self, Halo2Error> {
        let num_instance = builder.assigned_instances.first().map_or(0, Vec::len);
        let vk = keygen_vk(&params, builder).map_err(Halo2Error::Plonk)?;
        let pk = keygen_pk(&params, vk, builder).map_err(Halo2Error::Plonk)?;
        // Key generation laid the cells out in columns: the break points
        // exist from here on.
        let shape = Shape {
            params: builder.params(),
            break_points: builder.break_points(),
        };
        Ok(StatementKeys {
            kind,
            params,
            shape,
            pk,
            num_instance,
        })
    }

    /// The statement.
    pub fn kind(&self) -> StatementKind {
        self.kind
    }

    /// The parameters, cut to the statement's `k`.
    pub fn params(&self) -> &ParamsKZG<Bn256> {
        &self.params
    }

    /// The circuit's shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The proving key.
    pub fn proving_key(&self) -> &ProvingKey<G1Affine> {
        &self.pk
    }

    /// The verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey<G1Affine> {
        self.pk.get_vk()
    }

    /// Public inputs of the statement.
    pub fn num_instance(&self) -> usize {
        self.num_instance
    }

    /// The verifying key in halo2's raw encoding.
    pub fn verifying_key_bytes(&self) -> Vec<u8> {
        self.verifying_key().to_bytes(SerdeFormat::RawBytes)
    }

    /// The files of a key directory but the parameters: name and bytes of
    /// the verifying key, the shape and the summary.
    pub fn files(&self) -> Vec<(&'static str, Vec<u8>)> {
        let shape = serde_json::json!({
            "statement": self.kind.as_str(),
            "statement_version": STATEMENT_VERSION,
            "params": self.shape.params,
            "break_points": self.shape.break_points,
            "public_inputs": self.num_instance,
        });
        vec![
            (VERIFYING_KEY_FILE, self.verifying_key_bytes()),
            (SHAPE_FILE, format!("{shape:#}\n").into_bytes()),
            (
                VK_JSON_FILE,
                format!("{}\n", self.summary_json()).into_bytes(),
            ),
        ]
    }

    /// Writes [`StatementKeys::files`] into `dir` (the parameters file is
    /// written by whoever made the parameters), each whole or not at all:
    /// written beside, synced, then renamed, the verifying key last, so a
    /// directory with a verifying key has the rest.
    pub fn write_dir(&self, dir: &Path) -> Result<(), Halo2Error> {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let mut files = self.files();
        files.sort_by_key(|(name, _)| *name == VERIFYING_KEY_FILE);
        for (name, bytes) in files {
            let path = dir.join(name);
            let tmp = dir.join(format!("{name}.partial"));
            let write = || -> std::io::Result<()> {
                let mut f = std::fs::File::create(&tmp)?;
                std::io::Write::write_all(&mut f, &bytes)?;
                f.sync_all()?;
                std::fs::rename(&tmp, &path)
            };
            write().map_err(|e| io_error(&path, e))?;
        }
        Ok(())
    }

    /// A JSON summary of the keys: protocol, `k`, columns, public inputs.
    pub fn summary_json(&self) -> String {
        let p = &self.shape.params;
        serde_json::json!({
            "protocol": "halo2-kzg-shplonk",
            "curve": "bn254",
            "transcript": "keccak256",
            "statement": self.kind.as_str(),
            "k": p.k,
            "advice_columns": p.num_advice_per_phase.iter().sum::<usize>(),
            "fixed_columns": p.num_fixed,
            "lookup_advice_columns": p.num_lookup_advice_per_phase.iter().sum::<usize>(),
            "public_inputs": self.num_instance,
        })
        .to_string()
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Halo2Error {
    Halo2Error::Params(ParamsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn invalid(path: &Path, what: impl Into<String>) -> Halo2Error {
    io_error(
        path,
        std::io::Error::new(std::io::ErrorKind::InvalidData, what.into()),
    )
}

/// What verifying a statement's proofs needs: the parameters cut to its
/// size and its verifying key, read from a key directory.
#[derive(Debug)]
pub struct VerifierKeys {
    /// The statement.
    pub kind: StatementKind,
    /// The parameters at the statement's `k`.
    pub params: ParamsKZG<Bn256>,
    /// The verifying key.
    pub vk: VerifyingKey<G1Affine>,
    /// The circuit's shape.
    pub shape: Shape,
    /// Public inputs of the statement.
    pub num_instance: usize,
}

impl VerifierKeys {
    /// Reads `dir`'s parameters ([`crate::system::params_file`]), shape and
    /// verifying key for `kind`, checking that they belong together.
    pub fn read_dir(dir: &Path, kind: StatementKind) -> Result<Self, Halo2Error> {
        let shape_path = dir.join(SHAPE_FILE);
        let text = std::fs::read_to_string(&shape_path).map_err(|e| io_error(&shape_path, e))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| invalid(&shape_path, e.to_string()))?;
        if json["statement"] != kind.as_str() {
            return Err(invalid(
                &shape_path,
                format!("keys of {}, not {}", json["statement"], kind.as_str()),
            ));
        }
        if json["statement_version"] != STATEMENT_VERSION {
            return Err(invalid(&shape_path, "keys of another statement version"));
        }
        let circuit: BaseCircuitParams = serde_json::from_value(json["params"].clone())
            .map_err(|e| invalid(&shape_path, e.to_string()))?;
        let break_points: Vec<Vec<usize>> = serde_json::from_value(json["break_points"].clone())
            .map_err(|e| invalid(&shape_path, e.to_string()))?;
        let num_instance = json["public_inputs"]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| invalid(&shape_path, "no public_inputs"))?;
        let k = u32::try_from(circuit.k).map_err(|_| invalid(&shape_path, "k"))?;
        if k != statement_k(kind) {
            return Err(invalid(
                &shape_path,
                format!(
                    "k = {k}, the statement's circuit has k = {}",
                    statement_k(kind)
                ),
            ));
        }
        let params = crate::params::read_params(&dir.join(crate::system::params_file(k)))?;
        if params.k() != k {
            return Err(ParamsError::TooSmall {
                have: params.k(),
                need: k,
            }
            .into());
        }
        let vk_path = dir.join(VERIFYING_KEY_FILE);
        let bytes = std::fs::read(&vk_path).map_err(|e| io_error(&vk_path, e))?;
        // Byte 0 is the encoding's version, bytes 1..5 the key's k: checked
        // before halo2 sizes anything by it.
        if bytes.get(1..5) != Some(&k.to_le_bytes()[..]) {
            return Err(invalid(&vk_path, "the key's k differs from the shape's"));
        }
        let vk = VerifyingKey::<G1Affine>::read::<_, BaseCircuitBuilder<Fr>>(
            &mut bytes.as_slice(),
            SerdeFormat::RawBytes,
            circuit.clone(),
        )
        .map_err(|e| io_error(&vk_path, e))?;
        if vk.to_bytes(SerdeFormat::RawBytes) != bytes {
            return Err(invalid(&vk_path, "trailing or non-canonical bytes"));
        }
        Ok(VerifierKeys {
            kind,
            params,
            vk,
            shape: Shape {
                params: circuit,
                break_points,
            },
            num_instance,
        })
    }
}
