#!/usr/bin/env bash
# Wall time of `tiq describe APT28` on the real data: with the knowledge index read from
# <data-dir>/cache/knowledge.json, and with the cache removed before each run (the index is
# built from ATT&CK and the galaxies, then written to the cache).
#
# Usage: [BASELINE=<older tiq>] benches/describe.sh [FEED_DIR] [RUNS]
#   FEED_DIR defaults to ../shared/data beside the repository; RUNS defaults to 5.
#   BASELINE adds the same runs with another tiq binary on the same data directory.
# Needs a release build (cargo build --release) and GNU time (/usr/bin/time).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
feeds="$(cd "${1:-$root/../shared/data}" && pwd)"
runs="${2:-5}"
tiq="$root/target/release/tiq"
[[ -x "$tiq" ]] || { echo "missing $tiq: run cargo build --release first" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time: apt-get install time" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
seconds() {
    /usr/bin/time -f %e -o "$work/time" "$@" >/dev/null 2>&1
    cat "$work/time"
}

data="$work/data"
"$tiq" import --data-dir "$data" "$feeds" >/dev/null 2>&1

uncached=()
for _ in $(seq "$runs"); do
    rm -rf "$data/cache"
    uncached+=("$(seconds "$tiq" --data-dir "$data" describe APT28)")
done
cached=()
for _ in $(seq "$runs"); do
    cached+=("$(seconds "$tiq" --data-dir "$data" describe APT28)")
done
echo "cache size: $(du -h "$data/cache/knowledge.json" | cut -f1)"
echo "tiq describe APT28, cache removed first: $(printf '%s\n' "${uncached[@]}" | median) s (${uncached[*]})"
echo "tiq describe APT28, cache read:          $(printf '%s\n' "${cached[@]}" | median) s (${cached[*]})"

if [[ -n "${BASELINE:-}" ]]; then
    baseline=()
    for _ in $(seq "$runs"); do
        baseline+=("$(seconds "$BASELINE" --data-dir "$data" describe APT28)")
    done
    echo "baseline tiq describe APT28:             $(printf '%s\n' "${baseline[@]}" | median) s (${baseline[*]})"
fi
