#!/usr/bin/env bash
# The cost of access control per request, with wrk over loopback on the real feed data:
#   - "off": a server with no key, where nothing is authenticated or limited and the audit
#     log is off ([audit] enabled = false);
#   - "on": a server where every request carries a key with a rate and a daily quota far
#     above the load, and every call is written to the audit log.
# Both serve the same lookup (GET /api/v1/ip/ADDR) and are measured in alternating rounds.
# Then the audit log's growth: access.db bytes per entry after the runs, and per million.
#
# Usage: benches/auth.sh [FEED_DIR] [ROUNDS] [SECONDS]
#   FEED_DIR defaults to ../shared/data beside the repository; ROUNDS to 3; SECONDS to 10.
#   Environment: CONNECTIONS (default 32), THREADS (default 2).
# Needs a release build (cargo build --release -p tiq), wrk, curl and sqlite3 or python3.
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
servers=()
cleanup() {
    for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

run_wrk() {
    local out
    out="$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$@")"
    awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /s$/) return v * 1000
            return v
        }
        /Requests\/sec:/ { rps = $2 }
        $1 == "99.000%" || $1 == "99%" { p99 = ms($2) }
        /Non-2xx or 3xx responses:/ { errors += $NF }
        /Socket errors:/ { errors += 1 }
        END { printf "%s %s %d\n", rps, p99, errors }' <<<"$out"
}

"$tiq" import --data-dir "$work/off" "$feeds" >/dev/null 2>&1
cp -r "$work/off" "$work/on"
printf '[audit]\nenabled = false\n' >"$work/off/tiq.toml"
key="$("$tiq" key create --data-dir "$work/on" --name bench --rate 100000000/min \
    --daily-quota 4000000000 --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')"
address="$(awk '!/^#/ && NF >= 2 { print $1; exit }' "$feeds/01-malicious-ip/ipsum/ipsum.txt")"

declare -A port
for mode in off on; do
    port[$mode]="$(free_port)"
    RUST_LOG=warn "$tiq" serve --no-sync --listen "127.0.0.1:${port[$mode]}" --data-dir "$work/$mode" \
        >"$work/$mode.log" 2>&1 &
    servers+=($!)
done
for mode in off on; do
    until curl -fsS -o /dev/null "http://127.0.0.1:${port[$mode]}/healthz" 2>/dev/null; do sleep 0.2; done
done
curl -fsS -o /dev/null "http://127.0.0.1:${port[off]}/api/v1/ip/$address"
curl -fsS -o /dev/null -H "Authorization: Bearer $key" "http://127.0.0.1:${port[on]}/api/v1/ip/$address"
sleep 5

cat >"$work/key.lua" <<EOF2
wrk.headers["Authorization"] = "Bearer $key"
EOF2

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git -C "$root" rev-parse --short HEAD)"
echo "wrk: -t$threads -c$connections -d${duration}s, $rounds rounds; lookup of $address"

declare -A rps p99 errors
for mode in off on; do rps[$mode]=""; p99[$mode]=""; errors[$mode]=0; done
for round in $(seq "$rounds"); do
    for mode in off on; do
        if [[ $mode == on ]]; then
            figures="$(run_wrk -s "$work/key.lua" "http://127.0.0.1:${port[on]}/api/v1/ip/$address")"
        else
            figures="$(run_wrk "http://127.0.0.1:${port[off]}/api/v1/ip/$address")"
        fi
        read -r r b e <<<"$figures"
        rps[$mode]+="$r "; p99[$mode]+="$b "; errors[$mode]=$(( errors[$mode] + e ))
        echo "round $round keys $mode: $r requests/s, p99 $b ms, errors $e"
    done
done

echo
printf '%-10s %14s %10s %8s\n' keys "requests/s" "p99 ms" errors
for mode in off on; do
    printf '%-10s %14s %10s %8s\n' "$mode" \
        "$(tr ' ' '\n' <<<"${rps[$mode]}" | grep . | median)" \
        "$(tr ' ' '\n' <<<"${p99[$mode]}" | grep . | median)" "${errors[$mode]}"
done
off_rps="$(tr ' ' '\n' <<<"${rps[off]}" | grep . | median)"
on_rps="$(tr ' ' '\n' <<<"${rps[on]}" | grep . | median)"
echo "keys on relative to off (medians): $(awk -v a="$on_rps" -v b="$off_rps" 'BEGIN { printf "%.3f (%.1f %% slower)", a / b, (1 - a / b) * 100 }')"

# Let the writer finish, then size the log: pages in use, WAL folded in.
kill "${servers[1]}" && wait "${servers[1]}" 2>/dev/null || true
servers=("${servers[0]}")
python3 - "$work/on/access.db" <<'EOF2'
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
entries = conn.execute("SELECT count(*) FROM audit").fetchone()[0]
pages = conn.execute("PRAGMA page_count").fetchone()[0]
free = conn.execute("PRAGMA freelist_count").fetchone()[0]
size = conn.execute("PRAGMA page_size").fetchone()[0] * (pages - free)
print(f"audit entries written: {entries}; access.db: {size / 2**20:.1f} MiB; "
      f"{size / max(entries, 1):.0f} bytes per entry; "
      f"{size / max(entries, 1) * 1e6 / 2**20:.0f} MiB per million calls")
EOF2
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
