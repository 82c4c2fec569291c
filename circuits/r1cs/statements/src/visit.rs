//! Code generic over the three statement circuits, for callers that choose
//! a statement at run time: a [`CircuitVisitor`] is handed the circuit of a
//! statement's sample ([`visit_sample`]) or of an epoch ([`visit_epoch`]).

use depin_statements::epoch::EpochInput;
use depin_statements::StatementKind;

use crate::bandwidth::BandwidthCircuit;
use crate::common::{CircuitError, StatementCircuit};
use crate::coverage::CoverageCircuit;
use crate::uptime::UptimeCircuit;

/// Something generic over the statement circuits.
pub trait CircuitVisitor {
    /// What the visit returns.
    type Output;
    /// Called with the statement's circuit.
    fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output;
}

/// Builds `kind`'s deterministic full-capacity sample circuit (the shape
/// every key of the statement is made for) and hands it to `visitor`.
pub fn visit_sample<V: CircuitVisitor>(
    kind: StatementKind,
    visitor: V,
) -> Result<V::Output, CircuitError> {
    Ok(match kind {
        StatementKind::Uptime => visitor.visit(UptimeCircuit::sample()),
        StatementKind::Bandwidth => visitor.visit(BandwidthCircuit::sample()),
        StatementKind::Coverage => visitor.visit(CoverageCircuit::sample()?),
    })
}

/// Builds the circuit of `epoch` (its statement's, with the epoch's
/// witness) and hands it to `visitor`.
pub fn visit_epoch<V: CircuitVisitor>(
    epoch: &EpochInput,
    visitor: V,
) -> Result<V::Output, CircuitError> {
    Ok(match epoch {
        EpochInput::Uptime(e) => visitor.visit(UptimeCircuit::new(&e.as_input())?),
        EpochInput::Bandwidth(e) => visitor.visit(BandwidthCircuit::new(&e.as_input())?),
        EpochInput::Coverage(e) => visitor.visit(CoverageCircuit::new(&e.as_input())?),
    })
}
