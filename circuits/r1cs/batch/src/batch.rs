//! The batch circuit: `B` device-epochs of one statement kind and one epoch
//! in one proof.
//!
//! # What is proven
//!
//! One public input, the digest `D`. For the private header `H` (kind,
//! version, epoch, policy hash, beacon, registry root, the tree before as
//! `(root, size)`) and `B` positions, each a statement witness, an `active`
//! bit and a credit witness:
//!
//! 1. Every position proves its statement with the single-device circuit's
//!    rules, constraint for constraint
//!    ([`StatementCircuit::synthesize_in_batch`]), under `H`'s epoch,
//!    policy hash, beacon and registry root; it yields the statement's
//!    device id `id_i` and reward `r_i < 2^64`.
//! 2. `active_i` implies `active_{i-1}`: padding comes last. A position
//!    credits `d_i = active_i * id_i` with reward `active_i * r_i`
//!    ([`crate::tree::credit`]; `d_i = 0` leaves the tree as it was), in
//!    order, from the old tree to the new one, and yields the device's
//!    cumulative reward `c_i < 2^128`. Since the tree refuses a second
//!    credit of a device for the same epoch, a device appears at most
//!    once.
//! 3. `D` is SHA-256 of `H`'s six words ([`depin_batch::header`], the new
//!    tree's commitment last) followed by `(d_i, active_i * r_i, c_i)` for
//!    every position ([`depin_batch::public_data`]), big-endian, with its
//!    top three bits cleared. Field elements are encoded from their
//!    canonical bits, so the bytes are unique.
//!
//! Padding positions repeat the first position's statement witness (which
//! satisfies the same epoch-wide values) and credit nothing.
//!
//! The digest binds everything the contract checks (the header's words it
//! writes itself) and everything an indexer needs to replay the tree. The
//! construction is the rollup pattern of Buterin, "On-chain scaling to
//! potentially ~500 tx/sec through mass tx validation" (2018): one proof,
//! one hash of the calldata as its public input.
//!
//! Coverage positions keep the device's cell private (the single claim
//! publishes it; the contract checks neither).

use ark_bn254::Fr;
use ark_crypto_primitives::crh::sha256::constraints::Sha256Gadget;
use ark_ff::PrimeField;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::convert::ToBitsGadget;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::uint8::UInt8;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use depin_batch::header::{BatchHeader, EPOCH_SHIFT, VERSION_SHIFT};
use depin_batch::tree::{Credit, RewardsTree, TreeError};
use depin_batch::{PublicData, PublicDataError};
use depin_crypto::Fr as NativeFr;
use depin_gadgets::range;
use depin_statements::public::PublicInputs;
use depin_statements::{StatementKind, STATEMENT_VERSION};
use depin_statements_r1cs::{SharedVars, StatementCircuit};

use crate::tree::{credit, CreditWitnessVar, TreeVar, CUMULATIVE_BITS, EPOCH_BITS};

/// Why a batch could not be formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// No statement given: a batch credits at least one device.
    #[error("a batch needs at least one device-epoch")]
    Empty,
    /// More statements than positions.
    #[error("{got} device-epochs do not fit a batch of {batch_size}")]
    TooMany {
        /// Statements given.
        got: usize,
        /// Positions.
        batch_size: usize,
    },
    /// A statement differs from the first in an epoch-wide value.
    #[error("position {position}: its {field} differs from the batch's")]
    Mixed {
        /// The position.
        position: usize,
        /// `"kind"`, `"epoch"`, `"policy hash"`, `"beacon"` or `"registry root"`.
        field: &'static str,
    },
    /// The tree refused a credit (a device twice in the batch, an epoch
    /// already credited, a full tree).
    #[error("position {position}: {source}")]
    Tree {
        /// The position.
        position: usize,
        /// The tree's reason.
        source: TreeError,
    },
    /// The public data could not be formed.
    #[error(transparent)]
    PublicData(#[from] PublicDataError),
}

/// One position: a statement and its credit (`None` for padding).
#[derive(Clone, Debug)]
struct Position<S> {
    statement: S,
    credit: Option<Credit>,
}

/// A batch of one statement kind with its witness.
#[derive(Clone, Debug)]
pub struct BatchCircuit<S> {
    depth: usize,
    header: BatchHeader,
    old_root: NativeFr,
    old_size: u64,
    data: PublicData,
    positions: Vec<Position<S>>,
}

/// A formed batch: its circuit, and the tree after it.
#[derive(Clone, Debug)]
pub struct FormedBatch<S> {
    /// The circuit with its witness.
    pub circuit: BatchCircuit<S>,
    /// The kind's tree once the batch is applied.
    pub tree: RewardsTree,
}

impl<S: StatementCircuit> BatchCircuit<S> {
    /// Forms a batch of `batch_size` positions from `statements` (one kind,
    /// one epoch, one policy, one beacon and registry root) credited in
    /// order to `tree`, and returns it with the tree after it; `tree` is
    /// not changed. Statements with a reward of zero are credited too (the
    /// device's epoch is then spent); leave them out to keep it open.
    pub fn form(
        tree: &RewardsTree,
        batch_size: usize,
        statements: Vec<S>,
    ) -> Result<FormedBatch<S>, BatchError> {
        let first = *statements.first().ok_or(BatchError::Empty)?.expected();
        if statements.len() > batch_size {
            return Err(BatchError::TooMany {
                got: statements.len(),
                batch_size,
            });
        }
        let mut after = tree.clone();
        let mut credits = Vec::with_capacity(statements.len());
        for (position, statement) in statements.iter().enumerate() {
            let p = statement.expected();
            check_shared(&first, p, position)?;
            credits.push(
                after
                    .credit(p.device_id, p.epoch, p.reward)
                    .map_err(|source| BatchError::Tree { position, source })?,
            );
        }
        let data = PublicData::from_credits(batch_size, &credits)?;
        let filler = statements[0].clone();
        let mut positions: Vec<Position<S>> = statements
            .into_iter()
            .zip(credits)
            .map(|(statement, credit)| Position {
                statement,
                credit: Some(credit),
            })
            .collect();
        positions.resize(
            batch_size,
            Position {
                statement: filler,
                credit: None,
            },
        );
        let header = BatchHeader {
            kind: first.kind.code(),
            version: STATEMENT_VERSION,
            epoch: first.epoch,
            policy_hash: first.policy_hash,
            beacon: first.beacon,
            registry_root: first.registry_root.unwrap_or_default(),
            old_commitment: tree.commitment(),
            new_commitment: after.commitment(),
        };
        Ok(FormedBatch {
            circuit: BatchCircuit {
                depth: tree.depth(),
                header,
                old_root: tree.root(),
                old_size: tree.size(),
                data,
                positions,
            },
            tree: after,
        })
    }

    /// The epoch-wide values and the two commitments.
    pub fn header(&self) -> &BatchHeader {
        &self.header
    }

    /// The public data the contract receives.
    pub fn public_data(&self) -> &PublicData {
        &self.data
    }

    /// The one public input.
    pub fn digest(&self) -> NativeFr {
        self.data.digest(&self.header)
    }

    /// The public inputs in order: the digest.
    pub fn public_inputs(&self) -> Vec<Fr> {
        vec![self.digest()]
    }

    /// Positions, padding included.
    pub fn batch_size(&self) -> usize {
        self.positions.len()
    }

    /// The rewards tree's depth.
    pub fn depth(&self) -> usize {
        self.depth
    }
}

/// Refuses a statement whose epoch-wide values are not the first one's.
fn check_shared(first: &PublicInputs, p: &PublicInputs, position: usize) -> Result<(), BatchError> {
    let mixed = |field| Err(BatchError::Mixed { position, field });
    if p.kind != first.kind {
        return mixed("kind");
    }
    if p.epoch != first.epoch {
        return mixed("epoch");
    }
    if p.policy_hash != first.policy_hash {
        return mixed("policy hash");
    }
    if p.beacon != first.beacon {
        return mixed("beacon");
    }
    if p.registry_root != first.registry_root {
        return mixed("registry root");
    }
    Ok(())
}

impl<S: StatementCircuit> ConstraintSynthesizer<Fr> for BatchCircuit<S> {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let digest = FpVar::new_input(cs.clone(), || Ok(self.digest()))?;
        let h = &self.header;
        let w = |v: NativeFr| FpVar::new_witness(cs.clone(), || Ok(v));

        let epoch = w(NativeFr::from(h.epoch))?;
        let epoch_bits = range::to_bits_le(&epoch, EPOCH_BITS)?;
        let shared = SharedVars {
            epoch,
            policy_hash: w(h.policy_hash)?,
            beacon: w(h.beacon)?,
            registry_root: (S::KIND == StatementKind::Bandwidth)
                .then(|| w(h.registry_root))
                .transpose()?,
        };
        let mut tree = TreeVar {
            root: w(self.old_root)?,
            size: w(NativeFr::from(self.old_size))?,
        };
        let old_commitment = tree.commitment()?;

        let mut entries = Vec::with_capacity(self.positions.len() * 56);
        let mut previous: Option<Boolean<Fr>> = None;
        for p in &self.positions {
            let out = p.statement.synthesize_in_batch(cs.clone(), &shared)?;
            let active = Boolean::new_witness(cs.clone(), || Ok(p.credit.is_some()))?;
            if let Some(prev) = &previous {
                // Padding last: not active_{i-1} implies not active_i.
                active.conditional_enforce_equal(&Boolean::FALSE, &!prev)?;
            }
            let on = FpVar::from(active.clone());
            let device = &on * &out.device_id;
            let reward = &on * &out.reward;
            let witness = CreditWitnessVar::new_witness(
                cs.clone(),
                self.depth,
                p.credit.as_ref().map(|c| &c.witness),
            )?;
            let (next, cumulative) = credit(&tree, &device, &shared.epoch, &reward, &witness)?;
            tree = next;
            entries.extend(field_bytes(&device)?);
            entries.extend(uint_bytes(&reward, 64)?);
            entries.extend(uint_bytes(&cumulative, CUMULATIVE_BITS)?);
            previous = Some(active);
        }
        let new_commitment = tree.commitment()?;

        // Word 0: kind + version * 2^8 + epoch * 2^40, from constant bits
        // and the epoch's bits.
        let constant_bits =
            |v: u64, n: usize| (0..n).map(move |i| Boolean::constant((v >> i) & 1 == 1));
        let mut word0: Vec<Boolean<Fr>> =
            constant_bits(u64::from(S::KIND.code()), VERSION_SHIFT as usize)
                .chain(constant_bits(
                    u64::from(STATEMENT_VERSION),
                    (EPOCH_SHIFT - VERSION_SHIFT) as usize,
                ))
                .collect();
        word0.extend(epoch_bits);
        let mut bytes = bits_to_be_bytes(&word0, 32);
        for v in [
            &shared.policy_hash,
            &shared.beacon,
            &shared
                .registry_root
                .clone()
                .unwrap_or_else(|| FpVar::Constant(NativeFr::from(0u64))),
            &old_commitment,
            &new_commitment,
        ] {
            bytes.extend(field_bytes(v)?);
        }
        bytes.extend(entries);

        let hash = Sha256Gadget::digest(&bytes)?;
        // Big-endian bytes, top three bits cleared: little-endian bits of
        // the bytes from last to first, the top byte's low five bits.
        let mut bits = Vec::with_capacity(253);
        for byte in hash.0.iter().rev() {
            bits.extend(byte.to_bits_le()?);
        }
        bits.truncate(253);
        Boolean::le_bits_to_fp(&bits)?.enforce_equal(&digest)
    }
}

/// A field element's 32 big-endian bytes, from its canonical bits.
fn field_bytes(v: &FpVar<Fr>) -> Result<Vec<UInt8<Fr>>, SynthesisError> {
    let bits = v.to_bits_le()?;
    debug_assert_eq!(bits.len(), Fr::MODULUS_BIT_SIZE as usize);
    Ok(bits_to_be_bytes(&bits, 32))
}

/// The `bits`-bit value `v` (which the caller knows fits) as big-endian
/// bytes.
fn uint_bytes(v: &FpVar<Fr>, bits: usize) -> Result<Vec<UInt8<Fr>>, SynthesisError> {
    let le = range::to_bits_le(v, bits)?;
    Ok(bits_to_be_bytes(&le, bits / 8))
}

/// Little-endian bits, zero-extended to `len` bytes, as big-endian bytes.
fn bits_to_be_bytes(le: &[Boolean<Fr>], len: usize) -> Vec<UInt8<Fr>> {
    let mut bits = le.to_vec();
    bits.resize(8 * len, Boolean::FALSE);
    bits.chunks(8).rev().map(UInt8::from_bits_le).collect()
}

#[cfg(test)]
mod tests;
