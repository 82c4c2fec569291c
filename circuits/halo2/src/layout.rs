//! A statement laid out as a halo2-base circuit: one `BaseCircuitBuilder`
//! with one instance column holding the public inputs, its shape (advice
//! and fixed columns for a given `k`) computed from the cells the statement
//! uses, and the mock prover's check.

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::circuit::{BaseCircuitParams, CircuitBuilderStage};
use halo2_base::gates::flex_gate::MultiPhaseThreadBreakPoints;
use halo2_base::gates::GateChip;
use halo2_base::halo2_proofs::dev::MockProver;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;

use crate::statement::{StatementCircuit, StatementError};

/// Rows at the bottom of every column kept for blinding factors.
pub const BLINDING_ROWS: usize = 9;

/// A statement's circuit shape: the parameters and the row break points of
/// its advice columns, fixed at key generation and reused by every proof.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Columns, `k`, lookup bits, instance columns.
    pub params: BaseCircuitParams,
    /// Where each advice column's rows end.
    pub break_points: MultiPhaseThreadBreakPoints,
}

/// Lays `statement` out for key generation at `k`: the builder, with its
/// shape computed.
pub fn keygen_builder<S: StatementCircuit>(
    statement: &S,
    k: u32,
) -> Result<BaseCircuitBuilder<Fr>, StatementError> {
    shaped_builder(statement, k, CircuitBuilderStage::Keygen)
}

fn shaped_builder<S: StatementCircuit>(
    statement: &S,
    k: u32,
    stage: CircuitBuilderStage,
) -> Result<BaseCircuitBuilder<Fr>, StatementError> {
    let mut builder = BaseCircuitBuilder::from_stage(stage)
        .use_k(k as usize)
        .use_instance_columns(1);
    fill(&mut builder, statement)?;
    builder.calculate_params(Some(BLINDING_ROWS));
    Ok(builder)
}

/// Lays `statement` out for proving with a key's `shape`.
pub fn prover_builder<S: StatementCircuit>(
    statement: &S,
    shape: &Shape,
) -> Result<BaseCircuitBuilder<Fr>, StatementError> {
    let mut builder = BaseCircuitBuilder::prover(shape.params.clone(), shape.break_points.clone());
    fill(&mut builder, statement)?;
    Ok(builder)
}

fn fill<S: StatementCircuit>(
    builder: &mut BaseCircuitBuilder<Fr>,
    statement: &S,
) -> Result<(), StatementError> {
    let gate = GateChip::<Fr>::default();
    let public = statement.synthesize(builder.main(0), &gate)?;
    builder.assigned_instances = vec![public];
    Ok(())
}

/// Runs the mock prover on `statement` at `k` with `instances` in the
/// instance column: `Ok` when every constraint holds, otherwise the
/// failures, printed.
pub fn mock_check<S: StatementCircuit>(
    statement: &S,
    k: u32,
    instances: Vec<Fr>,
) -> Result<Result<(), String>, StatementError> {
    let builder = shaped_builder(statement, k, CircuitBuilderStage::Mock)?;
    let prover = MockProver::run(k, &builder, vec![instances])
        .map_err(|e| StatementError::Layout(e.to_string()))?;
    Ok(prover.verify().map_err(|failures| {
        let shown: Vec<String> = failures.iter().take(4).map(|f| f.to_string()).collect();
        format!("{} failures, first: {}", failures.len(), shown.join("; "))
    }))
}

/// Advice cells `statement` uses (its size, independent of `k`).
pub fn advice_cells<S: StatementCircuit>(statement: &S) -> Result<usize, StatementError> {
    let mut builder = BaseCircuitBuilder::<Fr>::from_stage(CircuitBuilderStage::Keygen)
        .use_k(20)
        .use_instance_columns(1);
    fill(&mut builder, statement)?;
    Ok(builder
        .statistics()
        .gate
        .total_advice_per_phase
        .iter()
        .sum())
}
