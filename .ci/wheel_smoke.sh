#!/usr/bin/env bash
# Build the wheel, install it into a clean throwaway venv and run `envquality ingest`
# and `envquality validate` on a real sample from that install, outside the checkout
# (so nothing of the source tree is importable).  Dependencies come from pip's cache
# after the first run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/envquality-wheel.XXXXXX")"
trap 'rm -rf "$work"' EXIT

"${BUILD_PYTHON:-$root/.venv/bin/python}" -m pip wheel --quiet --no-deps -w "$work/dist" "$root"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "$work"/dist/envquality-*.whl
envq="$work/venv/bin/envquality"

cd "$work"
unset PYTHONPATH ENVQUALITY_DB_URL ENVQUALITY_GX_ROOT ENVQUALITY_SITE_DIR
where=$("$work/venv/bin/python" -c 'import envquality; print(envquality.__file__)')
case "$where" in
    "$work/venv/"*) ;;
    *) echo "wheel smoke test: envquality imported from $where, not from the wheel" >&2; exit 1 ;;
esac
mkdir sample
cp "$root/tests/data/pm25in/兰州.csv" sample/
db="sqlite:///$work/smoke.sqlite"
"$envq" ingest pm25in sample --db "$db" --no-progress
"$envq" quarantine list --db "$db" --limit 3
"$envq" validate sample/兰州.csv
test -f var/site/operator/data_docs/index.html || { echo "wheel smoke test: no Data Docs built" >&2; exit 1; }
echo "wheel smoke test: passed ($(basename "$work"/dist/*.whl))"
