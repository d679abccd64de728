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

# The operator CLI (table, admin, keys).
build_admin() {
  say "building roster-admin"
  (cd "$ROOT" && cargo build --quiet -p roster-shared --bin roster-admin)
  ADMIN_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/roster-admin"
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
