#!/bin/sh
# Re-executes notebooks/*.ipynb against the real kernel and saves them with
# their new outputs (plots included), after the same checks the client tier
# makes (scripts/test-clients.sh): no error but in cells tagged
# raises-exception, and every output a cell's metadata.tracebook.expect
# lists. Needs root, like every trace.
#
#   sh scripts/refresh-notebooks.sh                  every notebook
#   sh scripts/refresh-notebooks.sh notebooks/04-cpu-profile.ipynb
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
go build -o bin/tracebook .
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export JUPYTER_DATA_DIR="$tmp/data" JUPYTER_PATH="$tmp/data" JUPYTER_RUNTIME_DIR="$tmp/runtime" \
	JUPYTER_CONFIG_DIR="$tmp/config" TRACEBOOK_KERNEL=tracebook PYTHONDONTWRITEBYTECODE=1
bin/tracebook --install --user --name tracebook >/dev/null
[ $# -gt 0 ] || set -- notebooks/*.ipynb
paths=""
for f in "$@"; do paths="$paths $PWD/$f"; done
# shellcheck disable=SC2086
cd kernel/clienttest && exec "$PY" notebooks.py --save $paths
