#!/bin/bash
# tls-listen.sh start|stop|status [NAME] : a TLS capture server (socat) on loopback that appends
# every byte received, from any number of connections, to $PEERS_DIR/tls-listen/NAME.bin.
# A stand-in for the Datadog TCP+TLS log intake or any TLS syslog collector.
#
# Environment (defaults in brackets):
#   PEERS_DIR          working directory [/tmp/nocbox-peers]
#   TLS_DIR            certificates from mkcerts.sh [$PEERS_DIR/tls; created if missing]
#   TLS_LISTEN_PORT    port on 127.0.0.1 [16515]
#   TLS_LISTEN_VERIFY  1 = require a client certificate signed by the test CA (mutual TLS) [0]
#   TLS_LISTEN_TLS12   1 = accept TLS 1.2 only [0]
#   TLS_LISTEN_IDLE    close a connection after this many idle seconds, like an intake that
#                      cuts idle clients (socat -T) [unset = never]
# NAME defaults to "capture" (several listeners need distinct NAMEs and ports).
#
# Send to it: printf 'APIKEY <13>1 - h app - - - hi\n' | socat -u - OPENSSL:127.0.0.1:16515,cafile=$TLS_DIR/ca.pem
# (add cert=$TLS_DIR/client.pem,key=$TLS_DIR/client.key for mutual TLS).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

: "${TLS_DIR:=$PEERS_DIR/tls}"
: "${TLS_LISTEN_PORT:=16515}"
: "${TLS_LISTEN_VERIFY:=0}"
: "${TLS_LISTEN_TLS12:=0}"
check_port "$TLS_LISTEN_PORT" TLS_LISTEN_PORT
name=${2:-capture}
case $name in *[!A-Za-z0-9_-]*|'') die "NAME may contain only letters, digits, _ and -";; esac
DIR=$(peer_dir tls-listen)

case ${1:-} in
  start)
    need socat socat
    if [ ! -f "$TLS_DIR/ca.pem" ]; then "$PEERS_HERE/mkcerts.sh" "$TLS_DIR" >/dev/null; fi
    opts="bind=127.0.0.1,reuseaddr,fork,cert=$TLS_DIR/server.pem,key=$TLS_DIR/server.key,cafile=$TLS_DIR/ca.pem,verify=$TLS_LISTEN_VERIFY"
    if [ "$TLS_LISTEN_TLS12" = 1 ]; then
      opts="$opts,openssl-min-proto-version=TLS1.2,openssl-max-proto-version=TLS1.2"
    fi
    : >"$DIR/$name.bin"
    start_bg "$DIR" "$name" "OPENSSL-LISTEN:$TLS_LISTEN_PORT" "$DIR/$name.log" \
      socat -d ${TLS_LISTEN_IDLE:+-T "$TLS_LISTEN_IDLE"} -u "OPENSSL-LISTEN:$TLS_LISTEN_PORT,$opts" "OPEN:$DIR/$name.bin,creat,append"
    wait_listen tcp "$TLS_LISTEN_PORT" 10 "$DIR" "$name"
    echo "TLS capture on 127.0.0.1:$TLS_LISTEN_PORT -> $DIR/$name.bin (log $DIR/$name.log)"
    ;;
  stop) stop_pid "$DIR" "$name" ;;
  status) status_pid "$DIR" "$name" ;;
  *) echo "usage: ${0##*/} start|stop|status [NAME]" >&2; exit 2 ;;
esac
