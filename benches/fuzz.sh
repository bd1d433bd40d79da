#!/usr/bin/env bash
# Runs every target in fuzz/fuzz_targets, or the TARGETs named, for SECONDS each, one after
# another, and prints one summary line per target: ok or the saved failing input, and the last
# libFuzzer stats line.
#
# Usage: benches/fuzz.sh [SECONDS [TARGET...]]
#   SECONDS defaults to 600. Each target starts from fuzz/seeds/TARGET; new inputs go to a
#   temporary corpus, so the seed folders keep only their written files. A failing input is
#   saved under fuzz/artifacts/TARGET/. Exits 1 when any target failed.
# Needs cargo-fuzz (cargo install cargo-fuzz); RUSTC_BOOTSTRAP=1 lets it use the stable toolchain.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-600}"
shift $(( $# > 0 ? 1 : 0 ))
command -v cargo-fuzz >/dev/null || { echo "missing cargo-fuzz: run cargo install cargo-fuzz" >&2; exit 1; }
export RUSTC_BOOTSTRAP=1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"

# One build for all targets, so that no timed run starts with a build.
cargo fuzz build > "$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }

targets=("$@")
if (( ${#targets[@]} == 0 )); then
    for source in fuzz/fuzz_targets/*.rs; do
        targets+=("$(basename "$source" .rs)")
    done
fi
for target in "${targets[@]}"; do
    if [[ ! -f "fuzz/fuzz_targets/$target.rs" ]]; then
        echo "unknown fuzz target: $target; the targets are the file names in fuzz/fuzz_targets" >&2
        exit 2
    fi
done

status=0
for target in "${targets[@]}"; do
    corpora=("$work/$target")
    [[ -d "fuzz/seeds/$target" ]] && corpora+=("fuzz/seeds/$target")
    mkdir -p "$work/$target"
    log="$work/$target.log"
    if cargo fuzz run "$target" "${corpora[@]}" -- -max_total_time="$seconds" > "$log" 2>&1; then
        result="ok"
    else
        input="$(sed -n 's/.*Test unit written to //p' "$log" | head -n 1)"
        result="failed, input ${input:-not saved}"
        status=1
    fi
    echo "$target: $result; $(grep -E '^#[0-9]+' "$log" | tail -n 1)"
done
exit "$status"
