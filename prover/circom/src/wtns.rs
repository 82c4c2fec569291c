//! `.wtns`: a full witness (one value per wire) as circom's witness
//! calculators write it and snarkjs and rapidsnark read it (snarkjs
//! `wtns_utils.js`).
//!
//! The container ([`crate::container`]) has magic `wtns`, version 2, and
//! two sections: **1, header**: field element size `n8` (u32, 32), the
//! prime (`n8` bytes, little-endian), the number of values (u32); **2,
//! values**: each `n8` bytes, little-endian, normal form. The values are in
//! the `.r1cs` wire order, the constant one first ([`crate::r1cs`]).

use std::path::Path;

use ark_bn254::Fr;

use crate::container::{self, ContainerError, SectionTable};
use crate::encoding::{fr_from_le, fr_modulus_le, fr_to_le, FIELD_BYTES};

/// The magic of a `.wtns` file.
pub const MAGIC: &[u8; 4] = b"wtns";
/// The version written (and the highest read).
pub const VERSION: u32 = 2;

const HEADER: u32 = 1;
const VALUES: u32 = 2;

/// Why a `.wtns` file was refused.
#[derive(Debug, thiserror::Error)]
pub enum WtnsError {
    /// The container or a section was refused.
    #[error(transparent)]
    Container(#[from] ContainerError),
}

/// The `.wtns` bytes of `witness`.
pub fn to_bytes(witness: &[Fr]) -> Vec<u8> {
    let mut header = Vec::with_capacity(40);
    header.extend_from_slice(&(FIELD_BYTES as u32).to_le_bytes());
    header.extend_from_slice(&fr_modulus_le());
    header.extend_from_slice(&(witness.len() as u32).to_le_bytes());
    let mut values = vec![0u8; witness.len() * FIELD_BYTES];
    for (chunk, v) in values.chunks_exact_mut(FIELD_BYTES).zip(witness) {
        fr_to_le(v, chunk);
    }
    container::to_bytes(MAGIC, VERSION, &[(HEADER, &header), (VALUES, &values)])
}

/// Writes `witness` as a `.wtns` file.
pub fn write(path: &Path, witness: &[Fr]) -> Result<(), WtnsError> {
    std::fs::write(path, to_bytes(witness)).map_err(ContainerError::from)?;
    Ok(())
}

/// Parses a `.wtns` file's bytes (BN254's scalar field only; every value
/// below the modulus).
pub fn from_bytes(bytes: &[u8]) -> Result<Vec<Fr>, WtnsError> {
    let table = SectionTable::parse(bytes, "wtns", VERSION)?;
    let mut h = table.body(bytes, HEADER, "header")?;
    let n8 = h.u32()?;
    if n8 as usize != FIELD_BYTES {
        return Err(h.bad(format!("field size {n8}, BN254 needs 32")).into());
    }
    if h.bytes(FIELD_BYTES)? != fr_modulus_le() {
        return Err(h.bad("the prime is not BN254's scalar field").into());
    }
    let n = h.u32()? as usize;
    h.finish()?;
    let body = table.body(bytes, VALUES, "values")?;
    if body.len() as u64 != n as u64 * FIELD_BYTES as u64 {
        return Err(body
            .bad(format!("{} bytes for {n} values", body.len()))
            .into());
    }
    body.data()
        .chunks_exact(FIELD_BYTES)
        .enumerate()
        .map(|(i, c)| {
            fr_from_le(c).map_err(|_| body.bad(format!("value {i} is not below r")).into())
        })
        .collect()
}

/// Reads a `.wtns` file.
pub fn read(path: &Path) -> Result<Vec<Fr>, WtnsError> {
    let bytes = std::fs::read(path).map_err(ContainerError::from)?;
    from_bytes(&bytes)
}
