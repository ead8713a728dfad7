#!/usr/bin/env bash
# bench/traps-compare.sh OLD_BIN NEW_BIN : whether two nocbox binaries write the same trap
# records. Sends the same eight notifications with net-snmp's snmptrap/snmpinform to each (v1
# generic and enterprise-specific; v2c with every value type, control characters, quotes and a
# backslash in a string, a BITS value with an unnamed bit, an unknown trap; v3 authPriv; an
# inform), then compares the stdout lines with their timestamps removed. For changes to the
# trap record that must not change its JSON (docs/PERFORMANCE.md quotes it). Exit 0 when the
# same, 1 with the diff when not.
#
# An older binary: git worktree add /tmp/old <commit> && (cd /tmp/old && cargo build --release)
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 OLD_BIN NEW_BIN" >&2; exit 2; }
ROOT=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${BENCH_DIR:-$ROOT/target/bench/traps-compare}
rm -rf "$WORK"; mkdir -p "$WORK"
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

records() { # BIN OUT
  local port api pid t
  port=$(free_port); api=$(free_port); t=127.0.0.1:$port
  cat >"$WORK/nocbox.yaml" <<Y
api: { listen: 127.0.0.1:$api }
traps:
  listen: $t
  community_strings: public
  users:
    - { user: u3, auth_protocol: sha, auth_key: authpass123, priv_protocol: aes, priv_key: privpass123 }
outputs:
  stdout: {}
shutdown: { drain_period: 0s }
Y
  "$1" run --config "$WORK/nocbox.yaml" >"$2" 2>"$2.log" &
  pid=$!
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$api/healthz/traps" || true)" = 200 ] && break
    sleep 0.1
  done
  snmptrap -v2c -c public "$t" 42 1.3.6.1.6.3.1.1.5.3 1.3.6.1.2.1.2.2.1.1.3 i 3 \
    1.3.6.1.2.1.2.2.1.7.3 i 1 1.3.6.1.2.1.2.2.1.8.3 i 2 1.3.6.1.2.1.2.2.1.2.3 s 'Gi1/0/3' \
    1.3.6.1.2.1.2.2.1.6.3 x 001b54ff0001
  snmptrap -v2c -c public "$t" 43 1.3.6.1.4.1.9.9.41.2.0.1 1.3.6.1.4.1.9.9.41.1.2.3.1.2.1 s SYS \
    1.3.6.1.4.1.9.9.41.1.2.3.1.5.1 s "$(printf 'quote " back \\ tab\tnl\nx')" \
    1.3.6.1.2.1.1.5.0 a 10.1.2.3 1.3.6.1.2.1.1.2.0 o 1.3.6.1.4.1.9.1.1 \
    1.3.6.1.2.1.31.1.1.1.6.1 C 12345678901234 1.3.6.1.2.1.2.2.1.10.1 c 7 \
    1.3.6.1.2.1.2.2.1.5.1 u 9 1.3.6.1.2.1.1.3.0 t 5
  snmptrap -v2c -c public "$t" 44 1.3.6.1.2.1.131.0.1 1.3.6.1.2.1.131.1.1.1.5.1 b '0 2 9' \
    1.3.6.1.2.1.131.1.1.1.3.1 i 99 1.3.6.1.9.9.9 s x
  snmptrap -v2c -c public "$t" 45 1.3.6.1.4.1.99999.0.7 1.3.6.1.4.1.99999.1 s unknown
  snmptrap -v1 -c public "$t" 1.3.6.1.4.1.2636 10.9.8.7 6 1 46 1.3.6.1.4.1.2636.3.1.13.1.5.9.1.0.0 s PEM
  snmptrap -v1 -c public "$t" 1.3.6.1.4.1.9 10.9.8.7 2 0 47 1.3.6.1.2.1.2.2.1.1.2 i 2
  snmptrap -v3 -e 0x8000000001020304 -u u3 -l authPriv -a SHA -A authpass123 -x AES -X privpass123 \
    "$t" 48 1.3.6.1.6.3.1.1.5.4 1.3.6.1.2.1.2.2.1.1.3 i 3
  snmpinform -v2c -c public "$t" 49 1.3.6.1.6.3.1.1.5.1
  sleep 1
  kill "$pid"; wait "$pid" 2>/dev/null || true
  # the records, without what differs from run to run
  grep -F '"snmpTrapOID"' "$2" | sed -E 's/"timestamp":"[^"]*"//' >"$2.records"
}

records "$1" "$WORK/old.out"
records "$2" "$WORK/new.out"
n=$(wc -l <"$WORK/new.out.records")
[ "$n" -eq 8 ] || { echo "expected 8 trap records from $2, got $n (see $WORK)" >&2; exit 1; }
if diff "$WORK/old.out.records" "$WORK/new.out.records"; then
  echo "the same 8 trap records from both binaries"
else
  exit 1
fi
