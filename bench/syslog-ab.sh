#!/usr/bin/env bash
# bench/syslog-ab.sh : two nocbox binaries (or one binary in two configurations) against the
# same loggen load, alternating, one pair after another: the A/B runs behind the "what changed"
# figures in docs/PERFORMANCE.md. Each run starts a fresh process on 127.0.0.1, sends loggen for
# SECS seconds, waits until its stdout stops growing, and prints lines sent and written, lines
# dropped at nocbox's queue, CPU seconds per million lines (utime+stime from /proc) and peak RSS.
#
#   bench/syslog-ab.sh A B MODE [SECS] [PAIRS]
#
#   A, B   nocbox binaries (build one, copy it aside, build the other)
#   MODE   tcp1     loggen -i -S -s 200 -r 1000000             (TCP, 1 connection)
#          tcp4     the same with --active-connections 4
#          udp      loggen -i -D -s 200 -r 40000               (UDP at a fixed rate)
#          udp2:R   two loggen processes at -r R each           (UDP, two senders)
#          fixtcp   bench/fixtures/cisco-junos.txt over TCP, unlimited
#   SECS   seconds of loggen per run (default 5); PAIRS runs of each (default 3)
#
#   CONFIG_A / CONFIG_B: extra YAML for syslog.tcp (e.g. "backpressure: true") per side.
#   THREADS=1: also print each nocbox thread's CPU time and context switches after each run.
#   PERF=FILE: also `perf record -g` binary A's first run into FILE (perf report -i FILE).
#
# Needs loggen (tests/peers/loggen.sh download), curl and bc. Nothing is built here.
set -euo pipefail
ROOT=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -ge 3 ] || { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 2; }
A=$1 B=$2 MODE=$3 SECS=${4:-5} PAIRS=${5:-3}
LOGGEN_ROOT=${LOGGEN_DIR:-$ROOT/target/nocbox-peers/loggen}/root/usr
[ -x "$LOGGEN_ROOT/bin/loggen" ] || "$ROOT/tests/peers/loggen.sh" download >/dev/null
export SYSLOGNG_PREFIX=$LOGGEN_ROOT LD_LIBRARY_PATH=$LOGGEN_ROOT/lib/syslog-ng
LOGGEN=$LOGGEN_ROOT/bin/loggen
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
API=$(free_port) UDP=$(free_port) TCP=$(free_port)

config() { # config EXTRA : the YAML for one side
  cat <<YAML
api: { listen: "127.0.0.1:$API" }
syslog:
  udp: { listen: "127.0.0.1:$UDP", receive_buffer: 67108864 }
  tcp: { listen: "127.0.0.1:$TCP"${1:+, $1} }
outputs:
  stdout: { enabled: true, queue_size: 200000 }
shutdown: { drain_period: 0s }
YAML
}

run() { # run LABEL BINARY EXTRA PERFFILE
  local label=$1 bin=$2 out=$WORK/out.jsonl pid t0 t1 sent written drops hwm perf=""
  config "$3" >"$WORK/nocbox.yaml"
  "$bin" run --config "$WORK/nocbox.yaml" >"$out" 2>"$WORK/nocbox.log" &
  pid=$!
  for _ in $(seq 50); do curl -sf "127.0.0.1:$API/healthz" >/dev/null && break; sleep 0.1; done
  t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  if [ -n "$4" ]; then
    perf record -F 999 -g -p "$pid" -o "$4" -- sleep "$SECS" >/dev/null 2>&1 &
    perf=$!
  fi
  case $MODE in
    tcp1) sent=$("$LOGGEN" -i -S -s 200 -r 1000000 -I "$SECS" 127.0.0.1 "$TCP" 2>&1 | grep -o 'count=[0-9]*' | tail -1 | cut -d= -f2) ;;
    tcp4) sent=$("$LOGGEN" -i -S -s 200 -r 1000000 --active-connections 4 -I "$SECS" 127.0.0.1 "$TCP" 2>&1 | grep -o 'count=[0-9]*' | tail -1 | cut -d= -f2) ;;
    fixtcp) sent=$("$LOGGEN" -i -S -R "$ROOT/bench/fixtures/cisco-junos.txt" -l -d -r 1000000 -I "$SECS" 127.0.0.1 "$TCP" 2>&1 | grep -o 'count=[0-9]*' | tail -1 | cut -d= -f2) ;;
    udp) sent=$("$LOGGEN" -i -D -s 200 -r 40000 -I "$SECS" 127.0.0.1 "$UDP" 2>&1 | grep -o 'count=[0-9]*' | tail -1 | cut -d= -f2) ;;
    udp2:*)
      "$LOGGEN" -i -D -s 200 -r "${MODE#udp2:}" -I "$SECS" 127.0.0.1 "$UDP" >"$WORK/lg1" 2>&1 &
      "$LOGGEN" -i -D -s 200 -r "${MODE#udp2:}" -I "$SECS" 127.0.0.1 "$UDP" >"$WORK/lg2" 2>&1
      wait $!
      sent=$(cat "$WORK/lg1" "$WORK/lg2" | awk -F'count=' '/average rate/ { split($2, a, ","); s += a[1] } END { print s }') ;;
    *) echo "unknown mode $MODE" >&2; exit 2 ;;
  esac
  [ -n "$perf" ] && wait "$perf" 2>/dev/null
  local prev=-1 n
  while n=$(stat -c %s "$out"); [ "$n" != "$prev" ]; do prev=$n; sleep 0.5; done
  t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  drops=$(curl -s "127.0.0.1:$API/metrics" | awk '/^nocbox_pipeline_dropped_total\{output="stdout"/ { s += $2 } END { print s + 0 }')
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
  if [ -n "${THREADS:-}" ]; then
    for t in /proc/"$pid"/task/*; do
      printf '   thread %-16s cpu %5.2f s  switches %8s voluntary %8s forced\n' \
        "$(cat "$t/comm")" "$(awk '{ print ($14 + $15) / 100 }' "$t/stat")" \
        "$(awk '/^voluntary_ctxt/ { print $2 }' "$t/status")" \
        "$(awk '/^nonvoluntary_ctxt/ { print $2 }' "$t/status")"
    done
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
  written=$(wc -l <"$out")
  printf '%-2s %-8s sent %9s  written %9s  queue drops %8s  lost %8s  %6.2f CPU-s/M  %4d MB peak\n' \
    "$label" "$MODE" "$sent" "$written" "$drops" "$((sent - written))" \
    "$(echo "scale=4; ($t1 - $t0) / 100 / ($written / 1000000)" | bc)" "$((hwm / 1024))"
}

echo "A = $A${CONFIG_A:+ ($CONFIG_A)}; B = $B${CONFIG_B:+ ($CONFIG_B)}; $MODE, ${SECS}s, $PAIRS pairs"
for i in $(seq "$PAIRS"); do
  run A "$A" "${CONFIG_A:-}" "$([ "$i" = 1 ] && echo "${PERF:-}")"
  run B "$B" "${CONFIG_B:-}" ""
done
