//! `.r1cs`: a rank-1 constraint system as circom writes it and snarkjs and
//! rapidsnark read it (iden3 `r1csfile`, `doc/r1cs_bin_format.md`).
//!
//! The container ([`crate::container`]) has magic `r1cs`, version 1, and
//! the sections (all integers little-endian):
//!
//! 1. **header**: field element size `n8` (u32, 32 for BN254), the prime
//!    (`n8` bytes), `nWires` (u32), `nPubOut` (u32), `nPubIn` (u32),
//!    `nPrvIn` (u32), `nLabels` (u64), `mConstraints` (u32);
//! 2. **constraints**: `mConstraints` times the linear combinations `A`,
//!    `B`, `C` of `A * B = C`, each a term count (u32) then terms (wire id
//!    u32, coefficient `n8` bytes in normal form);
//! 3. **wire-to-label map**: one u64 label id per wire.
//!
//! Sections 4 and 5 (PLONK custom gates) are refused. Wires are ordered
//! `[one, public outputs, public inputs, private inputs, internal]`.
//!
//! An arkworks circuit ([`R1cs::from_circuit`]) maps onto this exactly: its
//! variables `[one, instance..., witness...]` are the wires in that order
//! (no outputs, the instance variables after the one as public inputs, no
//! private inputs: every witness variable is an internal wire), each wire
//! is its own label, and each row's terms are sorted by wire with repeated
//! wires merged and zero coefficients dropped (snarkjs keeps only the last
//! of repeated wires). The matrices are the ones the Groth16 setup and the
//! prover of `depin-prover-core` use (setup-mode synthesis optimising for
//! constraints, linear combinations inlined), and a `.wtns` of the
//! circuit's full assignment ([`crate::wtns`]) is in the same wire order.

use std::path::Path;

use ark_bn254::Fr;
use ark_ff::{One, Zero};
use ark_relations::gr1cs::{ConstraintSynthesizer, SynthesisError};
use depin_prover_core::groth16::{Groth16Error, SetupMatrices};

use crate::container::{self, ContainerError, SectionTable};
use crate::encoding::{fr_from_le, fr_modulus_le, fr_to_le, FIELD_BYTES};

/// The magic of a `.r1cs` file.
pub const MAGIC: &[u8; 4] = b"r1cs";
/// The version written (and the highest read).
pub const VERSION: u32 = 1;

const HEADER: u32 = 1;
const CONSTRAINTS: u32 = 2;
const WIRE_LABELS: u32 = 3;
const CUSTOM_GATES_LIST: u32 = 4;
const CUSTOM_GATES_USES: u32 = 5;

/// Why an R1CS could not be built, read or checked.
#[derive(Debug, thiserror::Error)]
pub enum R1csError {
    /// The file's container or a section was refused.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// The circuit failed to synthesize.
    #[error("synthesis failed: {0}")]
    Synthesis(#[from] SynthesisError),
    /// The constraint system is not a plain R1CS.
    #[error("not an R1CS: {0}")]
    NotR1cs(String),
    /// More wires or constraints than 32-bit indices address.
    #[error("the circuit is too large for the .r1cs format ({0})")]
    TooLarge(String),
    /// A witness of the wrong length.
    #[error("the witness has {found} values, the circuit {expected} wires")]
    WitnessLength {
        /// The circuit's wires.
        expected: usize,
        /// The witness's values.
        found: usize,
    },
    /// A witness whose first value is not one.
    #[error("the witness's first value (the constant wire) is not one")]
    ConstantNotOne,
    /// A witness that does not satisfy a constraint.
    #[error("the witness does not satisfy constraint {0}")]
    Unsatisfied(usize),
}

/// A linear combination: `(wire, coefficient)` terms.
pub type LinearCombination = Vec<(u32, Fr)>;

/// One constraint `A * B = C`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Constraint {
    /// `A`.
    pub a: LinearCombination,
    /// `B`.
    pub b: LinearCombination,
    /// `C`.
    pub c: LinearCombination,
}

/// A constraint system in the `.r1cs` model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct R1cs {
    /// Wires, the constant one included.
    pub n_wires: u32,
    /// Public outputs.
    pub n_pub_out: u32,
    /// Public inputs.
    pub n_pub_in: u32,
    /// Private inputs.
    pub n_prv_in: u32,
    /// Labels (signals of the source; at least the wires).
    pub n_labels: u64,
    /// The constraints.
    pub constraints: Vec<Constraint>,
    /// The label of each wire.
    pub wire_labels: Vec<u64>,
}

/// Sorts a row by wire, merging repeated wires and dropping zeros.
fn normalise(mut terms: Vec<(u32, Fr)>) -> LinearCombination {
    terms.sort_by_key(|(w, _)| *w);
    let mut out: LinearCombination = Vec::with_capacity(terms.len());
    for (w, c) in terms {
        match out.last_mut() {
            Some((lw, lc)) if *lw == w => *lc += c,
            _ => out.push((w, c)),
        }
    }
    out.retain(|(_, c)| !c.is_zero());
    out
}

impl R1cs {
    /// Synthesizes `circuit` in setup mode (optimising for constraints, as
    /// the Groth16 setup and `depin-prover-core` do) and takes its matrices.
    pub fn from_circuit<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<Self, R1csError> {
        let m = SetupMatrices::of_circuit(circuit).map_err(|e| match e {
            Groth16Error::Synthesis(e) => R1csError::Synthesis(e),
            e => R1csError::NotR1cs(e.to_string()),
        })?;
        Self::from_setup(&m)
    }

    /// The R1CS of a circuit's setup-mode matrices.
    pub fn from_setup(m: &SetupMatrices) -> Result<Self, R1csError> {
        let [a, b, c] = m.matrices.as_slice() else {
            return Err(R1csError::NotR1cs(format!(
                "{} matrices, expected 3",
                m.matrices.len()
            )));
        };
        let rows = a.len();
        if b.len() != rows || c.len() != rows {
            return Err(R1csError::NotR1cs("matrices of different heights".into()));
        }
        let n_instance = m.num_instance;
        if n_instance == 0 {
            return Err(R1csError::NotR1cs("no constant one variable".into()));
        }
        let n_wires = n_instance
            .checked_add(m.num_witness)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| R1csError::TooLarge("more than 2^32 - 1 wires".into()))?;
        u32::try_from(rows)
            .map_err(|_| R1csError::TooLarge("more than 2^32 - 1 constraints".into()))?;
        let lc = |row: &Vec<(Fr, usize)>| -> Result<LinearCombination, R1csError> {
            let mut terms = Vec::with_capacity(row.len());
            for &(coeff, col) in row {
                let w = u32::try_from(col)
                    .ok()
                    .filter(|w| *w < n_wires)
                    .ok_or_else(|| {
                        R1csError::NotR1cs(format!("column {col} outside the {n_wires} variables"))
                    })?;
                terms.push((w, coeff));
            }
            Ok(normalise(terms))
        };
        let mut constraints = Vec::with_capacity(rows);
        for i in 0..rows {
            constraints.push(Constraint {
                a: lc(&a[i])?,
                b: lc(&b[i])?,
                c: lc(&c[i])?,
            });
        }
        Ok(R1cs {
            n_wires,
            n_pub_out: 0,
            n_pub_in: (n_instance - 1) as u32,
            n_prv_in: 0,
            n_labels: u64::from(n_wires),
            constraints,
            wire_labels: (0..u64::from(n_wires)).collect(),
        })
    }

    /// Public wires after the constant one: outputs and public inputs.
    pub fn n_public(&self) -> u32 {
        self.n_pub_out + self.n_pub_in
    }

    /// Number of constraints.
    pub fn n_constraints(&self) -> usize {
        self.constraints.len()
    }

    /// The Groth16 domain snarkjs uses: the smallest power of two above
    /// `constraints + public` (one row per public wire and the one is added
    /// to the constraints), as `log2`.
    pub fn domain_power(&self) -> u32 {
        let rows = self.constraints.len() as u64 + u64::from(self.n_public());
        // snarkjs: log2(rows) + 1 with log2 the floor (log2(0) = 0).
        let floor = if rows == 0 {
            0
        } else {
            63 - rows.leading_zeros()
        };
        floor + 1
    }

    /// `2^domain_power`.
    pub fn domain_size(&self) -> u64 {
        1u64 << self.domain_power()
    }

    /// The `.r1cs` bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut header = Vec::with_capacity(64);
        header.extend_from_slice(&(FIELD_BYTES as u32).to_le_bytes());
        header.extend_from_slice(&fr_modulus_le());
        header.extend_from_slice(&self.n_wires.to_le_bytes());
        header.extend_from_slice(&self.n_pub_out.to_le_bytes());
        header.extend_from_slice(&self.n_pub_in.to_le_bytes());
        header.extend_from_slice(&self.n_prv_in.to_le_bytes());
        header.extend_from_slice(&self.n_labels.to_le_bytes());
        header.extend_from_slice(&(self.constraints.len() as u32).to_le_bytes());
        let terms: usize = self
            .constraints
            .iter()
            .map(|c| c.a.len() + c.b.len() + c.c.len())
            .sum();
        let mut body = Vec::with_capacity(self.constraints.len() * 12 + terms * 36);
        let mut buf = [0u8; FIELD_BYTES];
        for c in &self.constraints {
            for lc in [&c.a, &c.b, &c.c] {
                body.extend_from_slice(&(lc.len() as u32).to_le_bytes());
                for (w, coeff) in lc {
                    body.extend_from_slice(&w.to_le_bytes());
                    fr_to_le(coeff, &mut buf);
                    body.extend_from_slice(&buf);
                }
            }
        }
        let mut labels = Vec::with_capacity(self.wire_labels.len() * 8);
        for l in &self.wire_labels {
            labels.extend_from_slice(&l.to_le_bytes());
        }
        container::to_bytes(
            MAGIC,
            VERSION,
            &[
                (HEADER, &header),
                (CONSTRAINTS, &body),
                (WIRE_LABELS, &labels),
            ],
        )
    }

    /// Writes the `.r1cs` file.
    pub fn write(&self, path: &Path) -> Result<(), R1csError> {
        std::fs::write(path, self.to_bytes()).map_err(ContainerError::from)?;
        Ok(())
    }

    /// Parses a `.r1cs` file's bytes (BN254 only, no custom gates).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, R1csError> {
        let table = SectionTable::parse(bytes, "r1cs", VERSION)?;
        for (id, name) in [
            (CUSTOM_GATES_LIST, "custom gates list"),
            (CUSTOM_GATES_USES, "custom gates application"),
        ] {
            if table.get(id).is_some() {
                return Err(table
                    .bad(id, name, "custom gates (PLONK) have no Groth16 setup")
                    .into());
            }
        }
        let mut h = table.body(bytes, HEADER, "header")?;
        let n8 = h.u32()?;
        if n8 as usize != FIELD_BYTES {
            return Err(h.bad(format!("field size {n8}, BN254 needs 32")).into());
        }
        if h.bytes(FIELD_BYTES)? != fr_modulus_le() {
            return Err(h.bad("the prime is not BN254's scalar field").into());
        }
        let n_wires = h.u32()?;
        let n_pub_out = h.u32()?;
        let n_pub_in = h.u32()?;
        let n_prv_in = h.u32()?;
        let n_labels = h.u64()?;
        let m = h.u32()?;
        h.finish()?;
        let public = u64::from(n_pub_out) + u64::from(n_pub_in) + u64::from(n_prv_in);
        if n_wires == 0 || public >= u64::from(n_wires) {
            return Err(h
                .bad(format!(
                    "{n_wires} wires cannot hold the one and {public} inputs and outputs"
                ))
                .into());
        }
        let mut body = table.body(bytes, CONSTRAINTS, "constraints")?;
        // Each constraint takes at least 12 bytes: refuse counts the
        // section cannot hold before allocating for them.
        if u64::from(m) * 12 > body.len() as u64 {
            return Err(body
                .bad(format!(
                    "{m} constraints do not fit in {} bytes",
                    body.len()
                ))
                .into());
        }
        let mut constraints = Vec::with_capacity(m as usize);
        for i in 0..m as usize {
            let mut lcs: [LinearCombination; 3] = Default::default();
            for lc in &mut lcs {
                let n = body.u32()? as usize;
                if n.saturating_mul(4 + FIELD_BYTES) > body.remaining() {
                    return Err(body
                        .bad(format!("constraint {i}: {n} terms run past the section"))
                        .into());
                }
                lc.reserve_exact(n);
                for _ in 0..n {
                    let w = body.u32()?;
                    if w >= n_wires {
                        return Err(body
                            .bad(format!("constraint {i}: wire {w} of {n_wires}"))
                            .into());
                    }
                    let coeff = fr_from_le(body.bytes(FIELD_BYTES)?).map_err(|_| {
                        body.bad(format!("constraint {i}: a coefficient is not below r"))
                    })?;
                    lc.push((w, coeff));
                }
            }
            let [a, b, c] = lcs;
            constraints.push(Constraint { a, b, c });
        }
        body.finish()?;
        let wire_labels = match table.get(WIRE_LABELS) {
            Some(_) => {
                let mut l = table.body(bytes, WIRE_LABELS, "wire-to-label map")?;
                if l.len() as u64 != u64::from(n_wires) * 8 {
                    return Err(l
                        .bad(format!("{} bytes for {n_wires} wires", l.len()))
                        .into());
                }
                (0..n_wires).map(|_| l.u64()).collect::<Result<_, _>>()?
            }
            None => Vec::new(),
        };
        Ok(R1cs {
            n_wires,
            n_pub_out,
            n_pub_in,
            n_prv_in,
            n_labels,
            constraints,
            wire_labels,
        })
    }

    /// Reads a `.r1cs` file.
    pub fn read(path: &Path) -> Result<Self, R1csError> {
        let bytes = std::fs::read(path).map_err(ContainerError::from)?;
        Self::from_bytes(&bytes)
    }

    /// Checks that `witness` (one value per wire) satisfies every
    /// constraint.
    pub fn check_witness(&self, witness: &[Fr]) -> Result<(), R1csError> {
        if witness.len() != self.n_wires as usize {
            return Err(R1csError::WitnessLength {
                expected: self.n_wires as usize,
                found: witness.len(),
            });
        }
        if !witness[0].is_one() {
            return Err(R1csError::ConstantNotOne);
        }
        let eval = |lc: &LinearCombination| -> Fr {
            lc.iter()
                .map(|(w, c)| witness[*w as usize] * c)
                .fold(Fr::zero(), |a, b| a + b)
        };
        match self
            .constraints
            .iter()
            .position(|c| eval(&c.a) * eval(&c.b) != eval(&c.c))
        {
            Some(i) => Err(R1csError::Unsatisfied(i)),
            None => Ok(()),
        }
    }
}
