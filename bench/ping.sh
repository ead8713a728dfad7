#!/usr/bin/env bash
# bench/ping.sh [--runs R] [N ...] : ICMP ping of N loopback addresses, once each, by fping 5.1
# and by nocbox (one check round), side by side, in one run, inside a private network namespace.
#
#   bench/ping.sh               N = 500 and 2000, 3 runs of each case (about 2 minutes)
#   bench/ping.sh 1000 --runs 5
#
# Needs root (unshare --net), fping, iproute2, procps (sysctl) and python3 (to read rusage).
# Builds target/release/nocbox itself (cargo build --release). Targets are 127.1.x.y, all local
# on the namespace's loopback, so every echo request gets a reply; nothing leaves the namespace.
# Inside the namespace net.ipv4.ping_group_range is opened, so nocbox uses its unprivileged
# datagram socket (as in the ECS task); fping, as root, uses a raw socket.
#
# Two modes, each program on a fresh process, one after the other, never at the same time:
#   paced  one echo request per millisecond: fping -c 1 -q -i 1 -t 500 -f TARGETS;
#          nocbox with ping.interval = N ms (its checks are spread evenly over the interval, so
#          also one target per ms), count 1, timeout 500ms (or N ms when smaller)
#   burst  as fast as each allows: fping -i 0 -t 50; nocbox interval 50ms, timeout 50ms (all N
#          targets spread over 50 ms, the shortest round its config allows with that timeout)
# Per case: wall seconds (fping: its whole run; nocbox: from start to the N-th
# networkdevice.ping.reachable line on stdout), targets/s = N / wall, CPU seconds (user+sys of the
# whole process from wait4's rusage, in microseconds: start-up, the round, and for nocbox writing
# 4 JSON metric lines per target and the stop), replies, and how busy the machine was (all
# CPUs, /proc/stat; it includes this script's 5 ms polling of nocbox's output) during the case.
# nocbox is stopped (SIGTERM to its own pid, which the runner records) as soon as the N-th result
# is seen; checks of its second round that finish within that polling delay are counted too, so
# CPU per 1000 checks divides by every check completed.
# Each case first waits (up to BENCH_QUIET_WAIT=20 s) for the machine to be below
# BENCH_QUIET_BUSY=25 % busy.
#
# Results: target/bench/ping/ (or $BENCH_DIR): results.tsv and summary.md (also printed).
set -euo pipefail

ROOT=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=3
SIZES=()
INNER=0
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --inner) INNER=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) SIZES+=("$1"); shift ;;
    *) echo "${0##*/}: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ ${#SIZES[@]} -gt 0 ] || SIZES=(500 2000)
BENCH_DIR=${BENCH_DIR:-$ROOT/target/bench/ping}
BIN=$ROOT/target/release/nocbox
QUIET_WAIT=${BENCH_QUIET_WAIT:-20}
QUIET_BUSY=${BENCH_QUIET_BUSY:-25}

die() { echo "${0##*/}: $*" >&2; exit 1; }

if [ "$INNER" = 0 ]; then
  [ "$(id -u)" = 0 ] || die "needs root (unshare --net)"
  for p in fping:fping unshare:util-linux ip:iproute2 sysctl:procps python3:python3; do
    command -v "${p%%:*}" >/dev/null || die "${p%%:*} is missing: apt-get install ${p#*:}"
  done
  for n in "${SIZES[@]}"; do
    if [ "$n" -lt 1 ] || [ "$n" -gt 60000 ]; then die "N must be 1..60000"; fi
  done
  (cd "$ROOT" && cargo build --release --quiet)
  rm -rf "$BENCH_DIR"
  mkdir -p "$BENCH_DIR"
  exec unshare --net -- bash "${BASH_SOURCE[0]}" --inner --runs "$RUNS" "${SIZES[@]}"
fi

# ---- inside the private network namespace ----
ip link set lo up
sysctl -qw net.ipv4.ping_group_range="0 2147483647"

# busy and total jiffies of all CPUs
cpu_jiffies() { awk '/^cpu /{b=$2+$3+$4+$7+$8+$9; t=b+$5+$6; print b, t}' /proc/stat; }

# waits until the machine was below QUIET_BUSY % busy for one second (at most QUIET_WAIT s)
wait_quiet() {
  local end=$((SECONDS + QUIET_WAIT)) b0 t0 b1 t1
  while :; do
    read -r b0 t0 < <(cpu_jiffies); sleep 1; read -r b1 t1 < <(cpu_jiffies)
    if [ $(((b1 - b0) * 100)) -le $((QUIET_BUSY * (t1 - t0))) ] || [ $SECONDS -ge $end ]; then
      return
    fi
  done
}

now() { date +%s.%N; }

# rusage_run TIMEFILE PIDFILE CMD... : runs CMD (stdin from /dev/null, stdout/stderr inherited),
# writes "pid start_epoch" to PIDFILE and, when CMD has exited, "user_s sys_s end_epoch" to
# TIMEFILE (rusage in microseconds). The clock starts just before CMD is spawned, so the
# interpreter's own start-up is not in the wall time.
PY=$(command -v /usr/bin/python3 || command -v python3)
rusage_run() {
  "$PY" -c '
import os, subprocess, sys, time
t0 = time.time()
p = subprocess.Popen(sys.argv[3:], stdin=subprocess.DEVNULL)
with open(sys.argv[2], "w") as f:
    f.write("%d %.6f" % (p.pid, t0))
_, _, ru = os.wait4(p.pid, 0)
t1 = time.time()
with open(sys.argv[1], "w") as f:
    f.write("%.6f %.6f %.6f" % (ru.ru_utime, ru.ru_stime, t1))
' "$@"
}

targets() { # N -> one address per line
  local i
  for ((i = 0; i < $1; i++)); do echo "127.1.$((i / 250)).$((i % 250 + 1))"; done
}

# fping_case DIR INTERVAL_MS TIMEOUT_MS : prints "wall cpu replies checks"
fping_case() {
  local dir=$1 t0 t1 replies pid u s
  rusage_run "$dir/time" "$dir/pid" fping -c 1 -q -i "$2" -t "$3" -f "$dir/targets" \
    2>"$dir/fping.err" || true
  read -r pid t0 < "$dir/pid"
  read -r u s t1 < "$dir/time"
  replies=$(grep -c ' = 1/1/0%' "$dir/fping.err" || true)
  echo "$(awk -v a="$t0" -v b="$t1" -v u="$u" -v s="$s" 'BEGIN { print b - a, u + s }') $replies $(wc -l < "$dir/targets")"
}

# nocbox_case DIR N INTERVAL_MS TIMEOUT_MS : prints "wall cpu replies checks"
nocbox_case() {
  local dir=$1 n=$2 t0 t1 rpid pid="" got=0 deadline
  {
    echo "api: { listen: 127.0.0.1:18080 }"
    echo "shutdown: { drain_period: 0s, flush_timeout: 5s }"
    echo "outputs: { stdout: { enabled: true, queue_size: 200000 } }"
    echo "ping:"
    echo "  interval: ${3}ms"
    echo "  timeout: ${4}ms"
    echo "  count: 1"
    echo "  targets:"
    sed 's/^/    - /' "$dir/targets"
  } > "$dir/nocbox.yaml"
  rusage_run "$dir/time" "$dir/pid" "$BIN" run --config "$dir/nocbox.yaml" \
    > "$dir/out.jsonl" 2> "$dir/nocbox.log" &
  rpid=$!
  deadline=$((SECONDS + 30 + $3 / 1000))
  # Every reachable target writes 4 metric lines; counting lines (wc) is much cheaper than
  # grep on the two shared cores, and the exact count is confirmed once it looks complete.
  while [ "$got" -lt "$n" ] && [ $SECONDS -lt $deadline ]; do
    sleep 0.005
    if [ "$(wc -l < "$dir/out.jsonl")" -ge $((4 * n)) ]; then
      got=$(grep -c '"networkdevice.ping.reachable"' "$dir/out.jsonl" || true)
    fi
  done
  t1=$(now)
  read -r pid t0 < "$dir/pid"
  kill -TERM "$pid"
  wait "$rpid" || true
  [ "$got" -ge "$n" ] || { echo "nocbox: only $got of $n results; see $dir/nocbox.log" >&2; }
  read -r u s _ < "$dir/time"
  local replies checks
  checks=$(grep -c '"networkdevice.ping.reachable"' "$dir/out.jsonl" || true)
  replies=$(grep '"networkdevice.ping.reachable"' "$dir/out.jsonl" | grep -c '"value":1.0' || true)
  echo "$(awk -v a="$t0" -v b="$t1" -v u="$u" -v s="$s" 'BEGIN { print b - a, u + s }') $((replies > n ? n : replies)) $checks"
}

RESULTS=$BENCH_DIR/results.tsv
printf 'mode\tN\tprogram\trun\twall_s\tcpu_s\treplies\tchecks\tbox_busy_pct\n' > "$RESULTS"

for n in "${SIZES[@]}"; do
  for mode in paced burst; do
    if [ "$mode" = paced ]; then
      fi=1; ft=500; ni=$n; nt=$((n < 500 ? n : 500))
    else
      fi=0; ft=50; ni=50; nt=50
    fi
    for ((r = 1; r <= RUNS; r++)); do
      # alternate which program goes first
      if [ $((r % 2)) = 1 ]; then order="fping nocbox"; else order="nocbox fping"; fi
      for prog in $order; do
        dir=$BENCH_DIR/$mode-$n-$prog-$r
        mkdir -p "$dir"
        targets "$n" > "$dir/targets"
        wait_quiet
        read -r b0 j0 < <(cpu_jiffies)
        if [ "$prog" = fping ]; then
          res=$(fping_case "$dir" "$fi" "$ft")
        else
          res=$(nocbox_case "$dir" "$n" "$ni" "$nt")
        fi
        read -r b1 j1 < <(cpu_jiffies)
        busy=$(((b1 - b0) * 100 / (j1 - j0 > 0 ? j1 - j0 : 1)))
        read -r wall cpu replies checks <<< "$res"
        printf '%s\t%s\t%s\t%s\t%.3f\t%.4f\t%s\t%s\t%s\n' "$mode" "$n" "$prog" "$r" "$wall" "$cpu" \
          "$replies" "$checks" "$busy" >> "$RESULTS"
        printf '%-6s N=%-5s %-6s run %s: wall %.3f s, CPU %.4f s, %s replies, %s checks, box %s%% busy\n' \
          "$mode" "$n" "$prog" "$r" "$wall" "$cpu" "$replies" "$checks" "$busy" >&2
      done
    done
  done
done

# summary: medians (min-max) per case, and nocbox/fping ratios
awk -F'\t' '
  NR == 1 { next }
  { k = $1 "\t" $2 "\t" $3; n[k]++; W[k, n[k]] = $5; C[k, n[k]] = $6; R[k, n[k]] = $7; B[k, n[k]] = $9
    P[k, n[k]] = ($8 > 0 ? $6 * 1e6 / $8 : 0)
    if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
  function sort(a, k, cnt,   i, j, t, out) { for (i = 1; i <= cnt; i++) out[i] = a[k, i]
    for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (out[j] + 0 < out[i] + 0) { t = out[i]; out[i] = out[j]; out[j] = t }
    med = out[int((cnt + 1) / 2)]; lo = out[1]; hi = out[cnt] }
  END {
    print "| mode | N | program | wall s, median (min-max) | targets/s | CPU s, median (min-max) | CPU ms per 1000 checks | replies | box busy % |"
    print "|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= m; i++) { k = order[i]; split(k, f, "\t"); c = n[k]
      sort(W, k, c); w = med; wl = lo; wh = hi
      sort(C, k, c); cp = med; cl = lo; ch = hi
      sort(R, k, c); rp = lo
      sort(B, k, c); bm = med
      sort(P, k, c); pk = med
      wall[k] = w; cpu[k] = pk
      printf "| %s | %s | %s | %.3f (%.3f-%.3f) | %.0f | %.4f (%.4f-%.4f) | %.1f | %s of %s (lowest) | %s |\n", f[1], f[2], f[3], w, wl, wh, f[2] / w, cp, cl, ch, pk, rp, f[2], bm }
    print ""
    print "| mode | N | nocbox/fping targets/s | nocbox/fping CPU per check |"
    print "|---|---|---|---|"
    for (i = 1; i <= m; i++) { k = order[i]; split(k, f, "\t"); if (f[3] != "nocbox") continue
      fk = f[1] "\t" f[2] "\tfping"
      printf "| %s | %s | %.2f | %.2f |\n", f[1], f[2], wall[fk] / wall[k], (cpu[fk] > 0 ? cpu[k] / cpu[fk] : 0) }
  }' "$RESULTS" > "$BENCH_DIR/summary.md"
cat "$BENCH_DIR/summary.md"
