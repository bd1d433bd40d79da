#!/usr/bin/env python3
"""Stream a file line by line through iocextract or ioc-finder and print the throughput.

Usage: benches/extract/.venv/bin/python benches/extract/peer_throughput.py TOOL FILE
TOOL is iocextract or ioc-finder.

Each line goes through the same call that compare.py makes for one corpus text: for
iocextract every extractor it has (URLs, IPv4, IPv6, e-mail, MD5, SHA-1, SHA-256, SHA-512)
with refang=True, for ioc-finder find_iocs with every indicator type tiq has. The distinct
(kind, value) pairs are counted in a dict, as `tiq extract` counts them, so the loop keeps
only that dict in memory. The last line of standard output is one JSON object with the
bytes, lines, distinct pairs and seconds of the loop (process start and imports excluded).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402

EXTRACTORS = {
    "iocextract": compare.extract_iocextract,
    "ioc-finder": compare.extract_ioc_finder,
}


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in EXTRACTORS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(EXTRACTORS)}}} FILE")
    tool, path = sys.argv[1], sys.argv[2]
    extract = EXTRACTORS[tool]
    # The first call imports the package, so the timed loop does not include the import.
    extract("")

    counts: dict[tuple[str, str], int] = {}
    bytes_read = lines = 0
    started = time.perf_counter()
    with open(path, "rb") as log:
        for raw in log:
            bytes_read += len(raw)
            lines += 1
            for pair in extract(raw.decode("utf-8", "replace")):
                counts[pair] = counts.get(pair, 0) + 1
    seconds = time.perf_counter() - started

    summary = {
        "tool": tool,
        "bytes": bytes_read,
        "lines": lines,
        "distinct": len(counts),
        "seconds": round(seconds, 3),
        "mib_per_s": round(bytes_read / 2**20 / seconds, 3) if seconds > 0 else None,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
