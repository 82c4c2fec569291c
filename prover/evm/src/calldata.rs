//! Calldata for the reward contract's `claim(uint256[8] proof, uint256[]
//! publicInputs)`: the one encoder of the prover. The service sends it in
//! `GetProofResponse.calldata`, and `depin-chain` builds and checks its
//! transactions with it.
//!
//! The encoding is Solidity's ABI: the 4-byte selector
//! (`keccak256("claim(uint256[8],uint256[])")[..4]`), the eight proof words
//! in place (the static array), the offset of the dynamic array (`32 * 9`),
//! its length and its elements, every word 32 bytes big-endian.

use ark_ff::{BigInteger, PrimeField};
use depin_proving::{Backend, Proof, StatementProof};
use tiny_keccak::{Hasher, Keccak};

use crate::solidity::proof_words;

/// The function [`claim_calldata`] calls.
pub const CLAIM_FUNCTION: &str = "claim(uint256[8],uint256[])";

/// A 32-byte big-endian ABI word.
pub type Word = [u8; 32];

/// The function [`submit_batch_calldata`] calls.
pub const SUBMIT_BATCH_FUNCTION: &str =
    "submitBatch(uint256[8],uint32,uint8,uint256,uint256,uint256,uint256,bytes)";

/// The 4-byte selector of a Solidity function signature.
pub fn selector(signature: &str) -> [u8; 4] {
    let mut hash = [0u8; 32];
    let mut k = Keccak::v256();
    k.update(signature.as_bytes());
    k.finalize(&mut hash);
    [hash[0], hash[1], hash[2], hash[3]]
}

/// The 4-byte selector of [`CLAIM_FUNCTION`].
pub fn claim_selector() -> [u8; 4] {
    selector(CLAIM_FUNCTION)
}

/// The word of a `uint256` given by its little-endian limbs.
fn word_of(bytes_be: Vec<u8>) -> Word {
    let mut w = [0u8; 32];
    w[32 - bytes_be.len()..].copy_from_slice(&bytes_be);
    w
}

/// The word of a small integer.
fn word_u64(v: u64) -> Word {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&v.to_be_bytes());
    w
}

/// ABI-encoded `claim(proof, publicInputs)` from the words themselves.
pub fn encode_claim(proof: &[Word; 8], public: &[Word]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 32 * (10 + public.len()));
    out.extend_from_slice(&claim_selector());
    for w in proof {
        out.extend_from_slice(w);
    }
    out.extend_from_slice(&word_u64(32 * 9));
    out.extend_from_slice(&word_u64(public.len() as u64));
    for w in public {
        out.extend_from_slice(w);
    }
    out
}

/// ABI-encoded `claim` of a proof: the eight proof words in the verifier's
/// order ([`proof_words`]) and the public inputs.
///
/// A halo2 proof has its own claim ([`halo2_claim_calldata`]); this one
/// refuses it.
pub fn claim_calldata(proof: &StatementProof) -> Result<Vec<u8>, CalldataError> {
    let Proof::Groth16(p) = &proof.proof else {
        return Err(CalldataError::Backend {
            function: CLAIM_FUNCTION,
            found: proof.proof.backend(),
        });
    };
    let words = proof_words(p).map(|w| word_of(w.into_bigint().to_bytes_be()));
    let public: Vec<Word> = proof
        .public
        .iter()
        .map(|x| word_of(x.into_bigint().to_bytes_be()))
        .collect();
    Ok(encode_claim(&words, &public))
}

/// The function [`halo2_claim_calldata`] calls.
pub const HALO2_CLAIM_FUNCTION: &str = "claimHalo2(uint256[],bytes)";

/// Why a proof has no calldata for a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CalldataError {
    /// The function takes another proof system's proofs.
    #[error("{function} takes no {found} proof")]
    Backend {
        /// The function.
        function: &'static str,
        /// The proof's system.
        found: Backend,
    },
}

/// ABI-encoded `claimHalo2(uint256[] publicInputs, bytes proof)` of a halo2
/// proof: the public inputs and the transcript's bytes (a multiple of 32
/// bytes, so no padding). The contract hands the verifier the inputs as
/// words followed by the proof, the layout the generated verifier reads.
pub fn halo2_claim_calldata(proof: &StatementProof) -> Result<Vec<u8>, CalldataError> {
    let Proof::Halo2(bytes) = &proof.proof else {
        return Err(CalldataError::Backend {
            function: HALO2_CLAIM_FUNCTION,
            found: proof.proof.backend(),
        });
    };
    let n = proof.public.len();
    let padded = bytes.len().div_ceil(32) * 32;
    let mut out = Vec::with_capacity(4 + 32 * (4 + n) + padded);
    out.extend_from_slice(&selector(HALO2_CLAIM_FUNCTION));
    out.extend_from_slice(&word_u64(64));
    out.extend_from_slice(&word_u64(64 + 32 * (1 + n as u64)));
    out.extend_from_slice(&word_u64(n as u64));
    for x in &proof.public {
        out.extend_from_slice(&word_fr(x));
    }
    out.extend_from_slice(&word_u64(bytes.len() as u64));
    out.extend_from_slice(bytes);
    out.resize(out.len() + padded - bytes.len(), 0);
    Ok(out)
}

/// The bytes the generated halo2 verifier reads: the public inputs as
/// 32-byte big-endian words, then the proof.
pub fn halo2_verifier_calldata(public: &[ark_bn254::Fr], proof: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 * public.len() + proof.len());
    for x in public {
        out.extend_from_slice(&word_fr(x));
    }
    out.extend_from_slice(proof);
    out
}

/// The word of a field element.
fn word_fr(x: &ark_bn254::Fr) -> Word {
    word_of(x.into_bigint().to_bytes_be())
}

/// A batch's values `submitBatch` takes besides the proof and the public
/// data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchCallHeader {
    /// The epoch every position proves.
    pub epoch: u32,
    /// The statement kind's code.
    pub kind: u8,
    /// The kind's tree commitment before the batch.
    pub old_commitment: ark_bn254::Fr,
    /// The kind's tree commitment after it.
    pub new_commitment: ark_bn254::Fr,
    /// The policy every position proves under.
    pub policy_hash: ark_bn254::Fr,
    /// The client registry root (bandwidth; zero otherwise).
    pub registry_root: ark_bn254::Fr,
}

/// ABI-encoded `submitBatch(proof, epoch, kind, oldCommitment,
/// newCommitment, policyHash, registryRoot, publicData)` of a batch proof
/// (the eight words in the verifier's order, [`proof_words`]).
pub fn submit_batch_calldata(
    proof: &ark_groth16::Proof<ark_bn254::Bn254>,
    header: &BatchCallHeader,
    public_data: &[u8],
) -> Vec<u8> {
    let padded = public_data.len().div_ceil(32) * 32;
    let mut out = Vec::with_capacity(4 + 32 * 16 + padded);
    out.extend_from_slice(&selector(SUBMIT_BATCH_FUNCTION));
    for w in proof_words(proof) {
        out.extend_from_slice(&word_of(w.into_bigint().to_bytes_be()));
    }
    out.extend_from_slice(&word_u64(u64::from(header.epoch)));
    out.extend_from_slice(&word_u64(u64::from(header.kind)));
    for x in [
        &header.old_commitment,
        &header.new_commitment,
        &header.policy_hash,
        &header.registry_root,
    ] {
        out.extend_from_slice(&word_fr(x));
    }
    // The head is 8 + 6 + 1 words; the bytes' offset points past it.
    out.extend_from_slice(&word_u64(32 * 15));
    out.extend_from_slice(&word_u64(public_data.len() as u64));
    out.extend_from_slice(public_data);
    out.resize(out.len() + padded - public_data.len(), 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Bn254, Fr, G1Affine, G2Affine};
    use ark_ec::AffineRepr;
    use depin_statements::StatementKind;

    #[test]
    fn the_selector_is_claims() {
        // `cast sig "claim(uint256[8],uint256[])"` (Foundry) prints 0xb387e3cc.
        assert_eq!(hex_of(&claim_selector()), "b387e3cc");
    }

    fn hex_of(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn layout_is_the_abi() {
        let proof = StatementProof::groth16(
            StatementKind::Uptime,
            (1..=5u64).map(Fr::from).collect(),
            ark_groth16::Proof::<Bn254> {
                a: G1Affine::generator(),
                b: G2Affine::generator(),
                c: G1Affine::generator(),
            },
        );
        let data = claim_calldata(&proof).expect("a Groth16 proof");
        assert_eq!(data.len(), 4 + 32 * (8 + 2 + 5));
        assert_eq!(data[..4], claim_selector());
        // A.x = 1, A.y = 2.
        assert_eq!(data[4..36], word_u64(1));
        assert_eq!(data[36..68], word_u64(2));
        // Offset 288 then length 5, then 1..=5.
        assert_eq!(data[4 + 32 * 8..4 + 32 * 9], word_u64(288));
        assert_eq!(data[4 + 32 * 9..4 + 32 * 10], word_u64(5));
        for i in 0..5 {
            let at = 4 + 32 * (10 + i);
            assert_eq!(data[at..at + 32], word_u64(i as u64 + 1));
        }
    }

    #[test]
    fn halo2_claim_layout_is_the_abi_and_refuses_groth16() {
        let transcript: Vec<u8> = (0..96u8).collect();
        let proof = StatementProof::halo2(
            StatementKind::Uptime,
            (1..=5u64).map(Fr::from).collect(),
            transcript.clone(),
        );
        let data = halo2_claim_calldata(&proof).expect("a halo2 proof");
        // `cast sig "claimHalo2(uint256[],bytes)"`.
        assert_eq!(data[..4], selector(HALO2_CLAIM_FUNCTION));
        // Offsets: the array at 64, the bytes after the array's 1 + 5 words.
        assert_eq!(data[4..36], word_u64(64));
        assert_eq!(data[36..68], word_u64(64 + 32 * 6));
        assert_eq!(data[68..100], word_u64(5));
        for i in 0..5 {
            let at = 100 + 32 * i;
            assert_eq!(data[at..at + 32], word_u64(i as u64 + 1));
        }
        assert_eq!(data[260..292], word_u64(96));
        assert_eq!(data[292..], transcript[..]);
        // The verifier's own calldata: the words, then the proof.
        let raw = halo2_verifier_calldata(&proof.public, &transcript);
        assert_eq!(raw[..32], word_u64(1));
        assert_eq!(raw[32 * 5..], transcript[..]);
        // Each claim refuses the other system's proofs.
        let groth16 = StatementProof::groth16(
            StatementKind::Uptime,
            proof.public.clone(),
            ark_groth16::Proof::<Bn254> {
                a: G1Affine::generator(),
                b: G2Affine::generator(),
                c: G1Affine::generator(),
            },
        );
        assert_eq!(
            halo2_claim_calldata(&groth16).unwrap_err(),
            CalldataError::Backend {
                function: HALO2_CLAIM_FUNCTION,
                found: Backend::Groth16
            }
        );
        assert_eq!(
            claim_calldata(&proof).unwrap_err(),
            CalldataError::Backend {
                function: CLAIM_FUNCTION,
                found: Backend::Halo2
            }
        );
    }
}
