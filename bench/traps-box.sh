#!/usr/bin/env bash
# bench/traps-box.sh [RATE] : where the machine's CPU goes while nocbox receives the trap stream
# of bench/traps.sh at RATE traps/s (default 180000) for 8 s, and how much socket buffer one such
# trap takes on loopback. Prints, over 3 s in the middle of the stream, each nocbox thread's CPU
# (`/proc/PID/task/*/stat`), the generator's, and the machine's idle and stolen time
# (`/proc/stat`); then sent, written and lost. docs/PERFORMANCE.md quotes it.
#
# NOCBOX_BIN / TRAPLOAD_BIN: use these binaries instead of building (e.g. an older generator:
#   git show 7d36e48:examples/trapload.rs > examples/trapload_old.rs &&
#   cargo build --release --example trapload_old &&
#   TRAPLOAD_BIN=target/release/examples/trapload_old bench/traps-box.sh 160000).
set -euo pipefail

ROOT=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
RATE=${1:-180000}
WORK=${BENCH_DIR:-$ROOT/target/bench/traps-box}
rm -rf "$WORK"; mkdir -p "$WORK"
if [ -z "${NOCBOX_BIN:-}" ] || [ -z "${TRAPLOAD_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet --bin nocbox --example trapload)
fi
NOCBOX=${NOCBOX_BIN:-$ROOT/target/release/nocbox}
LOAD=${TRAPLOAD_BIN:-$ROOT/target/release/examples/trapload}
CLK=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NPORT=$(free_port); APORT=$(free_port)
# the receiver as bench/traps.sh configures it
cat >"$WORK/nocbox.yaml" <<EOF
api: { listen: 127.0.0.1:$APORT }
traps:
  listen: 127.0.0.1:$NPORT
  community_strings: public
  receive_buffer: 4194304
outputs:
  stdout: { queue_size: 200000, queue_bytes: 1073741824 }
shutdown: { drain_period: 0s }
EOF
"$NOCBOX" run --config "$WORK/nocbox.yaml" >"$WORK/nocbox.out" 2>"$WORK/nocbox.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APORT/healthz/traps" || true)" = 200 ] && break
  sleep 0.1
done

threads() { for t in /proc/$PID/task/*; do echo "${t##*/} $(cat "$t/comm") $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$t/stat")"; done | sort; }
box() { awk '$1 == "cpu" { print $5 + $6, $9 }' /proc/stat; } # idle+iowait, steal

"$LOAD" "127.0.0.1:$NPORT" "$RATE" 8 4 box >"$WORK/load.json" &
LPID=$!
sleep 3
threads >"$WORK/t0"; read -r i0 s0 < <(box)
sleep 3
threads >"$WORK/t1"; read -r i1 s1 < <(box)
wait "$LPID"
sleep 2 # let nocbox write what it still holds
sent=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['sent'])" "$WORK/load.json")
gen=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['cpu_s'])" "$WORK/load.json")
got=$(grep -a -c -F '"box-' "$WORK/nocbox.out" || true)

echo "nocbox at $RATE traps/s offered, 3 s sample (% of one CPU; the machine has $(nproc) × 100):"
join "$WORK/t0" "$WORK/t1" | awk -v c="$CLK" '{ printf "  thread %s %-16s %3.0f %%\n", $1, $2, 100 * ($5 - $3) / c / 3 }'
awk -v g="$gen" -v i=$((i1 - i0)) -v s=$((s1 - s0)) -v c="$CLK" 'BEGIN {
  printf "  generator (whole 8 s)    %3.0f %%\n  idle                     %3.0f %%\n  stolen                   %3.0f %%\n",
    100 * g / 8, 100 * i / c / 3, 100 * s / c / 3 }'
awk -v s="$sent" -v w="$got" 'BEGIN { printf "sent %d, written %d, lost %d (%.2f %%)\n", s, w, s - w, 100 * (s - w) / s }'

# Socket buffer per datagram: 1,000 traps of the stream's size queued, unread, on loopback.
size=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['datagram_bytes'])" "$WORK/load.json")
python3 - "$size" <<'EOF'
import socket, subprocess, sys
size = int(sys.argv[1])
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4194304)
r.bind(("127.0.0.1", 0))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(1000):
    s.sendto(b"x" * size, r.getsockname())
out = subprocess.run(["ss", "-uamn", f"sport = :{r.getsockname()[1]}"], capture_output=True, text=True).stdout
used = int(out.split("skmem:(r")[1].split(",")[0])
granted = int(out.split(",rb")[1].split(",")[0])
print(f"socket buffer: {used / 1000:.0f} bytes per {size}-byte datagram; "
      f"{granted} bytes granted hold {granted * 1000 // used} of them")
EOF
