#!/usr/bin/env python3
"""Score tiq's indicator extraction against iocextract and ioc-finder on the extraction corpus.

Each case of crates/extract/tests/corpus.jsonl contains a text and the exact set of indicators
that tiq's extraction spec requires from it. This script runs every tool on every text, maps
each tool's output to tiq's kinds, normalises all values (the expected ones included) the same
way, and prints precision, recall and F1 per kind and tool as a Markdown table. The counts of
true positives, false positives and misses are summed over all cases (micro-average) before
the ratios are taken.

Run benches/extract/setup.sh once, then:
    benches/extract/.venv/bin/python benches/extract/compare.py [--tiq PATH] [--json FILE]
    benches/extract/.venv/bin/python benches/extract/compare.py --failures url

tiq is called once per case as `tiq extract - --format jsonl` with the text on stdin, so its
time includes starting one process per case; the peers run in this Python process.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

try:
    import idna
except ImportError:
    sys.exit(
        "compare.py needs the idna package: run benches/extract/setup.sh "
        "and use benches/extract/.venv/bin/python"
    )

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = REPO_ROOT / "crates/extract/tests/corpus.jsonl"
DEFAULT_TIQ = REPO_ROOT / "target/release/tiq"
TIQ_TIMEOUT_SECONDS = 30

KINDS = ["ipv4", "ipv6", "cidr", "domain", "url", "email", "md5", "sha1", "sha256", "sha512", "cve"]
HASH_KINDS = {"md5", "sha1", "sha256", "sha512"}
TOOLS = ["tiq", "iocextract", "ioc-finder"]

# Kinds each peer has an extractor for. Every other kind scores recall 0 and precision n/a.
IOCEXTRACT_KINDS = {"ipv4", "ipv6", "url", "email", "md5", "sha1", "sha256", "sha512"}
IOC_FINDER_KINDS = set(KINDS)

# ioc-finder output keys and the tiq kind each maps to. ioc-finder 9.4 leaves the CIDR and
# SHA-512 parsers out of its default type list, so they are requested explicitly. Every
# parsing option keeps its default.
IOC_FINDER_KEYS = {
    "ipv4s": "ipv4",
    "ipv6s": "ipv6",
    "ipv4_cidrs": "cidr",
    "ipv6_cidrs": "cidr",
    "domains": "domain",
    "urls": "url",
    "email_addresses": "email",
    "md5s": "md5",
    "sha1s": "sha1",
    "sha256s": "sha256",
    "sha512s": "sha512",
    "cves": "cve",
}

# Refanging rules of the extraction spec, applied in this order to every value before
# comparison, so a tool that finds a defanged value but refangs it differently still matches.
REFANG_RULES = [
    (re.compile(r"\bhxx(ps?)(?=\[?:)", re.IGNORECASE), r"htt\1"),
    (re.compile(r"\[://\]"), "://"),
    (re.compile(r"\[:\]//"), "://"),
    (re.compile(r"\[:\]"), ":"),
    (re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}", re.IGNORECASE), "."),
    (re.compile(r"\[@\]|\[at\]|\(at\)|\{at\}", re.IGNORECASE), "@"),
    (re.compile(r"\\\."), "."),
]
PORT_SUFFIX = re.compile(r"^(?P<address>.+?):(?P<port>\d{1,5})$")


@dataclass
class ToolRun:
    """Output of one tool over the corpus: a set of (kind, value) pairs per case id."""

    name: str
    supported: set[str]
    status: str = "ok"
    error: str = ""
    version: str = ""
    seconds: float = 0.0
    failed_cases: list[tuple[str, str]] = field(default_factory=list)
    found: dict[str, set[tuple[str, str]]] = field(default_factory=dict)


def refang(value: str) -> str:
    for pattern, replacement in REFANG_RULES:
        value = pattern.sub(replacement, value)
    return value


def to_punycode(host: str) -> str:
    """Return host in lower-case ASCII, with Unicode labels encoded as punycode (UTS 46)."""
    host = host.lower()
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        return host


def strip_address_decoration(value: str) -> str:
    """Drop brackets, a port and an IPv6 zone from an address."""
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    match = PORT_SUFFIX.match(value)
    if match and match["address"].count(":") == 0:
        value = match["address"]
    return value.split("%", 1)[0]


def normalise_address(value: str) -> tuple[str, str]:
    """Return an address as (kind, canonical text). An IPv4-mapped IPv6 address becomes ipv4."""
    bare = strip_address_decoration(refang(value).strip())
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        kind = "ipv6" if ":" in bare else "ipv4"
        return kind, bare.lower()
    if address.version == 6 and address.ipv4_mapped is not None:
        return "ipv4", str(address.ipv4_mapped)
    return f"ipv{address.version}", str(address)


def normalise_cidr(value: str) -> str:
    text = refang(value).strip()
    try:
        interface = ipaddress.ip_interface(text)
    except ValueError:
        return text.lower()
    return f"{interface.ip}/{interface.network.prefixlen}"


def normalise_host(host: str) -> str:
    """Lower-case a URL host and encode IDN labels, keeping brackets and a port."""
    if host.startswith("["):
        return host.lower()
    name, colon, port = host.partition(":")
    return to_punycode(name) + colon + port


def normalise_url(value: str) -> str:
    """Refang, add http:// to a www. value, lower-case scheme and host, strip one trailing /."""
    text = refang(value).strip()
    if "://" not in text and text.lower().startswith("www."):
        text = "http://" + text
    scheme, separator, rest = text.partition("://")
    if not separator:
        return text[:-1] if text.endswith("/") else text
    authority_end = len(rest)
    for delimiter in "/?#":
        position = rest.find(delimiter)
        if position != -1:
            authority_end = min(authority_end, position)
    authority, tail = rest[:authority_end], rest[authority_end:]
    userinfo, at_sign, host = authority.rpartition("@")
    url = f"{scheme.lower()}://{userinfo}{at_sign}{normalise_host(host)}{tail}"
    if url.endswith("/"):
        url = url[:-1]
    return url


def normalise_email(value: str) -> str:
    local, at_sign, domain = refang(value).strip().lower().rpartition("@")
    if not at_sign:
        return domain
    return f"{local}@{to_punycode(domain)}"


def normalise(kind: str, value: str) -> tuple[str, str] | None:
    """Return the canonical (kind, value) pair used for comparison, or None for an empty value."""
    value = value.strip()
    if not value:
        return None
    if kind in ("ipv4", "ipv6"):
        return normalise_address(value)
    if kind == "cidr":
        return kind, normalise_cidr(value)
    if kind == "domain":
        return kind, to_punycode(refang(value).rstrip("."))
    if kind == "url":
        return kind, normalise_url(value)
    if kind == "email":
        return kind, normalise_email(value)
    if kind in HASH_KINDS:
        return kind, value.lower()
    if kind == "cve":
        return kind, value.upper()
    return None


def normalise_all(pairs) -> set[tuple[str, str]]:
    result = set()
    for kind, value in pairs:
        pair = normalise(kind, value)
        if pair is not None:
            result.add(pair)
    return result


def is_web_url(value: str) -> bool:
    """Check whether a peer's URL is an http(s) URL or a schemeless one.

    tiq's url kind covers only http and https, so a peer's URL with another explicit scheme
    (ftp://, ldap://) belongs to no tiq kind and is left out. A schemeless URL still counts
    as the peer's claim of a web URL.
    """
    scheme, separator, _ = value.partition("://")
    return not separator or scheme.lower() in ("http", "https")


def load_corpus(path: Path) -> list[dict]:
    cases = []
    with path.open(encoding="utf-8") as corpus:
        for line_number, line in enumerate(corpus, 1):
            if not line.strip():
                continue
            try:
                cases.append(json.loads(line))
            except json.JSONDecodeError as error:
                sys.exit(f"{path}:{line_number}: invalid JSON: {error}")
    return cases


def run_tiq_case(binary: Path, text: str) -> list[tuple[str, str]]:
    """Run `tiq extract - --format jsonl` on one text and return its (kind, value) pairs.

    Raises RuntimeError when tiq times out, exits with an error or prints an invalid line.
    """
    try:
        completed = subprocess.run(
            [str(binary), "extract", "-", "--format", "jsonl"],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=TIQ_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"timed out after {TIQ_TIMEOUT_SECONDS} s") from error
    if completed.returncode != 0:
        stderr = " ".join(completed.stderr.decode("utf-8", "replace").split())
        raise RuntimeError(f"tiq exited with code {completed.returncode}: {stderr[:300]}")
    pairs = []
    for line in completed.stdout.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            pairs.append((record["kind"], record["value"]))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise RuntimeError(f"invalid output line {line[:200]!r}: {error}") from error
    return pairs


def read_tiq_version(binary: Path) -> str:
    """Return the version that `tiq --version` prints, or an empty string if it fails."""
    try:
        completed = subprocess.run(
            [str(binary), "--version"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    words = completed.stdout.decode("utf-8", "replace").split()
    return words[-1] if completed.returncode == 0 and words else ""


def run_tiq(binary: Path, cases: list[dict]) -> ToolRun:
    run = ToolRun("tiq", set(KINDS))
    if not binary.is_file():
        run.status = "missing"
        run.error = (
            f"tiq binary not found at {binary}: "
            "build it with `cargo build --release -p tiq` or pass --tiq PATH"
        )
        return run
    run.version = read_tiq_version(binary)
    started = time.perf_counter()
    for case in cases:
        try:
            pairs = run_tiq_case(binary, case["text"])
        except (OSError, RuntimeError) as error:
            run.failed_cases.append((case["id"], str(error)))
            pairs = []
        run.found[case["id"]] = normalise_all((kind, value) for kind, value in pairs if kind in KINDS)
    run.seconds = time.perf_counter() - started
    if len(run.failed_cases) == len(cases):
        run.status = "failed"
        first_id, first_error = run.failed_cases[0]
        run.error = f"tiq failed on every case (first, {first_id}: {first_error})"
    return run


def extract_iocextract(text: str) -> list[tuple[str, str]]:
    import iocextract

    pairs = [("url", url) for url in iocextract.extract_urls(text, refang=True) if is_web_url(url)]
    pairs += [("ipv4", address) for address in iocextract.extract_ipv4s(text, refang=True)]
    pairs += [("ipv6", address) for address in iocextract.extract_ipv6s(text)]
    pairs += [("email", address) for address in iocextract.extract_emails(text, refang=True)]
    pairs += [("md5", value) for value in iocextract.extract_md5_hashes(text)]
    pairs += [("sha1", value) for value in iocextract.extract_sha1_hashes(text)]
    pairs += [("sha256", value) for value in iocextract.extract_sha256_hashes(text)]
    pairs += [("sha512", value) for value in iocextract.extract_sha512_hashes(text)]
    return pairs


def extract_ioc_finder(text: str) -> list[tuple[str, str]]:
    from ioc_finder import find_iocs

    found = find_iocs(text, included_ioc_types=list(IOC_FINDER_KEYS))
    pairs = []
    for key, kind in IOC_FINDER_KEYS.items():
        for value in found.get(key, []):
            if kind == "url" and not is_web_url(value):
                continue
            pairs.append((kind, value))
    return pairs


def run_peer(
    name: str, package: str, supported: set[str], extract: Callable, cases: list[dict]
) -> ToolRun:
    run = ToolRun(name, supported)
    try:
        run.version = metadata.version(package)
        extract("")
    except (ImportError, metadata.PackageNotFoundError) as error:
        run.status = "missing"
        run.error = (
            f"{package} is not installed ({error}): "
            "run benches/extract/setup.sh and use benches/extract/.venv/bin/python"
        )
        return run
    started = time.perf_counter()
    for case in cases:
        try:
            pairs = extract(case["text"])
        except Exception as error:  # noqa: BLE001 - a peer's crash on one text scores as no output
            run.failed_cases.append((case["id"], f"{type(error).__name__}: {error}"))
            pairs = []
        run.found[case["id"]] = normalise_all(pairs)
    run.seconds = time.perf_counter() - started
    return run


def count_kind(run: ToolRun, cases: list[dict], expected: dict, kind: str) -> dict:
    true_positives = false_positives = false_negatives = 0
    for case in cases:
        want = {value for k, value in expected[case["id"]] if k == kind}
        got = {value for k, value in run.found.get(case["id"], set()) if k == kind}
        true_positives += len(want & got)
        false_positives += len(got - want)
        false_negatives += len(want - got)
    return {"tp": true_positives, "fp": false_positives, "fn": false_negatives}


def add_ratios(counts: dict, produces_kind: bool) -> dict:
    """Add precision, recall and F1 to tp/fp/fn counts, with None where a ratio is undefined."""
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if produces_kind and tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else None
    return {**counts, "precision": precision, "recall": recall, "f1": f1}


def sum_counts(rows: list[dict]) -> dict:
    return {key: sum(row[key] for row in rows) for key in ("tp", "fp", "fn")}


def score(run: ToolRun, cases: list[dict], expected: dict) -> dict:
    kinds = {}
    for kind in KINDS:
        produces_kind = kind in run.supported
        kinds[kind] = add_ratios(count_kind(run, cases, expected, kind), produces_kind)
        kinds[kind]["supported"] = produces_kind
    total = add_ratios(sum_counts(list(kinds.values())), True)
    supported_rows = [row for row in kinds.values() if row["supported"]]
    total_supported = add_ratios(sum_counts(supported_rows), True)
    return {"kinds": kinds, "total": total, "total_supported_kinds": total_supported}


def format_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def render_table(runs: list[ToolRun], scores: dict, expected_counts: dict) -> str:
    header = ["kind", "expected"]
    for run in runs:
        header += [f"{run.name} P", f"{run.name} R", f"{run.name} F1"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    row_names = KINDS + ["total", "total_supported_kinds"]
    labels = {"total": "**all kinds**", "total_supported_kinds": "kinds the tool produces"}
    for name in row_names:
        cells = [labels.get(name, name), str(expected_counts[name])]
        for run in runs:
            if run.status != "ok":
                cells += [run.status, "", ""]
                continue
            row = scores[run.name]["kinds"][name] if name in KINDS else scores[run.name][name]
            cells += [format_ratio(row[ratio]) for ratio in ("precision", "recall", "f1")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def print_failures(run: ToolRun, cases: list[dict], expected: dict, kind: str) -> None:
    if run.status != "ok":
        print(f"No failures to list for {run.name}: {run.error}")
        return
    errors = dict(run.failed_cases)
    listed = 0
    for case in cases:
        want = {value for k, value in expected[case["id"]] if k == kind}
        got = {value for k, value in run.found.get(case["id"], set()) if k == kind}
        if want == got:
            continue
        listed += 1
        print(f"## {case['id']} ({case['category']})")
        print(f"text:   {case['text']!r}")
        if case["id"] in errors:
            print(f"error:  {errors[case['id']]}")
        for value in sorted(want - got):
            print(f"missed: {value}")
        for value in sorted(got - want):
            print(f"extra:  {value}")
        print()
    print(f"{listed} of {len(cases)} cases differ for {run.name} on kind {kind}.")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS,
        help="corpus file in JSON Lines (default: %(default)s)",
    )
    parser.add_argument(
        "--tiq", type=Path, default=DEFAULT_TIQ, help="tiq binary (default: %(default)s)"
    )
    parser.add_argument(
        "--json", type=Path, metavar="FILE", help="also write the figures to FILE as JSON"
    )
    parser.add_argument(
        "--failures", choices=KINDS, metavar="KIND",
        help="instead of the table, list the cases where the tool missed or added a value "
        f"of KIND, one of: {', '.join(KINDS)}",
    )
    parser.add_argument(
        "--failures-tool", choices=TOOLS, default="tiq",
        help="tool whose failures --failures lists (default: %(default)s)",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    cases = load_corpus(args.corpus)
    expected = {
        case["id"]: normalise_all((item["kind"], item["value"]) for item in case["expect"])
        for case in cases
    }

    runners = {
        "tiq": lambda: run_tiq(args.tiq.resolve(), cases),
        "iocextract": lambda: run_peer(
            "iocextract", "iocextract", IOCEXTRACT_KINDS, extract_iocextract, cases
        ),
        "ioc-finder": lambda: run_peer(
            "ioc-finder", "ioc-finder", IOC_FINDER_KINDS, extract_ioc_finder, cases
        ),
    }
    if args.failures:
        run = runners[args.failures_tool]()
        print_failures(run, cases, expected, args.failures)
        return 0 if run.status == "ok" else 1
    runs = [runners[name]() for name in TOOLS]

    scores = {run.name: score(run, cases, expected) for run in runs if run.status == "ok"}
    expected_counts = {
        kind: sum(1 for pairs in expected.values() for k, _ in pairs if k == kind)
        for kind in KINDS
    }
    expected_counts["total"] = sum(expected_counts[kind] for kind in KINDS)
    expected_counts["total_supported_kinds"] = "by tool"

    print(f"Corpus: {args.corpus} ({len(cases)} cases, {expected_counts['total']} expected values)\n")
    print(render_table(runs, scores, expected_counts))
    print()
    print(
        "P = precision, R = recall, F1 = harmonic mean, each micro-averaged over cases. "
        "Precision is n/a for a kind the tool cannot produce or produced no value of."
    )
    print(
        "'kinds the tool produces' sums only the kinds the tool has an extractor for, "
        "so its expected count differs by tool."
    )
    for run in runs:
        label = f"{run.name} {run.version}".strip()
        if run.status != "ok":
            print(f"- {label}: {run.status}: {run.error}")
            continue
        missing = [kind for kind in KINDS if kind not in run.supported]
        line = f"- {label}: {run.seconds:.2f} s for {len(cases)} cases"
        if missing:
            line += f"; produces no {', '.join(missing)}"
        if run.failed_cases:
            first_id, first_error = run.failed_cases[0]
            line += (
                f"; failed on {len(run.failed_cases)} cases, scored as no output "
                f"(first, {first_id}: {first_error})"
            )
        print(line)

    if args.json:
        report = {
            "corpus": str(args.corpus),
            "cases": len(cases),
            "expected": expected_counts,
            "tools": {
                run.name: {
                    "status": run.status,
                    "error": run.error,
                    "version": run.version,
                    "seconds": round(run.seconds, 3),
                    "failed_cases": [
                        {"id": case_id, "error": error} for case_id, error in run.failed_cases
                    ],
                    **scores.get(run.name, {}),
                }
                for run in runs
            },
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
