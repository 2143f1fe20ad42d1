#!/bin/sh
# make run: build tracebook, install its kernelspec, and open the classic
# Jupyter Notebook on notebooks/, printing the URL to open.
#
#   sh scripts/run.sh            port 8888 (PORT=N for another)
#
# The kernel traces, so it must run as root: as root the kernelspec goes to
# /usr/local/share/jupyter/kernels; otherwise to the user's Jupyter data
# directory with "sudo -n" in its argv (tracebook --install --sudo), which
# needs a sudoers rule letting the user run bin/tracebook without a
# password.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
PORT=${PORT:-8888}
$GO build -trimpath -o bin/tracebook .
if [ "$(id -u)" = 0 ]; then
	bin/tracebook --install
else
	echo "run: not root; installing a kernelspec that starts the kernel with sudo -n" >&2
	bin/tracebook --install --user --sudo
fi
command -v jupyter >/dev/null || { echo "run: jupyter is missing (sh scripts/deps.sh run)" >&2; exit 1; }
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
url="http://127.0.0.1:$PORT/?token=$token"
echo
echo "tracebook: open $url"
echo "           (notebooks/ holds the example investigations; Ctrl-C here stops Jupyter)"
echo
exec jupyter notebook --allow-root --no-browser --ip=127.0.0.1 --port="$PORT" \
	--notebook-dir=notebooks --NotebookApp.token="$token" --NotebookApp.port_retries=0
