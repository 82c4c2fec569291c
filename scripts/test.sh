#!/usr/bin/env bash
# Runs every check and test of the project from a fresh clone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
started=$SECONDS
step_started=$SECONDS
# Each step's line says how long the one before it took.
step() {
    echo "[test] ($((SECONDS - step_started)) s; $((SECONDS - started)) s in all) $*"
    step_started=$SECONDS
}
trap 'echo "[test] ($((SECONDS - step_started)) s) done in $((SECONDS - started)) s"' EXIT
"$root/scripts/setup.sh"
# setup.sh installed every tool the tests use: a test that finds one
# missing fails instead of skipping (the tests read CI).
export CI="${CI:-true}"
# A run from a fresh clone gains nothing from incremental compilation, whose
# caches would take as much disk as the whole build.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step "formatting"
cargo fmt --all -- --check
step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "no_std cores for thumbv7em-none-eabihf"
cargo build --locked -p depin-crypto --no-default-features --target thumbv7em-none-eabihf
cargo build --locked -p depin-device-sdk --no-default-features --target thumbv7em-none-eabihf
cargo build --locked -p depin-statements --no-default-features --target thumbv7em-none-eabihf
# A no_std, no_main firmware image that signs a heartbeat links (no heap).
cargo build --locked -p depin-device-sdk --no-default-features --release --target thumbv7em-none-eabihf --example embedded_sign
step "verifier contract (forge, offline)"
scripts/forge.sh fmt --check
scripts/forge.sh build --quiet
scripts/forge.sh test
scripts/forge.sh snapshot --check
step "workspace tests (with anvil, the prover service and the demo at a small size)"
cargo test --workspace --locked
step "the proving core without its parallel feature (one thread, the same tests)"
cargo test --locked -p depin-prover-core --no-default-features
