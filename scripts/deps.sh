#!/bin/sh
# Installs what a fresh Debian machine lacks, and nothing it already has.
#   deps.sh run    what `make run` needs
#   deps.sh test   what `make test` needs
set -eu
want=""
case "${1:-run}" in
run)  want="jupyter-notebook jupyter-client python3-ipykernel" ;;
test) want="bpftrace python3-jupyter-kernel-test python3-nbclient jupyter-nbconvert
            jupyter-console jupyter-client jupyter-notebook python3-ipykernel python3-pexpect
            qemu-system-x86 busybox-static cpio systemtap-sdt-dev gcc bpftool
            chromium chromium-driver python3-selenium" ;;
*) echo "usage: deps.sh run|test" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
