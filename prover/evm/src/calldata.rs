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
use depin_proving::{Proof, StatementProof};
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
pub fn claim_calldata(proof: &StatementProof) -> Vec<u8> {
    let Proof::Groth16(p) = &proof.proof;
    let words = proof_words(p).map(|w| word_of(w.into_bigint().to_bytes_be()));
    let public: Vec<Word> = proof
        .public
        .iter()
        .map(|x| word_of(x.into_bigint().to_bytes_be()))
        .collect();
    encode_claim(&words, &public)
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
        let data = claim_calldata(&proof);
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
}
