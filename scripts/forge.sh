#!/usr/bin/env bash
# Runs the pinned forge (tools/js, scripts/setup.sh) in verifier-contract/,
# offline, with the pinned npm solc behind scripts/solc-native (set in
# verifier-contract/foundry.toml). Arguments go to forge unchanged:
#   scripts/forge.sh build --sizes
#   scripts/forge.sh test --gas-report
#   scripts/forge.sh snapshot --check
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/tools/js/node_modules/.bin"
[ -x "$bin/forge" ] || { echo "forge.sh: $bin/forge missing: run scripts/setup.sh" >&2; exit 1; }
export PATH="$bin:$PATH"
export FOUNDRY_DISABLE_NIGHTLY_WARNING=1
cd "$root/verifier-contract"
exec forge "$@"
