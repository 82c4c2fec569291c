#!/usr/bin/env bash
# The main job on the embedded default. At this stage of the project it runs
# what exists end to end: devices create keys, sign measurements with
# EdDSA-Poseidon, and every signature is checked by our verifier and by
# circomlibjs; a tampered record is refused by both.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"
cargo build -q --release -p depin-device-sdk --bin depin-device
dev="$root/target/release/depin-device"
devices="${DEVICES:-5}"

printf '%-8s %-12s %-10s %-12s %-10s\n' device measurement ours circomlibjs tampered
for i in $(seq 1 "$devices"); do
    key="$("$dev" keygen)"
    measurement=$((RANDOM * 1000 + i))
    msg="$("$dev" hash "$i" "$measurement")"
    sig="$("$dev" sign --key-hex "$key" --message "$msg")"
    field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval("d"+sys.argv[2]))' "$sig" "$1"; }
    args=(--pub-x "$(field '["pub"]["x"]')" --pub-y "$(field '["pub"]["y"]')"
          --r8-x "$(field '["r8"]["x"]')" --r8-y "$(field '["r8"]["y"]')" --s "$(field '["s"]')")
    ours=$("$dev" verify "${args[@]}" --message "$msg" >/dev/null && echo valid || echo INVALID)
    tampered=$("$dev" verify "${args[@]}" --message "$("$dev" hash "$i" $((measurement + 1)))" >/dev/null && echo ACCEPTED || echo refused)
    item=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(json.dumps({"pub": d["pub"], "r8": d["r8"], "s": d["s"], "message": sys.argv[2]}))' "$sig" "$msg")
    js=$(echo "[$item]" | node tools/js/verify-eddsa.mjs | tr -d '[]\n')
    printf '%-8s %-12s %-10s %-12s %-10s\n' "$i" "$measurement" "$ours" "$js" "$tampered"
    [ "$ours" = valid ] && [ "$js" = true ] && [ "$tampered" = refused ] || { echo "demo: unexpected verdict" >&2; exit 1; }
done
echo "all $devices devices' signatures verify in ours and in circomlibjs; tampered records are refused"
