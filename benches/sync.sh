#!/usr/bin/env bash
# Whole-program figures for `tiq sync`: a first sync of the real feed data from a web server
# on 127.0.0.1, then syncs with nothing changed (each request gets 304 Not Modified).
#
# Usage: benches/sync.sh [FEED_DIR] [RUNS]
#   FEED_DIR defaults to ../shared/data beside the repository; RUNS defaults to 5.
# Needs a release build (cargo build --release), python3 and GNU time (/usr/bin/time).
# The feeds are laid out as a mirror (<feed>/<file>) and served by python3 -m http.server,
# which answers If-Modified-Since; all traffic stays on 127.0.0.1.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
feeds="$(cd "${1:-$root/../shared/data}" && pwd)"
runs="${2:-5}"
tiq="$root/target/release/tiq"
[[ -x "$tiq" ]] || { echo "missing $tiq: run cargo build --release first" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time: apt-get install time" >&2; exit 1; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

mirror="$work/mirror"
link() { mkdir -p "$(dirname "$mirror/$2")"; ln -s "$feeds/$1" "$mirror/$2"; }
ip=01-malicious-ip web=02-malicious-domain-url vul=06-vulnerabilities
link "$ip/ipsum/ipsum.txt" ipsum/ipsum.txt
link "$ip/spamhaus/drop_v4.json" spamhaus-drop/drop_v4.json
printf '%s\n' '{"cidr":"2001:db8:dead::/48","sblid":"SBL000001","rir":"ripencc"}' \
    '{"type":"metadata","timestamp":1764576000,"size":1,"records":1,"copyright":"bench","terms":"bench"}' \
    > "$mirror/spamhaus-drop/drop_v6.json"
link "$ip/feodotracker/ipblocklist.csv" feodotracker/ipblocklist.csv
link "$ip/tor/tor-exit-nodes.lst" tor-exits/tor/tor-exit-nodes.lst
link "$ip/maltrail/mass_scanner.txt" maltrail-mass-scanner/mass_scanner.txt
link "$ip/maltrail/mass_scanner_cidr.txt" maltrail-mass-scanner/mass_scanner_cidr.txt
link "$web/urlhaus/urlhaus_recent.csv" urlhaus/urlhaus_recent.csv
link "$web/urlhaus/urlhaus-filter-domains.txt" urlhaus-domains/urlhaus-filter-domains.txt
link "$web/phishtank/verified_online_subset.csv" phishtank/online-valid.csv
link 05-context/mitre-attack/enterprise-attack-v18.1.full.json.gz mitre-attack/enterprise-attack.json
link "$vul/cisa-kev/known_exploited_vulnerabilities.json" cisa-kev/known_exploited_vulnerabilities.json
link "$vul/epss/epss_kev_nvd.csv" epss/epss_scores-current.csv.gz
link "$vul/exploitdb/exploitdb_mapping_cve.json" exploitdb/files_exploits.csv
link 07-geo-asn/geo-whois-asn-country.mmdb geo-country/geo-whois-asn-country.mmdb
link 07-geo-asn/asn-ipv4.csv.gz asn/asn-ipv4.csv
link 07-geo-asn/asn-ipv6.csv.gz asn/asn-ipv6.csv
# Archive feeds: zip the folders the way code hosts lay out repository archives.
python3 - "$feeds" "$mirror" <<'PY'
import os, sys, zipfile
feeds, mirror = sys.argv[1], sys.argv[2]
def archive(target, source, top, prefix):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for folder, _, files in os.walk(source):
            for name in sorted(files):
                path = os.path.join(folder, name)
                out.write(path, f"{top}/{prefix}{os.path.relpath(path, source)}")
archive(f"{mirror}/c2-tracker/c2-tracker.zip", f"{feeds}/01-malicious-ip/c2-tracker", "C2-Tracker-main", "data/")
archive(f"{mirror}/maltrail/maltrail.zip", f"{feeds}/02-malicious-domain-url/maltrail", "maltrail-master", "trails/static/")
archive(f"{mirror}/eset-malware-ioc/eset-malware-ioc.zip", f"{feeds}/03-malicious-hash/eset-malware-ioc", "malware-ioc-master", "")
archive(f"{mirror}/misp-warninglists/misp-warninglists.zip", f"{feeds}/04-benign-allowlists/misp-warninglists/lists", "misp-warninglists-main", "lists/")
archive(f"{mirror}/misp-galaxy/misp-galaxy.zip", f"{feeds}/05-context/misp-galaxy/clusters", "misp-galaxy-main", "clusters/")
archive(f"{mirror}/vulnrichment/vulnrichment.zip", f"{feeds}/06-vulnerabilities/cve-json5-vulnrichment/records", "vulnrichment-develop", "")
PY

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server --bind 127.0.0.1 --directory "$mirror" "$port" > "$work/http.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/ipsum/ipsum.txt')" 2>/dev/null && break
    sleep 0.1
done

export TIQ_SYNC_MIRROR="http://127.0.0.1:$port"
# Feeds the shared data has no copy of stay off; two that are off by default are on.
for feed in SSLBL BLOCKLIST_DE THREATFOX OPENPHISH MALWAREBAZAAR; do
    export "TIQ_SOURCE_${feed}_ENABLED=false"
done
export TIQ_SOURCE_PHISHTANK_ENABLED=true TIQ_SOURCE_VULNRICHMENT_ENABLED=true

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
data="$work/data"
/usr/bin/time -f '%e %M' -o "$work/time" "$tiq" sync --data-dir "$data" --json > "$work/first.json" 2> "$work/first.err" || {
    cat "$work/first.err" >&2; echo "the first sync failed; see above" >&2; exit 1; }
read -r seconds peak_kib < "$work/time"
records="$(python3 -c 'import json,sys; print(sum(o.get("records", 0) for o in json.load(open(sys.argv[1]))))' "$work/first.json")"
echo "first sync: ${seconds} s, peak ${peak_kib} KiB, ${records} records"

: > "$work/unchanged.txt"
for run in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$work/time" "$tiq" sync --data-dir "$data" --json > "$work/again.json" 2>/dev/null
    read -r seconds peak_kib < "$work/time"
    python3 -c 'import json,sys; o = json.load(open(sys.argv[1])); assert all(x["status"] == "unchanged" for x in o), o' "$work/again.json"
    echo "$seconds" >> "$work/unchanged.txt"
    echo "unchanged sync run $run: ${seconds} s, peak ${peak_kib} KiB"
done
echo "unchanged sync median: $(median < "$work/unchanged.txt") s over $runs runs"
