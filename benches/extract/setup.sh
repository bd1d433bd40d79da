#!/usr/bin/env bash
# Creates benches/extract/.venv with the two Python extractors that compare.py measures tiq
# against: iocextract and ioc-finder, at pinned versions so figures from different runs
# stay comparable. Needs python3 with the venv module and access to PyPI.
#
# Usage: benches/extract/setup.sh
#   Then: benches/extract/.venv/bin/python benches/extract/compare.py
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"

python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
# iocextract 1.16.1 imports requests at module level but does not declare it as a
# dependency, so it is pinned here too. compare.py uses idna to encode IDN hosts.
"$venv/bin/pip" install --quiet \
    'iocextract==1.16.1' \
    'requests==2.34.2' \
    'ioc-finder==9.4.1' \
    'idna==3.20'
"$venv/bin/python" - <<'PY'
from importlib.metadata import version
for name in ("iocextract", "requests", "ioc-finder", "idna"):
    print(f"{name} {version(name)}")
PY
echo "ready: $venv/bin/python $here/compare.py"
