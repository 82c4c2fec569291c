#!/usr/bin/env bash
# The whole trusted-setup ceremony of the uptime statement through
# `depin-prover` (development powers of tau of power 18, zkey new, a
# contribution, a beacon, both verifications, the verifying key, a proof
# from the .zkey verified, the Solidity verifier, and a node proving with
# the ceremony's key): minutes, so not part of scripts/test.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"
cargo test --locked -p depin-prover --test ceremony -- --ignored --nocapture
