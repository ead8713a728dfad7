#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian/Ubuntu machine, then runs every test, rustfmt and
# clippy, and the image and Terraform checks. Idempotent: packages already present are kept.
#   Debian packages: the real peers (chrony for NTP, net-snmp's snmp/snmpd/snmptrapd for SNMP,
#   rsyslog with TLS, haproxy, socat, openssl, logger, unshare, chromium for the status page,
#   python3 with venv for checkov/hadolint/python-hcl2); for the ping and TCP check tests
#   unshare/nsenter/setpriv (util-linux), ip (iproute2), sysctl (procps), nft (nftables), and
#   fping for bench/ping.sh
#   loggen: unpacked from syslog-ng-core's .deb into target/nocbox-peers (it conflicts with rsyslog)
#   snmpsim 1.2.2 + snmpsim-data (recorded Cisco/Juniper devices): a venv in
#   target/nocbox-peers/snmpsim-venv (SNMPSIM_VENV); prometheus-snmp-exporter for bench/snmp.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

pkgs=(chrony snmp snmpd snmptrapd rsyslog rsyslog-gnutls rsyslog-openssl haproxy chromium socat netcat-openbsd openssl bsdutils util-linux iproute2 procps nftables fping python3 python3-venv ca-certificates prometheus-snmp-exporter)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
updated=0
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  updated=1
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # the package enables a service on :9116 (every address); bench/snmp.sh starts its own on
  # loopback, so switch off the one we just installed
  if [[ " ${missing[*]} " == *" prometheus-snmp-exporter "* ]] && command -v systemctl >/dev/null \
    && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now prometheus-snmp-exporter >/dev/null 2>&1 || true
  fi
fi

export PEERS_DIR="$PWD/target/nocbox-peers"
export LOGGEN_DIR="$PEERS_DIR/loggen"
if [ ! -x "$LOGGEN_DIR/root/usr/bin/loggen" ]; then
  [ "$updated" = 1 ] || $SUDO apt-get update -qq
  bash tests/peers/loggen.sh download
fi
export SNMPSIM_VENV="$PEERS_DIR/snmpsim-venv"
if [ ! -x "$SNMPSIM_VENV/bin/snmpsim-command-responder" ]; then
  PYTHON=/usr/bin/python3 bash tests/peers/snmpsim.sh install
fi

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked --all-targets
# The container image's build, libraries, entrypoint and health check (no Docker engine needed),
# then the Terraform module (fmt, checkov, structure tests). Both need root, like the e2e tests.
./scripts/docker-check.sh
bash scripts/terraform-check.sh
