#!/usr/bin/env bash
# bench/snmp.sh [--quick] : nocbox's SNMP poller and prometheus-snmp-exporter 0.21 walking the same
# simulated devices (examples/snmpagent.rs: a synthetic Cisco C3560-like switch with IFACES
# interfaces, system group + ifTable + ifXTable, counters that move), in one run, on loopback.
#
# 1. Side by side, DEVICES devices, ROUNDS rounds (one after the other, never at the same time):
#    - exporter: `prometheus-snmp-exporter` with tests/peers/snmp_exporter.yml (module if_mib:
#      GETBULK walks of 1.3.6.1.2.1.2 and 1.3.6.1.2.1.31.1.1, max_repetitions 25), each device
#      scraped once per round, one scrape at a time (curl); values = its snmp_scrape_pdus_returned.
#    - nocbox snmp walk (H1's CLI, only when the binary has it): the same two subtrees with
#      -Cr25, one process per device and round; CPU and peak RSS from /usr/bin/time.
#    - nocbox run: a generated config with `snmp: {interval: NOCBOX_INTERVAL, devices: [...]}`
#      (the section's defaults: oid_batch_size 5, bulk_max_repetitions 10, max_in_flight 2), twice:
#      row "nocbox" with `outputs: {prometheus: {enabled: true}}` (it keeps the exposition, as the
#      exporter renders one), row "nocbox-no-output" with no output (polling, profile evaluation
#      and metric records only). The simulator claims sysObjectID 1.3.6.1.4.1.9.1.617, so the poller
#      picks the built-in cisco-catalyst profile and fetches ITS columns, not the two subtrees: the
#      ifTable/ifXTable columns the profile uses plus CPU, memory, ENVMON, entity and StackWise
#      tables the simulator does not have (requests that come back empty). From
#      http://127.0.0.1:API/metrics: nocbox_snmp_polls_total{result="ok"|"failed"},
#      nocbox_snmp_values_total, nocbox_snmp_metrics_total, nocbox_snmp_poll_microseconds_total,
#      read after a first (warm-up) cycle and after ROUNDS more cycles (no requests in between);
#      device 0's /status message (component "snmp:IP:PORT") names the profile and counts.
#    Per program: values per walk; wall time per device walk (exporter: curl's total per scrape,
#    median; CLI: perf stat's elapsed time of the process, median; nocbox run:
#    poll_microseconds_total / polls, mean); requests per walk to device 0 (tshark on lo; the
#    exporter's own snmp_scrape_packets_sent is in its notes); CPU seconds per 1,000 values
#    (utime+stime from /proc/PID/stat; the CLI: perf stat's task-clock, start-up included); peak
#    RSS (VmHWM; CLI: /usr/bin/time %M); the simulator's CPU over the same span.
# 2. Scale (nocbox only; SCALE=0 skips it): SCALE_DEVICES devices × IFACES interfaces polled
#    every SCALE_INTERVAL, once per output in SCALE_OUTPUTS; after the first full cycle, CPU %
#    and RSS over SCALE_CYCLES cycles, polls ok/failed, mean poll time, values per second, the
#    simulator's CPU and everything else's (machine busy time minus both).
#
# Environment (defaults in brackets; --quick: DEVICES 10, ROUNDS 2, SCALE_INTERVAL 20s,
# SCALE_CYCLES 2): DEVICES [20] IFACES [50] ROUNDS [3] NOCBOX_INTERVAL [10s] SCALE [1]
# SCALE_DEVICES [1000] SCALE_INTERVAL [60s] SCALE_CYCLES [3] SCALE_OUTPUTS ["none prometheus"]
# REQCOUNT [1: count requests with tshark when installed] DELAY_MS [0: the simulator answers
# every request this late, one at a time per device, like a real agent; try 37] BUILD [1: cargo build --release of
# nocbox and the simulator; 0 uses what is in target/release] BENCH_DIR [target/bench/snmp]
# NOCBOX [target/release/nocbox] SNMPREC [empty; a .snmprec or .snmprec.bz2 recording (e.g. from
# snmpsim-data, see tests/peers/snmpsim.sh) to serve instead of the synthetic switch].
# Needs prometheus-snmp-exporter (Debian package), curl and jq; uses perf and tshark when present. The simulated devices listen on
# 127.0.2.1, 127.0.2.2, ... (one free UDP port, the same for all); everything stays on loopback.
#
# Results: $BENCH_DIR/summary.md (also printed), with every config, scrape and log beside it.
set -euo pipefail

ROOT=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
QUICK=0
[ "${1:-}" = --quick ] && QUICK=1
if [ "$QUICK" = 1 ]; then
  DEVICES=${DEVICES:-10}; ROUNDS=${ROUNDS:-2}; SCALE_INTERVAL=${SCALE_INTERVAL:-20s}; SCALE_CYCLES=${SCALE_CYCLES:-2}
fi
DEVICES=${DEVICES:-20}
IFACES=${IFACES:-50}
ROUNDS=${ROUNDS:-3}
NOCBOX_INTERVAL=${NOCBOX_INTERVAL:-10s}
SCALE=${SCALE:-1}
SCALE_DEVICES=${SCALE_DEVICES:-1000}
SCALE_INTERVAL=${SCALE_INTERVAL:-60s}
SCALE_CYCLES=${SCALE_CYCLES:-3}
SCALE_OUTPUTS=${SCALE_OUTPUTS:-none prometheus}
BUILD=${BUILD:-1}
SNMPREC=${SNMPREC:-}
DELAY_MS=${DELAY_MS:-0}
WORK=${BENCH_DIR:-$ROOT/target/bench/snmp}
FIRST_IP=127.0.2.1
rm -rf "$WORK"; mkdir -p "$WORK"

EXPORTER=$(command -v prometheus-snmp-exporter || true)
[ -n "$EXPORTER" ] || { echo "prometheus-snmp-exporter missing (apt-get install prometheus-snmp-exporter)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl missing" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq missing" >&2; exit 1; }

if [ "$BUILD" = 1 ]; then
  echo "building release binaries..." >&2
  (cd "$ROOT" && cargo build --release --quiet --bin nocbox --example snmpagent)
fi
NOCBOX=${NOCBOX:-$ROOT/target/release/nocbox}
AGENT=$ROOT/target/release/examples/snmpagent
[ -x "$AGENT" ] || { echo "no $AGENT; run with BUILD=1 or cargo build --release --example snmpagent" >&2; exit 1; }
CLK=$(getconf CLK_TCK)

# Processes started here, stopped by PID only while that PID still runs what we started.
declare -A STARTED=()
stop_pid() {
  local pid=$1
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "${STARTED[$pid]:-/nonexistent}"; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  unset "STARTED[$pid]"
}
stop_all() {
  local pid
  for pid in "${!STARTED[@]}"; do stop_pid "$pid"; done
}
trap stop_all EXIT

free_udp() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0",0)); print(s.getsockname()[1])'; }
free_tcp() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"; }
now() { date +%s.%N; }
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; } # whole machine
calc() { awk "BEGIN { OFMT = CONVFMT = \"%.6f\"; $1 }"; } # print keeps 6 decimals (timestamps)
ip_n() { # ip_n N : the N-th simulated device's address (0-based), as snmpagent numbers them
  local a b c d x
  IFS=. read -r a b c d <<<"$FIRST_IP"
  x=$(( (a << 24 | b << 16 | c << 8 | d) + $1 ))
  echo "$((x >> 24 & 255)).$((x >> 16 & 255)).$((x >> 8 & 255)).$((x & 255))"
}
secs() { # secs 60s|2m|500ms|90 -> seconds
  case $1 in *ms) calc "print ${1%ms} / 1000" ;; *s) echo "${1%s}" ;; *m) calc "print ${1%m} * 60" ;; *) echo "$1" ;; esac
}
median_ms() { # median_ms "S1 S2 ..." : the median of seconds, in ms
  tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ a[NR] = $1 } END { if (NR) printf "%.1f", a[int((NR + 1) / 2)] * 1000 }'
}
# metric FILE NAME [FILTER] : sum of NAME's samples (any labels) whose line contains FILTER
metric() {
  awk -v n="$2" -v f="${3:-}" '$1 == n || index($1, n "{") == 1 { if (f == "" || index($0, f)) s += $NF; seen = 1 }
    END { if (seen) printf "%.6f\n", s; else print "" }' "$1"
}

NEED_AGENTS=$DEVICES
[ "$SCALE" = 1 ] && [ "$SCALE_DEVICES" -gt "$NEED_AGENTS" ] && NEED_AGENTS=$SCALE_DEVICES
SIM_PORT=$(free_udp)

# ---- the simulator: NEED_AGENTS devices; the side-by-side part uses the first DEVICES ----
DATA=(--interfaces "$IFACES")
[ "$DELAY_MS" = 0 ] || DATA+=(--delay-ms "$DELAY_MS")
if [ -n "$SNMPREC" ]; then
  case $SNMPREC in
    *.bz2) bzcat "$SNMPREC" >"$WORK/device.snmprec" ;;
    *) cp "$SNMPREC" "$WORK/device.snmprec" ;;
  esac
  DATA=(--snmprec "$WORK/device.snmprec")
  [ "$DELAY_MS" = 0 ] || DATA+=(--delay-ms "$DELAY_MS")
fi
"$AGENT" "${DATA[@]}" --listen "$FIRST_IP:$SIM_PORT" --count "$NEED_AGENTS" \
  >"$WORK/snmpagent.out" 2>"$WORK/snmpagent.log" &
SIM=$!; STARTED[$SIM]=snmpagent
for _ in $(seq 200); do grep -q '^ready' "$WORK/snmpagent.out" && break; sleep 0.05; done
grep -q '^ready' "$WORK/snmpagent.out" || { echo "snmpagent did not start; see $WORK/snmpagent.log" >&2; exit 1; }
echo "simulator: $(cat "$WORK/snmpagent.out")" >&2

declare -A WALL_MS=() CPU_PER_K=() HWM=() SIM_PCT=() VALUES=() NOTE=() REQS=() SPAN=() WALKS=()

# Requests per walk: tshark (when present, REQCOUNT=1) records every request to device 0; each
# row's span (SPAN[row] = "start end") then tells which were its. Exporter and CLI walk device 0
# exactly ROUNDS times inside their span; nocbox run's requests fall in bursts, one per poll.
TSHARK=""
if [ "${REQCOUNT:-1}" = 1 ] && command -v tshark >/dev/null; then
  tshark -i lo -q -f "udp and dst host $(ip_n 0) and dst port $SIM_PORT" -w "$WORK/device0.pcapng" \
    >"$WORK/tshark.log" 2>&1 &
  TSHARK=$!; STARTED[$TSHARK]=tshark
  for _ in $(seq 100); do grep -qs 'Capturing on' "$WORK/tshark.log" && break; sleep 0.05; done
  sleep 0.5
fi
ROWS="exporter cli nocbox nocbox-no-output"

# ---- prometheus-snmp-exporter ----
EPORT=$(free_tcp)
"$EXPORTER" --config.file="$ROOT/tests/peers/snmp_exporter.yml" --web.listen-address="127.0.0.1:$EPORT" \
  --log.level=warn >"$WORK/exporter.log" 2>&1 &
EXP=$!; STARTED[$EXP]=snmp_exporter
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$EPORT/metrics" && break; sleep 0.1; done
scrape() { # scrape DEVICE-N OUTFILE -> prints curl's total seconds
  curl -s -m 60 -o "$2" -w '%{time_total}' \
    "http://127.0.0.1:$EPORT/snmp?target=$(ip_n "$1"):$SIM_PORT&module=if_mib"
}
scrape 0 "$WORK/exporter-warmup.txt" >/dev/null # first scrape: excluded
values=0; walls=""; failed=0; sent=0
e0=$(cpu_ticks "$EXP"); s0=$(cpu_ticks "$SIM"); t0=$(now)
for r in $(seq "$ROUNDS"); do
  for d in $(seq 0 $((DEVICES - 1))); do
    w=$(scrape "$d" "$WORK/exporter-scrape.txt")
    n=$(metric "$WORK/exporter-scrape.txt" snmp_scrape_pdus_returned)
    if [ -z "$n" ] || ! grep -q '^ifHCInOctets{' "$WORK/exporter-scrape.txt"; then failed=$((failed + 1)); n=${n:-0}; fi
    values=$(calc "print $values + $n")
    sent=$(calc "print $sent + $(metric "$WORK/exporter-scrape.txt" snmp_scrape_packets_sent || echo 0)")
    walls="$walls $w"
  done
  echo "exporter round $r done" >&2
done
e1=$(cpu_ticks "$EXP"); s1=$(cpu_ticks "$SIM"); t1=$(now)
cp "$WORK/exporter-scrape.txt" "$WORK/exporter-last-scrape.txt"
VALUES[exporter]=$values; WALKS[exporter]=$((ROUNDS * DEVICES))
WALL_MS[exporter]=$(median_ms "$walls")
CPU_PER_K[exporter]=$(calc "printf \"%.4f\", ($e1 - $e0) / $CLK / ($values > 0 ? $values : 1) * 1000")
HWM[exporter]=$(hwm_kb "$EXP")
SIM_PCT[exporter]=$(calc "printf \"%.0f\", 100 * ($s1 - $s0) / $CLK / ($t1 - $t0)")
SPAN[exporter]="$t0 $t1"
EXP_SENT=$(calc "printf \"%.1f\", $sent / ($ROUNDS * $DEVICES)")
NOTE[exporter]="$((ROUNDS * DEVICES)) scrapes, $failed failed; $(calc "printf \"%.2f\", ($e1 - $e0) / $CLK") CPU-s over $(calc "printf \"%.1f\", $t1 - $t0") s; snmp_scrape_packets_sent $EXP_SENT per scrape"
stop_pid "$EXP"

# ---- nocbox snmp walk (the CLI), when this build has it ----
if [ -x "$NOCBOX" ] && "$NOCBOX" snmp walk --help >/dev/null 2>&1; then
  # net-snmp spells it -Cr25; accept a CLI that wants -Cr 25 too
  CR=(-Cr25)
  PERF=()
  if command -v perf >/dev/null && perf stat -e task-clock -o /dev/null true 2>/dev/null; then
    PERF=(perf stat -e task-clock -o "$WORK/cli-perf.txt")
  fi
  if ! "$NOCBOX" snmp walk -v 2c -c public "${CR[@]}" "$(ip_n 0):$SIM_PORT" 1.3.6.1.2.1.1 >/dev/null 2>&1; then CR=(-Cr 25); fi
  values=0; walls=""; cpu=0; peak=0; failed=0
  s0=$(cpu_ticks "$SIM"); t0=$(now)
  for r in $(seq "$ROUNDS"); do
    for d in $(seq 0 $((DEVICES - 1))); do
      ta=$(now)
      # With perf: CPU = its task-clock and wall = its "seconds time elapsed" (the walk process
      # alone, not perf's own start); /usr/bin/time's %U %S come in 10 ms steps, more than one
      # walk takes. Without perf: wall only. Peak RSS: /usr/bin/time's %M.
      if /usr/bin/time -f '%M' -o "$WORK/cli-time.txt" "${PERF[@]}" "$NOCBOX" snmp walk -v 2c -c public "${CR[@]}" \
        "$(ip_n "$d"):$SIM_PORT" 1.3.6.1.2.1.2 1.3.6.1.2.1.31.1.1 >"$WORK/cli-walk.txt" 2>"$WORK/cli-walk.err"; then :
      else failed=$((failed + 1)); fi
      tb=$(now)
      read -r m <"$WORK/cli-time.txt"
      [ "$m" -gt "$peak" ] && peak=$m
      values=$((values + $(grep -c '^\.' "$WORK/cli-walk.txt" || true)))
      if [ ${#PERF[@]} -gt 0 ]; then
        read -r ms el < <(awk '$2 == "msec" && $3 == "task-clock" { gsub(/,/, "", $1); c = $1 }
          $2 == "seconds" && $3 == "time" { e = $1 } END { print c, e }' "$WORK/cli-perf.txt")
        cpu=$(calc "print $cpu + $ms / 1000")
        walls="$walls $el"
      else
        walls="$walls $(calc "print $tb - $ta")"
      fi
    done
  done
  s1=$(cpu_ticks "$SIM"); t1=$(now)
  SPAN[cli]="$t0 $t1"
  VALUES[cli]=$values; WALKS[cli]=$((ROUNDS * DEVICES))
  WALL_MS[cli]=$(median_ms "$walls")
  [ ${#PERF[@]} -gt 0 ] && CPU_PER_K[cli]=$(calc "printf \"%.4f\", $cpu / ($values > 0 ? $values : 1) * 1000")
  HWM[cli]=$peak
  SIM_PCT[cli]=$(calc "printf \"%.0f\", 100 * ($s1 - $s0) / $CLK / ($t1 - $t0)")
  NOTE[cli]="$((ROUNDS * DEVICES)) processes, $failed failed (CPU includes process start-up)"
else
  NOTE[cli]="skipped: $NOCBOX has no 'snmp walk' (H1's CLI not merged)"
fi

# ---- nocbox run: the poller ----
# The poller's series on /metrics: nocbox_snmp_polls_total{result="ok"|"failed"},
# nocbox_snmp_values_total (varbinds received), nocbox_snmp_metrics_total (metrics emitted) and
# nocbox_snmp_poll_microseconds_total (wall time of every poll, identification included); per
# device on /status, component "snmp:<ip>:<port>": detail.last_poll_duration, detail.profile and
# a message "PROFILE: N values, M metrics, K interfaces in T". The simulated switch claims
# sysObjectID 1.3.6.1.4.1.9.1.617, so the poller picks the built-in cisco-catalyst profile and
# fetches its columns (ifTable/ifXTable columns it uses, plus CPU, memory, ENVMON, entity and
# StackWise tables the simulator does not have: those cost requests that come back empty).
write_config() { # write_config FILE API-PORT DEVICES INTERVAL OUTPUT(prometheus|none)
  {
    echo "api: { listen: 127.0.0.1:$2 }"
    echo "snmp:"
    echo "  interval: $4"
    echo "  devices:"
    for d in $(seq 0 $(($3 - 1))); do
      echo "    - { ip_address: $(ip_n "$d"), port: $SIM_PORT, community_string: public, name: sim-$d }"
    done
    echo "outputs:"
    if [ "$5" = prometheus ]; then echo "  prometheus: { enabled: true }"; else echo "  prometheus: { enabled: false }"; fi
    echo "  stdout: { enabled: false }"
    echo "shutdown: { drain_period: 0s }"
  } >"$1"
}
poll_counters() { # poll_counters API-PORT OUT : "ok failed values microseconds metrics" (empty if absent)
  # from /status (JSON; served with or without the prometheus output, unlike /metrics)
  curl -s -m 30 "http://127.0.0.1:$1/status" >"$2" 2>/dev/null || true
  jq -r '[.counters[]? | select(.name | startswith("nocbox.snmp."))] as $c
    | def v(n; f): [$c[] | select(.name == n and f) | .value] | if length == 0 then "" else add | tostring end;
    if ($c | length) == 0 then "" else
    [v("nocbox.snmp.polls"; .labels.result == "ok"), v("nocbox.snmp.polls"; .labels.result == "failed"),
     v("nocbox.snmp.values"; true), v("nocbox.snmp.poll_microseconds"; true), v("nocbox.snmp.metrics"; true)]
    | map(if . == "" then "0" else . end) | join(" ") end' "$2" 2>/dev/null || true
}
# dropped FILE : the sum of every *.dropped counter in a saved /status (output queues and store)
dropped() { jq '[.counters[]? | select(.name | endswith("dropped")) | .value] | add // 0' "$1" 2>/dev/null || echo "?"; }
# device_status API-PORT N : device N's /status message ("PROFILE: V values, M metrics, ...")
device_status() {
  curl -s -m 30 "http://127.0.0.1:$1/status" 2>/dev/null | jq -r --arg c "snmp:$(ip_n "$2"):$SIM_PORT" \
    '.components[$c] | "\(.message // "?") (last_poll_duration \(.detail.last_poll_duration // "?"))"' 2>/dev/null || true
}
# start_nocbox NAME DEVICES INTERVAL OUTPUT ROW : sets NPID and NAPI, or returns 1 (NOTE[ROW] says why)
start_nocbox() {
  NAPI=$(free_tcp)
  write_config "$WORK/$1.yaml" "$NAPI" "$2" "$3" "$4"
  if ! "$NOCBOX" validate --config "$WORK/$1.yaml" >"$WORK/$1.validate" 2>&1; then
    NOTE[$5]="config rejected: $(head -1 "$WORK/$1.validate")"; return 1
  fi
  NOCBOX_LOG=warn "$NOCBOX" run --config "$WORK/$1.yaml" >"$WORK/$1.out" 2>"$WORK/$1.log" &
  NPID=$!; STARTED[$NPID]=nocbox
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$NAPI/healthz" && return 0; sleep 0.1; done
  NOTE[$5]="did not become healthy; see $WORK/$1.log"; return 1
}
# wait_polls API WANT-POLLS MAX-SECONDS : until ok+failed polls >= WANT; 1 if the counters never appear
wait_polls() {
  local end ok fail
  end=$(calc "print $(now) + $3")
  while :; do
    read -r ok fail _ < <(poll_counters "$1" "$WORK/status-now.json")
    if [ -n "$ok" ] && [ "$(calc "print ($ok + ${fail:-0} >= $2) ? 1 : 0")" = 1 ]; then return 0; fi
    if [ "$(calc "print ($(now) > $end) ? 1 : 0")" = 1 ]; then
      if [ -n "$ok" ]; then return 2; fi
      return 1
    fi
    sleep 0.5
  done
}

# service_row ROW OUTPUT : nocbox run polling DEVICES devices; fills ROW's columns; 0 if it polled
service_row() {
  local row=$1 out=$2 tn0 iv ok0 f0 v0 p0 m0 ok1 f1 v1 p1 m1 n0 n1 s0 s1 t0 t1 polls values rc=1
  tn0=$(now)
  start_nocbox "$row" "$DEVICES" "$NOCBOX_INTERVAL" "$out" "$row" || return 1
  iv=$(secs "$NOCBOX_INTERVAL")
  if wait_polls "$NAPI" "$DEVICES" "$(calc "print $iv + 30")"; then
    read -r ok0 f0 v0 p0 m0 < <(poll_counters "$NAPI" "$WORK/$row-status-0.json")
    n0=$(cpu_ticks "$NPID"); s0=$(cpu_ticks "$SIM"); t0=$(now)
    # no /metrics requests inside the measured span (each one costs nocbox CPU): sleep through
    # ROUNDS cycles, then wait for the last polls
    sleep "$(calc "print $ROUNDS * $iv - 1")"
    if wait_polls "$NAPI" "$(calc "print $ok0 + $f0 + $ROUNDS * $DEVICES")" "$(calc "print $iv + 30")"; then
      n1=$(cpu_ticks "$NPID"); s1=$(cpu_ticks "$SIM"); t1=$(now)
      read -r ok1 f1 v1 p1 m1 < <(poll_counters "$NAPI" "$WORK/$row-status-1.json")
      polls=$(calc "print $ok1 + $f1 - $ok0 - $f0"); values=$(calc "print $v1 - $v0")
      VALUES[$row]=$values; WALKS[$row]=$polls
      # nocbox_snmp_poll_microseconds_total / polls: one device's whole poll, in ms
      WALL_MS[$row]=$(calc "printf \"%.1f\", ($p1 - $p0) / ($polls > 0 ? $polls : 1) / 1000")
      CPU_PER_K[$row]=$(calc "printf \"%.4f\", ($n1 - $n0) / $CLK / ($values > 0 ? $values : 1) * 1000")
      HWM[$row]=$(hwm_kb "$NPID")
      SIM_PCT[$row]=$(calc "printf \"%.0f\", 100 * ($s1 - $s0) / $CLK / ($t1 - $t0)")
      NOTE[$row]="output: $out; $polls polls ($(calc "print $f1 - $f0") failed) over $(calc "printf \"%.0f\", $t1 - $t0") s, interval $NOCBOX_INTERVAL; $(calc "printf \"%.0f\", $values / ($polls > 0 ? $polls : 1)") values and $(calc "printf \"%.0f\", ($m1 - $m0) / ($polls > 0 ? $polls : 1)") metrics per poll; device 0: $(device_status "$NAPI" 0); CPU includes idle time between cycles"
      rc=0
    else
      NOTE[$row]="polls did not complete $ROUNDS cycles in time; see $WORK/$row.log"
    fi
  else
    NOTE[$row]="no nocbox_snmp_polls_total on /metrics: this build has no SNMP poller"
  fi
  stop_pid "$NPID"
  SPAN[$row]="$tn0 $(now)"
  return $rc
}

# ---- nocbox run: the poller, with the prometheus output (exposition, like the exporter) and
# with no output at all (polling, profile evaluation and metric records only) ----
NOCBOX_OK=0
if [ ! -x "$NOCBOX" ]; then
  NOTE[nocbox]="skipped: no $NOCBOX (BUILD=1 builds it)"
else
  service_row nocbox prometheus && NOCBOX_OK=1
  service_row nocbox-no-output none || true
fi

# ---- scale: SCALE_DEVICES devices, nocbox only, once per output in SCALE_OUTPUTS ----
SCALE_LINES=""
if [ "$SCALE" = 1 ] && [ "$NOCBOX_OK" = 1 ]; then
  iv=$(secs "$SCALE_INTERVAL")
  SCALE_LINES=$(
    echo "| output | devices × interfaces | interval | span | polls ok / failed | ms per poll (mean) | values/s | nocbox CPU % of one core | CPU s per 1,000 values | RSS idle → now (peak) | simulator CPU % | others CPU % | output dropped |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  )
  for out in $SCALE_OUTPUTS; do
    echo "scale: $SCALE_DEVICES devices every $SCALE_INTERVAL, output $out, $SCALE_CYCLES measured cycles..." >&2
    start_nocbox "nocbox-scale-$out" "$SCALE_DEVICES" "$SCALE_INTERVAL" "$out" scale || {
      SCALE_LINES="$SCALE_LINES
| $out | ${NOTE[scale]} |"; continue
    }
    idle=$(rss_kb "$NPID")
    if wait_polls "$NAPI" "$SCALE_DEVICES" "$(calc "print 2 * $iv + 60")"; then
      read -r ok0 f0 v0 p0 _ < <(poll_counters "$NAPI" "$WORK/scale-$out-status-0.json")
      n0=$(cpu_ticks "$NPID"); s0=$(cpu_ticks "$SIM"); b0=$(busy_ticks); t0=$(now)
      sleep "$(calc "print $SCALE_CYCLES * $iv")"
      n1=$(cpu_ticks "$NPID"); s1=$(cpu_ticks "$SIM"); b1=$(busy_ticks); t1=$(now)
      read -r ok1 f1 v1 p1 _ < <(poll_counters "$NAPI" "$WORK/scale-$out-status-1.json")
      polls=$(calc "print $ok1 + $f1 - $ok0 - $f0")
      drop=$(dropped "$WORK/scale-$out-status-1.json")
      SCALE_LINES="$SCALE_LINES
| $out | $SCALE_DEVICES × $IFACES | $SCALE_INTERVAL | $(calc "printf \"%.0f\", $t1 - $t0") s | $(calc "print $ok1 - $ok0") / $(calc "print $f1 - $f0") | $(calc "printf \"%.1f\", ($p1 - $p0) / ($polls > 0 ? $polls : 1) / 1000") | $(calc "printf \"%.0f\", ($v1 - $v0) / ($t1 - $t0)") | $(calc "printf \"%.1f\", 100 * ($n1 - $n0) / $CLK / ($t1 - $t0)") | $(calc "printf \"%.4f\", ($n1 - $n0) / $CLK / (($v1 - $v0) > 0 ? $v1 - $v0 : 1) * 1000") | $idle → $(rss_kb "$NPID") kB ($(hwm_kb "$NPID") kB) | $(calc "printf \"%.1f\", 100 * ($s1 - $s0) / $CLK / ($t1 - $t0)") | $(calc "printf \"%.1f\", 100 * (($b1 - $b0) - ($n1 - $n0) - ($s1 - $s0)) / $CLK / ($t1 - $t0)") | $drop |"
    else
      SCALE_LINES="$SCALE_LINES
| $out | the first cycle of $SCALE_DEVICES polls did not finish within $((2 * ${iv%.*} + 60)) s; see $WORK/nocbox-scale-$out.log |"
    fi
    stop_pid "$NPID"
  done
  SCALE_LINES="$SCALE_LINES

others = the whole machine's busy time (/proc/stat) minus nocbox and the simulator. output
dropped = the sum of nocbox's *.dropped counters on /status at the end (the prometheus output keeps
at most max_series series, 100,000 by default)."
elif [ "$SCALE" = 1 ]; then
  SCALE_LINES="scale: skipped (the nocbox poller did not run: ${NOTE[nocbox]})"
fi

# ---- requests per walk to device 0 (tshark) ----
if [ -n "$TSHARK" ]; then
  sleep 0.5; stop_pid "$TSHARK"
  tshark -r "$WORK/device0.pcapng" -T fields -e frame.time_epoch >"$WORK/device0-requests.txt" 2>/dev/null || true
  for r in exporter cli; do
    [ -n "${SPAN[$r]:-}" ] || continue
    read -r a b <<<"${SPAN[$r]}"
    REQS[$r]=$(awk -v a="$a" -v b="$b" -v n="$ROUNDS" '$1 >= a && $1 <= b { c++ } END { printf "%.1f", c / n }' "$WORK/device0-requests.txt")
  done
  for r in nocbox nocbox-no-output; do
    [ -n "${SPAN[$r]:-}" ] || continue
    read -r a b <<<"${SPAN[$r]}"
    # bursts 2 s apart are polls; the first is shown apart (it may start before the span)
    REQS[$r]=$(awk -v a="$a" -v b="$b" '$1 >= a && $1 <= b {
        if (n == 0 || $1 - last > 2) { n++ } ; c[n]++; last = $1 }
      END { for (i = 2; i <= n; i++) { s += c[i] } ;
        if (n > 1) printf "%.1f (first poll %d; %d polls)", s / (n - 1), c[1], n; else if (n) printf "first poll %d", c[1] }' "$WORK/device0-requests.txt")
  done
fi

# ---- summary ----
per_value() { calc "print ${WALL_MS[$1]:-0} / (${VALUES[$1]:-0} > 0 ? ${VALUES[$1]:-0} : 1) * ${WALKS[$1]:-0}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.1fx", a / b; else print "n/a" }'; }
{
  echo "# SNMP polling: nocbox vs prometheus-snmp-exporter $("$EXPORTER" --version 2>&1 | awk 'NR == 1 { print $3 }'), $(date -u +%FT%TZ)"
  echo
  if [ -n "$SNMPREC" ]; then
    echo "$DEVICES simulated devices (examples/snmpagent.rs serving $(basename "$SNMPREC");"
  else
    echo "$DEVICES simulated devices (examples/snmpagent.rs --interfaces $IFACES: system group, ifTable and"
    echo -n "ifXTable; "
  fi
  echo "simulator: $(cat "$WORK/snmpagent.out")), each walked $ROUNDS times:"
  echo "ifTable + ifXTable with GETBULK max-repetitions 25. Simulator delay per request: $DELAY_MS ms. Machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| program | values (per walk) | wall ms per device walk | requests per walk (device 0) | CPU s per 1,000 values | peak RSS kB | simulator CPU % | notes |"
  echo "|---|---|---|---|---|---|---|---|"
  for r in $ROWS; do
    echo "| $r | ${VALUES[$r]:--} ($(calc "printf \"%.0f\", ${VALUES[$r]:-0} / (${WALKS[$r]:-0} > 0 ? ${WALKS[$r]:-0} : 1)")) | ${WALL_MS[$r]:--} | ${REQS[$r]:--} | ${CPU_PER_K[$r]:--} | ${HWM[$r]:--} | ${SIM_PCT[$r]:--} | ${NOTE[$r]:-} |"
  done
  echo
  echo "exporter / nocbox run: CPU per value $(ratio "${CPU_PER_K[exporter]:-}" "${CPU_PER_K[nocbox]:-}"), wall per walk $(ratio "${WALL_MS[exporter]:-}" "${WALL_MS[nocbox]:-}"), wall per value $(ratio "$(per_value exporter)" "$(per_value nocbox)"), peak RSS $(ratio "${HWM[exporter]:-}" "${HWM[nocbox]:-}")"
  echo "exporter / nocbox run without output: CPU per value $(ratio "${CPU_PER_K[exporter]:-}" "${CPU_PER_K[nocbox-no-output]:-}")"
  echo "exporter / nocbox snmp walk: CPU per value $(ratio "${CPU_PER_K[exporter]:-}" "${CPU_PER_K[cli]:-}"), wall per walk $(ratio "${WALL_MS[exporter]:-}" "${WALL_MS[cli]:-}")"
  echo
  echo "What each row fetched: exporter and nocbox snmp walk = the same two subtrees, ifTable"
  echo "(1.3.6.1.2.1.2, with ifNumber) and ifXTable (1.3.6.1.2.1.31.1.1), GETBULK max-repetitions 25;"
  echo "nocbox run = the profile matched by sysObjectID (device 0's /status message above names it)"
  echo "with the section's defaults (oid_batch_size 5, bulk_max_repetitions 10, max_in_flight 2): only"
  echo "the profile's columns, plus identification GETs, plus tables the simulator lacks. Compare per value."
  echo "Exporter wall = curl's time for one /snmp scrape (walk + exposition), median; its values ="
  echo "snmp_scrape_pdus_returned. CLI wall = the whole process (start-up included), median. nocbox"
  echo "run wall = nocbox_snmp_poll_microseconds_total / polls (mean of whole polls). Requests per"
  echo "walk = requests tshark saw to device 0 in the row's span / its walks. The simulator column"
  echo "is its CPU over the same span: far below 100 % means the agent did not set the pace."
  if [ -n "$SCALE_LINES" ]; then
    echo
    echo "## Scale"
    echo
    echo "$SCALE_LINES"
  fi
} >"$WORK/summary.md"
cat "$WORK/summary.md"
