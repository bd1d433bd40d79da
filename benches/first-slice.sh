#!/usr/bin/env bash
# Whole-program figures: import of a feed folder, store size, and time to the first MCP result.
#
# Usage: [BASELINE=path/to/older/tiq] benches/first-slice.sh [FEED_DIR] [RUNS]
#   FEED_DIR defaults to ../shared/data beside the repository; RUNS defaults to 5.
#   With BASELINE, each import run is followed by one of the older binary, and the medians
#   of both and their ratio are printed.
# Needs a release build (cargo build --release), curl and GNU time (/usr/bin/time).
# Prints one line per run and the medians; all traffic stays on 127.0.0.1.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
feeds="${1:-$root/../shared/data}"
runs="${2:-5}"
tiq="$root/target/release/tiq"
[[ -x "$tiq" ]] || { echo "missing $tiq: run cargo build --release first" >&2; exit 1; }
[[ -d "$feeds" ]] || { echo "missing feed folder $feeds" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time: apt-get install time" >&2; exit 1; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
echo "feeds: $feeds ($(du -sh "$feeds" | cut -f1))"

# One import of the feed folder into a fresh data directory; appends a line to $3.tsv.
import_once() {
    local binary="$1" data="$2" label="$3"
    # The import exits 1 when a file failed or kept earlier records; the figures still count.
    /usr/bin/time -f '%e %M' -o "$work/time" "$binary" import --data-dir "$data" "$feeds" \
        > "$work/import.out" 2> "$work/import.err" || true
    read -r seconds peak_kib < <(tail -n 1 "$work/time")
    records="$(grep -Eo '[0-9]+ records in' "$work/import.out" | grep -Eo '^[0-9]+')"
    db_bytes="$(stat -c %s "$data/tiq.db")"
    rate="$(awk -v r="$records" -v s="$seconds" 'BEGIN { printf "%.0f", r / s }')"
    printf '%s\t%s\t%s\t%s\t%s\n' "$seconds" "$peak_kib" "$records" "$rate" "$db_bytes" >> "$work/$label.tsv"
    echo "$label import run $run: ${seconds} s, peak ${peak_kib} KiB, ${records} records, ${rate} records/s, tiq.db ${db_bytes} bytes"
}
summary() {
    echo "$1 import median: $(cut -f1 "$work/$1.tsv" | median) s," \
         "peak $(cut -f2 "$work/$1.tsv" | median) KiB," \
         "$(cut -f4 "$work/$1.tsv" | median) records/s," \
         "tiq.db $(cut -f5 "$work/$1.tsv" | median) bytes"
}

for run in $(seq "$runs"); do
    import_once "$tiq" "$work/data-$run" current
    if [[ -n "${BASELINE:-}" ]]; then
        import_once "$BASELINE" "$work/baseline-$run" baseline
        rm -rf "$work/baseline-$run"
    fi
done
summary current
if [[ -n "${BASELINE:-}" ]]; then
    summary baseline
    echo "records/s ratio, current to baseline: $(awk -v a="$(cut -f4 "$work/current.tsv" | median)" \
        -v b="$(cut -f4 "$work/baseline.tsv" | median)" 'BEGIN { printf "%.2f", a / b }')"
fi

# Time from starting `tiq serve` until an MCP tools/call returns a report.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port/mcp"
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}'
call='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"analyze_ip","arguments":{"ip":"8.8.8.8"}}}'
: > "$work/first.txt"
for run in $(seq "$runs"); do
    start="$(date +%s.%N)"
    "$tiq" serve --no-sync --data-dir "$work/data-1" --listen "127.0.0.1:$port" 2> "$work/serve.log" &
    server_pid=$!
    session=""
    for _ in $(seq 2000); do
        session="$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
            -H 'Accept: application/json, text/event-stream' -d "$init" "$url" 2>/dev/null \
            | awk -F': ' 'tolower($1) == "mcp-session-id" { gsub("\r", "", $2); print $2 }')" || true
        [[ -n "$session" ]] && break
        sleep 0.005
    done
    [[ -n "$session" ]] || { cat "$work/serve.log" >&2; echo "server did not respond to initialize" >&2; exit 1; }
    curl -s -o /dev/null -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        -H "Mcp-Session-Id: $session" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$url"
    curl -s -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        -H "Mcp-Session-Id: $session" -d "$call" "$url" | grep -q '"verdict"'
    end="$(date +%s.%N)"
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
    elapsed_ms="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", (b - a) * 1000 }')"
    echo "$elapsed_ms" >> "$work/first.txt"
    echo "first answer run $run: ${elapsed_ms} ms"
done
echo "first answer median: $(median < "$work/first.txt") ms"
