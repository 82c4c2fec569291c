#!/usr/bin/env bash
# A prover cluster on loopback: PostgreSQL 15 (a throwaway cluster run as
# the `postgres` user, scripts/postgres.sh), N prover nodes on it, and
# HAProxy in front balancing gRPC over HTTP/2 with grpc.health.v1 checks
# (`depin-prover cluster-config haproxy`). Installs HAProxy and PostgreSQL
# from Debian's packages when missing. Idempotent: `up` on a running
# cluster only prints its environment.
#
#   scripts/cluster.sh up [--nodes N] [--port P] [--dir D]   # N = 3, P = 50060
#   scripts/cluster.sh down [--dir D]
#   scripts/cluster.sh status [--dir D]
#
# `up` writes D/env (default target/cluster/env): LB_ENDPOINT, DATABASE_URL,
# OPERATOR_TOKEN, NODE_PIDS (space-separated), NODE_ENDPOINTS, NODE_DIRS,
# HAPROXY_PID, PG_DIR. The load balancer listens on P, node i on P + i.
# The nodes serve STATEMENTS (a TOML list, default all three; '[]' for an
# ingest-only cluster) with development keys made once in D/keys by the
# first node before the others start (insecure, seeded with DEV_SEED,
# default 1), in batches of
# BATCH_SIZE (default 4; 0: one proof per device-epoch). KEYS_DIR puts the
# keys elsewhere (development keys of DEV_SEED already there are used),
# JOB_LEASE_S sets the nodes' job leases (default 15 s). CLUSTER_PROVER_BIN
# picks the node binary (default: target/release/depin-prover, built when
# missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

cmd="${1:-}"
[ -n "$cmd" ] && shift
nodes=3
port=50060
dir="$root/target/cluster"
while [ $# -gt 0 ]; do
    case "$1" in
        --nodes) nodes="$2"; shift 2 ;;
        --port) port="$2"; shift 2 ;;
        --dir) dir="$2"; shift 2 ;;
        *) echo "cluster.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$nodes" in ''|*[!0-9]*) echo "cluster.sh: --nodes must be a number" >&2; exit 2 ;; esac
[ "$nodes" -ge 1 ] || { echo "cluster.sh: --nodes must be at least 1" >&2; exit 2; }

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Whether pid $1 is still a process this script started (its command line
# names $2), not a pid the system gave to another process since.
ours() { alive "$1" && tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -q -- "$2"; }

# Stops a process by pid: SIGTERM, then SIGKILL after `wait` seconds.
stop_pid() {
    local pid="$1" wait="${2:-10}"
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((wait * 10))); do
        alive "$pid" || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# Whether the gRPC server at host:port answers grpc.health.v1 SERVING.
serving() {
    local req out
    req="$(mktemp)"
    printf '\x00\x00\x00\x00\x00' > "$req"
    out="$(curl -s --max-time 1 --http2-prior-knowledge -X POST \
        -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @"$req" \
        "http://$1/grpc.health.v1.Health/Check" | od -An -tx1 | tr -d ' \n')" || true
    rm -f "$req"
    [ "$out" = "00000000020801" ]
}

down() {
    [ -f "$dir/env" ] || { echo "[cluster] nothing is up in $dir"; return 0; }
    # shellcheck disable=SC1091
    . "$dir/env"
    for pid in ${NODE_PIDS:-}; do
        if ours "$pid" "serve --config"; then stop_pid "$pid" 15; fi
    done
    if ours "${HAPROXY_PID:-}" haproxy; then stop_pid "$HAPROXY_PID" 5; fi
    [ -z "${PG_DIR:-}" ] || "$root/scripts/postgres.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
    rm -f "$dir/env"
    echo "[cluster] down"
}

status() {
    [ -f "$dir/env" ] || { echo "[cluster] nothing is up in $dir"; return 1; }
    # shellcheck disable=SC1091
    . "$dir/env"
    local i=0 ok=0
    for pid in ${NODE_PIDS:-}; do
        i=$((i + 1))
        local ep
        ep="$(echo "${NODE_ENDPOINTS:-}" | cut -d' ' -f"$i")"
        if alive "$pid" && serving "${ep#http://}"; then
            echo "node $i ($ep, pid $pid): serving"
        else
            echo "node $i ($ep, pid $pid): NOT serving"; ok=1
        fi
    done
    if alive "${HAPROXY_PID:-}" && [ -n "${LB_ENDPOINT:-}" ] && serving "${LB_ENDPOINT#http://}"; then
        echo "load balancer ($LB_ENDPOINT, pid $HAPROXY_PID): serving"
    else
        echo "load balancer (${LB_ENDPOINT:-none}): NOT serving"; ok=1
    fi
    return $ok
}

# Waits until the node logging to $1 (pid $2) has every key it serves
# ready (one "keys ready" and, in batches, one "batch keys ready" line a
# statement), or reports it.
wait_keys() {
    local log="$1" pid="$2" kinds want
    kinds="$(printf '%s' "${STATEMENTS:-uptime bandwidth coverage}" | grep -o '[a-z]\+' | grep -c . || true)"
    want=$kinds
    [ "${BATCH_SIZE:-4}" = 0 ] || want=$((kinds * 2))
    [ "$want" -gt 0 ] || return 0
    echo "[cluster] node 1 makes or loads the keys ($want sets; minutes on a first start)"
    for _ in $(seq 1 1800); do
        alive "$pid" || {
            echo "cluster.sh: node 1 exited; the end of $log:" >&2
            tail -n 20 "$log" >&2
            exit 1
        }
        local got
        got="$(grep -c 'keys ready' "$log" || true)"
        [ "$got" -ge "$want" ] && return 0
        if grep -q 'keys unavailable' "$log"; then
            echo "cluster.sh: node 1 could not make its keys; see $log" >&2; exit 1
        fi
        sleep 1
    done
    echo "cluster.sh: node 1's keys not ready after 30 minutes" >&2
    exit 1
}

install_haproxy() {
    command -v haproxy >/dev/null && return 0
    echo "[cluster] installing haproxy (Debian)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
}

up() {
    if [ -f "$dir/env" ] && status >/dev/null 2>&1; then
        echo "[cluster] already up ($dir/env)"
        cat "$dir/env"
        return 0
    fi
    [ -f "$dir/env" ] && down >/dev/null
    command -v curl >/dev/null || { echo "cluster.sh: curl is needed" >&2; exit 1; }
    install_haproxy
    mkdir -p "$dir"
    local bin="${CLUSTER_PROVER_BIN:-$root/target/release/depin-prover}"
    if [ ! -x "$bin" ]; then
        echo "[cluster] building depin-prover (release)"
        (cd "$root" && cargo build --locked --release -q -p depin-prover)
    fi

    # Until `up` succeeds, a failure stops whatever it started (the env
    # file names it as soon as it runs).
    trap 'echo "cluster.sh: up failed: stopping what it started" >&2; down >/dev/null 2>&1' EXIT
    echo "[cluster] PostgreSQL"
    local pg_dir="$dir/pg" url
    printf 'PG_DIR="%s"\n' "$pg_dir" > "$dir/env"
    url="$("$root/scripts/postgres.sh" start "$pg_dir" | sed -n 's/^DATABASE_URL=//p')"
    [ -n "$url" ] || { echo "cluster.sh: PostgreSQL did not start" >&2; exit 1; }

    local token
    token="cluster-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    local statements="${STATEMENTS:-[\"uptime\", \"bandwidth\", \"coverage\"]}"
    local pids="" endpoints="" dirs="" node_args=""
    for i in $(seq 1 "$nodes"); do
        local ndir="$dir/node$i" nport=$((port + i))
        mkdir -p "$ndir"
        chmod 700 "$ndir"
        cat > "$ndir/config.toml" <<EOF
listen = "127.0.0.1:$nport"
metrics_listen = ""
data_dir = "$ndir"
keys_dir = "${KEYS_DIR:-$dir/keys}"
dev_keys = true
dev_seed = ${DEV_SEED:-1}
database_url = "$url"
operator_token = "$token"
statements = $statements
batch_size = ${BATCH_SIZE:-4}
batch_deadline_s = 5.0
job_lease_s = ${JOB_LEASE_S:-15}
drain_s = 2.0
EOF
        chmod 600 "$ndir/config.toml"
        echo "[cluster] node $i on 127.0.0.1:$nport"
        nohup "$bin" serve --config "$ndir/config.toml" > "$ndir/node.log" 2>&1 &
        pids="$pids $!"
        printf 'PG_DIR="%s"\nNODE_PIDS="%s"\n' "$pg_dir" "${pids# }" > "$dir/env"
        if [ "$i" = 1 ]; then
            # The first node makes the development keys the others load.
            wait_keys "$ndir/node.log" "$!"
        fi
        endpoints="$endpoints http://127.0.0.1:$nport"
        dirs="$dirs $ndir"
        node_args="$node_args --node 127.0.0.1:$nport"
    done

    echo "[cluster] HAProxy on 127.0.0.1:$port"
    # shellcheck disable=SC2086
    "$bin" cluster-config haproxy --listen "127.0.0.1:$port" $node_args \
        --stats-socket "$dir/haproxy.sock" --out "$dir/haproxy.cfg"
    haproxy -c -q -f "$dir/haproxy.cfg"
    nohup haproxy -f "$dir/haproxy.cfg" > "$dir/haproxy.log" 2>&1 &
    local hpid=$!
    printf 'PG_DIR="%s"\nNODE_PIDS="%s"\nHAPROXY_PID="%s"\n' "$pg_dir" "${pids# }" "$hpid" > "$dir/env"

    cat > "$dir/env" <<EOF
LB_ENDPOINT="http://127.0.0.1:$port"
DATABASE_URL="$url"
OPERATOR_TOKEN="$token"
NODE_PIDS="${pids# }"
NODE_ENDPOINTS="${endpoints# }"
NODE_DIRS="${dirs# }"
HAPROXY_PID="$hpid"
PG_DIR="$pg_dir"
EOF
    chmod 600 "$dir/env"

    # Every node and the balancer serving (the first start makes the
    # development keys: minutes).
    local waited=0
    until status >/dev/null 2>&1; do
        for pid in $pids; do
            alive "$pid" || {
                echo "cluster.sh: a node exited; the end of its log:" >&2
                for log in "$dir"/node*/node.log; do
                    echo "== $log" >&2
                    tail -n 20 "$log" >&2
                done
                exit 1
            }
        done
        sleep 1
        waited=$((waited + 1))
        [ "$waited" -lt 900 ] || { echo "cluster.sh: not serving after 15 minutes" >&2; exit 1; }
    done
    trap - EXIT
    echo "[cluster] up: $dir/env"
    cat "$dir/env"
}

case "$cmd" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: scripts/cluster.sh up [--nodes N] [--port P] [--dir D] | down | status" >&2; exit 2 ;;
esac
