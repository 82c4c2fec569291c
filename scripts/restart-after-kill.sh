#!/usr/bin/env bash
# Restart time of a node after kill -9 on a database of TARGET_MB (110) or
# more: fills it with depin-loadgen, kills the node under load, then starts
# and kills it five times, printing when it listens again.
# cargo build --release -p depin-prover -p depin-loadgen && scripts/restart-after-kill.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${BIN:-target/release/depin-prover}
LOADGEN=${LOADGEN:-target/release/depin-loadgen}
D=${DATA:-target/restart-measure}
rm -rf $D; mkdir -p $D
PORT=50991
TOKEN=restart-measure-token-0123456789
cat > $D/prover.toml <<T
listen = "127.0.0.1:$PORT"
metrics_listen = ""
data_dir = "$D/data"
dev_keys = false
statements = []
operator_token = "$TOKEN"
T
wait_port() { python3 - "$PORT" <<'P'
import socket,sys,time
t=time.time()
while True:
    s=socket.socket()
    try:
        s.connect(("127.0.0.1",int(sys.argv[1]))); print("%.3f"%(time.time()-t)); break
    except OSError:
        time.sleep(0.002)
    finally: s.close()
P
}
RUST_LOG=warn $BIN serve --config $D/prover.toml 2>$D/node1.log & PID=$!
wait_port >/dev/null
round=0
while :; do
  kill -0 $PID || { echo "the node died"; cat $D/node1.log; exit 1; }
  size=$(du -sm $D/data/prover.redb | cut -f1)
  echo "database: ${size} MB"
  [ "$size" -ge "${TARGET_MB:-110}" ] && break
  round=$((round+1))
  $LOADGEN --endpoint http://127.0.0.1:$PORT --token $TOKEN --rate ${RATE:-6000} --duration ${DUR:-30} --epoch $((1000+round)) | tail -3 || true
done
# Under load: kill -9 in the middle of a run.
$LOADGEN --endpoint http://127.0.0.1:$PORT --token $TOKEN --rate ${RATE:-6000} --duration 10 --epoch 999 > $D/last.txt 2>&1 & LG=$!
sleep 4
kill -9 $PID; wait $PID 2>/dev/null || true
wait $LG 2>/dev/null || true
ls -l $D/data
for i in 1 2 3 4 5; do
  start=$(date +%s.%N)
  RUST_LOG=warn $BIN serve --config $D/prover.toml 2>$D/node2.log & PID=$!
  t=$(wait_port)
  echo "restart $i after kill -9: listening after ${t} s"
  sleep 0.5
  kill -9 $PID; wait $PID 2>/dev/null || true
done
