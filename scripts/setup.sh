#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need, idempotently:
# the embedded Rust target, the pinned JavaScript reference tools
# (circomlibjs, snarkjs, solc, Foundry) from the npm registry, and the
# cluster's PostgreSQL 15 and HAProxy from Debian's packages.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf '[setup] %s\n' "$*"; }

# Embedded target for the no_std cryptography core and the device SDK.
if ! rustup target list --installed 2>/dev/null | grep -qx thumbv7em-none-eabihf; then
    say "installing Rust target thumbv7em-none-eabihf"
    rustup target add thumbv7em-none-eabihf
fi

# Pinned JavaScript tools, reinstalled only when the lock file changed.
js="$root/tools/js"
stamp="$js/node_modules/.depin-lock.sha256"
want="$(sha256sum "$js/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    command -v npm >/dev/null || { echo "npm is required (Node.js 20)" >&2; exit 1; }
    say "installing pinned npm tools into tools/js/node_modules"
    (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
fi
# Foundry runs offline on the npm solc behind scripts/solc-native, which must
# report the pinned version (forge refuses a compiler it cannot identify).
solc_want="$(node -p 'require("./tools/js/node_modules/solc/package.json").version')"
if ! "$root/scripts/solc-native" --version | grep -q "^Version: ${solc_want}+commit"; then
    echo "scripts/solc-native does not report solc ${solc_want}" >&2
    exit 1
fi
"$js/node_modules/.bin/forge" --version >/dev/null

# The prover cluster's parts (scripts/postgres.sh, scripts/cluster.sh).
debs=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || command -v initdb >/dev/null || debs+=(postgresql-15)
command -v haproxy >/dev/null || debs+=(haproxy)
command -v curl >/dev/null || debs+=(curl)
if [ ${#debs[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        say "installing ${debs[*]} (Debian)"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${debs[@]}" >/dev/null
    else
        # The single-node demo runs without them; the cluster and its
        # tests need them.
        say "missing ${debs[*]}: install them as root for the cluster (scripts/cluster.sh) and its tests"
    fi
fi

say "ready"
