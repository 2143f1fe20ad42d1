#!/bin/sh
# Tier 4: real Jupyter clients against tracebook's kernel.
#
#   jupyter_kernel_test   the Jupyter project's protocol test suite, every
#                         attribute set, plus tracebook's own tests
#   jupyter console       a piped session and an interactive multi-line one
#   jupyter run           extra argv ignored; the kernel exits with its parent
#   nbclient              a notebook in the executor's language, and
#                         notebooks/*.ipynb with the bpftrace executor
#   nbconvert + Chromium  the executed notebooks (or, when the bpftrace
#                         kernel did not run, the saved ones) converted
#                         to HTML and opened in headless Chromium: every
#                         plot drawn at a non-zero size (html_plots.py)
#
# The kernelspec is installed into a throwaway JUPYTER_DATA_DIR (also put
# first on JUPYTER_PATH), so nothing outside $tmp is touched. Clients use
# Debian's Python (/usr/bin/python3): the first python3 on PATH may not see
# Debian's packages. In CI (CI=true) a tier that cannot run fails.
set -eu
cd "$(dirname "$0")/.."

# The kernelspecs under test: "tracebook" is the bpftrace executor (it
# traces, so it needs root), and a name ending in -fake is served by the
# fake executor of kernel/kerneltest, whose toy language reaches protocol
# corners bpftrace cannot (floods, panics). Both run by default;
# TRACEBOOK_TEST_KERNEL=NAME runs one.
KERNELS=${TRACEBOOK_TEST_KERNEL:-"tracebook tracebook-fake"}

PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1

cannot() {
	if [ "${CI:-}" = true ]; then
		echo "test-clients: FAIL: $*" >&2
		exit 1
	fi
	echo "test-clients: SKIP: $*" >&2
	exit 0
}

sh scripts/deps.sh test || cannot "could not install the client packages (scripts/deps.sh test)"
[ -x "$PY" ] || cannot "$PY is missing"
for m in jupyter_kernel_test jupyter_client nbclient nbformat pexpect jupyter_console; do
	"$PY" -c "import $m" 2>/dev/null || cannot "Python module $m is missing"
done
command -v jupyter >/dev/null || cannot "the jupyter command is missing"

# TRACEBOOK_BIN tests a binary built elsewhere.
BIN=${TRACEBOOK_BIN:-bin/tracebook}
[ -n "${TRACEBOOK_BIN:-}" ] || go build -o bin/tracebook .

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export JUPYTER_DATA_DIR="$tmp/data" JUPYTER_PATH="$tmp/data" \
	JUPYTER_RUNTIME_DIR="$tmp/runtime" JUPYTER_CONFIG_DIR="$tmp/config"

status=0
run() {
	echo "== $KERNEL: $1"
	shift
	if ! (cd kernel/clienttest && "$@"); then
		echo "test-clients: FAILED ($KERNEL): $*" >&2
		status=1
	fi
}

for KERNEL in $KERNELS; do
	export TRACEBOOK_KERNEL="$KERNEL"
	extra=""
	case $KERNEL in
	*-fake) extra=--fake-executor ;;
	*)
		if [ "$(id -u)" != 0 ]; then
			if [ "${CI:-}" = true ]; then
				echo "test-clients: FAIL: the $KERNEL kernel traces and needs root (CI=true)" >&2
				status=1
			else
				echo "test-clients: SKIP: the $KERNEL kernel traces and needs root" >&2
			fi
			continue
		fi
		;;
	esac
	"$BIN" --install --user --name "$KERNEL" --display-name "bpftrace ($KERNEL)" $extra
	jupyter kernelspec list >"$tmp/specs"
	grep -q "$KERNEL" "$tmp/specs" || { echo "test-clients: jupyter does not see the kernelspec $KERNEL" >&2; exit 1; }

	run "jupyter_kernel_test" "$PY" -m unittest -v test_tracebook_kernel
	run "jupyter console" "$PY" console_session.py
	run "jupyter run" "$PY" jupyter_run.py
	out=""
	case $KERNEL in *-fake) ;; *) out="--out $tmp/executed" ;; esac
	# shellcheck disable=SC2046,SC2086
	run "nbclient" "$PY" notebooks.py $out $(ls "$PWD"/notebooks/*.ipynb 2>/dev/null || true)
done

# The plots of the notebooks nbclient just executed, else of the saved
# ones, in a browser. html_plots.py fails in CI without Chromium.
executed=$(ls "$tmp"/executed/*.ipynb 2>/dev/null || ls "$PWD"/notebooks/*.ipynb 2>/dev/null || true)
if [ -n "$executed" ]; then
	KERNEL=html
	# shellcheck disable=SC2086
	run "nbconvert + chromium" "$PY" html_plots.py $executed
fi
exit $status
