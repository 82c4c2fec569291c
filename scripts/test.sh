#!/usr/bin/env bash
# Runs every check and test of the project from a fresh clone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"

echo "[test] formatting"
cargo fmt --all -- --check
echo "[test] clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "[test] no_std cores for thumbv7em-none-eabihf"
cargo build --locked -p depin-crypto --no-default-features --target thumbv7em-none-eabihf
cargo build --locked -p depin-device-sdk --no-default-features --target thumbv7em-none-eabihf
cargo build --locked -p depin-statements --no-default-features --target thumbv7em-none-eabihf
# A no_std, no_main firmware image that signs a heartbeat links (no heap).
cargo build --locked -p depin-device-sdk --no-default-features --release --target thumbv7em-none-eabihf --example embedded_sign
echo "[test] verifier contract (forge, offline)"
scripts/forge.sh fmt --check
scripts/forge.sh build --quiet
scripts/forge.sh test
scripts/forge.sh snapshot --check
echo "[test] workspace tests (with anvil, the prover service and the demo at a small size)"
cargo test --workspace --locked
echo "[test] the proving core without its parallel feature (one thread, the same tests)"
cargo test --locked -p depin-prover-core --no-default-features
