//! The Solidity verifier of a statement's halo2 verifying key, generated in
//! Rust by `snark-verifier-sdk` (its EVM loader writes the verifier of the
//! KZG/SHPLONK protocol with the key, the parameters' `[s] G2` and the
//! Keccak transcript inlined).
//!
//! The contract's fallback takes the public inputs as 32-byte big-endian
//! words followed by the proof's bytes, returns nothing when the proof
//! verifies and reverts otherwise. It reduces every input modulo the scalar
//! field, so a caller must refuse inputs at or above it (`DepinRewards`
//! does): `x` and `x + r` would otherwise be the same claim.
//!
//! Beside the fallback the contract declares what the Groth16 verifiers
//! declare (`STATEMENT`, `VERSION`, `N_PUBLIC`), so that the reward
//! contract checks a halo2 verifier's statement and input count the same
//! way. Their selectors never meet a proof's calldata: its first word is
//! the statement header, below `2^136`, so its first four bytes are zero.
//!
//! The generated source pins
//! `pragma solidity 0.8.19`; it is rewritten to `^0.8.19` so that the
//! project's pinned compiler builds it, which must be with its optimizer
//! off (the generated assembly is too deep for the optimizer's stack
//! scheduling).

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::circuit::{BaseCircuitParams, BaseConfig};
use halo2_base::halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_base::halo2_proofs::plonk::{Circuit, ConstraintSystem, Error as PlonkError};
use snark_verifier_sdk::evm::gen_evm_verifier_sol_code;
use snark_verifier_sdk::{CircuitExt, SHPLONK};

use halo2_base::halo2_proofs::plonk::VerifyingKey;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;

use depin_statements::{StatementKind, STATEMENT_VERSION};

use crate::keys::StatementKeys;
use crate::{Bn256, Fr, G1Affine};

/// The pragma the generator writes, and the one the project compiles.
const GENERATED_PRAGMA: &str = "pragma solidity 0.8.19;";
const PROJECT_PRAGMA: &str = "pragma solidity ^0.8.19;";
/// The contract line the generator writes.
const GENERATED_CONTRACT: &str = "contract Halo2Verifier {\n";

/// The verifier contract's name for `kind` (`UptimeHalo2Verifier`, ...):
/// the Groth16 verifier's name (`depin_evm::solidity::contract_name`) with
/// `Halo2` before `Verifier`.
pub fn contract_name(kind: StatementKind) -> String {
    let groth16 = depin_evm::solidity::contract_name(kind.as_str());
    let base = groth16.strip_suffix("Verifier").unwrap_or(&groth16);
    format!("{base}Halo2Verifier")
}

/// The Solidity source of the verifier of `keys`' verifying key, named
/// [`contract_name`].
pub fn verifier_source(keys: &StatementKeys) -> String {
    verifier_source_of(
        keys.params(),
        keys.verifying_key(),
        keys.kind(),
        keys.num_instance(),
    )
}

/// The Solidity source of the verifier of `kind`'s verifying key `vk`
/// (with `num_instance` public inputs, under `params` at the key's `k`),
/// named [`contract_name`], for statement version
/// [`STATEMENT_VERSION`].
pub fn verifier_source_of(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    kind: StatementKind,
    num_instance: usize,
) -> String {
    let source = gen_evm_verifier_sol_code::<StatementCircuitMarker, SHPLONK>(
        params,
        vk,
        vec![num_instance],
    );
    let name = contract_name(kind);
    let statement = kind.as_str();
    let header = format!(
        "/// @title {name}\n\
         /// @notice Verifies halo2 proofs (KZG over BN254, SHPLONK, Keccak transcript) of\n\
         /// the `{statement}` statement, version {STATEMENT_VERSION}. Generated from its verifying key by\n\
         /// depin-halo2-prover (snark-verifier's EVM loader); do not edit. The fallback\n\
         /// takes the {num_instance} public inputs as 32-byte words, then the proof; it returns\n\
         /// nothing when the proof verifies and reverts otherwise. It reduces the\n\
         /// inputs modulo the scalar field: callers refuse inputs not below it.\n\
         contract {name} {{\n    \
             /// The statement name the key proves.\n    \
             string public constant STATEMENT = \"{statement}\";\n    \
             /// The statement version the key was made for.\n    \
             uint32 public constant VERSION = {STATEMENT_VERSION};\n    \
             /// Number of public inputs.\n    \
             uint256 public constant N_PUBLIC = {num_instance};\n\n"
    );
    source
        .replace(GENERATED_PRAGMA, PROJECT_PRAGMA)
        .replace(GENERATED_CONTRACT, &header)
}

/// The type the generator asks for: a circuit without an accumulator (its
/// only use). Never built or synthesized.
struct StatementCircuitMarker(BaseCircuitBuilder<Fr>);

impl Circuit<Fr> for StatementCircuitMarker {
    type Config = BaseConfig<Fr>;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = BaseCircuitParams;

    fn params(&self) -> Self::Params {
        self.0.params()
    }

    fn without_witnesses(&self) -> Self {
        StatementCircuitMarker(self.0.without_witnesses())
    }

    fn configure_with_params(
        meta: &mut ConstraintSystem<Fr>,
        params: Self::Params,
    ) -> Self::Config {
        BaseCircuitBuilder::configure_with_params(meta, params)
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> Self::Config {
        BaseCircuitBuilder::configure_with_params(meta, BaseCircuitParams::default())
    }

    fn synthesize(
        &self,
        config: Self::Config,
        layouter: impl Layouter<Fr>,
    ) -> Result<(), PlonkError> {
        self.0.synthesize(config, layouter)
    }
}

impl CircuitExt<Fr> for StatementCircuitMarker {
    fn num_instance(&self) -> Vec<usize> {
        self.0.assigned_instances.iter().map(Vec::len).collect()
    }

    fn instances(&self) -> Vec<Vec<Fr>> {
        self.0
            .assigned_instances
            .iter()
            .map(|cells| cells.iter().map(|c| *c.value()).collect())
            .collect()
    }
}
