//! halo2 as a `depin_proving::ProofSystem`: one statement's keys, generated
//! at start from the node's KZG parameters, proving device epochs and
//! verifying proofs.
//!
//! A node keeps its parameters in its halo2 key directory, one file per
//! circuit size ([`params_file`]) shared by the statements of that size.
//! With a development seed (the insecure flag) a missing file is made from
//! the seed and published (written beside, then renamed), and the directory
//! is marked ([`DEV_MARKER_FILE`]); without one, a missing file is an
//! error.

use std::path::Path;

use depin_crypto::field::Fr as NativeFr;
use depin_halo2::bandwidth::BandwidthCircuit;
use depin_halo2::coverage::CoverageCircuit;
use depin_halo2::field::{to_halo2, to_native};
use depin_halo2::uptime::UptimeCircuit;
use depin_proving::{Backend, ProofSystem, ProvingError, StatementProof, VerifyingKeyExport};
use depin_statements::epoch::EpochInput;
use depin_statements::StatementKind;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand_chacha::ChaCha20Rng;

use crate::keys::StatementKeys;
use crate::params::{dev_params, read_params, write_params};
use crate::prover::{prove, verify, Halo2Error};
use crate::Bn256;

/// The parameters file of a halo2 key directory for circuits of `2^k`
/// rows (`params-k<k>.kzg`). Parameters of one size serve every statement
/// of that size; cutting larger ones down recomputes their Lagrange basis
/// (a group FFT, minutes), so a node keeps one file per size.
pub fn params_file(k: u32) -> String {
    format!("params-k{k}.kzg")
}

/// The file that marks a key directory whose parameters were made from a
/// development seed (the name the Groth16 development keys' marker has).
pub const DEV_MARKER_FILE: &str = "INSECURE-DEV-KEYS";

/// Whether `dir` holds parameters made from a development seed
/// ([`load_or_dev_params`] marks it).
pub fn is_dev(dir: &Path) -> bool {
    dir.join(DEV_MARKER_FILE).exists()
}

/// Why a node's halo2 parameters could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    /// The parameters file is missing and development keys are off.
    #[error("{} is missing and development keys are off", .0.display())]
    Missing(std::path::PathBuf),
    /// The parameters or keys could not be made.
    #[error(transparent)]
    Halo2(#[from] Halo2Error),
}

/// Loads `dir`'s parameters for `2^k` rows, or with `dev_seed` makes
/// development ones (insecure) when the file is missing and publishes them
/// into `dir`.
pub fn load_or_dev_params(
    dir: &Path,
    k: u32,
    dev_seed: Option<u64>,
) -> Result<ParamsKZG<Bn256>, SystemError> {
    let path = dir.join(params_file(k));
    if path.exists() {
        return Ok(read_params(&path).map_err(Halo2Error::from)?);
    }
    let Some(seed) = dev_seed else {
        return Err(SystemError::Missing(path));
    };
    let params = dev_params(k, seed).map_err(Halo2Error::from)?;
    std::fs::create_dir_all(dir).map_err(|source| {
        Halo2Error::Params(crate::params::ParamsError::Io {
            path: dir.to_path_buf(),
            source,
        })
    })?;
    let marker = dir.join(DEV_MARKER_FILE);
    let text = format!(
        "These KZG parameters were made by an INSECURE development setup from seed {seed}: \
         anyone who knows the seed can forge proofs for them. Use parameters from a \
         powers-of-tau ceremony in production.\n"
    );
    // The marker first: a start killed between the two leaves a marked
    // directory without parameters, never unmarked development parameters.
    std::fs::write(&marker, text).map_err(|source| {
        Halo2Error::Params(crate::params::ParamsError::Io {
            path: marker.clone(),
            source,
        })
    })?;
    write_params(&params, &path).map_err(Halo2Error::from)?;
    Ok(params)
}

/// One statement's halo2 keys, ready to prove.
#[derive(Debug)]
pub struct Halo2System {
    keys: StatementKeys,
    export: VerifyingKeyExport,
}

impl Halo2System {
    /// The system of `keys`.
    pub fn new(keys: StatementKeys) -> Self {
        let export = VerifyingKeyExport {
            binary: keys.verifying_key_bytes(),
            json: keys.summary_json(),
        };
        Halo2System { keys, export }
    }

    /// Generates `kind`'s keys from `params`.
    pub fn from_params(params: &ParamsKZG<Bn256>, kind: StatementKind) -> Result<Self, Halo2Error> {
        Ok(Self::new(StatementKeys::generate(params, kind)?))
    }

    /// The keys.
    pub fn keys(&self) -> &StatementKeys {
        &self.keys
    }

    /// Proves `epoch` and returns the statement proof.
    pub fn prove_epoch(
        &self,
        epoch: &EpochInput,
        rng: &mut ChaCha20Rng,
    ) -> Result<StatementProof, Halo2Error> {
        let kind = self.keys.kind();
        if epoch.kind() != kind {
            return Err(Halo2Error::WrongStatement {
                keys: kind,
                what: "epoch",
                found: epoch.kind(),
            });
        }
        let (public, proof) = match epoch {
            EpochInput::Uptime(e) => prove(&self.keys, &UptimeCircuit::new(&e.as_input())?, rng)?,
            EpochInput::Bandwidth(e) => {
                prove(&self.keys, &BandwidthCircuit::new(&e.as_input())?, rng)?
            }
            EpochInput::Coverage(e) => {
                prove(&self.keys, &CoverageCircuit::new(&e.as_input())?, rng)?
            }
        };
        let public: Vec<NativeFr> = public.iter().map(to_native).collect();
        Ok(StatementProof::halo2(kind, public, proof))
    }
}

impl ProofSystem for Halo2System {
    fn backend(&self) -> Backend {
        Backend::Halo2
    }

    fn kind(&self) -> StatementKind {
        self.keys.kind()
    }

    fn prove(
        &self,
        epoch: &EpochInput,
        rng: &mut ChaCha20Rng,
    ) -> Result<StatementProof, ProvingError> {
        self.prove_epoch(epoch, rng).map_err(|e| match e {
            Halo2Error::WrongStatement { keys, what, found } => {
                ProvingError::WrongStatement { keys, what, found }
            }
            e => ProvingError::backend(e),
        })
    }

    fn verify(&self, proof: &StatementProof) -> Result<bool, ProvingError> {
        if proof.kind != self.keys.kind() {
            return Err(ProvingError::WrongStatement {
                keys: self.keys.kind(),
                what: "proof",
                found: proof.kind,
            });
        }
        let Some(bytes) = proof.proof.as_halo2() else {
            return Err(ProvingError::WrongBackend {
                keys: Backend::Halo2,
                found: proof.proof.backend(),
            });
        };
        if proof.public.len() != self.keys.num_instance() {
            return Ok(false);
        }
        let public: Vec<_> = proof.public.iter().map(to_halo2).collect();
        verify(
            self.keys.params(),
            self.keys.verifying_key(),
            &public,
            bytes,
        )
        .map_err(ProvingError::backend)
    }

    fn verifying_key(&self) -> &VerifyingKeyExport {
        &self.export
    }
}
