#!/usr/bin/env bash
# search_vul latency over the real vulnerability records and over a larger set generated
# from them, and the size of the vulnerability index.
#
# Usage: benches/vuln-scale.sh [VULN_DIR] [RECORDS]
#   VULN_DIR defaults to ../shared/data/06-vulnerabilities beside the repository; RECORDS is
#   the size of the generated set (default 300000). The generated records are the real ones
#   repeated under new CVE numbers (CVE-2990-…), each copy with its product name numbered,
#   so the text index contains RECORDS distinct products and descriptions.
# Needs a release build (cargo build --release) and python3. Writes only to a temporary folder.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
vulns="${1:-$root/../shared/data/06-vulnerabilities}"
records="${2:-300000}"
tiq="$root/target/release/tiq"
[[ -x "$tiq" ]] || { echo "missing $tiq: run cargo build --release first" >&2; exit 1; }
[[ -d "$vulns" ]] || { echo "missing vulnerability folder $vulns" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"

queries="$work/queries.tsv"
printf 'id\tCVE-2024-3400\nid\tCVE-2021-44228\nkeyword\tremote code execution\nkeyword\tlog4j\nkeyword\tpath traversal authentication bypass\nkeyword\tvulnerability\nproduct\tPAN-OS 10.2.8\nproduct\tApache Tomcat 9.0.30\nproduct\tIvanti Connect Secure 22.7\n' > "$queries"

run() {
    local label="$1" data="$2"
    local start end
    start=$(date +%s.%N)
    "$tiq" import --data-dir "$data" "$3" > "$work/import.out" 2>&1 || true
    end=$(date +%s.%N)
    local db_bytes
    db_bytes=$(stat -c %s "$data/tiq.db")
    echo
    echo "== $label: import $(awk "BEGIN { printf \"%.1f\", $end - $start }") s, tiq.db $((db_bytes / 1048576)) MiB"
    (cd "$root" && TIQ_BENCH_DATA="$data" TIQ_BENCH_QUERIES="$queries" cargo bench -q -p tiq-engine --bench vuln)
    echo "$label tiq.db bytes: $db_bytes"
}

run "real records" "$work/real" "$vulns"

mkdir -p "$work/generated"
python3 - "$vulns" "$records" "$work/generated/generated.jsonl" <<'PY'
import glob, gzip, json, os, sys
source, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
records = []
for path in glob.glob(os.path.join(source, "**", "*.json"), recursive=True):
    try:
        with open(path) as f:
            value = json.load(f)
    except (OSError, ValueError):
        continue
    if isinstance(value, dict) and value.get("dataType") == "CVE_RECORD":
        records.append(value)
for path in glob.glob(os.path.join(source, "**", "*.jsonl.gz"), recursive=True):
    with gzip.open(path, "rt") as f:
        records.extend(json.loads(line) for line in f if line.strip())
with open(out, "w") as f:
    for n in range(count):
        record = json.loads(json.dumps(records[n % len(records)]))
        copy = n // len(records)
        record["cveMetadata"]["cveId"] = f"CVE-2990-{n + 100000}"
        if copy:
            for entry in record["containers"]["cna"].get("affected", []):
                if isinstance(entry.get("product"), str):
                    entry["product"] = f"{entry['product']} {copy}"
        f.write(json.dumps(record, separators=(",", ":")) + "\n")
print(f"generated {count} records from {len(records)} real ones", file=sys.stderr)
PY
run "generated $records records" "$work/gen" "$work/generated"
