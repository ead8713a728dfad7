# shellcheck shell=bash
# venv.sh: Python venv helpers shared by docker-check.sh and terraform-check.sh. Source it after
# setting PYTHON (the Debian python3), SUDO ("" as root) and a log() function.

# ensure_python_venv: install Debian's python3-venv if `python3 -m venv` cannot work.
ensure_python_venv() {
  [ -x "$PYTHON" ] || { echo "${0##*/}: $PYTHON not found (install python3)" >&2; exit 1; }
  if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    log "installing python3-venv (Debian)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
}

# ensure_pkg VENV DIST VERSION: create VENV if needed; pip install DIST==VERSION unless present.
ensure_pkg() {
  local venv=$1 dist=$2 version=$3 have=""
  if [ ! -x "$venv/bin/python" ]; then
    ensure_python_venv
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
  fi
  have=$("$venv/bin/python" -c 'import importlib.metadata as m, sys
try:
    print(m.version(sys.argv[1]))
except m.PackageNotFoundError:
    pass' "$dist")
  if [ "$have" != "$version" ]; then
    log "pip install $dist==$version into ${venv#"$PWD"/}"
    "$venv/bin/pip" install --quiet "$dist==$version"
  fi
}
