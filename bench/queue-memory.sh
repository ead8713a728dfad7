#!/usr/bin/env bash
# bench/queue-memory.sh : how much memory one queued log event really holds, against what the
# queue's byte budget estimates (`Event::approx_size`), for plain loggen lines and for the
# Cisco/Junos fixture. nocbox runs with its stdout connected to a FIFO that is opened and never
# read, so every event stays queued; loggen sends N lines over TCP on 127.0.0.1; then the RSS
# growth divided by the queue depth is compared with nocbox_pipeline_queue_bytes / depth.
#
#   bench/queue-memory.sh [N]     N lines per case, default 200000
#
# Builds target/release/nocbox; needs loggen (tests/peers/loggen.sh download) and curl.
set -euo pipefail
ROOT=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-200000}
NOCBOX=$ROOT/target/release/nocbox
LOGGEN_ROOT=${LOGGEN_DIR:-$ROOT/target/nocbox-peers/loggen}/root/usr
[ -x "$LOGGEN_ROOT/bin/loggen" ] || "$ROOT/tests/peers/loggen.sh" download >/dev/null
export SYSLOGNG_PREFIX=$LOGGEN_ROOT LD_LIBRARY_PATH=$LOGGEN_ROOT/lib/syslog-ng
(cd "$ROOT" && cargo build --release --quiet)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
API=$(free_port); TCP=$(free_port)
cat >"$WORK/nocbox.yaml" <<YAML
api: { listen: "127.0.0.1:$API" }
syslog:
  tcp: { listen: "127.0.0.1:$TCP" }
outputs:
  stdout: { enabled: true, queue_size: $((N + 1000)), queue_bytes: 17179869184 }
shutdown: { drain_period: 0s }
YAML
mkfifo "$WORK/fifo"
metric() { curl -s "127.0.0.1:$API/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
echo "| lines | queued | RSS growth per event (B) | estimate per event (B) | estimate / real |"
echo "|---|---|---|---|---|"
for case in plain fixture; do
  "$NOCBOX" run --config "$WORK/nocbox.yaml" >"$WORK/fifo" 2>"$WORK/nocbox.log" &
  pid=$!
  exec 3<"$WORK/fifo" # the read end stays open and unread: the writer blocks, events queue
  for _ in $(seq 50); do curl -sf "127.0.0.1:$API/healthz" >/dev/null && break; sleep 0.1; done
  rss0=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
  case $case in
    plain) args=(-s 200) ;;
    fixture) args=(-R "$ROOT/bench/fixtures/cisco-junos.txt" -l -d) ;;
  esac
  "$LOGGEN_ROOT/bin/loggen" -i -S "${args[@]}" --number "$N" -r 1000000 -I 600 127.0.0.1 "$TCP" >/dev/null 2>&1
  sleep 1
  rss1=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
  depth=$(metric 'nocbox_pipeline_queue_depth{output="stdout"}')
  bytes=$(metric 'nocbox_pipeline_queue_bytes{output="stdout"}')
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  exec 3<&-
  real=$(( (rss1 - rss0) * 1024 / depth ))
  est=$(( bytes / depth ))
  echo "| $case | $depth | $real | $est | $(echo "scale=2; $est / $real" | bc) |"
done
