//! The Solidity verifier of a statement's halo2 verifying key, generated in
//! Rust by `snark-verifier-sdk` (its EVM loader writes the verifier of the
//! KZG/SHPLONK protocol with the key, the parameters' `[s] G2` and the
//! Keccak transcript inlined).
//!
//! The contract has no function: its fallback takes the public inputs as
//! 32-byte big-endian words followed by the proof's bytes, returns nothing
//! when the proof verifies and reverts otherwise. The generated source pins
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

use crate::keys::StatementKeys;
use crate::{Bn256, Fr, G1Affine};

/// The pragma the generator writes, and the one the project compiles.
const GENERATED_PRAGMA: &str = "pragma solidity 0.8.19;";
const PROJECT_PRAGMA: &str = "pragma solidity ^0.8.19;";

/// The Solidity source of the verifier of `keys`' verifying key, with the
/// contract named `contract_name`.
pub fn verifier_source(keys: &StatementKeys, contract_name: &str) -> String {
    verifier_source_of(
        keys.params(),
        keys.verifying_key(),
        keys.num_instance(),
        contract_name,
    )
}

/// The Solidity source of the verifier of `vk` (with `num_instance` public
/// inputs, under `params` at the key's `k`), named `contract_name`.
pub fn verifier_source_of(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    num_instance: usize,
    contract_name: &str,
) -> String {
    let source = gen_evm_verifier_sol_code::<StatementCircuitMarker, SHPLONK>(
        params,
        vk,
        vec![num_instance],
    );
    source.replace(GENERATED_PRAGMA, PROJECT_PRAGMA).replace(
        "contract Halo2Verifier",
        &format!("contract {contract_name}"),
    )
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
