#!/usr/bin/env bash
# The main job on the embedded default: a simulated fleet of honest devices
# and cheaters submits an epoch of signed records to the prover (embedded
# store, development keys made on the first run), every device's epoch is
# proven, and the reward claims are sent as real transactions to the
# verifier and reward contracts on a local anvil node. Prints the summary
# and exits non-zero if an honest device went unpaid or a cheater was paid.
#
#   scripts/demo.sh                       # 30 devices, a fifth of them cheaters
#   scripts/demo.sh --devices 60 --slots 48
#   scripts/demo.sh --prover http://10.0.0.5:50051 --operator-token T --rpc http://10.0.0.6:8545
#   scripts/demo.sh --help
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"
echo "[demo] building the contracts"
"$root/scripts/forge.sh" build --quiet
echo "[demo] building the prover and the demo (release)"
exec cargo run --locked --release -q -p depin-demo -- --repo "$root" "$@"
