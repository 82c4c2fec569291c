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
#   scripts/demo.sh --cluster 3           # the same fleet through HAProxy to 3 nodes on PostgreSQL
#   scripts/demo.sh --backend halo2       # halo2 proofs, one claimHalo2 per device-epoch
#   scripts/demo.sh --help
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# --cluster N: a cluster of N nodes (scripts/cluster.sh, stopped at exit)
# instead of the in-process prover.
cluster=""
batch=4
backend=groth16
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --backend) backend="${2:?--backend needs groth16 or halo2}"; args+=("$1" "$2"); shift 2 ;;
        --backend=*) backend="${1#--backend=}"; args+=("$1"); shift ;;
        --cluster) cluster="${2:?--cluster needs a number of nodes}"; shift 2 ;;
        --cluster=*) cluster="${1#--cluster=}"; shift ;;
        # The cluster's nodes batch as the demo does.
        --batch) batch="${2:?--batch needs a size}"; args+=("$1" "$2"); shift 2 ;;
        --batch=*) batch="${1#--batch=}"; args+=("$1"); shift ;;
        *) args+=("$1"); shift ;;
    esac
done

if [ -n "$cluster" ] && [ "$backend" != groth16 ]; then
    echo "demo.sh: --cluster runs Groth16 nodes; set backends in the nodes' configuration for $backend (docs/operations.md)" >&2
    exit 2
fi

"$root/scripts/setup.sh"
echo "[demo] building the contracts"
"$root/scripts/forge.sh" build --quiet
echo "[demo] building the prover and the demo (release)"
cargo build --locked --release -q -p depin-demo -p depin-prover

if [ -n "$cluster" ]; then
    dir="$root/target/cluster-demo"
    trap '"$root/scripts/cluster.sh" down --dir "$dir" >/dev/null' EXIT
    # A fresh database and nodes each run; the keys are kept.
    "$root/scripts/cluster.sh" down --dir "$dir" >/dev/null
    rm -rf "$dir/pg" "$dir"/node*
    # The golden development keys, so that the committed verifiers check
    # the cluster's proofs.
    BATCH_SIZE="$batch" DEV_SEED=$((0x646570696e2d7631)) "$root/scripts/cluster.sh" up --nodes "$cluster" --dir "$dir" --port 50160 >/dev/null
    # shellcheck disable=SC1091
    . "$dir/env"
    echo "[demo] cluster of $cluster nodes behind $LB_ENDPOINT (PostgreSQL $DATABASE_URL)"
    args+=(--prover "$LB_ENDPOINT" --operator-token "$OPERATOR_TOKEN")
fi
"$root/target/release/depin-demo" --repo "$root" ${args[@]+"${args[@]}"}
