#!/usr/bin/env bash
# bench/stages.sh : where nocbox's CPU time per syslog message goes, stage by stage (parse, record
# build, JSON rendering, write+flush per line), on one core and without sockets, for loggen's
# 200-byte line and for the Cisco/Junos fixture. Builds bench/stages (a separate package that
# links the nocbox library) into target/bench-stages; the first build takes a few minutes.
set -euo pipefail
ROOT=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=$ROOT/target/bench-stages
cargo build --release --quiet --manifest-path "$ROOT/bench/stages/Cargo.toml"
exec "$CARGO_TARGET_DIR/release/nocbox-bench-stages" "$ROOT/bench/fixtures/cisco-junos.txt" \
  "$CARGO_TARGET_DIR/stages-output.tmp"
