#!/usr/bin/env bash
# Regenerates every committed generated artefact from its source of truth.
# Tests fail when a committed copy differs from what this script writes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"

echo "[regen] Poseidon constants from circomlibjs"
node tools/js/gen/poseidon-constants.mjs circuits/crypto/src/poseidon/constants.rs
echo "[regen] circomlibjs interop fixtures"
node tools/js/gen/crypto-fixtures.mjs circuits/crypto/tests/fixtures/circomlibjs.json
echo "[regen] golden Groth16 verifying keys and proofs (about 3 minutes)"
cargo run --locked -q -p depin-prover --bin depin-prover -- golden --out prover/golden/v1
echo "[regen] Solidity verifiers (statements from the golden keys, batches from the development batch keys) and forge fixtures"
DEPIN_REGEN=1 cargo test --locked -q -p depin-evm --test solidity
echo "[regen] golden halo2 keys and proofs (keys deterministic, proofs new; about 2 minutes)"
cargo run --locked -q --release -p depin-prover --bin depin-prover -- golden --backend halo2 --out prover/golden/halo2
echo "[regen] halo2 Solidity verifiers and forge fixtures from the golden halo2 keys and proofs"
DEPIN_REGEN=1 cargo test --locked -q -p depin-halo2-prover --test golden
echo "[regen] cbindgen header of the device SDK's C interface"
DEPIN_REGEN=1 cargo test --locked -q -p depin-device-ffi --test header
echo "[regen] forge gas snapshot"
scripts/forge.sh snapshot
