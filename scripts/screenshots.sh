#!/bin/sh
# Screenshots of saved notebooks for README.md, in docs/: each notebook is
# converted to HTML by nbconvert and photographed in headless Chromium
# (kernel/clienttest/html_plots.py, which checks its plots on the way).
# Run scripts/refresh-notebooks.sh first for fresh outputs.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh test
root=$PWD
nb=$root/notebooks
cd kernel/clienttest
exec /usr/bin/python3 html_plots.py --screenshots "$root/docs" \
	"$nb/01-syscall-latency.ipynb:0-1" \
	"$nb/04-cpu-profile.ipynb:0-2" \
	"$nb/06-chained-investigation.ipynb:0-5" \
	"$nb/08-over-time.ipynb:0-3=08-over-time-lines" \
	"$nb/08-over-time.ipynb:4-5=08-over-time-heatmap"
