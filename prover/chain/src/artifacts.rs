//! The contracts' bytecode from forge's build output.
//!
//! `scripts/forge.sh build` writes `verifier-contract/out/<File>.sol/
//! <Contract>.json`; [`Artifacts::load`] reads the creation and runtime
//! bytecode of `DepinToken`, `DepinRewards`, the three generated Groth16
//! verifiers (`src/generated/<Statement>Verifier.sol`), their batch
//! verifiers and the three generated halo2 verifiers
//! (`src/generated/halo2/<Statement>Halo2Verifier.sol`). The artifacts are
//! read at run time, so building this crate never needs forge.

use std::path::{Path, PathBuf};

use alloy::primitives::Bytes;
use depin_statements::StatementKind;

use crate::errors::ChainError;

/// forge's output folder, relative to the repository root.
pub const OUT_DIR: &str = "verifier-contract/out";

/// Every statement, in code order.
pub const KINDS: [StatementKind; 3] = [
    StatementKind::Uptime,
    StatementKind::Bandwidth,
    StatementKind::Coverage,
];

/// One contract's compiled code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The contract's name.
    pub name: String,
    /// The artifact file it was read from.
    pub path: PathBuf,
    /// Creation code (constructor arguments are appended to it).
    pub bytecode: Bytes,
    /// Runtime code, as deployed.
    pub deployed_bytecode: Bytes,
}

impl Artifact {
    /// Reads `<out_dir>/<file>/<name>.json`.
    ///
    /// # Errors
    ///
    /// [`ChainError::Artifact`] naming the file when it is missing (run
    /// `scripts/forge.sh build`), is not a forge artifact, or needs linked
    /// libraries.
    pub fn load(out_dir: &Path, file: &str, name: &str) -> Result<Self, ChainError> {
        let path = out_dir.join(file).join(format!("{name}.json"));
        let err = |reason: String| ChainError::Artifact {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                err("missing: run scripts/forge.sh build".into())
            } else {
                err(format!("{e}"))
            }
        })?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| err(format!("not JSON ({e}): run scripts/forge.sh build")))?;
        let code = |field: &str| -> Result<Bytes, ChainError> {
            let part = &json[field];
            if part["linkReferences"]
                .as_object()
                .is_some_and(|l| !l.is_empty())
            {
                return Err(err(format!("{field} needs linked libraries")));
            }
            let hex = part["object"]
                .as_str()
                .ok_or_else(|| err(format!("no {field}.object: not a forge artifact")))?;
            let bytes: Bytes = hex
                .parse()
                .map_err(|e| err(format!("{field}.object is not hex: {e}")))?;
            if bytes.is_empty() {
                return Err(err(format!(
                    "{field}.object is empty (an interface or abstract contract?)"
                )));
            }
            Ok(bytes)
        };
        Ok(Artifact {
            name: name.to_string(),
            bytecode: code("bytecode")?,
            deployed_bytecode: code("deployedBytecode")?,
            path: path.clone(),
        })
    }
}

/// The bytecode [`deploy`](crate::deploy()) needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifacts {
    /// `DepinToken`.
    pub token: Artifact,
    /// `DepinRewards`.
    pub rewards: Artifact,
    /// The generated verifiers, in [`KINDS`] order.
    pub verifiers: Vec<(StatementKind, Artifact)>,
    /// The generated batch verifiers (batches of
    /// `depin_batch::DEFAULT_BATCH_SIZE`), in [`KINDS`] order.
    pub batch_verifiers: Vec<(StatementKind, Artifact)>,
    /// The generated halo2 verifiers, in [`KINDS`] order.
    pub halo2_verifiers: Vec<(StatementKind, Artifact)>,
}

impl Artifacts {
    /// forge's output folder in a repository: `<repo_root>/verifier-contract/out`.
    pub fn out_dir(repo_root: &Path) -> PathBuf {
        repo_root.join(OUT_DIR)
    }

    /// The verifier contract's name for `kind` (`UptimeVerifier`, ...), as
    /// `depin_evm::solidity::contract_name` makes it.
    pub fn verifier_name(kind: StatementKind) -> String {
        let s = kind.as_str();
        let mut name = String::with_capacity(s.len() + 8);
        let mut chars = s.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars);
        }
        name.push_str("Verifier");
        name
    }

    /// The halo2 verifier contract's name for `kind`
    /// (`UptimeHalo2Verifier`, ...), as
    /// `depin_halo2_prover::solidity::contract_name` makes it.
    pub fn halo2_verifier_name(kind: StatementKind) -> String {
        let name = Self::verifier_name(kind);
        let base = name.strip_suffix("Verifier").unwrap_or(&name);
        format!("{base}Halo2Verifier")
    }

    /// The batch verifier contract's name for `kind`'s batches of
    /// `batch_size` (`UptimeBatch4Verifier`, ...).
    pub fn batch_verifier_name(kind: StatementKind, batch_size: usize) -> String {
        let name = Self::verifier_name(kind);
        let base = name.strip_suffix("Verifier").unwrap_or(&name);
        format!("{base}Batch{batch_size}Verifier")
    }

    /// Reads every artifact from forge's output folder `out_dir`.
    ///
    /// # Errors
    ///
    /// As [`Artifact::load`], for the first artifact that fails.
    pub fn load(out_dir: &Path) -> Result<Self, ChainError> {
        // A contract per kind, in its own `<Name>.sol`.
        let per_kind = |name: &dyn Fn(StatementKind) -> String| {
            KINDS
                .iter()
                .map(|&kind| {
                    let name = name(kind);
                    Artifact::load(out_dir, &format!("{name}.sol"), &name).map(|a| (kind, a))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let verifiers = per_kind(&Self::verifier_name)?;
        let batch_verifiers =
            per_kind(&|kind| Self::batch_verifier_name(kind, depin_batch::DEFAULT_BATCH_SIZE))?;
        let halo2_verifiers = per_kind(&Self::halo2_verifier_name)?;
        Ok(Artifacts {
            token: Artifact::load(out_dir, "DepinToken.sol", "DepinToken")?,
            rewards: Artifact::load(out_dir, "DepinRewards.sol", "DepinRewards")?,
            verifiers,
            batch_verifiers,
            halo2_verifiers,
        })
    }

    /// `kind`'s verifier.
    pub fn verifier(&self, kind: StatementKind) -> Option<&Artifact> {
        self.verifiers
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, a)| a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_names() {
        assert_eq!(
            Artifacts::verifier_name(StatementKind::Uptime),
            "UptimeVerifier"
        );
        assert_eq!(
            Artifacts::verifier_name(StatementKind::Coverage),
            "CoverageVerifier"
        );
        assert_eq!(
            Artifacts::batch_verifier_name(StatementKind::Bandwidth, 4),
            "BandwidthBatch4Verifier"
        );
        assert_eq!(
            Artifacts::halo2_verifier_name(StatementKind::Coverage),
            "CoverageHalo2Verifier"
        );
    }

    #[test]
    fn missing_artifact_says_how_to_build() {
        let e = Artifacts::load(Path::new("/nonexistent/out")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("UptimeVerifier.sol/UptimeVerifier.json"),
            "{msg}"
        );
        assert!(msg.contains("run scripts/forge.sh build"), "{msg}");
    }
}
