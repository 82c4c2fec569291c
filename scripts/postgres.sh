#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests and local clusters
# (depin-store-postgres).
#
#   scripts/postgres.sh start DIR [PORT]  create (once) and start a cluster in
#                                         DIR on 127.0.0.1:PORT (default: the
#                                         port it ran on before, else a free
#                                         port), create database `depin` and
#                                         print DATABASE_URL=...
#   scripts/postgres.sh stop DIR          stop it (fast shutdown)
#   scripts/postgres.sh restart DIR       stop it (fast shutdown) and start it
#                                         again on the same port
#   scripts/postgres.sh url DIR           print the URL of the running cluster
#
# Every command is idempotent: `start` on a running cluster prints its URL,
# `stop` on a stopped one does nothing. A stopped cluster starts again on
# the port recorded in DIR/port, so its DATABASE_URL stays the same (it
# fails, rather than move, if something else holds that port now; give
# PORT to move it). The cluster trusts every local and
# 127.0.0.1 connection (user `postgres`, no password): it is for tests, never
# for data that matters. fsync stays on, so durability is what production
# gets. Its files: DIR/data (the cluster), DIR/postgres.log, DIR/port, and
# the socket in DIR. Run as root, the server runs as the `postgres` user
# (PostgreSQL refuses root) and DIR is given to it; run as another user, as
# that user. PostgreSQL 15 is looked for in $PG_BIN, /usr/lib/postgresql/15/bin
# and the PATH; if it is missing and we are root, `apt-get install -y
# postgresql-15` installs it.
set -euo pipefail

die() {
    echo "postgres.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start DIR [PORT] | stop DIR | restart DIR | url DIR" >&2
    exit 2
}

[[ $# -ge 2 ]] || usage
cmd=$1
[[ -n $2 ]] || usage
# Absolute (initdb and pg_ctl, run as `postgres`, may not reach the caller's
# working directory, so everything runs from /).
dir=$(realpath -m -- "$2")
port_arg=${3:-}
cd /

# The directory of initdb, pg_ctl, postgres and psql.
find_bin() {
    local d
    for d in "${PG_BIN:-}" /usr/lib/postgresql/15/bin; do
        if [[ -n $d && -x $d/initdb && -x $d/pg_ctl ]]; then
            echo "$d"
            return 0
        fi
    done
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        # /usr/local/bin/initdb may be a link into the real bin directory.
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    return 1
}

install_postgres() {
    [[ $EUID -eq 0 ]] || die "PostgreSQL 15 is not installed (no initdb in \$PG_BIN, /usr/lib/postgresql/15/bin or the PATH) and only root can install it: apt-get install postgresql-15, or set PG_BIN"
    command -v apt-get >/dev/null || die "PostgreSQL 15 is not installed and there is no apt-get: install it, or set PG_BIN to its bin directory"
    echo "postgres.sh: installing postgresql-15" >&2
    apt-get update >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15 >&2 ||
        die "apt-get install -y postgresql-15 failed"
}

bin=$(find_bin) || true
if [[ -z ${bin:-} ]]; then
    [[ $cmd == start || $cmd == restart ]] || die "PostgreSQL is not installed, so no cluster runs in $dir"
    install_postgres
    bin=$(find_bin) || die "postgresql-15 is installed but initdb is still not found"
fi
pg_ctl_version=$("$bin/pg_ctl" --version 2>&1) || die "$bin/pg_ctl --version failed: $pg_ctl_version"
version=$(sed -n 's/.* \([0-9][0-9]*\)\..*/\1/p' <<<"$pg_ctl_version")
[[ $version == 15 ]] || echo "postgres.sh: warning: $bin is PostgreSQL $version, not 15" >&2

# PostgreSQL refuses to run as root: as root, run it as `postgres`.
if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "there is no \`postgres\` user to run the server as (PostgreSQL refuses root): install postgresql-15 or create the user"
    as_pg() { runuser -u postgres -- "$@"; }
    pg_user=postgres
else
    as_pg() { "$@"; }
    pg_user=$(id -un)
fi

data=$dir/data
log=$dir/postgres.log

running() {
    [[ -f $data/PG_VERSION ]] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

url_of() {
    [[ -f $dir/port ]] || die "no cluster in $dir ($dir/port is missing): run \`$0 start $dir\`"
    echo "DATABASE_URL=postgres://postgres@127.0.0.1:$(cat "$dir/port")/depin"
}

# Whether nothing listens on 127.0.0.1:$1.
port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if port_free "$p"; then
            echo "$p"
            return 0
        fi
    done
    die "found no free port on 127.0.0.1"
}

init_cluster() {
    mkdir -p "$dir"
    # The server (user postgres) must reach its files and socket in DIR.
    if [[ $EUID -eq 0 ]]; then
        chown "$pg_user" "$dir"
    fi
    chmod 0700 "$dir"
    if [[ -f $data/PG_VERSION ]]; then
        return 0
    fi
    [[ ! -e $data ]] || [[ -z $(ls -A "$data") ]] ||
        die "$data exists, is not empty and holds no cluster: remove it or choose another DIR"
    # Trust: the cluster listens on 127.0.0.1 only and is thrown away.
    if ! as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        die "initdb -D $data failed (log above, and in $dir/initdb.log)"
    fi
}

start_server() {
    local port=$1
    as_pg "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
        -o "-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null
}

psql_q() {
    local port=$1
    shift
    # The server's own psql (the Debian wrapper in /usr/bin wants a cluster).
    local psql=$bin/psql
    [[ -x $psql ]] || psql=psql
    "$psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres -tA "$@"
}

start() {
    if [[ -n $port_arg && ! $port_arg =~ ^[0-9]+$ ]]; then
        die "PORT must be a number, not '$port_arg'"
    fi
    # The port a cluster that exists ran on: it starts there again, so that
    # the URL its clients were given still reaches it.
    local recorded=""
    if [[ -f $data/PG_VERSION && -f $dir/port ]]; then
        recorded=$(cat "$dir/port")
        [[ $recorded =~ ^[0-9]+$ ]] || die "$dir/port holds '$recorded', not a port number"
    fi
    init_cluster
    if running; then
        local port
        port=$(cat "$dir/port" 2>/dev/null) || die "a server runs in $data but $dir/port is missing"
        [[ -z $port_arg || $port_arg == "$port" ]] ||
            die "the cluster in $dir already runs on port $port, not $port_arg: stop it first"
    else
        local tries=1 port fixed=${port_arg:-$recorded}
        [[ -n $fixed ]] || tries=5
        if [[ -z $port_arg && -n $recorded ]] && ! port_free "$recorded"; then
            die "the cluster in $dir ran on port $recorded ($dir/port), which something else holds now: free it, or start it on another port with \`$0 start $dir PORT\` (its URL changes)"
        fi
        while true; do
            port=${fixed:-$(free_port)}
            echo "$port" >"$dir/port"
            [[ $EUID -ne 0 ]] || chown "$pg_user" "$dir/port"
            if start_server "$port"; then
                break
            fi
            tries=$((tries - 1))
            if [[ $tries -le 0 ]]; then
                tail -n 20 "$log" >&2 2>/dev/null || true
                die "PostgreSQL did not start on 127.0.0.1:$port (log above, and in $log)"
            fi
            echo "postgres.sh: port $port: start failed, trying another port" >&2
        done
    fi
    port=$(cat "$dir/port")
    if [[ $(psql_q "$port" -c "SELECT 1 FROM pg_database WHERE datname = 'depin'") != 1 ]]; then
        psql_q "$port" -c "CREATE DATABASE depin" ||
            die "CREATE DATABASE depin failed on 127.0.0.1:$port"
    fi
    url_of
}

stop() {
    if [[ ! -f $data/PG_VERSION ]]; then
        echo "postgres.sh: no cluster in $dir" >&2
        return 0
    fi
    if running; then
        as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null ||
            die "pg_ctl stop failed for $data (see $log)"
    fi
}

case $cmd in
start) start ;;
stop) stop ;;
restart)
    [[ -f $data/PG_VERSION && -f $dir/port ]] || die "no cluster in $dir to restart: run \`$0 start $dir\`"
    [[ -z $port_arg ]] || die "restart keeps the port: use \`stop\`, then \`start $dir PORT\` to move it"
    stop
    start
    ;;
url)
    running || die "no PostgreSQL runs in $dir"
    url_of
    ;;
*) usage ;;
esac
