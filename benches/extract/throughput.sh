#!/usr/bin/env bash
# Whole-program throughput of indicator extraction on a large nginx access log: tiq against
# iocextract and ioc-finder on one core, then `tiq scan` with analysis against real feed data.
#
# Usage: [KEEP=1] [FEEDS=DIR] benches/extract/throughput.sh [SIZE_MIB] [WORKDIR]
#   SIZE_MIB  size of the generated log in MiB (default 1024)
#   WORKDIR   folder for the log, its prefixes and the data directory (default: a new
#             folder under /tmp, removed at the end unless KEEP=1; a given WORKDIR is kept)
#   FEEDS     feed folder that `tiq import` reads for the scan (default ../shared/data
#             beside the repository); it is read in place, never copied into the repository
#   PEER_SECONDS  time budget in seconds for each peer's measured run (default 600)
#
# Needs a release build (cargo build --release -p tiq), benches/extract/.venv (run
# benches/extract/setup.sh), GNU time (/usr/bin/time, Debian package `time`) and taskset.
#
# Steps, in one run so that every figure comes from the same machine state:
#   1. gen_access_log.py writes the log (seed 1) and `head -c` cuts 128, 256 and 512 MiB
#      prefixes of it into separate files, so every tiq run reads a regular file.
#   2. `taskset -c 0 tiq extract FILE --format jsonl >/dev/null` once per prefix and three
#      times on the whole log; wall time and max RSS from `/usr/bin/time -v`.
#   3. peer_throughput.py streams a file line by line through each peer on core 0. A short
#      calibration run sets the input: the whole log if the projection fits twice the
#      budget, else the largest power-of-two prefix that fits the budget (ioc-finder gets
#      at most 32 MiB).
#   4. `tiq import` of the feeds into a fresh data directory, then `tiq scan LOG --format
#      json` of the whole log twice: once to /dev/null for the figures, once to a file for
#      the totals. The scan is not pinned to one core.
# Throughput is MiB/s (2^20 bytes per second) of wall time.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tiq="$root/target/release/tiq"
python="$here/.venv/bin/python"
feeds="${FEEDS:-$root/../shared/data}"
peer_seconds="${PEER_SECONDS:-600}"
size_mib="${1:-1024}"
work="${2:-}"

fail() { echo "throughput.sh: $*" >&2; exit 1; }

[[ "$size_mib" =~ ^[0-9]+$ && "$size_mib" -ge 1 ]] \
    || fail "SIZE_MIB must be a whole number of MiB, at least 1; got '$size_mib'"
[[ "$peer_seconds" =~ ^[0-9]+$ && "$peer_seconds" -ge 10 ]] \
    || fail "PEER_SECONDS must be a whole number of seconds, at least 10; got '$peer_seconds'"
[[ -x "$tiq" ]] || fail "missing $tiq: build it with cargo build --release -p tiq"
"$tiq" extract --help > /dev/null 2>&1 \
    || fail "$tiq has no working extract command: rebuild it with cargo build --release -p tiq"
[[ -x "$python" ]] || fail "missing $python: run benches/extract/setup.sh"
"$python" -c 'import iocextract, ioc_finder' 2> /dev/null \
    || fail "iocextract or ioc-finder is not installed in $here/.venv: run benches/extract/setup.sh"
[[ -x /usr/bin/time ]] || fail "missing /usr/bin/time: apt-get install time"
command -v taskset > /dev/null || fail "missing taskset: apt-get install util-linux"
[[ -d "$feeds" ]] || fail "missing feed folder $feeds: set FEEDS=DIR"

if [[ -z "$work" ]]; then
    work="$(mktemp -d /tmp/tiq-throughput.XXXXXX)"
    if [[ "${KEEP:-0}" == 1 ]]; then
        trap 'echo "kept $work"' EXIT
    else
        trap 'rm -rf "$work"' EXIT
    fi
else
    mkdir -p "$work"
    work="$(cd "$work" && pwd)"
fi
log="$work/access.log"
data="$work/data"
started_at=$(date +%s)

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mib_per_s() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.3f", b / 1048576 / s }'; }
# Prints the ratio of two rates given as bytes and seconds each, from the unrounded values.
rate_ratio() { awk -v b1="$1" -v s1="$2" -v b2="$3" -v s2="$4" 'BEGIN { printf "%.0f", (b1 / s1) / (b2 / s2) }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# Runs a command under `/usr/bin/time -v` with standard output to $2 and sets $wall
# (seconds), $cpu (user plus system seconds) and $rss (KiB). $1 names the run's files in
# $work. Exits with the command's standard error when it fails, because a failed run has
# no figure to report.
timed() {
    local name="$1" out="$2"
    shift 2
    if ! /usr/bin/time -v -o "$work/$name.time" "$@" > "$out" 2> "$work/$name.err"; then
        echo "throughput.sh: '$*' failed; its standard error ends with:" >&2
        tail -n 20 "$work/$name.err" >&2
        tail -n 5 "$work/$name.time" >&2
        exit 1
    fi
    wall="$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$work/$name.time")"
    cpu="$(awk -F': ' '/(User|System) time \(seconds\)/ { s += $2 } END { printf "%.2f", s }' "$work/$name.time")"
    rss="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/$name.time")"
}

echo "== machine"
echo "cores: $(nproc); CPU: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo);" \
     "memory: $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $(uname -sr)"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
commit="$(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo unknown)"
if [[ -n "$(git -C "$root" status --porcelain 2> /dev/null)" ]]; then
    commit="$commit with uncommitted changes"
fi
echo "commit: $commit; $("$tiq" --version), built $(date -u -r "$tiq" '+%Y-%m-%d %H:%M UTC')"
# A rebuild during the run would mix two builds in one set of figures, so the summary
# compares this checksum with the binary at the end.
tiq_checksum="$(sha256sum < "$tiq")"
echo "iocextract $("$python" -c 'from importlib.metadata import version; print(version("iocextract"))');" \
     "ioc-finder $("$python" -c 'from importlib.metadata import version; print(version("ioc-finder"))');" \
     "$("$python" --version)"
echo "work folder: $work"
echo "load average at start: $(load)"

echo "== log"
generate_start=$(date +%s.%N)
python3 "$here/gen_access_log.py" "$size_mib" "$log" 2> /dev/null
generate_seconds="$(awk -v a="$generate_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
log_bytes="$(stat -c %s "$log")"
echo "access.log: $log_bytes bytes ($(mib "$log_bytes") MiB), $(wc -l < "$log") lines, written in $generate_seconds s"

# Prefixes are cut with head -c into their own files, so the last line of each may be cut
# short. Each tiq run reads a regular file, as the whole-log runs do.
prefixes=()
for prefix_mib in 128 256 512; do
    if (( prefix_mib < size_mib )); then
        head -c "${prefix_mib}M" "$log" > "$work/prefix-$prefix_mib.log"
        prefixes+=("$prefix_mib")
    fi
done
# Read every input once so that the timed runs find it in the page cache.
cat "$log" "$work"/prefix-*.log > /dev/null 2>&1 || true

echo "== tiq extract, one core (taskset -c 0), --format jsonl to /dev/null"
echo "load average: $(load)"
declare -A prefix_rss prefix_rate
for prefix_mib in "${prefixes[@]}"; do
    file="$work/prefix-$prefix_mib.log"
    bytes="$(stat -c %s "$file")"
    timed "extract-$prefix_mib" /dev/null taskset -c 0 "$tiq" extract "$file" --format jsonl
    prefix_rss[$prefix_mib]="$rss"
    prefix_rate[$prefix_mib]="$(mib_per_s "$bytes" "$wall")"
    echo "prefix $prefix_mib MiB: ${wall} s (CPU ${cpu} s), ${prefix_rate[$prefix_mib]} MiB/s, max RSS $rss KiB"
done
whole_walls=()
whole_cpus=()
whole_rss=()
for run in 1 2 3; do
    timed "extract-whole-$run" /dev/null taskset -c 0 "$tiq" extract "$log" --format jsonl
    whole_walls+=("$wall")
    whole_cpus+=("$cpu")
    whole_rss+=("$rss")
    echo "whole log, run $run: ${wall} s (CPU ${cpu} s), $(mib_per_s "$log_bytes" "$wall") MiB/s, max RSS $rss KiB"
done
tiq_wall="$(printf '%s\n' "${whole_walls[@]}" | median)"
tiq_rate="$(mib_per_s "$log_bytes" "$tiq_wall")"
tiq_rss="$(printf '%s\n' "${whole_rss[@]}" | median)"
# MiB per CPU second: the rate with the time the process waited for the core left out,
# which matters when other work shares core 0.
tiq_cpu="$(printf '%s\n' "${whole_cpus[@]}" | median)"
tiq_cpu_rate="$(mib_per_s "$log_bytes" "$tiq_cpu")"
# One more run, not timed, to count the distinct indicators that tiq prints.
tiq_distinct="$(taskset -c 0 "$tiq" extract "$log" --format jsonl | wc -l)"
echo "whole log, median of 3: ${tiq_wall} s, $tiq_rate MiB/s, max RSS $tiq_rss KiB;" \
     "CPU ${tiq_cpu} s, $tiq_cpu_rate MiB per CPU second;" \
     "$tiq_distinct distinct indicators"

# Measures one peer: a calibration run on a 1 or 2 MiB prefix projects the time for the
# whole log, which picks the input, then the measured run streams that input. Sets
# peer_wall, peer_cpu, peer_rate, peer_input_bytes, peer_note, peer_rss and peer_distinct.
measure_peer() {
    local tool="$1" calibration_mib="$2" max_mib="$3"
    local calibration="$work/calibration-$tool.log"
    head -c "${calibration_mib}M" "$log" > "$calibration"
    timed "calibration-$tool" "$work/calibration-$tool.json" \
        taskset -c 0 "$python" "$here/peer_throughput.py" "$tool" "$calibration"
    local calibration_rate
    calibration_rate="$(mib_per_s "$(stat -c %s "$calibration")" "$wall")"
    echo "$tool calibration on $calibration_mib MiB: $calibration_rate MiB/s"

    local whole_mib input_mib
    whole_mib="$(mib "$log_bytes")"
    input_mib="$(awk -v r="$calibration_rate" -v w="$whole_mib" -v b="$peer_seconds" -v m="$max_mib" '
        BEGIN {
            if (w <= m && w / r <= 2 * b) { print "whole"; exit }
            p = 1
            while (p * 2 <= m && p * 2 / r <= b) p *= 2
            print p
        }')"
    local input
    if [[ "$input_mib" == whole ]]; then
        input="$log"
        peer_note="whole log"
    else
        input="$work/peer-$tool-$input_mib.log"
        head -c "${input_mib}M" "$log" > "$input"
        peer_note="first $input_mib MiB"
    fi
    peer_input_bytes="$(stat -c %s "$input")"
    echo "$tool input: $peer_note ($peer_input_bytes bytes); load average: $(load)"
    timed "peer-$tool" "$work/peer-$tool.json" taskset -c 0 "$python" "$here/peer_throughput.py" "$tool" "$input"
    peer_wall="$wall"
    peer_cpu="$cpu"
    peer_rate="$(mib_per_s "$peer_input_bytes" "$wall")"
    peer_rss="$rss"
    peer_distinct="$(tail -n 1 "$work/peer-$tool.json" \
        | "$python" -c 'import json, sys; print(json.load(sys.stdin)["distinct"])')"
    echo "$tool: ${wall} s (CPU ${cpu} s), $peer_rate MiB/s, max RSS $peer_rss KiB, $peer_distinct distinct (kind, value) pairs"
}

echo "== iocextract, one core, line by line"
measure_peer iocextract 2 "$size_mib"
iocextract_rate="$peer_rate"
iocextract_note="$peer_note"
iocextract_bytes="$peer_input_bytes"
iocextract_rss="$peer_rss"
iocextract_ratio="$(rate_ratio "$log_bytes" "$tiq_wall" "$peer_input_bytes" "$peer_wall")"
iocextract_cpu_ratio="$(rate_ratio "$log_bytes" "$tiq_cpu" "$peer_input_bytes" "$peer_cpu")"

echo "== ioc-finder, one core, line by line"
measure_peer ioc-finder 1 32
ioc_finder_rate="$peer_rate"
ioc_finder_note="$peer_note"
ioc_finder_bytes="$peer_input_bytes"
ioc_finder_rss="$peer_rss"
ioc_finder_ratio="$(rate_ratio "$log_bytes" "$tiq_wall" "$peer_input_bytes" "$peer_wall")"
ioc_finder_cpu_ratio="$(rate_ratio "$log_bytes" "$tiq_cpu" "$peer_input_bytes" "$peer_cpu")"

echo "== tiq scan with analysis"
import_start=$(date +%s.%N)
# The import exits 1 when a feed file failed or kept earlier records, but the store is
# still usable, so only a missing tiq.db stops the run.
"$tiq" import --data-dir "$data" "$feeds" > "$work/import.out" 2> "$work/import.err" || true
[[ -s "$data/tiq.db" ]] || { tail -n 20 "$work/import.err" >&2; fail "tiq import of $feeds made no $data/tiq.db"; }
echo "import of $feeds: $(awk -v a="$import_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s;" \
     "$(grep -Eo '[0-9]+ records in' "$work/import.out" | head -n 1 || true)"
echo "load average: $(load)"
timed scan /dev/null "$tiq" scan "$log" --format json --data-dir "$data"
scan_wall="$wall"
scan_rss="$rss"
scan_rate="$(mib_per_s "$log_bytes" "$scan_wall")"
echo "scan to /dev/null: ${scan_wall} s (CPU ${cpu} s), $scan_rate MiB/s, max RSS $scan_rss KiB"
timed scan-file /dev/null "$tiq" scan "$log" --format json --data-dir "$data" -o "$work/scan.json"
echo "scan to a file: ${wall} s, $(mib_per_s "$log_bytes" "$wall") MiB/s, max RSS $rss KiB"
scan_totals="$("$python" -c '
import json, sys
report = json.load(open(sys.argv[1]))
totals = ", ".join(f"{key} {value}" for key, value in report["totals"].items())
lines, size = report["lines"], report["bytes"]
print(f"{totals} (lines {lines}, bytes {size})")
' "$work/scan.json")"
echo "scan totals: $scan_totals"

echo "== summary"
echo "log: $(mib "$log_bytes") MiB; load average at end: $(load)"
for prefix_mib in "${prefixes[@]}"; do
    echo "tiq extract, $prefix_mib MiB prefix: ${prefix_rate[$prefix_mib]} MiB/s, max RSS ${prefix_rss[$prefix_mib]} KiB"
done
echo "tiq extract, whole log, one core, median of 3: $tiq_rate MiB/s (${tiq_wall} s)," \
     "$tiq_cpu_rate MiB per CPU second, max RSS $tiq_rss KiB"
echo "iocextract, $iocextract_note ($(mib "$iocextract_bytes") MiB): $iocextract_rate MiB/s," \
     "max RSS $iocextract_rss KiB; tiq/iocextract $iocextract_ratio (per CPU second $iocextract_cpu_ratio)"
echo "ioc-finder, $ioc_finder_note ($(mib "$ioc_finder_bytes") MiB): $ioc_finder_rate MiB/s," \
     "max RSS $ioc_finder_rss KiB; tiq/ioc-finder $ioc_finder_ratio (per CPU second $ioc_finder_cpu_ratio)"
echo "tiq scan, whole log: ${scan_wall} s, $scan_rate MiB/s, max RSS $scan_rss KiB; $scan_totals"
if [[ "$(sha256sum < "$tiq")" != "$tiq_checksum" ]]; then
    echo "WARNING: $tiq changed during this run, so the figures may come from two builds" >&2
fi
echo "total time of this run: $(( $(date +%s) - started_at )) s"
