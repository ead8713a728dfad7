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
#      and `outputs: {prometheus: {enabled: true}}`; from http://127.0.0.1:API/metrics the
#      service's own counters nocbox_snmp_polls_total{result="ok"|"failed"},
#      nocbox_snmp_values_total and nocbox_snmp_poll_seconds_total, over ROUNDS poll cycles after
#      a first (warm-up) cycle. A build without the poller never shows these: the row says so.
#    Per program: wall time per device walk (exporter: curl's total per scrape; CLI: the process;
#    nocbox run: poll_seconds_total / polls), CPU seconds per 1,000 values (utime+stime from
#    /proc/PID/stat), peak RSS (VmHWM), and the simulator's CPU over the same span (to show it is
#    not the bottleneck).
# 2. Scale (nocbox only; SCALE=0 skips it): SCALE_DEVICES devices × IFACES interfaces polled
#    every SCALE_INTERVAL; after the first full cycle, CPU % and RSS over SCALE_CYCLES cycles,
#    polls ok/failed, values per second, and the simulator's CPU.
#
# Environment (defaults in brackets; --quick: DEVICES 10, ROUNDS 2, SCALE_INTERVAL 20s,
# SCALE_CYCLES 2): DEVICES [20] IFACES [50] ROUNDS [3] NOCBOX_INTERVAL [10s] SCALE [1]
# SCALE_DEVICES [1000] SCALE_INTERVAL [60s] SCALE_CYCLES [3] BUILD [1: cargo build --release of
# nocbox and the simulator; 0 uses what is in target/release] BENCH_DIR [target/bench/snmp]
# NOCBOX [target/release/nocbox] SNMPREC [empty; a .snmprec or .snmprec.bz2 recording (e.g. from
# snmpsim-data, see tests/peers/snmpsim.sh) to serve instead of the synthetic switch].
# Needs prometheus-snmp-exporter (Debian package) and curl. The simulated devices listen on
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
BUILD=${BUILD:-1}
SNMPREC=${SNMPREC:-}
WORK=${BENCH_DIR:-$ROOT/target/bench/snmp}
FIRST_IP=127.0.2.1
rm -rf "$WORK"; mkdir -p "$WORK"

EXPORTER=$(command -v prometheus-snmp-exporter || true)
[ -n "$EXPORTER" ] || { echo "prometheus-snmp-exporter missing (apt-get install prometheus-snmp-exporter)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl missing" >&2; exit 1; }

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
if [ -n "$SNMPREC" ]; then
  case $SNMPREC in
    *.bz2) bzcat "$SNMPREC" >"$WORK/device.snmprec" ;;
    *) cp "$SNMPREC" "$WORK/device.snmprec" ;;
  esac
  DATA=(--snmprec "$WORK/device.snmprec")
fi
"$AGENT" "${DATA[@]}" --listen "$FIRST_IP:$SIM_PORT" --count "$NEED_AGENTS" \
  >"$WORK/snmpagent.out" 2>"$WORK/snmpagent.log" &
SIM=$!; STARTED[$SIM]=snmpagent
for _ in $(seq 200); do grep -q '^ready' "$WORK/snmpagent.out" && break; sleep 0.05; done
grep -q '^ready' "$WORK/snmpagent.out" || { echo "snmpagent did not start; see $WORK/snmpagent.log" >&2; exit 1; }
echo "simulator: $(cat "$WORK/snmpagent.out")" >&2

declare -A WALL_MS=() CPU_PER_K=() HWM=() SIM_PCT=() VALUES=() NOTE=()
ROWS="exporter cli nocbox"

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
values=0; walls=""; failed=0
e0=$(cpu_ticks "$EXP"); s0=$(cpu_ticks "$SIM"); t0=$(now)
for r in $(seq "$ROUNDS"); do
  for d in $(seq 0 $((DEVICES - 1))); do
    w=$(scrape "$d" "$WORK/exporter-scrape.txt")
    n=$(metric "$WORK/exporter-scrape.txt" snmp_scrape_pdus_returned)
    if [ -z "$n" ] || ! grep -q '^ifHCInOctets{' "$WORK/exporter-scrape.txt"; then failed=$((failed + 1)); n=${n:-0}; fi
    values=$(calc "print $values + $n")
    walls="$walls $w"
  done
  echo "exporter round $r done" >&2
done
e1=$(cpu_ticks "$EXP"); s1=$(cpu_ticks "$SIM"); t1=$(now)
cp "$WORK/exporter-scrape.txt" "$WORK/exporter-last-scrape.txt"
VALUES[exporter]=$values
WALL_MS[exporter]=$(median_ms "$walls")
CPU_PER_K[exporter]=$(calc "printf \"%.4f\", ($e1 - $e0) / $CLK / ($values > 0 ? $values : 1) * 1000")
HWM[exporter]=$(hwm_kb "$EXP")
SIM_PCT[exporter]=$(calc "printf \"%.0f\", 100 * ($s1 - $s0) / $CLK / ($t1 - $t0)")
NOTE[exporter]="$((ROUNDS * DEVICES)) scrapes, $failed failed; $(calc "printf \"%.2f\", ($e1 - $e0) / $CLK") CPU-s over $(calc "printf \"%.1f\", $t1 - $t0") s"
stop_pid "$EXP"

# ---- nocbox snmp walk (the CLI), when this build has it ----
if [ -x "$NOCBOX" ] && "$NOCBOX" snmp walk --help >/dev/null 2>&1; then
  # net-snmp spells it -Cr25; accept a CLI that wants -Cr 25 too
  CR=(-Cr25)
  if ! "$NOCBOX" snmp walk -v 2c -c public "${CR[@]}" "$(ip_n 0):$SIM_PORT" 1.3.6.1.2.1.1 >/dev/null 2>&1; then CR=(-Cr 25); fi
  values=0; walls=""; cpu=0; peak=0; failed=0
  s0=$(cpu_ticks "$SIM"); t0=$(now)
  for r in $(seq "$ROUNDS"); do
    for d in $(seq 0 $((DEVICES - 1))); do
      ta=$(now)
      if /usr/bin/time -f '%U %S %M' -o "$WORK/cli-time.txt" "$NOCBOX" snmp walk -v 2c -c public "${CR[@]}" \
        "$(ip_n "$d"):$SIM_PORT" 1.3.6.1.2.1.2 1.3.6.1.2.1.31.1.1 >"$WORK/cli-walk.txt" 2>"$WORK/cli-walk.err"; then :
      else failed=$((failed + 1)); fi
      tb=$(now)
      read -r u s m <"$WORK/cli-time.txt"
      cpu=$(calc "print $cpu + $u + $s"); [ "$m" -gt "$peak" ] && peak=$m
      values=$((values + $(grep -c '^\.' "$WORK/cli-walk.txt" || true)))
      walls="$walls $(calc "print $tb - $ta")"
    done
  done
  s1=$(cpu_ticks "$SIM"); t1=$(now)
  VALUES[cli]=$values
  WALL_MS[cli]=$(median_ms "$walls")
  CPU_PER_K[cli]=$(calc "printf \"%.4f\", $cpu / ($values > 0 ? $values : 1) * 1000")
  HWM[cli]=$peak
  SIM_PCT[cli]=$(calc "printf \"%.0f\", 100 * ($s1 - $s0) / $CLK / ($t1 - $t0)")
  NOTE[cli]="$((ROUNDS * DEVICES)) processes, $failed failed (CPU includes process start-up)"
else
  NOTE[cli]="skipped: $NOCBOX has no 'snmp walk' (H1's CLI not merged)"
fi

# ---- nocbox run: the poller ----
# INTEGRATOR: this part needs the poller merged. It relies on (a) the `snmp:` config below
# (ip_address/port/community_string/name per device, snmp.interval) and (b) these series on
# /metrics: nocbox_snmp_polls_total{result="ok"|"failed"}, nocbox_snmp_values_total,
# nocbox_snmp_poll_seconds_total. Adjust write_config/poll_counters if the names differ.
write_config() { # write_config FILE API-PORT DEVICES INTERVAL
  {
    echo "api: { listen: 127.0.0.1:$2 }"
    echo "snmp:"
    echo "  interval: $4"
    echo "  devices:"
    for d in $(seq 0 $(($3 - 1))); do
      echo "    - { ip_address: $(ip_n "$d"), port: $SIM_PORT, community_string: public, name: sim-$d }"
    done
    echo "outputs:"
    echo "  prometheus: { enabled: true }"
    echo "  stdout: { enabled: false }"
    echo "shutdown: { drain_period: 0s }"
  } >"$1"
}
poll_counters() { # poll_counters API-PORT OUT : "ok failed values seconds" (empty if absent)
  curl -s -m 30 "http://127.0.0.1:$1/metrics" 2>/dev/null | grep '^nocbox_snmp_\|^nocbox_output_dropped' >"$2" || true
  echo "$(metric "$2" nocbox_snmp_polls_total 'result="ok"') $(metric "$2" nocbox_snmp_polls_total 'result="failed"') $(metric "$2" nocbox_snmp_values_total) $(metric "$2" nocbox_snmp_poll_seconds_total)"
}
# start_nocbox NAME DEVICES INTERVAL : sets NPID and NAPI, or returns 1
start_nocbox() {
  NAPI=$(free_tcp)
  write_config "$WORK/$1.yaml" "$NAPI" "$2" "$3"
  if ! "$NOCBOX" validate --config "$WORK/$1.yaml" >"$WORK/$1.validate" 2>&1; then
    NOTE[nocbox]="config rejected: $(head -1 "$WORK/$1.validate")"; return 1
  fi
  NOCBOX_LOG=warn "$NOCBOX" run --config "$WORK/$1.yaml" >"$WORK/$1.out" 2>"$WORK/$1.log" &
  NPID=$!; STARTED[$NPID]=nocbox
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$NAPI/healthz" && return 0; sleep 0.1; done
  NOTE[nocbox]="did not become healthy; see $WORK/$1.log"; return 1
}
# wait_polls API WANT-POLLS MAX-SECONDS : until ok+failed polls >= WANT; 1 if the counters never appear
wait_polls() {
  local end ok fail
  end=$(calc "print $(now) + $3")
  while :; do
    read -r ok fail _ _ < <(poll_counters "$1" "$WORK/metrics-now.txt")
    if [ -n "$ok" ] && [ "$(calc "print ($ok + ${fail:-0} >= $2) ? 1 : 0")" = 1 ]; then return 0; fi
    if [ "$(calc "print ($(now) > $end) ? 1 : 0")" = 1 ]; then
      if [ -n "$ok" ]; then return 2; fi
      return 1
    fi
    sleep 0.5
  done
}

NOCBOX_OK=0
if [ ! -x "$NOCBOX" ]; then
  NOTE[nocbox]="skipped: no $NOCBOX (BUILD=1 builds it)"
elif start_nocbox nocbox "$DEVICES" "$NOCBOX_INTERVAL"; then
  iv=$(secs "$NOCBOX_INTERVAL")
  if wait_polls "$NAPI" "$DEVICES" "$(calc "print $iv + 30")"; then
    read -r ok0 f0 v0 p0 < <(poll_counters "$NAPI" "$WORK/nocbox-metrics-0.txt")
    n0=$(cpu_ticks "$NPID"); s0=$(cpu_ticks "$SIM"); t0=$(now)
    if wait_polls "$NAPI" "$(calc "print $ok0 + $f0 + $ROUNDS * $DEVICES")" "$(calc "print ($ROUNDS + 1) * $iv + 30")"; then
      n1=$(cpu_ticks "$NPID"); s1=$(cpu_ticks "$SIM"); t1=$(now)
      read -r ok1 f1 v1 p1 < <(poll_counters "$NAPI" "$WORK/nocbox-metrics-1.txt")
      polls=$(calc "print $ok1 + $f1 - $ok0 - $f0"); values=$(calc "print $v1 - $v0")
      VALUES[nocbox]=$values
      WALL_MS[nocbox]=$(calc "printf \"%.1f\", ($p1 - $p0) / ($polls > 0 ? $polls : 1) * 1000")
      CPU_PER_K[nocbox]=$(calc "printf \"%.4f\", ($n1 - $n0) / $CLK / ($values > 0 ? $values : 1) * 1000")
      HWM[nocbox]=$(hwm_kb "$NPID")
      SIM_PCT[nocbox]=$(calc "printf \"%.0f\", 100 * ($s1 - $s0) / $CLK / ($t1 - $t0)")
      NOTE[nocbox]="$polls polls ($(calc "print $f1 - $f0") failed) over $(calc "printf \"%.0f\", $t1 - $t0") s, interval $NOCBOX_INTERVAL; CPU includes idle time between cycles"
      NOCBOX_OK=1
    else
      NOTE[nocbox]="polls did not complete $ROUNDS cycles in time; see $WORK/nocbox.log"
    fi
  else
    NOTE[nocbox]="no nocbox_snmp_polls_total on /metrics: this build has no SNMP poller (see INTEGRATOR in bench/snmp.sh)"
  fi
  stop_pid "$NPID"
fi

# ---- scale: SCALE_DEVICES devices, nocbox only ----
SCALE_LINES=""
if [ "$SCALE" = 1 ] && [ "$NOCBOX_OK" = 1 ]; then
  iv=$(secs "$SCALE_INTERVAL")
  echo "scale: $SCALE_DEVICES devices every $SCALE_INTERVAL, $SCALE_CYCLES measured cycles..." >&2
  if start_nocbox nocbox-scale "$SCALE_DEVICES" "$SCALE_INTERVAL"; then
    idle=$(rss_kb "$NPID")
    if wait_polls "$NAPI" "$SCALE_DEVICES" "$(calc "print 2 * $iv + 60")"; then
      read -r ok0 f0 v0 _ < <(poll_counters "$NAPI" "$WORK/scale-metrics-0.txt")
      n0=$(cpu_ticks "$NPID"); s0=$(cpu_ticks "$SIM"); t0=$(now)
      sleep "$(calc "print $SCALE_CYCLES * $iv")"
      n1=$(cpu_ticks "$NPID"); s1=$(cpu_ticks "$SIM"); t1=$(now)
      read -r ok1 f1 v1 _ < <(poll_counters "$NAPI" "$WORK/scale-metrics-1.txt")
      dropped=$(metric "$WORK/scale-metrics-1.txt" nocbox_output_dropped_total)
      SCALE_LINES=$(
        echo "| devices × interfaces | interval | span | polls ok / failed | values/s | nocbox CPU % of one core | RSS idle → now (peak) | simulator CPU % |"
        echo "|---|---|---|---|---|---|---|---|"
        echo "| $SCALE_DEVICES × $IFACES | $SCALE_INTERVAL | $(calc "printf \"%.0f\", $t1 - $t0") s | $(calc "print $ok1 - $ok0") / $(calc "print $f1 - $f0") | $(calc "printf \"%.0f\", ($v1 - $v0) / ($t1 - $t0)") | $(calc "printf \"%.1f\", 100 * ($n1 - $n0) / $CLK / ($t1 - $t0)") | $idle → $(rss_kb "$NPID") kB ($(hwm_kb "$NPID") kB) | $(calc "printf \"%.1f\", 100 * ($s1 - $s0) / $CLK / ($t1 - $t0)") |"
        echo
        echo "nocbox_output_dropped_total at the end: ${dropped:-0} (the prometheus output keeps max_series series)"
      )
    else
      SCALE_LINES="scale: the first cycle of $SCALE_DEVICES polls did not finish within $((2 * ${iv%.*} + 60)) s; see $WORK/nocbox-scale.log"
    fi
    stop_pid "$NPID"
  fi
elif [ "$SCALE" = 1 ]; then
  SCALE_LINES="scale: skipped (the nocbox poller did not run: ${NOTE[nocbox]})"
fi

# ---- summary ----
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
  echo "ifTable + ifXTable with GETBULK max-repetitions 25. Machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| program | values | wall ms per device walk | CPU s per 1,000 values | peak RSS kB | simulator CPU % | notes |"
  echo "|---|---|---|---|---|---|---|"
  for r in $ROWS; do
    echo "| $r | ${VALUES[$r]:--} | ${WALL_MS[$r]:--} | ${CPU_PER_K[$r]:--} | ${HWM[$r]:--} | ${SIM_PCT[$r]:--} | ${NOTE[$r]:-} |"
  done
  echo
  echo "exporter / nocbox run: CPU per value $(ratio "${CPU_PER_K[exporter]:-}" "${CPU_PER_K[nocbox]:-}"), wall per walk $(ratio "${WALL_MS[exporter]:-}" "${WALL_MS[nocbox]:-}"), peak RSS $(ratio "${HWM[exporter]:-}" "${HWM[nocbox]:-}")"
  echo "exporter / nocbox snmp walk: CPU per value $(ratio "${CPU_PER_K[exporter]:-}" "${CPU_PER_K[cli]:-}"), wall per walk $(ratio "${WALL_MS[exporter]:-}" "${WALL_MS[cli]:-}")"
  echo
  echo "Exporter wall = curl's time for one /snmp scrape (walk + exposition), median; its values ="
  echo "snmp_scrape_pdus_returned. The simulator column is its CPU over the same span: far below"
  echo "100 % means the agent did not set the pace."
  if [ -n "$SCALE_LINES" ]; then
    echo
    echo "## Scale"
    echo
    echo "$SCALE_LINES"
  fi
} >"$WORK/summary.md"
cat "$WORK/summary.md"
