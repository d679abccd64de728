# Shared by scripts/dev and scripts/test: installs the pinned local stack into .venv and
# starts/stops the emulator. Source it; it sets ROOT, VENV and PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
LOCAL="$ROOT/.local"
export PATH="$VENV/bin:$HOME/.cargo/bin:$PATH"
mkdir -p "$LOCAL"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Python packages (moto, cargo-lambda, cfn-lint), pinned in scripts/requirements.txt.
setup_python() {
  command -v python3 >/dev/null || die "python3 is required"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    python3 -m venv "$VENV"
  fi
  if ! cmp -s "$ROOT/scripts/requirements.txt" "$VENV/.installed-requirements"; then
    say "installing the pinned local stack (moto, cargo-lambda, cfn-lint)"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/scripts/requirements.txt"
    cp "$ROOT/scripts/requirements.txt" "$VENV/.installed-requirements"
  fi
}

# The one build scripts/dev and scripts/test share: the product and its tests, not
# scripts/bench's floors (sdk-hello's default SDK features would be unified into the
# functions). Same selection, profile (dev) and target directory in both, and the test crate's
# dependencies are normal ones (tests/Cargo.toml), so `--bins` and `--bins --tests` resolve
# the same features: scripts/test after scripts/dev compiles only the tests, and
# `cargo lambda watch` runs these binaries (scripts/watch-cargo) instead of compiling its own.
BUILD=(--workspace --exclude hello --exclude sdk-hello --exclude bench-runtime-api)
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
ADMIN_BIN="$TARGET_DIR/debug/roster-admin"

# build [CARGO BUILD ARGS...]: every binary (the ten functions and roster-admin) and whatever
# else is asked, with cargo's progress on the terminal.
build() {
  say "building the functions and roster-admin: cargo build ${BUILD[*]} --bins${*:+ $*}"
  local start=$SECONDS
  (cd "$ROOT" && cargo build "${BUILD[@]}" --bins "$@")
  say "built in $((SECONDS - start)) s"
}

# setup_python in the background (its output in .local/setup-python.log) while cargo builds:
# the download and the compilation overlap. python_ready waits for it.
setup_python_bg() {
  setup_python >"$LOCAL/setup-python.log" 2>&1 &
  PYTHON_SETUP_PID=$!
  say "installing the pinned Python tools in the background (.local/setup-python.log)"
}
python_ready() {
  wait "$PYTHON_SETUP_PID" ||
    { cat "$LOCAL/setup-python.log" >&2; die "installing the Python tools failed (above)"; }
}

# The operator CLI (table, admin, keys), from the shared build.
build_admin() {
  say "building roster-admin"
  (cd "$ROOT" && cargo build --quiet "${BUILD[@]}" --bin roster-admin)
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

emulator_up() { curl -fsS -o /dev/null "http://127.0.0.1:$1/moto-api/data.json" 2>/dev/null; }

# start_emulator PORT: starts the emulator unless one already answers there; sets EMULATOR_PID
# (empty when reusing one).
start_emulator() {
  local port="$1"
  EMULATOR_PID=""
  if emulator_up "$port"; then
    say "reusing the emulator already on 127.0.0.1:$port"
    return
  fi
  say "starting the emulator on 127.0.0.1:$port"
  "$VENV/bin/python" "$ROOT/scripts/emulator.py" --port "$port" >"$LOCAL/emulator-$port.log" 2>&1 &
  EMULATOR_PID=$!
  for _ in $(seq 1 100); do
    emulator_up "$port" && return
    kill -0 "$EMULATOR_PID" 2>/dev/null || die "the emulator exited; see $LOCAL/emulator-$port.log"
    sleep 0.2
  done
  die "the emulator did not answer on port $port"
}

# Points the AWS SDK (ours and the CLI's) at the emulator.
use_emulator() {
  export AWS_ENDPOINT_URL="http://127.0.0.1:$1"
  export AWS_REGION="${AWS_REGION:-us-east-1}"
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
  export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
}

# signing_key_secret [FILE]: puts a signing key into the emulator's Secrets Manager, as in
# AWS, and exports what the functions are given: JWT_SIGNING_KEY_SECRET (the secret's id)
# and JWT_PUBLIC_KEYS (its public kid=x entry). With FILE, the key in FILE, made there on
# first use (scripts/dev keeps it in .local/ across runs); without, a new key. Needs the
# emulator (use_emulator) and roster-admin (build_admin).
signing_key_secret() {
  local file="${1:-}"
  export JWT_SIGNING_KEY_SECRET="roster/signing-key"
  if [ -n "$file" ]; then
    if [ ! -s "$file" ]; then
      (umask 077 && "$ADMIN_BIN" gen-key --kid roster-1 >"$file" 2>/dev/null)
    fi
    JWT_PUBLIC_KEYS="$("$ADMIN_BIN" put-signing-key --secret-id "$JWT_SIGNING_KEY_SECRET" --file "$file")"
  else
    JWT_PUBLIC_KEYS="$("$ADMIN_BIN" put-signing-key --secret-id "$JWT_SIGNING_KEY_SECRET")"
  fi
  export JWT_PUBLIC_KEYS
}

# start_api PORT ENV_FILE LOG [WATCH ARGS...]: serves the API with `cargo lambda watch` on
# 127.0.0.1:PORT in its own process group (WATCH_PID), the functions' environment from
# ENV_FILE, its output to LOG (- for the terminal). Returns when the router answers. Watch
# runs the binaries `build` made, through scripts/watch-cargo (see there why).
start_api() {
  local port="$1" env_file="$2" log="$3"; shift 3
  export ROSTER_REAL_CARGO ROSTER_BUILD ROSTER_TARGET_DIR="$TARGET_DIR"
  ROSTER_REAL_CARGO="$(command -v cargo)"
  ROSTER_BUILD="${BUILD[*]}"
  local watch=(env CARGO="$ROOT/scripts/watch-cargo" "$VENV/bin/cargo-lambda" lambda watch
    --invoke-address 127.0.0.1 --invoke-port "$port" --env-file "$env_file" "$@")
  if [ "$log" = - ]; then
    (cd "$ROOT" && exec setsid "${watch[@]}") &
  else
    (cd "$ROOT" && exec setsid "${watch[@]}" >"$log" 2>&1) &
  fi
  WATCH_PID=$!
  for _ in $(seq 1 300); do
    # A bare connection: an HTTP request to / would log an error in the router.
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return
    kill -0 "$WATCH_PID" 2>/dev/null || die "cargo lambda watch exited${log:+; see $log}"
    sleep 0.2
  done
  die "cargo lambda watch did not answer on port $port"
}

# warm_api PORT: one request to each function behind the router (its first route, GET where
# it has one, without credentials: a 400 or 401 that reads and writes nothing), so that every
# function process is running and the next request to any route answers at once. Prints one
# line per function with its status and time.
warm_api() {
  local port="$1"
  "$VENV/bin/python" - "$ROOT/Cargo.toml" "$port" <<'PY'
import re, sys, time, tomllib, urllib.request, urllib.error
from concurrent.futures import ThreadPoolExecutor
routes = tomllib.load(open(sys.argv[1], "rb"))["workspace"]["metadata"]["lambda"]["watch"]["router"]
first = {}
for r in routes:
    best = first.get(r["function"])
    if best is None or ("GET" in r["methods"] and "GET" not in best["methods"]):
        first[r["function"]] = r
def hit(item):
    name, r = item
    method = "GET" if "GET" in r["methods"] else r["methods"][0]
    path = re.sub(r"\{[^}]+\}", "warm-up", r["path"])
    req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[2]}{path}", method=method)
    start = time.monotonic()
    try:
        status = urllib.request.urlopen(req, timeout=600).status
    except urllib.error.HTTPError as e:
        status = e.code
    return name, method, path, status, time.monotonic() - start
with ThreadPoolExecutor(len(first)) as pool:
    results = list(pool.map(hit, sorted(first.items())))
bad = [r for r in results if r[3] >= 500]
for name, method, path, status, secs in results:
    print(f"    {name:<12} {method} {path} -> {status} ({secs:.1f} s)", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
