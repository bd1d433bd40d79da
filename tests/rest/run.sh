#!/usr/bin/env bash
# Schemathesis against the REST API: imports the engine's test fixtures into a
# temporary data directory, starts `tiq serve --no-sync` on a free loopback port,
# and runs schemathesis on GET /openapi.json with the checks not_a_server_error,
# response_schema_conformance, status_code_conformance and
# content_type_conformance.
#
# It builds nothing: run `cargo build --release -p tiq` first. schemathesis is
# installed from requirements.txt into a virtual environment under
# target/rest/venv, once per version of that file.
#
# Environment:
#   TIQ_BIN            tiq binary (default: target/release/tiq)
#   REST_MAX_EXAMPLES  test cases per operation and phase (default: 100)
#
# Outputs go to target/rest/: serve.log, schemathesis.log and junit.xml. The last
# line printed is "N passed, N failed", counting operations.
set -euo pipefail

SUITE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SUITE_DIR/../.." && pwd)"
TIQ_BIN="${TIQ_BIN:-$REPO_ROOT/target/release/tiq}"
OUTPUT_DIR="$REPO_ROOT/target/rest"
VENV="$OUTPUT_DIR/venv"
MAX_EXAMPLES="${REST_MAX_EXAMPLES:-100}"
PING_TIMEOUT_SECONDS=30

# Every request goes to the loopback server this script starts, never through a proxy.
export NO_PROXY="127.0.0.1,localhost,::1"
export no_proxy="$NO_PROXY"
export NO_COLOR=1

die() {
  echo "run.sh: error: $*" >&2
  exit 1
}

[[ -x "$TIQ_BIN" ]] || die "tiq binary not found at $TIQ_BIN: run cargo build --release -p tiq"
mkdir -p "$OUTPUT_DIR"

# --- schemathesis -------------------------------------------------------------

stamp="$VENV/requirements.sha256"
wanted="$(sha256sum "$SUITE_DIR/requirements.txt" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
  echo "installing schemathesis into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$SUITE_DIR/requirements.txt" \
    || die "pip install -r tests/rest/requirements.txt failed"
  echo "$wanted" >"$stamp"
fi
"$VENV/bin/schemathesis" --version

# --- Server -------------------------------------------------------------------

WORK_DIR="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT

data_dir="$WORK_DIR/data"
"$TIQ_BIN" import --data-dir "$data_dir" "$REPO_ROOT/crates/engine/tests/fixtures/feeds" \
  >"$OUTPUT_DIR/import.log" 2>&1 || die "tiq import failed: $(tail -n 5 "$OUTPUT_DIR/import.log")"

port="$("$VENV/bin/python" -c '
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
')"
base_url="http://127.0.0.1:$port"
"$TIQ_BIN" serve --no-sync --listen "127.0.0.1:$port" --data-dir "$data_dir" >"$OUTPUT_DIR/serve.log" 2>&1 &
SERVER_PID=$!

deadline=$(( SECONDS + PING_TIMEOUT_SECONDS ))
until curl -fsS --noproxy '*' --max-time 2 -o /dev/null "$base_url/api/v1/ping" 2>/dev/null; do
  kill -0 "$SERVER_PID" 2>/dev/null || die "tiq serve exited early: $(tail -n 20 "$OUTPUT_DIR/serve.log")"
  (( SECONDS < deadline )) || die "timed out after $PING_TIMEOUT_SECONDS s waiting for $base_url/api/v1/ping"
  sleep 0.1
done
echo "tiq serve listening on $base_url"

# --- Run ----------------------------------------------------------------------

junit="$OUTPUT_DIR/junit.xml"
rm -f "$junit"
status=0
# schemathesis keeps state in .schemathesis/ under the working directory, so it
# runs from target/rest rather than the repository root.
cd "$OUTPUT_DIR"
"$VENV/bin/schemathesis" run "$base_url/openapi.json" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --max-examples "$MAX_EXAMPLES" \
  --workers 2 \
  --seed 1 \
  --generation-database none \
  --no-color \
  --report junit --report-junit-path "$junit" \
  2>&1 | tee "$OUTPUT_DIR/schemathesis.log" || status=$?

[[ -f "$junit" ]] || die "schemathesis wrote no JUnit report (exit status $status)"
"$VENV/bin/python" - "$junit" <<'PY'
import sys
import xml.etree.ElementTree as ET

cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
passed = failed = 0
for case in cases:
    if case.find("failure") is not None or case.find("error") is not None:
        failed += 1
    else:
        passed += 1
print(f"{passed} passed, {failed} failed")
PY
exit "$status"
