#!/usr/bin/env bash
# bench/syslog.sh [--quick] [--keep] : syslog throughput, CPU, memory and UDP loss of nocbox and
# rsyslog 8.2302, side by side, in one run, on loopback only, with the same loggen settings.
#
#   bench/syslog.sh           full run (about 15 minutes on a quiet machine)
#   bench/syslog.sh --quick   3-second cases and four UDP steps (about 2 minutes)
#   bench/syslog.sh --keep    keep the receivers' output files (they are large; deleted by default)
#
# Run it from anywhere; it builds target/release/nocbox itself (cargo build --release). Needs
# rsyslog (Debian package), ss (iproute2), curl, and loggen from syslog-ng-core, which this
# script unpacks with tests/peers/loggen.sh download when it is missing (needs apt-get update
# once). Everything binds 127.0.0.1 on free high ports. See docs/PERFORMANCE.md.
#
# The programs run one after the other, never at the same time, each case on a fresh process:
#   nocbox  : target/release/nocbox run --config <generated yaml>, stdout (JSON lines) to a file
#   rsyslog : rsyslogd -n -f <generated conf> -i <pidfile>: imudp (rcvbufSize 64m) + imptcp ->
#             omfile with template "%rawmsg%\n"; no imuxsock; its own workDirectory
# Cases: UDP at a fixed rate, TCP unlimited with 1 and 4 connections, the Cisco/Junos fixture
# (bench/fixtures/cisco-junos.txt, loggen -R -l -d) over UDP and TCP, each TCP case once more
# with nocbox's syslog.tcp.backpressure on (variant "bp"); in full mode the TCP cases then run
# twice more (BENCH_TCP_ROUNDS=3; rows "CASE#2", "CASE#3"), alternating the programs, and the
# summary compares medians over the rounds, because a single TCP run moves by ±20 %. Last, the
# highest lossless UDP rate, stepping the offered rate (two loggen processes above 100k/s).
# Per case it reports: lines written / seconds from the first send to the last line written,
# CPU seconds per million messages (utime+stime of the receiver PID from /proc/PID/stat over the
# case, including the drain), idle RSS and peak RSS (VmHWM of the fresh process), loss (loggen's
# own sent count minus lines written), and for UDP the socket's drop counter (/proc/net/udp) and
# the machine-wide RcvbufErrors delta (/proc/net/snmp). loggen shares the 2 cores: the "loggen
# CPU", "box busy" and "others" columns show how much of the machine loggen and everything else
# used. Each case first waits (up to BENCH_QUIET_WAIT=20 s) for the machine to be below
# BENCH_QUIET_BUSY=20 % busy, and is measured again once if other programs used more than
# BENCH_OTHERS_MAX=40 % during it.
#
# Results: target/bench/syslog/ (or $BENCH_DIR): results.tsv, summary.md, one folder per case
# with configs, logs, loggen output and nocbox's /metrics; summary.md is also printed at the end.
set -euo pipefail

ROOT=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
QUICK=0
KEEP=0
for a in "$@"; do
  case $a in
    --quick) QUICK=1 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "${0##*/}: unknown argument '$a' (try --help)" >&2; exit 2 ;;
  esac
done

if [ "$QUICK" = 1 ]; then
  CASE_SECS=3         # each throughput case
  STEP_SECS=3         # each step of the lossless-rate search
  STEP_RATES="20000 50000 100000 160000"
  QUIET_SECS=0.7      # the output counts as drained when it has not grown for this long
else
  CASE_SECS=10
  STEP_SECS=5
  STEP_RATES="10000 20000 40000 60000 80000 100000 120000 160000"
  QUIET_SECS=1.5
fi
# Rounds of the TCP cases (the first is the one in the main tables); BENCH_TCP_ROUNDS overrides.
TCP_ROUNDS=${BENCH_TCP_ROUNDS:-$((QUICK == 1 ? 1 : 3))}
UDP_RATE=40000        # loggen -r for the fixed-rate UDP cases: loggen overshoots by ~27 %, so
                      # this offers about 50k msg/s (the real offered rate is printed)
UNLIMITED=1000000     # loggen's default -r is 1000 msg/s: "unlimited" is a rate it never reaches
ONE_LOGGEN_MAX=100000 # above this nominal rate the step uses two loggen processes
NOCBOX_RCVBUF=67108864
RSYSLOG_RCVBUF=64m
# When nocbox's granted UDP socket buffer differs from rsyslog's (SO_RCVBUF is capped at
# net.core.rmem_max, SO_RCVBUFFORCE is not), the lossless search runs rsyslog a second time with
# nocbox's buffer ("samebuf"). Full mode only.
RSYSLOG_EQUAL_BUF=$((1 - QUICK))
# Before each measurement wait (up to BENCH_QUIET_WAIT seconds) until the rest of the machine
# uses less than BENCH_QUIET_BUSY % (of 200 %): other people's builds and tests share the cores.
QUIET_WAIT=${BENCH_QUIET_WAIT:-20}
QUIET_BUSY=${BENCH_QUIET_BUSY:-20}

WORK=${BENCH_DIR:-$ROOT/target/bench/syslog}
FIXTURE=$ROOT/bench/fixtures/cisco-junos.txt
NOCBOX=$ROOT/target/release/nocbox
PEERS_DIR=${PEERS_DIR:-$ROOT/target/nocbox-peers}
LOGGEN_DIR=${LOGGEN_DIR:-$PEERS_DIR/loggen}
LOGGEN_ROOT=$LOGGEN_DIR/root/usr
LOGGEN=$LOGGEN_ROOT/bin/loggen
HZ=$(getconf CLK_TCK)

die() { echo "${0##*/}: $*" >&2; exit 1; }
note() { echo "${0##*/}: $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Processes: every process started here is recorded with a string its command line contains;
# it is stopped by that PID only, and only while the PID still runs that program.
declare -A STARTED=()

proc_is() { # proc_is PID MATCH
  [ -r "/proc/$1/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

stop_proc() { # stop_proc PID : TERM, wait up to 10 s, then KILL
  local pid=$1 match=${STARTED[$1]:-}
  if [ -n "$match" ] && kill -0 "$pid" 2>/dev/null && proc_is "$pid" "$match"; then
    kill "$pid" 2>/dev/null || true
    local _
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      note "pid $pid ($match) ignored SIGTERM for 10 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
  unset "STARTED[$pid]"
}

cleanup() {
  local pid
  for pid in "${!STARTED[@]}"; do stop_proc "$pid"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Small readers of /proc
cpu_ticks() { # utime+stime of PID
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
cpu_split() { # "utime stime" of PID
  awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$1/stat" 2>/dev/null || echo 0 0
}
queue_depth() { # nocbox's stdout queue depth from /metrics (0 when unreadable)
  curl -s -m 1 "http://127.0.0.1:$N_API/metrics" 2>/dev/null \
    | awk '/^nocbox_pipeline_queue_depth/ { d += $NF } END { print d + 0 }'
}
status_kb() { # status_kb PID FIELD -> kB
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}
rcvbuf_errors() {
  awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp
}
box_ticks() { # "busy total" jiffies over all CPUs
  awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
sock_drops() { # sock_drops PORT : drops column of the UDP socket bound to 127.0.0.1:PORT
  local hex
  hex=$(printf '0100007F:%04X' "$1")
  awk -v a="$hex" '$2 == a { print $NF; found = 1 } END { if (!found) print "NA" }' /proc/net/udp
}
granted_rcvbuf() { # granted_rcvbuf PORT : SO_RCVBUF the kernel granted (ss skmem rb)
  ss -Hulnm "sport = :$1" 2>/dev/null | grep -o 'rb[0-9]*' | head -1 | tr -d rb
}
now() { date +%s.%N; }

busy_pct_over() { # busy_pct_over SECONDS : machine busy % (of 200) over that long
  local a b
  a=$(box_ticks); sleep "$1"; b=$(box_ticks)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "%.0f", (y[2] > x[2]) ? 200 * (y[1] - x[1]) / (y[2] - x[2]) : 0 }'
}

QUIET_WAITED=0
wait_quiet() { # at least 0.5 s; longer while the machine is busy (up to QUIET_WAIT s)
  local start b
  start=$SECONDS
  while :; do
    b=$(busy_pct_over 0.5)
    [ "$b" -lt "$QUIET_BUSY" ] && return 0
    if [ $((SECONDS - start)) -ge "$QUIET_WAIT" ]; then
      note "machine still ${b}% busy after ${QUIET_WAIT}s of waiting; measuring anyway"
      return 0
    fi
    QUIET_WAITED=$((QUIET_WAITED + 1))
  done
}

# ---------------------------------------------------------------------------------------------
# Ports
USED_PORTS=" "
pick_port() { # pick_port VAR : a free TCP+UDP port on this machine
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    case $USED_PORTS in *" $p "*) continue ;; esac
    if [ -z "$(ss -Htuln "sport = :$p" 2>/dev/null)" ]; then
      USED_PORTS+="$p "
      printf -v "$1" '%s' "$p"
      return
    fi
  done
}

wait_listen() { # wait_listen udp|tcp PORT PID
  local flag=-Hltn i
  [ "$1" = udp ] && flag=-Hlun
  for i in $(seq 1 100); do
    if [ -n "$(ss "$flag" "sport = :$2" 2>/dev/null)" ]; then return 0; fi
    kill -0 "$3" 2>/dev/null || die "receiver (pid $3) exited during start-up; see $CASE_DIR"
    sleep 0.1
  done
  die "nothing listens on $1 port $2 after ${i}0 ms; see $CASE_DIR"
}

# ---------------------------------------------------------------------------------------------
# Receivers. start_receiver sets RECV_PID, RECV_OUT, RECV_UDP, RECV_TCP.
start_nocbox() { # start_nocbox VARIANT : "bp" turns syslog.tcp.backpressure on
  local bp=false
  [ "${1:-}" = bp ] && bp=true
  cat >"$CASE_DIR/nocbox.yaml" <<EOF
# generated by bench/syslog.sh
api: { listen: "127.0.0.1:$N_API" }
syslog:
  udp: { listen: "127.0.0.1:$N_UDP", receive_buffer: $NOCBOX_RCVBUF }
  tcp: { listen: "127.0.0.1:$N_TCP", backpressure: $bp }
outputs:
  stdout: { enabled: true, queue_size: 200000 }
# measurements end before the stop: no 10 s drain period at SIGTERM
shutdown: { drain_period: 0s }
EOF
  RECV_OUT=$CASE_DIR/nocbox.out
  "$NOCBOX" run --config "$CASE_DIR/nocbox.yaml" >"$RECV_OUT" 2>"$CASE_DIR/nocbox.log" </dev/null &
  RECV_PID=$!
  STARTED[$RECV_PID]=$CASE_DIR/nocbox.yaml
  RECV_UDP=$N_UDP
  RECV_TCP=$N_TCP
}

start_rsyslog() { # start_rsyslog RCVBUF
  mkdir -p "$CASE_DIR/rsyslog-work"
  RECV_OUT=$CASE_DIR/rsyslog.out
  cat >"$CASE_DIR/rsyslog.conf" <<EOF
# generated by bench/syslog.sh: no imuxsock, every message as received to one file
global(workDirectory="$CASE_DIR/rsyslog-work")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="$R_UDP" rcvbufSize="$1")
module(load="imptcp")
input(type="imptcp" address="127.0.0.1" port="$R_TCP")
template(name="raw" type="string" string="%rawmsg%\n")
action(type="omfile" file="$RECV_OUT" template="raw")
EOF
  rsyslogd -N1 -f "$CASE_DIR/rsyslog.conf" >"$CASE_DIR/rsyslog.check" 2>&1 \
    || die "rsyslog rejects $CASE_DIR/rsyslog.conf; see $CASE_DIR/rsyslog.check"
  : >"$RECV_OUT"
  rsyslogd -n -f "$CASE_DIR/rsyslog.conf" -i "$CASE_DIR/rsyslog.pid" \
    >"$CASE_DIR/rsyslog.log" 2>&1 </dev/null &
  RECV_PID=$!
  STARTED[$RECV_PID]=$CASE_DIR/rsyslog.conf
  RECV_UDP=$R_UDP
  RECV_TCP=$R_TCP
}

start_receiver() { # start_receiver PROG VARIANT
  case $1 in
    nocbox) start_nocbox "$2" ;;
    rsyslog) if [ "$2" = samebuf ]; then start_rsyslog "$SAMEBUF"; else start_rsyslog "$RSYSLOG_RCVBUF"; fi ;;
  esac
  wait_listen udp "$RECV_UDP" "$RECV_PID"
  wait_listen tcp "$RECV_TCP" "$RECV_PID"
  touch "$RECV_OUT"
}

# ---------------------------------------------------------------------------------------------
# One measurement: fresh receiver, NGEN loggen processes with the same arguments, drain, stop.
# run_one PROG VARIANT CASE TRANSPORT NGEN LOGGEN-ARGS...   appends a row to results.tsv
run_one() {
  local prog=$1 variant=$2 name=$3 transport=$4 ngen=$5
  shift 5
  CASE_DIR=$WORK/$name/$prog${variant:+-$variant}
  mkdir -p "$CASE_DIR"
  start_receiver "$prog" "$variant"
  local port=$RECV_TCP
  [ "$transport" = udp ] && port=$RECV_UDP
  wait_quiet
  local rss_idle buf=- cpu0 split0 rb0 box0 ctxt0 t0
  rss_idle=$(status_kb "$RECV_PID" VmRSS)
  [ "$transport" = udp ] && buf=$(granted_rcvbuf "$port")
  cpu0=$(cpu_ticks "$RECV_PID")
  split0=$(cpu_split "$RECV_PID")
  rb0=$(rcvbuf_errors)
  box0=$(box_ticks)
  ctxt0=$(awk '$1 == "ctxt" { print $2 }' /proc/stat)
  t0=$(now)

  local gens=() g pid
  for g in $(seq 1 "$ngen"); do
    "$LOGGEN" "$@" 127.0.0.1 "$port" >"$CASE_DIR/loggen$g.txt" 2>&1 </dev/null &
    pid=$!
    STARTED[$pid]=$LOGGEN
    gens+=("$pid")
  done
  # while the generators run: sample their CPU (they cannot be read after they exit), the
  # receiver's RSS, nocbox's queue depth (once a second) and the UDP socket's drops after the
  # first second; stop a generator that overruns its time by far
  declare -A gcpu=()
  local running=1 deadline rss rss_max=0 c tick=0 qmax=0 q drops1=-
  deadline=$(awk -v t="$t0" -v s="$CASE_LEN" 'BEGIN { printf "%.3f", t + s + 30 }')
  while [ "$running" = 1 ]; do
    tick=$((tick + 1))
    if [ "$transport" = udp ] && [ "$tick" = 5 ]; then drops1=$(sock_drops "$port"); fi
    if [ "$prog" = nocbox ] && [ $((tick % 4)) = 0 ]; then
      q=$(queue_depth)
      [ "$q" -gt "$qmax" ] && qmax=$q
    fi
    running=0
    for pid in "${gens[@]}"; do
      if kill -0 "$pid" 2>/dev/null && proc_is "$pid" "$LOGGEN"; then
        running=1
        c=$(cpu_ticks "$pid")
        [ "${c:-0}" -gt 0 ] && gcpu[$pid]=$c
      fi
    done
    rss=$(status_kb "$RECV_PID" VmRSS)
    [ "${rss:-0}" -gt "$rss_max" ] && rss_max=$rss
    if awk -v d="$deadline" -v n="$(now)" 'BEGIN { exit !(n > d) }'; then
      note "$name/$prog: loggen overran; stopping it"
      for pid in "${gens[@]}"; do stop_proc "$pid"; done
      break
    fi
    [ "$running" = 1 ] && sleep 0.25
  done
  for pid in "${gens[@]}"; do wait "$pid" 2>/dev/null || true; unset "STARTED[$pid]"; done

  # drain: poll the output size until it stops growing; the last growth is the end time
  local size last_size=-1 t_last t_now quiet_since
  t_last=$(now)
  quiet_since=$t_last
  while :; do
    size=$(stat -c %s "$RECV_OUT")
    t_now=$(now)
    if [ "$size" != "$last_size" ]; then
      last_size=$size
      t_last=$t_now
      quiet_since=$t_now
    elif awk -v a="$t_now" -v b="$quiet_since" -v q="$QUIET_SECS" 'BEGIN { exit !(a - b >= q) }'; then
      break
    fi
    if awk -v a="$t_now" -v b="$t0" 'BEGIN { exit !(a - b > 300) }'; then
      note "$name/$prog: output still growing after 300 s; stopping the measurement"
      break
    fi
    rss=$(status_kb "$RECV_PID" VmRSS)
    [ "${rss:-0}" -gt "$rss_max" ] && rss_max=$rss
    tick=$((tick + 1))
    if [ "$prog" = nocbox ] && [ $((tick % 10)) = 0 ]; then
      q=$(queue_depth)
      [ "$q" -gt "$qmax" ] && qmax=$q
    fi
    sleep 0.1
  done

  local cpu1 split1 rb1 box1 ctxt1 t_end threads hwm drops=- qfull=-
  cpu1=$(cpu_ticks "$RECV_PID")
  split1=$(cpu_split "$RECV_PID")
  rb1=$(rcvbuf_errors)
  box1=$(box_ticks)
  ctxt1=$(awk '$1 == "ctxt" { print $2 }' /proc/stat)
  t_end=$(now)
  threads=$(status_kb "$RECV_PID" Threads)
  hwm=$(status_kb "$RECV_PID" VmHWM)
  [ "${hwm:-0}" -gt "$rss_max" ] && rss_max=$hwm
  [ "$transport" = udp ] && drops=$(sock_drops "$port")
  if [ "$prog" = nocbox ]; then
    curl -s -m 5 "http://127.0.0.1:$N_API/metrics" >"$CASE_DIR/metrics.txt" 2>/dev/null || true
    # queue_full (queue_size) and queue_bytes (queue_bytes) drops
    qfull=$(awk '/^nocbox_pipeline_dropped_total/ && /reason="queue_/ { s += $NF } END { print s + 0 }' "$CASE_DIR/metrics.txt")
  fi
  stop_proc "$RECV_PID"

  local written sent=0 offered=0 gen_ticks=0 gen_secs=0 n r
  written=$(wc -l <"$RECV_OUT")
  for g in $(seq 1 "$ngen"); do
    n=$(grep -o 'average rate = [0-9.]* msg/sec, count=[0-9]*' "$CASE_DIR/loggen$g.txt" | tail -1 || true)
    [ -n "$n" ] || { note "$name/$prog: no summary in $CASE_DIR/loggen$g.txt"; sent=NA; continue; }
    r=${n#average rate = }
    r=${r%% *}
    [ "$sent" != NA ] && sent=$((sent + ${n##*count=}))
    offered=$(awk -v a="$offered" -v b="$r" 'BEGIN { printf "%.0f", a + b }')
    n=$(grep -o 'count=[0-9]*, time=[0-9.]*' "$CASE_DIR/loggen$g.txt" | tail -1 || true)
    gen_secs=$(awk -v a="$gen_secs" -v b="${n##*time=}" 'BEGIN { printf "%.3f", (b + 0 > a + 0) ? b : a }')
  done
  for pid in "${gens[@]}"; do gen_ticks=$((gen_ticks + ${gcpu[$pid]:-0})); done
  [ "$KEEP" = 1 ] || rm -f "$RECV_OUT"

  # 1 prog 2 variant 3 case 4 transport 5 sent 6 offered 7 written 8 loss 9 secs 10 msg/s
  # 11 cpu_s 12 cpu_s_per_M 13 rss_idle_kB 14 rss_peak_kB 15 sock_drops 16 rcvbuf_errors_delta
  # 17 rcvbuf_granted 18 loggen_cpu_pct 19 box_busy_pct 20 others_pct 21 nocbox_queue_full
  # 22 threads_at_end 23 ctxt_switches_per_msg (machine-wide) 24 user_s 25 sys_s
  # 26 nocbox_max_queue_depth (sampled) 27 sock_drops_after_1s
  awk -v OFS='\t' -v prog="$prog" -v var="${variant:--}" -v name="$name" -v tr="$transport" \
      -v sent="$sent" -v off="$offered" -v w="$written" -v t0="$t0" -v tl="$t_last" -v te="$t_end" \
      -v c0="$cpu0" -v c1="$cpu1" -v hz="$HZ" -v ri="$rss_idle" -v rp="$rss_max" -v dr="$drops" \
      -v rb0="$rb0" -v rb1="$rb1" -v buf="${buf:--}" -v gt="$gen_ticks" -v gs="$gen_secs" \
      -v b0="$box0" -v b1="$box1" -v qf="$qfull" -v th="$threads" -v x0="$ctxt0" -v x1="$ctxt1" \
      -v s0="$split0" -v s1="$split1" -v qm="$qmax" -v d1="$drops1" 'BEGIN {
        secs = tl - t0; if (secs <= 0) secs = 0.001
        win = te - t0; if (win <= 0) win = 0.001
        cpu = (c1 - c0) / hz
        split(b0, x, " "); split(b1, y, " ")
        busy = (y[2] > x[2]) ? 200 * (y[1] - x[1]) / (y[2] - x[2]) : 0   # 2 cores = 200 %
        others = (y[1] - x[1] - (c1 - c0) - gt) * 100 / hz / win; if (others < 0) others = 0
        loss = (sent == "NA") ? "NA" : sent - w
        rbd = (tr == "udp") ? rb1 - rb0 : "-"
        split(s0, u, " "); split(s1, v, " ")
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%.2f\t%.0f\t%.2f\t%.2f\t%d\t%d\t%s\t%s\t%s\t%.0f\t%.0f\t%.0f\t%s\t%s\t%.2f\t%.2f\t%.2f\t%s\t%s\n",
          prog, var, name, tr, sent, off, w, loss, secs, w / secs, cpu,
          (w > 0 ? cpu * 1e6 / w : 0), ri, rp, dr, rbd, buf, (gs > 0 ? 100 * gt / hz / gs : 0),
          busy, others, qf, th, (w > 0 ? (x1 - x0) / w : 0), (v[1] - u[1]) / hz, (v[2] - u[2]) / hz,
          (prog == "nocbox" ? qm : "-"), d1
      }' >>"$WORK/results.tsv"
  tail -1 "$WORK/results.tsv" | awk -F'\t' '{
      printf "  %-8s %-6s %-14s sent %-9s written %-9s loss %-7s %8s msg/s  %5s CPU-s/M  RSS %5.1f MB  drops %s/%s\n",
        $1, $2, $3, $5, $7, $8, $10, $12, $14 / 1024, $15, $16 }'
}

# measure ARGS... : run_one, and repeat it once when other programs used more than
# BENCH_OTHERS_MAX % of the machine during it; the spoiled rows go to spoiled.tsv
OTHERS_MAX=${BENCH_OTHERS_MAX:-40}
measure() {
  local attempt others
  for attempt in 1 2; do
    run_one "$@"
    others=$(tail -1 "$WORK/results.tsv" | cut -f20)
    [ "$others" -le "$OTHERS_MAX" ] && return 0
    [ "$attempt" = 2 ] && { note "$3/$1: other load ${others}% twice; keeping the second try"; return 0; }
    note "$3/$1: other programs used ${others}% of the machine; measuring again"
    tail -1 "$WORK/results.tsv" >>"$WORK/spoiled.tsv"
    sed -i '$d' "$WORK/results.tsv"
  done
}

# ---------------------------------------------------------------------------------------------
# Preparation
command -v rsyslogd >/dev/null || die "rsyslogd not found (Debian package rsyslog)"
command -v ss >/dev/null || die "ss not found (Debian package iproute2)"
command -v curl >/dev/null || die "curl not found"
[ -f "$FIXTURE" ] || die "missing fixture $FIXTURE"

echo "== building nocbox (cargo build --release)"
(cd "$ROOT" && cargo build --release) >"${TMPDIR:-/tmp}/nocbox-bench-build.$$.log" 2>&1 \
  || { tail -30 "${TMPDIR:-/tmp}/nocbox-bench-build.$$.log" >&2; die "cargo build --release failed"; }
rm -f "${TMPDIR:-/tmp}/nocbox-bench-build.$$.log"
[ -x "$NOCBOX" ] || die "no $NOCBOX after the build"

if [ ! -x "$LOGGEN" ]; then
  echo "== unpacking loggen (tests/peers/loggen.sh download)"
  PEERS_DIR=$PEERS_DIR LOGGEN_DIR=$LOGGEN_DIR bash "$ROOT/tests/peers/loggen.sh" download \
    || die "cannot get loggen; run 'apt-get update' once and retry"
fi
export SYSLOGNG_PREFIX=$LOGGEN_ROOT LD_LIBRARY_PATH=$LOGGEN_ROOT/lib/syslog-ng

rm -rf "$WORK"
mkdir -p "$WORK"
pick_port N_UDP; pick_port N_TCP; pick_port N_API; pick_port R_UDP; pick_port R_TCP

# how busy is the machine before we start (other people's builds and tests distort everything)
PRE_BUSY=$(busy_pct_over 1)
if [ "$PRE_BUSY" -gt "$QUIET_BUSY" ]; then
  note "the machine is ${PRE_BUSY}% busy (of 200%) before the benchmark; each case waits up to ${QUIET_WAIT}s for a quiet moment"
fi

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "host: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r), $(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) RAM"
  echo "nocbox: $("$NOCBOX" version 2>/dev/null | head -1), git $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '(no commit)') with $(cd "$ROOT" && git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null | wc -l) uncommitted file(s) in src/ and Cargo.* (source digest $(cd "$ROOT" && find src Cargo.toml Cargo.lock -type f -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-10))"
  echo "rsyslog: $(rsyslogd -v 2>/dev/null | head -1 | awk '{ print $2 }'); loggen: $(find "$LOGGEN_DIR" -maxdepth 1 -name 'syslog-ng-core_*.deb' -printf '%f\n' | head -1 | sed 's/\.deb$//')"
  echo "net.core.rmem_max: $(cat /proc/sys/net/core/rmem_max); machine busy before the run: ${PRE_BUSY}% of 200%"
  echo "mode: $([ "$QUICK" = 1 ] && echo quick || echo full); case length ${CASE_SECS}s; lossless steps ${STEP_SECS}s at nominal rates $STEP_RATES"
  echo "each case waits up to ${QUIET_WAIT}s until the machine is below ${QUIET_BUSY}% busy"
} >"$WORK/env.txt"
cat "$WORK/env.txt"

# ---------------------------------------------------------------------------------------------
# The cases: each one for nocbox, then rsyslog, on fresh processes
CASE_LEN=$CASE_SECS
echo "== throughput cases (${CASE_SECS}s each)"
declare -a CASES=(
  "udp-fixed|udp|1|-i -D -s 200 -r $UDP_RATE"
  "tcp-1conn|tcp|1|-i -S -s 200 -r $UNLIMITED"
  "tcp-4conn|tcp|1|-i -S -s 200 -r $UNLIMITED --active-connections 4"
  "cisco-udp-fixed|udp|1|-i -D -R $FIXTURE -l -d -r $UDP_RATE"
  "cisco-tcp|tcp|1|-i -S -R $FIXTURE -l -d -r $UNLIMITED"
)
for spec in "${CASES[@]}"; do
  IFS='|' read -r cname ctr cgen cargs <<<"$spec"
  read -ra argv <<<"$cargs"
  for prog in nocbox rsyslog; do
    measure "$prog" "" "$cname" "$ctr" "$cgen" "${argv[@]}" -I "$CASE_SECS"
  done
  # TCP again with syslog.tcp.backpressure on: slowing the sender, as rsyslog does, not dropping
  if [ "$ctr" = tcp ]; then
    measure nocbox bp "$cname" "$ctr" "$cgen" "${argv[@]}" -I "$CASE_SECS"
  fi
done

# The TCP cases move by ±20 % between runs of the same program (loggen shares the two cores and
# sets its own pace over TCP): repeat them, alternating the programs, and compare medians.
if [ "$TCP_ROUNDS" -gt 1 ]; then
  echo "== TCP cases again: rounds 2..$TCP_ROUNDS"
  for round in $(seq 2 "$TCP_ROUNDS"); do
    for spec in "${CASES[@]}"; do
      IFS='|' read -r cname ctr cgen cargs <<<"$spec"
      [ "$ctr" = tcp ] || continue
      read -ra argv <<<"$cargs"
      for pv in nocbox: rsyslog: nocbox:bp; do
        measure "${pv%%:*}" "${pv#*:}" "$cname#$round" tcp "$cgen" "${argv[@]}" -I "$CASE_SECS"
      done
    done
  done
fi

echo "== highest lossless UDP rate (${STEP_SECS}s per step; stops after two lossy steps)"
CASE_LEN=$STEP_SECS
granted_of() { # granted_of PROG VARIANT : the UDP buffer granted in its step runs
  awk -F'\t' -v p="$1" -v v="$2" '$1 == p && $2 == v && $3 ~ /^step-/ { b = $17 } END { print b + 0 }' "$WORK/results.tsv"
}
for pv in "nocbox:" "rsyslog:" "rsyslog:samebuf"; do
  prog=${pv%%:*}
  variant=${pv#*:}
  if [ "$variant" = samebuf ]; then
    nb=$(granted_of nocbox -)
    if [ "$RSYSLOG_EQUAL_BUF" != 1 ] || [ "$nb" -le 0 ] || [ "$nb" = "$(granted_of rsyslog -)" ]; then
      continue
    fi
    SAMEBUF=$((nb / 2)) # the kernel doubles what is asked
  fi
  lossy=0
  for rate in $STEP_RATES; do
    if [ "$rate" -gt "$ONE_LOGGEN_MAX" ]; then ngen=2; per=$((rate / 2)); else ngen=1; per=$rate; fi
    measure "$prog" "$variant" "step-$rate" udp "$ngen" -i -D -s 200 -r "$per" -I "$STEP_SECS"
    if tail -1 "$WORK/results.tsv" | awk -F'\t' '{ exit !($8 == "0" && ($15 == "0" || $15 == "NA")) }'; then
      lossy=0
    else
      lossy=$((lossy + 1))
      [ "$lossy" -ge 2 ] && break
    fi
  done
done

# ---------------------------------------------------------------------------------------------
# Summary (Markdown)
{
  echo "# nocbox vs rsyslog: syslog benchmark"
  echo
  sed 's/^/    /' "$WORK/env.txt"
  echo
  echo "## Throughput cases (${CASE_SECS}s of loggen each; msg/s = lines written / (last line written - first send))"
  echo
  echo "| case | offered msg/s (loggen) | nocbox msg/s | rsyslog msg/s | ratio | nocbox CPU-s/M | rsyslog CPU-s/M | ratio | nocbox RSS idle→peak MB | rsyslog RSS idle→peak MB | ratio (peak) | nocbox loss | rsyslog loss |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '
    $2 == "-" && $3 !~ /^step-/ && $3 !~ /#/ {
      k = $3; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
      off[k, $1] = $6; rate[k, $1] = $10; cpu[k, $1] = $12; ri[k, $1] = $13; rp[k, $1] = $14
      loss[k, $1] = $8; sent[k, $1] = $5; dr[k, $1] = $15; rb[k, $1] = $16; qf[k, $1] = $21
    }
    function lossfmt(k, p,   s) {
      s = loss[k, p]
      if (sent[k, p] + 0 > 0) s = sprintf("%s (%.2f %%)", s, 100 * loss[k, p] / sent[k, p])
      if (dr[k, p] != "-") s = s sprintf(", sock drops %s, RcvbufErrors Δ %s", dr[k, p], rb[k, p])
      if (p == "nocbox" && qf[k, p] + 0 > 0) s = s sprintf(", of which queue drops %s", qf[k, p])
      return s
    }
    function ratio(a, b) { return (b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
    END {
      for (i = 1; i <= n; i++) {
        k = order[i]
        printf "| %s | %s / %s | %s | %s | **%s** | %s | %s | **%s** | %.1f → %.1f | %.1f → %.1f | %s | %s | %s |\n",
          k, off[k, "nocbox"], off[k, "rsyslog"], rate[k, "nocbox"], rate[k, "rsyslog"],
          ratio(rate[k, "nocbox"], rate[k, "rsyslog"]), cpu[k, "nocbox"], cpu[k, "rsyslog"],
          ratio(cpu[k, "nocbox"], cpu[k, "rsyslog"]), ri[k, "nocbox"] / 1024, rp[k, "nocbox"] / 1024,
          ri[k, "rsyslog"] / 1024, rp[k, "rsyslog"] / 1024, ratio(rp[k, "nocbox"], rp[k, "rsyslog"]),
          lossfmt(k, "nocbox"), lossfmt(k, "rsyslog")
      }
    }' "$WORK/results.tsv"
  echo
  echo "offered = loggen's own average rate (nocbox run / rsyslog run): over TCP the receiver's speed sets it."
  echo
  echo "TCP cases again with nocbox's \`syslog.tcp.backpressure: true\` (it stops reading while its queue is full, as rsyslog does), against the same rsyslog rows:"
  echo
  echo "| case | offered msg/s (nocbox bp) | nocbox bp msg/s | rsyslog msg/s | ratio | nocbox bp CPU-s/M | rsyslog CPU-s/M | ratio | nocbox bp RSS idle→peak MB | nocbox bp loss |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '
    $3 !~ /^step-/ && $3 !~ /#/ && ($2 == "-" || $2 == "bp") {
      p = $1 ($2 == "bp" ? "-bp" : ""); k = $3
      if (p == "nocbox-bp" && !(k in seen)) { seen[k] = 1; order[++n] = k }
      off[k, p] = $6; rate[k, p] = $10; cpu[k, p] = $12; ri[k, p] = $13; rp[k, p] = $14; loss[k, p] = $8; sent[k, p] = $5
    }
    function ratio(a, b) { return (b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
    END {
      for (i = 1; i <= n; i++) {
        k = order[i]; b = "nocbox-bp"
        printf "| %s | %s | %s | %s | **%s** | %s | %s | **%s** | %.1f → %.1f | %s (%.2f %%) |\n", k, off[k, b], rate[k, b],
          rate[k, "rsyslog"], ratio(rate[k, b], rate[k, "rsyslog"]), cpu[k, b], cpu[k, "rsyslog"],
          ratio(cpu[k, b], cpu[k, "rsyslog"]), ri[k, b] / 1024, rp[k, b] / 1024, loss[k, b],
          (sent[k, b] + 0 > 0 ? 100 * loss[k, b] / sent[k, b] : 0)
      }
    }' "$WORK/results.tsv"
  if [ "$TCP_ROUNDS" -gt 1 ]; then
    echo
    echo "TCP cases over $TCP_ROUNDS rounds (the rows above are round 1; each round runs nocbox, rsyslog and nocbox bp in turn): median msg/s, the ratio of the medians, and each round's ratio:"
    echo
    echo "| case | nocbox msg/s (median) | rsyslog | nocbox bp | ratio nocbox / rsyslog | per round | ratio nocbox bp / rsyslog | per round |"
    echo "|---|---|---|---|---|---|---|---|"
    awk -F'\t' '
      $4 == "tcp" && $3 !~ /^step-/ && ($2 == "-" || $2 == "bp") {
        k = $3; r = 1; if (k ~ /#/) { r = substr(k, index(k, "#") + 1); k = substr(k, 1, index(k, "#") - 1) }
        if (!(k in seen)) { seen[k] = 1; order[++n] = k }
        p = $1 ($2 == "bp" ? "-bp" : ""); v[k, p, r] = $10; if (r > rounds) rounds = r
      }
      function median(k, p,   a, m, i, j, t) {
        m = 0; for (i = 1; i <= rounds; i++) if ((k, p, i) in v) a[++m] = v[k, p, i] + 0
        for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        return m == 0 ? 0 : (m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2)
      }
      function each(k, p,   s, i) {
        s = ""; for (i = 1; i <= rounds; i++)
          s = s (s == "" ? "" : ", ") (((k, "rsyslog", i) in v && v[k, "rsyslog", i] > 0) ? sprintf("%.2f", v[k, p, i] / v[k, "rsyslog", i]) : "-")
        return s
      }
      END {
        for (i = 1; i <= n; i++) {
          k = order[i]; a = median(k, "nocbox"); b = median(k, "rsyslog"); c = median(k, "nocbox-bp")
          printf "| %s | %.0f | %.0f | %.0f | **%s** | %s | **%s** | %s |\n", k, a, b, c,
            (b > 0 ? sprintf("%.2f", a / b) : "-"), each(k, "nocbox"), (b > 0 ? sprintf("%.2f", c / b) : "-"), each(k, "nocbox-bp")
        }
      }' "$WORK/results.tsv"
    echo
  fi
  echo "ratio = nocbox / rsyslog. loggen arguments per case (then -I ${CASE_SECS} 127.0.0.1 PORT):"
  echo
  for spec in "${CASES[@]}"; do
    IFS='|' read -r cname _ _ cargs <<<"$spec"
    echo "- $cname: \`loggen ${cargs//$ROOT\//}\`"
  done
  echo
  echo "## Highest lossless UDP rate (${STEP_SECS}s per step, 200-byte loggen lines, two loggen processes above ${ONE_LOGGEN_MAX} nominal)"
  echo
  echo "| program | socket buffer granted | steps: offered msg/s → loss (socket drops, nocbox queue drops) | highest lossless offered rate |"
  echo "|---|---|---|---|"
  awk -F'\t' '
    $3 ~ /^step-/ {
      k = $1 ($2 == "-" ? "" : " (" $2 ")"); if (!(k in seen)) { seen[k] = 1; order[++n] = k; best[k] = "none" }
      buf[k] = $17
      ok = ($8 == "0" && ($15 == "0" || $15 == "NA"))
      why = ""
      if ($15 != "0") why = "sock " $15
      if ($21 ~ /^[0-9]+$/ && $21 > 0) why = why (why == "" ? "" : ", ") "queue " $21
      steps[k] = steps[k] sprintf("%s%s → %s%s", (steps[k] == "" ? "" : "; "), $6, $8, (why != "" ? " (" why ")" : ""))
      if (ok && $6 + 0 > bestv[k] + 0) { bestv[k] = $6; best[k] = $6 " msg/s" }
      last[k] = ok; lastv[k] = $6
    }
    END {
      for (i = 1; i <= n; i++) {
        k = order[i]
        if (last[k] && bestv[k] == lastv[k]) best[k] = "≥ " best[k] " (the highest step)"
        printf "| %s | %.0f MB | %s | **%s** |\n", k, buf[k] / 1048576, steps[k], best[k]
      }
    }' "$WORK/results.tsv"
  echo
  echo "Lossless = lines written equal loggen's sent count and the socket's drop counter stayed 0"
  echo "(the machine-wide RcvbufErrors delta is in the last table). loggen overshoots -r, so the"
  echo "offered rate is loggen's own average; steps stop after two lossy ones."
  echo
  echo "## Every run"
  echo
  echo "| program | variant | case | sent | written | loss | s | msg/s | CPU s (user+sys) | CPU-s/M | RSS idle kB | RSS peak kB | sock drops (after 1st s) | RcvbufErrors Δ | rcvbuf | loggen CPU % | box busy % of 200 | others % | nocbox queue drops | nocbox max queue | threads | ctxt switches/msg |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' -v OFS=' | ' '{ print "| " $1, $2, $3, $5, $7, $8, $9, $10, $11 " (" $24 "+" $25 ")", $12, $13, $14, $15 ($27 != "-" ? " (" $27 ")" : ""), $16, $17, $18, $19, $20, $21, $26, $22, $23 " |" }' "$WORK/results.tsv"
  echo
  echo "loggen CPU % is over loggen's own run time (sampled every 0.25 s, so slightly low); box busy"
  echo "is the whole machine from the first send to the end of the drain; others % is what neither"
  echo "the receiver nor loggen used (other people's builds and tests: large values spoil the row);"
  echo "threads = the receiver's threads at the end; ctxt switches/msg is machine-wide; sock drops"
  echo "(after 1st s) = the socket's drops about one second after the first send (start-up burst);"
  echo "nocbox max queue = the stdout queue depth sampled once a second from /metrics; nocbox queue"
  echo "drops = events its stdout queue refused (queue_size or queue_bytes reached)."
  if [ -s "$WORK/spoiled.tsv" ]; then
    echo
    echo "$(wc -l <"$WORK/spoiled.tsv") measurement(s) were repeated because other programs used more than ${OTHERS_MAX}% of the machine (spoiled.tsv)."
  fi
} >"$WORK/summary.md"
echo
cat "$WORK/summary.md"
echo
[ "$QUIET_WAITED" -gt 0 ] && note "waited $((QUIET_WAITED / 2))s in all for other load to settle"
echo "results: $WORK/summary.md, $WORK/results.tsv"
