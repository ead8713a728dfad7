#!/usr/bin/env bash
# bench/ntp.sh [--quick] : nocbox and chronyd 4.3 as NTP servers, side by side, in one run, on
# loopback, under the same bounded load from examples/ntpload.rs.
#
# One chronyd (-x: never touches the clock; `local stratum 3`; no `ratelimit` line, so no rate
# limiting) is both the server compared and nocbox's upstream. nocbox runs in server mode with
# rate_limit disabled (the load comes from 8 source ports of one address, which its per-source
# limiter would otherwise cut, as it should). The servers are measured one after the other,
# never at the same time. Per server and offered rate: replies, loss, replies longer than
# their request (must be 0), round-trip p50/p99 and CPU seconds per million requests (utime +
# stime of the server PID from /proc over the step). First, the latency at 200 requests/s with
# one request in flight. The load generator shares the 2 cores with the server.
#
# Results: target/bench/ntp/summary.md (also printed). Needs chronyd (Debian package chrony).
set -euo pipefail

ROOT=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
QUICK=0
[ "${1:-}" = --quick ] && QUICK=1
if [ "$QUICK" = 1 ]; then STEP_SECS=2; RATES="10000 40000 80000"; else STEP_SECS=5; RATES="10000 20000 40000 60000 80000 100000 140000"; fi
WORK=${BENCH_DIR:-$ROOT/target/bench/ntp}
rm -rf "$WORK"; mkdir -p "$WORK"; chmod 755 "$WORK"
command -v chronyd >/dev/null || { echo "chronyd missing (apt-get install chrony)" >&2; exit 1; }

echo "building release binaries..." >&2
(cd "$ROOT" && cargo build --release --quiet --bin nocbox --example ntpload)
NOCBOX=$ROOT/target/release/nocbox
LOAD=$ROOT/target/release/examples/ntpload

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
CLK=$(getconf CLK_TCK)

CPORT=$(free_port); NPORT=$(free_port); APORT=$(free_port)
cat >"$WORK/chrony.conf" <<EOF
port $CPORT
bindaddress 127.0.0.1
bindaddress ::1
allow 127.0.0.0/8
allow ::1
local stratum 3
cmdport 0
bindcmdaddress /
pidfile $WORK/chronyd.pid
EOF
cat >"$WORK/nocbox.yaml" <<EOF
api: { listen: 127.0.0.1:$APORT }
ntp:
  listen: 127.0.0.1:$NPORT
  upstreams: [127.0.0.1:$CPORT]
  poll_interval: 16s
  rate_limit: { enabled: false }
EOF

chronyd -d -x -f "$WORK/chrony.conf" >"$WORK/chronyd.log" 2>&1 &
CPID=$!
NOCBOX_LOG=info "$NOCBOX" run --config "$WORK/nocbox.yaml" >"$WORK/nocbox.out" 2>"$WORK/nocbox.log" &
NPID=$!
trap 'kill $CPID $NPID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APORT/healthz/ntp" || true)
  [ "$code" = 200 ] && break
  sleep 0.1
done
[ "$code" = 200 ] || { echo "nocbox did not synchronise to chronyd" >&2; exit 1; }
# chronyd runs as _chrony after start; its PID is the one we started.

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

{
  echo "# NTP: nocbox vs chronyd $(chronyd -v | awk '{print $4}'), $(date -u +%FT%TZ)"
  echo
  echo "Latency, 200 requests/s, one socket, 5 s:"
  echo
  echo "| server | replies | p50 µs | p99 µs | min µs |"
  echo "|---|---|---|---|---|"
} >"$WORK/summary.md"
for s in chronyd:$CPORT nocbox:$NPORT; do
  name=${s%%:*}; port=${s##*:}
  j=$("$LOAD" "127.0.0.1:$port" 200 5 1)
  echo "$j" >>"$WORK/latency.jsonl"
  echo "| $name | $(field "$j" received)/$(field "$j" sent) | $(field "$j" rtt_p50_us) | $(field "$j" rtt_p99_us) | $(field "$j" rtt_min_us) |" >>"$WORK/summary.md"
done

{
  echo
  echo "Offered rate steps of ${STEP_SECS} s, 8 source ports:"
  echo
  echo "| offered/s | server | answered/s | loss % | longer than request | p50 µs | p99 µs | CPU s per million |"
  echo "|---|---|---|---|---|---|---|---|"
} >>"$WORK/summary.md"
# "lossless up to R": every step up to R got a reply to every request (a later lossless step
# after a lossy one does not count).
declare -A best=([chronyd]=0 [nocbox]=0) lost=([chronyd]=0 [nocbox]=0)
for rate in $RATES; do
  for s in chronyd:$CPORT:$CPID nocbox:$NPORT:$NPID; do
    IFS=: read -r name port pid <<<"$s"
    t0=$(cpu_ticks "$pid")
    j=$("$LOAD" "127.0.0.1:$port" "$rate" "$STEP_SECS" 8)
    t1=$(cpu_ticks "$pid")
    echo "$j" >>"$WORK/steps.jsonl"
    recv=$(field "$j" received); sent=$(field "$j" sent); loss=$(field "$j" loss_pct)
    cpu=$(awk -v d=$((t1 - t0)) -v c="$CLK" -v n="$recv" 'BEGIN { if (n > 0) printf "%.1f", d / c / n * 1e6; else print "-" }')
    ans=$(awk -v n="$recv" -v s="$STEP_SECS" 'BEGIN { printf "%.0f", n / s }')
    echo "| $rate | $name | $ans | $loss | $(field "$j" replies_longer_than_request) | $(field "$j" rtt_p50_us) | $(field "$j" rtt_p99_us) | $cpu |" >>"$WORK/summary.md"
    if [ "$recv" = "$sent" ]; then
      [ "${lost[$name]}" = 0 ] && best[$name]=$rate
    else
      lost[$name]=1
    fi
    sleep 0.5
  done
done
{
  echo
  echo "Lossless up to (every step up to this rate answered in full): chronyd ${best[chronyd]}/s, nocbox ${best[nocbox]}/s" \
    "(ratio $(awk -v a="${best[nocbox]}" -v b="${best[chronyd]}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'))."
  echo "RSS after the run: chronyd $(awk '/VmRSS/ {print $2}' /proc/$CPID/status) kB," \
    "nocbox $(awk '/VmRSS/ {print $2}' /proc/$NPID/status) kB (peak $(awk '/VmHWM/ {print $2}' /proc/$NPID/status) kB)."
  echo "nocbox UDP receive buffer: $(grep -o 'granted=[0-9]*' "$WORK/nocbox.log" | head -1 || echo 'see log'); chronyd keeps the kernel default."
} >>"$WORK/summary.md"
cat "$WORK/summary.md"
