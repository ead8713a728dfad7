#!/bin/bash
# snmpsim.sh install|start|stop|status|list : recorded Cisco/Juniper devices served by snmpsim
# (PyPI snmpsim 1.2.2 + snmpsim-data 1.0.1, lextudio fork) on loopback for tests, plus the
# hand-made recordings in tests/fixtures/snmprec (juniper-srx, ...).
#
# Environment (defaults in brackets):
#   PEERS_DIR           working directory [/tmp/nocbox-peers; scripts/test.sh sets
#                       target/nocbox-peers]; this peer uses $PEERS_DIR/snmpsim
#   SNMPSIM_VENV        virtualenv holding snmpsim [$PEERS_DIR/snmpsim-venv]
#   PYTHON              interpreter used to create the venv [/usr/bin/python3 if present, else
#                       python3]. Use the distribution's python3, not a pyenv one under root's
#                       home: after the privilege drop to 'nobody' its stdlib is unreadable
#                       ("no dbm clone found" is the symptom).
#   SNMPSIM_PORT        first UDP port on 127.0.0.1 [16101]
#   SNMPSIM_MODE        community = one port, each recording selected by its community (the file
#                       name without .snmprec[.bz2]); ports = one port per recording, community
#                       'public', ports SNMPSIM_PORT, SNMPSIM_PORT+1, ... in the order recordings,
#                       then extra files [community]
#   SNMPSIM_RECORDINGS  recordings from snmpsim-data, as <category>/<name> (empty: none)
#                       [network/switch/cisco-c3560 network/router/juniper-mx960-12-3r6-6]
#   SNMPSIM_DATA_SRC    directory to take recordings from instead of the installed snmpsim-data
#   SNMPSIM_EXTRA_DIR   directory whose *.snmprec files are served too, under their own names
#                       (community or context 'juniper-srx' for juniper-srx.snmprec); a file named
#                       like one of the recordings is skipped [<repo>/tests/fixtures/snmprec;
#                       empty = none]
#
# v3 users (auth key authpass123, privacy key privpass123; engine ID 8000000001020304, in ports
# mode 8000000001020304, ...0305, ...):
#   simsha    SHA     / AES (AES-128)
#   sim256    SHA256  / AES256      a SHA-256 key is already 32 bytes, so no key extension:
#                                   works with Cisco-style and Blumenthal clients alike
#   simcisco  SHA     / AES256      Cisco-style AES-256 (pysnmp's AES256 = the Reeder draft key
#                                   extension, as Cisco IOS "priv aes 256"): the 20-byte SHA-1
#                                   key is extended the Cisco way. net-snmp 5.9 extends keys the
#                                   Blumenthal way, so `snmpget -x AES-256` gets "Decryption
#                                   error" here (checked: pysnmp's Reeder client works)
#   simblmt   SHA     / AES256BLMT  Blumenthal AES-256 (what net-snmp's -x AES-256 speaks)
#   simdes    MD5     / DES
# v3 needs a context: -n <recording name> (community mode) or -n public (ports mode); an empty
# context times out. UDP only: snmpsim has no TCP endpoint. snmpEngineID.0 returns the recorded
# value, not the engine ID above.
#
#   snmpwalk -v2c -c cisco-c3560 -On 127.0.0.1:16101 1.3.6.1.2.1.2.2.1.2
#   snmpget -v3 -l authPriv -u simsha -a SHA -A authpass123 -x AES -X privpass123 \
#     -n juniper-mx960-12-3r6-6 127.0.0.1:16101 1.3.6.1.2.1.1.2.0
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
REPO=$(CDPATH='' cd -- "$PEERS_HERE/../.." && pwd)

: "${SNMPSIM_VENV:=$PEERS_DIR/snmpsim-venv}"
if [ -z "${PYTHON:-}" ]; then
  if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
: "${SNMPSIM_PORT:=16101}"
: "${SNMPSIM_MODE:=community}"
: "${SNMPSIM_RECORDINGS=network/switch/cisco-c3560 network/router/juniper-mx960-12-3r6-6}"
: "${SNMPSIM_DATA_SRC:=}"
SNMPSIM_EXTRA_DIR=${SNMPSIM_EXTRA_DIR-$REPO/tests/fixtures/snmprec}
check_port "$SNMPSIM_PORT" SNMPSIM_PORT
SIM_DIR=$(peer_dir snmpsim)
SIM_PY="$SNMPSIM_VENV/bin/python"
SIM_BIN="$SNMPSIM_VENV/bin/snmpsim-command-responder"

data_src() {
  if [ -n "$SNMPSIM_DATA_SRC" ]; then printf '%s\n' "$SNMPSIM_DATA_SRC"; return; fi
  [ -x "$SIM_PY" ] || die "no venv at $SNMPSIM_VENV; run '${0##*/} install' first"
  "$SIM_PY" -c 'import os, snmpsim_data; print(os.path.join(os.path.dirname(snmpsim_data.__file__), "data"))'
}

find_recording() { # find_recording SRC CATEGORY/NAME -> path of .snmprec or .snmprec.bz2
  local f
  for f in "$1/$2.snmprec.bz2" "$1/$2.snmprec"; do
    if [ -f "$f" ]; then printf '%s\n' "$f"; return 0; fi
  done
  die "recording '$2' not found under $1 (try '${0##*/} list')"
}

# sources: the recordings' files, then the extra directory's *.snmprec whose names are not taken
sources() {
  local src rec f name taken=" "
  src=$(data_src)
  for rec in $SNMPSIM_RECORDINGS; do
    f=$(find_recording "$src" "$rec")
    printf '%s\n' "$f"
    taken="$taken${rec##*/} "
  done
  if [ -n "$SNMPSIM_EXTRA_DIR" ] && [ -d "$SNMPSIM_EXTRA_DIR" ]; then
    for f in "$SNMPSIM_EXTRA_DIR"/*.snmprec; do
      [ -f "$f" ] || continue
      name=$(basename "$f" .snmprec)
      case $taken in *" $name "*) note "skipping $f: a recording has that name"; continue ;; esac
      printf '%s\n' "$f"
      taken="$taken$name "
    done
  fi
}

users_block() {
  printf '%s\n' \
    --v3-user=simsha --v3-auth-key=authpass123 --v3-auth-proto=SHA --v3-priv-key=privpass123 --v3-priv-proto=AES \
    --v3-user=sim256 --v3-auth-key=authpass123 --v3-auth-proto=SHA256 --v3-priv-key=privpass123 --v3-priv-proto=AES256 \
    --v3-user=simcisco --v3-auth-key=authpass123 --v3-auth-proto=SHA --v3-priv-key=privpass123 --v3-priv-proto=AES256 \
    --v3-user=simblmt --v3-auth-key=authpass123 --v3-auth-proto=SHA --v3-priv-key=privpass123 --v3-priv-proto=AES256BLMT \
    --v3-user=simdes --v3-auth-key=authpass123 --v3-auth-proto=MD5 --v3-priv-key=privpass123 --v3-priv-proto=DES
}

# Options given before the first --v3-engine-id go into an implicit "auto" engine that then fails
# with "agent endpoint address(es) not specified": every block starts with --v3-engine-id.
# Engine IDs are hex WITHOUT 0x.
make_args() {
  local i=0 port f d argsf="$SIM_DIR/sim-args.txt" files
  files=$(sources)
  rm -rf "$SIM_DIR"/data*
  : >"$argsf"
  if [ "$SNMPSIM_MODE" = community ]; then
    mkdir -p "$SIM_DIR/data"
    while IFS= read -r f; do cp "$f" "$SIM_DIR/data/"; done <<<"$files"
    { echo "--v3-engine-id=8000000001020304"; echo "--data-dir=$SIM_DIR/data"; users_block
      echo "--agent-udpv4-endpoint=127.0.0.1:$SNMPSIM_PORT"; } >>"$argsf"
    PORTS=1
  elif [ "$SNMPSIM_MODE" = ports ]; then
    while IFS= read -r f; do
      port=$((SNMPSIM_PORT + i))
      check_port "$port" "port for $f"
      d="$SIM_DIR/data-$i"
      mkdir -p "$d"
      case $f in *.bz2) cp "$f" "$d/public.snmprec.bz2" ;; *) cp "$f" "$d/public.snmprec" ;; esac
      { printf -- '--v3-engine-id=800000000102%04x\n' $((0x0304 + i)); echo "--data-dir=$d"; users_block
        echo "--agent-udpv4-endpoint=127.0.0.1:$port"; } >>"$argsf"
      echo "  127.0.0.1:$port -> $(basename "$f")" >&2
      i=$((i + 1))
    done <<<"$files"
    PORTS=$i
  else
    die "SNMPSIM_MODE must be 'community' or 'ports'"
  fi
  chmod -R a+rX "$SIM_DIR"
}

case ${1:-} in
  install)
    need "$PYTHON" python3
    base=$("$PYTHON" -c 'import sys; print(sys.base_prefix)')
    case $base in *pyenv*|"$HOME"*) note "warning: $PYTHON lives under $base; snmpsim's drop to 'nobody' may not be able to read it";; esac
    "$PYTHON" -m venv "$SNMPSIM_VENV"
    # 'cryptography' is not pulled in by snmpsim, and without it every v3 privacy request fails
    # with "Decryption error".
    "$SNMPSIM_VENV/bin/pip" install --quiet --disable-pip-version-check \
      snmpsim==1.2.2 snmpsim-data==1.0.1 cryptography
    chmod -R a+rX "$SNMPSIM_VENV"
    echo "installed into $SNMPSIM_VENV"
    ;;
  start)
    [ -x "$SIM_BIN" ] || die "no snmpsim in $SNMPSIM_VENV; run '${0##*/} install' first"
    make_args
    mkdir -p "$SIM_DIR/cache"
    drop=()
    if [ "$(id -u)" = 0 ]; then
      # as root, snmpsim refuses to run without dropping privileges
      chown -R nobody:nogroup "$SIM_DIR/cache"
      if ! runuser -u nobody -- "$SIM_PY" -c 'import dbm, snmpsim' 2>/dev/null; then
        die "user 'nobody' cannot run $SIM_PY (venv built on a Python under a private home, or a parent directory not readable?); set PYTHON to the distribution's python3 and reinstall"
      fi
      drop=(--process-user=nobody --process-group=nogroup)
    fi
    start_bg "$SIM_DIR" snmpsim "$SIM_DIR/sim-args.txt" "$SIM_DIR/snmpsim.log" \
      "$SIM_BIN" "${drop[@]}" --cache-dir="$SIM_DIR/cache" --args-from-file="$SIM_DIR/sim-args.txt"
    # the first start indexes the recordings (about 5 s for 280k records); later starts ~2 s
    for j in $(seq 0 $((PORTS - 1))); do
      wait_listen udp $((SNMPSIM_PORT + j)) 120 "$SIM_DIR" snmpsim
    done
    echo "snmpsim ready ($SNMPSIM_MODE mode) from 127.0.0.1:$SNMPSIM_PORT; log $SIM_DIR/snmpsim.log"
    ;;
  stop) stop_pid "$SIM_DIR" snmpsim ;;
  status) status_pid "$SIM_DIR" snmpsim ;;
  list)
    src=$(data_src)
    (cd "$src" && find . -name '*.snmprec*' | sed -e 's|^\./||' -e 's|\.snmprec\(\.bz2\)\{0,1\}$||' | sort)
    if [ -n "$SNMPSIM_EXTRA_DIR" ] && [ -d "$SNMPSIM_EXTRA_DIR" ]; then
      for f in "$SNMPSIM_EXTRA_DIR"/*.snmprec; do
        if [ -f "$f" ]; then echo "extra: $(basename "$f" .snmprec)"; fi
      done
    fi
    ;;
  *) echo "usage: ${0##*/} install|start|stop|status|list" >&2; exit 2 ;;
esac
