#!/usr/bin/env bash
# Whole-server figures over loopback HTTP with wrk, on the real feed data:
#   - REST single lookups (GET /api/v1/ip/ADDR) against the bare GET /api/v1/ping of the
#     same binary, alternated round by round so both see the same machine: the same
#     address again and again (served from the engine's memo after the second request),
#     and 20,000 listed addresses in turn (each analysed afresh);
#   - MCP tools/call over streamable HTTP, inside one session and without one;
#   - the server's resident memory once everything is loaded, and its peak.
#
# Usage: benches/http.sh [FEED_DIR] [ROUNDS] [SECONDS]
#   FEED_DIR defaults to ../shared/data beside the repository; ROUNDS to 3; SECONDS
#   (per wrk run) to 10. Environment: CONNECTIONS (default 32), THREADS (default 2).
# Needs a release build (cargo build --release -p tiq), wrk and curl. The server and wrk
# share the machine's cores, so the figures are a floor for a server with its own cores.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
feeds="$(cd "${1:-$root/../shared/data}" && pwd)"
rounds="${2:-3}"
duration="${3:-10}"
connections="${CONNECTIONS:-32}"
threads="${THREADS:-2}"
tiq="$root/target/release/tiq"
[[ -x "$tiq" ]] || { echo "missing $tiq: run cargo build --release -p tiq first" >&2; exit 1; }
command -v wrk >/dev/null || { echo "missing wrk: apt-get install -y wrk" >&2; exit 1; }
export NO_PROXY="127.0.0.1,localhost,::1" no_proxy="127.0.0.1,localhost,::1"

work="$(mktemp -d)"
server=""
cleanup() {
    [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Prints "REQUESTS_PER_SECOND P50_MS P99_MS ERRORS" for one wrk run.
run_wrk() {
    local out
    out="$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$@")"
    echo "$out" >>"$work/wrk.log"
    awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /s$/) return v * 1000
            return v
        }
        /Requests\/sec:/ { rps = $2 }
        $1 == "50.000%" || $1 == "50%" { p50 = ms($2) }
        $1 == "99.000%" || $1 == "99%" { p99 = ms($2) }
        /Non-2xx or 3xx responses:/ { errors += $NF }
        /Socket errors:/ { errors += 1 }
        END { printf "%s %s %s %d\n", rps, p50, p99, errors }' <<<"$out"
}

"$tiq" import --data-dir "$work/data" "$feeds" >/dev/null 2>&1
address="$(awk '!/^#/ && NF >= 2 { print $1; exit }' "$feeds/01-malicious-ip/ipsum/ipsum.txt")"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
RUST_LOG=warn "$tiq" serve --no-sync --listen "127.0.0.1:$port" --data-dir "$work/data" \
    >"$work/serve.log" 2>&1 &
server=$!
until curl -fsS -o /dev/null "$base/healthz" 2>/dev/null; do sleep 0.2; done
# The IP index is built on a background thread in about a second on this data, so one
# lookup and a five-second pause leave it ready before the first run.
curl -fsS -o /dev/null "$base/api/v1/ip/$address"
sleep 5

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git -C "$root" rev-parse --short HEAD)"
echo "wrk: -t$threads -c$connections -d${duration}s, $rounds rounds; lookup of $address"

# MCP: one session for the session runs; a Lua script posts the same tools/call.
accept="Accept: application/json, text/event-stream"
session="$(curl -fsS -D - -o /dev/null -H "$accept" -H 'Content-Type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' \
    "$base/mcp" | awk 'tolower($1) == "mcp-session-id:" { print $2 }' | tr -d '\r')"
curl -fsS -o /dev/null -H "$accept" -H 'Content-Type: application/json' -H "Mcp-Session-Id: $session" \
    -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$base/mcp"
cat >"$work/call.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.body = '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"analyze_ip","arguments":{"ip":"$address"}}}'
EOF
sed "s/^wrk.body/wrk.headers[\"Mcp-Session-Id\"] = \"$session\"\nwrk.body/" "$work/call.lua" >"$work/session.lua"

# Distinct lookups: each request names another listed address, 20,000 in turn, so the
# engine's memo of recent reports (4,096 entries) serves none of them. The two wrk threads
# start half the list apart.
awk '!/^#/ && NF >= 2 && count < 20000 { print $1; count++ }' "$feeds/01-malicious-ip/ipsum/ipsum.txt" \
    >"$work/addresses.txt"
cat >"$work/distinct.lua" <<EOF
local addresses = {}
for line in io.lines("$work/addresses.txt") do addresses[#addresses + 1] = line end
local threads = 0
function setup(thread)
    thread:set("first", threads * math.floor(#addresses / 2))
    threads = threads + 1
end
function init(args)
    position = first or 0
end
function request()
    position = position % #addresses + 1
    return wrk.format("GET", "/api/v1/ip/" .. addresses[position])
end
EOF

declare -A rps p50 p99 errors
names=(ping ip ip-distinct mcp-session mcp-stateless)
for name in "${names[@]}"; do rps[$name]=""; p50[$name]=""; p99[$name]=""; errors[$name]=0; done
for round in $(seq "$rounds"); do
    for name in "${names[@]}"; do
        case "$name" in
            ping) figures="$(run_wrk "$base/api/v1/ping")" ;;
            ip) figures="$(run_wrk "$base/api/v1/ip/$address")" ;;
            ip-distinct) figures="$(run_wrk -s "$work/distinct.lua" "$base")" ;;
            mcp-session) figures="$(run_wrk -s "$work/session.lua" "$base/mcp")" ;;
            mcp-stateless) figures="$(run_wrk -s "$work/call.lua" "$base/mcp")" ;;
        esac
        read -r r a b e <<<"$figures"
        rps[$name]+="$r "; p50[$name]+="$a "; p99[$name]+="$b "; errors[$name]=$(( errors[$name] + e ))
        echo "round $round $name: $r requests/s, p50 $a ms, p99 $b ms, errors $e"
    done
done

echo
printf '%-16s %14s %10s %10s %8s\n' target "requests/s" "p50 ms" "p99 ms" errors
for name in "${names[@]}"; do
    printf '%-16s %14s %10s %10s %8s\n' "$name" \
        "$(tr ' ' '\n' <<<"${rps[$name]}" | grep . | median)" \
        "$(tr ' ' '\n' <<<"${p50[$name]}" | grep . | median)" \
        "$(tr ' ' '\n' <<<"${p99[$name]}" | grep . | median)" \
        "${errors[$name]}"
done
ping_rps="$(tr ' ' '\n' <<<"${rps[ping]}" | grep . | median)"
ip_rps="$(tr ' ' '\n' <<<"${rps[ip]}" | grep . | median)"
distinct_rps="$(tr ' ' '\n' <<<"${rps[ip-distinct]}" | grep . | median)"
echo "ratio of lookup to bare endpoint (medians): $(awk -v a="$ip_rps" -v b="$ping_rps" 'BEGIN { printf "%.2f", a / b }')"
echo "ratio of distinct lookups to bare endpoint (medians): $(awk -v a="$distinct_rps" -v b="$ping_rps" 'BEGIN { printf "%.2f", a / b }')"
echo "server memory after the runs: $(awk '/^VmRSS/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$server/status") resident, peak $(awk '/^VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$server/status")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
