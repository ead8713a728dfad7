#!/usr/bin/env bash
# bench/traps.sh [--quick] : nocbox and snmptrapd 5.9.3 receiving the same SNMPv2c trap stream,
# one after the other (never at the same time), on loopback, from examples/trapload.rs.
#
# The stream: one linkDown trap (community public; ifIndex, ifAdminStatus, ifOperStatus and a
# sequence-number string: 4 variables after sysUpTime.0 and snmpTrapOID.0, about 155 bytes),
# sent at a fixed rate from 4 source ports (sendmmsg batches, one every 250 µs). Each step
# sends for STEP_SECS seconds at one offered rate to each receiver in turn; a receiver leaves
# the ladder after two lossy steps in a row. A lossy step during which other programs and the
# hypervisor's steal took more than OTHERS_MAX % (default 20) of the machine is measured again
# once.
#
# Receivers: nocbox, and snmptrapd in two configurations:
# - snmptrapd-min: the fastest we found: `authCommunity log`, one short `format2` line, and
#   `doNotRetainNotificationLogs yes` (no NOTIFICATION-LOG-MIB table kept in memory);
# - snmptrapd-std: the test peer's configuration (shared/peers/snmptrapd.conf.in): `authCommunity
#   log,execute,net`, its longer `format2` line, the notification log kept (snmptrapd's default).
#
# Both receivers get the same socket receive buffer, RCVBUF bytes (default 4194304, requested
# with snmptrapd's `serverRecvBuf` and nocbox's `traps.receive_buffer`; the kernel doubles it),
# and both write every trap as one line to a file: snmptrapd with `-Lf` and a `format2` line that
# prints the variables, nocbox with its stdout output redirected to a file (stdout queue raised
# to 200000 events / 1 GiB so a burst waits in memory rather than being dropped, as snmptrapd
# waits in its socket buffer). The trap is counted in each file by its step marker; "lossless"
# means every trap sent in the step was written. CPU is utime+stime of the receiver's PID from
# /proc over the step and its drain, per trap written; the generator's CPU and the rest of the
# machine ("others": builds of other people; "stolen": the hypervisor's steal time) are shown
# beside it, because on 2 cores they compete with the receiver.
#
# Results: target/bench/traps/summary.md (also printed). Needs snmptrapd (Debian snmptrapd).
#
# For an A/B of two nocbox builds: NOCBOX_BIN=path (use that binary, build only the generator),
# RECEIVERS=nocbox (skip the snmptrapd steps), RATES="150000 180000 210000" (the steps), e.g.
#   for b in /tmp/old /tmp/new /tmp/old /tmp/new; do
#     NOCBOX_BIN=$b RECEIVERS=nocbox RATES="150000 180000 210000" bench/traps.sh | grep '| nocbox'
#   done
set -euo pipefail

ROOT=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
QUICK=0
[ "${1:-}" = --quick ] && QUICK=1
if [ "$QUICK" = 1 ]; then
  STEP_SECS=2
  RATES=${RATES:-"5000 20000 50000 100000"}
else
  STEP_SECS=5
  # From 10k/s the E24 series: each step 8-13 % above the last, so every receiver's highest
  # lossless step is within about 10 % of its real limit, and the ratio of two is too.
  RATES=${RATES:-"2000 5000 10000 11000 12000 13000 15000 16000 18000 20000 22000 24000 27000 30000 33000 36000 39000 43000 47000 51000 56000 62000 68000 75000 82000 91000 100000 110000 120000 130000 150000 160000 180000 200000 220000 240000 270000 300000 330000"}
fi
RCVBUF=${RCVBUF:-4194304}
WORK=${BENCH_DIR:-$ROOT/target/bench/traps}
OTHERS_MAX=${OTHERS_MAX:-20}
rm -rf "$WORK"; mkdir -p "$WORK"
command -v snmptrapd >/dev/null || { echo "snmptrapd missing (apt-get install snmptrapd)" >&2; exit 1; }

echo "building release binaries..." >&2
if [ -n "${NOCBOX_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet --example trapload)
  NOCBOX=$NOCBOX_BIN
else
  (cd "$ROOT" && cargo build --release --quiet --bin nocbox --example trapload)
  NOCBOX=$ROOT/target/release/nocbox
fi
LOAD=$ROOT/target/release/examples/trapload
CLK=$(getconf CLK_TCK)

# Processes started here, stopped by PID only while that PID still runs what we started.
declare -A STARTED=()
stop_all() {
  local pid
  for pid in "${!STARTED[@]}"; do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "${STARTED[$pid]}"; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
}
trap stop_all EXIT

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# box_ticks: busy (steal included), stolen by the hypervisor (steal, column 9), all
box_ticks() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, $9, t }' /proc/stat; }
rcvbuf_errors() { awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
granted() { ss -uamn "sport = :$1" | grep -o 'rb[0-9]*' | head -1 | tr -d rb; }

SPORT=$(free_port); DPORT=$(free_port); NPORT=$(free_port); APORT=$(free_port)
cat >"$WORK/snmptrapd-min.conf" <<EOF
snmpTrapdAddr udp:127.0.0.1:$SPORT
[snmp] persistentDir $WORK/persist-min
[snmp] serverRecvBuf $RCVBUF
doNotRetainNotificationLogs yes
authCommunity log public
format2 TRAP %b %V|%v\n
EOF
cat >"$WORK/snmptrapd-std.conf" <<EOF
snmpTrapdAddr udp:127.0.0.1:$DPORT
[snmp] persistentDir $WORK/persist-std
[snmp] serverRecvBuf $RCVBUF
authCommunity log,execute,net public
format2 NOTIF ver=%s sec=[%P] from=%b varbinds: %V | %v\n
EOF
cat >"$WORK/nocbox.yaml" <<EOF
api: { listen: 127.0.0.1:$APORT }
traps:
  listen: 127.0.0.1:$NPORT
  community_strings: public
  receive_buffer: $RCVBUF
outputs:
  stdout: { queue_size: 200000, queue_bytes: 1073741824 }
shutdown: { drain_period: 0s }
EOF

declare -A PORT=() PID=()
for v in min std; do
  mkdir -p "$WORK/persist-$v"
  # -A: append to the output file, so it can be emptied between steps while snmptrapd runs
  SNMP_PERSISTENT_DIR=$WORK/persist-$v snmptrapd -f -A -Lf "$WORK/snmptrapd-$v.out" -C \
    -c "$WORK/snmptrapd-$v.conf" -m '' -On -n &
  PID[snmptrapd-$v]=$!; STARTED[$!]=snmptrapd
done
PORT[snmptrapd-min]=$SPORT; PORT[snmptrapd-std]=$DPORT
# appending, so the file can be emptied between steps while nocbox keeps it open
NOCBOX_LOG=info "$NOCBOX" run --config "$WORK/nocbox.yaml" \
  >>"$WORK/nocbox.out" 2>"$WORK/nocbox.log" &
PID[nocbox]=$!; STARTED[$!]=nocbox; PORT[nocbox]=$NPORT
RECEIVERS=${RECEIVERS:-"snmptrapd-min snmptrapd-std nocbox"}
for _ in $(seq 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APORT/healthz/traps" || true)
  [ "$code" = 200 ] && [ -n "$(granted "$SPORT")" ] && [ -n "$(granted "$DPORT")" ] && break
  sleep 0.1
done
[ "$code" = 200 ] || { echo "nocbox did not start; see $WORK/nocbox.log" >&2; exit 1; }
declare -A IDLE=()
for r in $RECEIVERS; do IDLE[$r]=$(rss_kb "${PID[$r]}"); done

# drained NAME : waits until NAME's output file has stopped growing for 1 s (at most 60 s)
drained() {
  local file=$WORK/$1.out n last=-1 still=0
  for _ in $(seq 300); do
    n=$(stat -c %s "$file")
    if [ "$n" = "$last" ]; then still=$((still + 1)); [ "$still" -ge 5 ] && return; else still=0; fi
    last=$n
    sleep 0.2
  done
}
# written NAME RUN : lines carrying RUN's marker in NAME's output
written() { grep -a -c -F -- "\"$2-" "$WORK/$1.out" || true; }

busy_pct() { # machine busy % (of nproc × 100) over 0.5 s
  local b0 s0 a0 b1 s1 a1
  read -r b0 s0 a0 < <(box_ticks); sleep 0.5; read -r b1 s1 a1 < <(box_ticks)
  awk -v b=$((b1 - b0)) -v a=$((a1 - a0)) -v n="$(nproc)" 'BEGIN { printf "%.0f", (a > 0 ? 100 * n * b / a : 0) }'
}
wait_quiet() { # up to 20 s for the machine to drop below OTHERS_MAX % busy
  local _
  for _ in $(seq 40); do [ "$(busy_pct)" -lt "$OTHERS_MAX" ] && return 0; done
  echo "the machine stayed busy for 20 s; measuring anyway" >&2
}

# measure NAME RATE RUN : one step; appends a row, sets LOST, CPU_US and OTHERS (other
# programs and the hypervisor's steal together)
measure() {
  local name=$1 rate=$2 run=$3 pid=${PID[$1]} port=${PORT[$1]}
  local t0 t1 b0 s0 a0 b1 s1 a1 e0 e1 j sent gen got wps cpu_pct gen_pct stolen
  : >"$WORK/$name.out" # every receiver appends, so this empties it safely
  wait_quiet
  t0=$(cpu_ticks "$pid"); read -r b0 s0 a0 < <(box_ticks); e0=$(rcvbuf_errors)
  j=$("$LOAD" "127.0.0.1:$port" "$rate" "$STEP_SECS" 4 "$run")
  drained "$name"
  t1=$(cpu_ticks "$pid"); read -r b1 s1 a1 < <(box_ticks); e1=$(rcvbuf_errors)
  got=$(written "$name" "$run")
  echo "$j" >>"$WORK/steps.jsonl"
  sent=$(field "$j" sent); gen=$(field "$j" cpu_s)
  LOST=$((sent - got))
  read -r CPU_US cpu_pct gen_pct OTHERS stolen wps < <(awk -v t=$((t1 - t0)) -v c="$CLK" -v n="$got" \
    -v busy=$((b1 - b0)) -v st=$((s1 - s0)) -v all=$((a1 - a0)) -v g="$gen" -v cpus="$(nproc)" \
    -v secs="$STEP_SECS" 'BEGIN {
      wall = all / c / cpus; if (wall <= 0) wall = 1
      recv = t / c; o = (busy - st) / c - recv - g; if (o < 0) o = 0
      printf "%s %.0f %.0f %.0f %.0f %.0f\n", (n > 0 ? sprintf("%.1f", recv / n * 1e6) : "-"),
        100 * recv / wall, 100 * g / secs, 100 * o / wall, 100 * st / c / wall, n / secs }')
  echo "| $rate | $name | $sent | $got | $LOST | $((e1 - e0)) | $wps | $CPU_US | $cpu_pct | $gen_pct | $OTHERS | $stolen |" >>"$WORK/summary.md"
  OTHERS=$((OTHERS + stolen))
  echo "$name $rate/s: sent $sent written $got (others and stolen ${OTHERS}%)" >&2
}

{
  echo "# Traps: nocbox vs snmptrapd $(snmptrapd --version 2>&1 | awk '/NET-SNMP Version/ {print $NF}'), $(date -u +%FT%TZ)"
  echo
  echo "Offered-rate steps of ${STEP_SECS} s, SNMPv2c linkDown with 4 variables, 4 source ports;"
  echo "socket buffer requested ${RCVBUF} B (granted: snmptrapd $(granted "$SPORT"), nocbox $(granted "$NPORT"))."
  echo "Machine: $(nproc) CPUs, busy $(busy_pct) % before the run; 'others' is the CPU other"
  echo "programs used during the step and 'stolen' the time the hypervisor gave the VM's CPUs to"
  echo "other guests (/proc/stat steal), both in % of $(($(nproc) * 100))."
  echo
  echo "| offered/s | receiver | sent | written | lost | RcvbufErrors Δ | written/s | receiver CPU µs per trap | receiver CPU % | generator CPU % | others % | stolen % |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
} >"$WORK/summary.md"

declare -A best=() lossy=() best_cpu=() first_loss=()
for r in $RECEIVERS; do best[$r]=0; lossy[$r]=0; best_cpu[$r]=-; first_loss[$r]=none; done
step=0
for rate in $RATES; do
  step=$((step + 1))
  for name in $RECEIVERS; do
    [ "${lossy[$name]}" -ge 2 ] && continue
    measure "$name" "$rate" "${name:0:1}${name: -1}$step"
    if [ "$LOST" -gt 0 ] && [ "$OTHERS" -gt "$OTHERS_MAX" ]; then
      echo "$name $rate/s: other programs and steal took ${OTHERS}%; measuring again" >&2
      measure "$name" "$rate" "${name:0:1}${name: -1}${step}r"
    fi
    if [ "$LOST" -eq 0 ]; then
      lossy[$name]=0
      if [ "$rate" -gt "${best[$name]}" ]; then best[$name]=$rate; best_cpu[$name]=$CPU_US; fi
    else
      lossy[$name]=$((lossy[$name] + 1))
      [ "${first_loss[$name]}" = none ] && first_loss[$name]=$rate
    fi
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }
{
  echo
  echo "Highest offered rate written without loss (CPU per trap at that rate; the first step that lost any):"
  for r in $RECEIVERS; do echo "- $r: ${best[$r]}/s (${best_cpu[$r]} µs; first loss at ${first_loss[$r]})"; done
  echo
  echo "nocbox / snmptrapd-min: $(ratio "${best[nocbox]:-0}" "${best[snmptrapd-min]:-0}") the rate;" \
    "nocbox / snmptrapd-std: $(ratio "${best[nocbox]:-0}" "${best[snmptrapd-std]:-0}") the rate."
  echo
  echo "RSS idle → after the run (peak):"
  for r in $RECEIVERS; do
    echo "- $r: ${IDLE[$r]} → $(rss_kb "${PID[$r]}") kB ($(hwm_kb "${PID[$r]}") kB)"
  done
  if [ "${best[nocbox]:-}" = "$(echo "$RATES" | awk '{print $NF}')" ]; then
    echo
    echo "nocbox was lossless at the highest offered rate: its limit is above this ladder."
  fi
} >>"$WORK/summary.md"
cat "$WORK/summary.md"
