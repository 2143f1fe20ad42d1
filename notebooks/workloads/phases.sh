#!/bin/sh
# Workloads in phases for 08-over-time.ipynb, whose cells run them with
# %%trace -c (which splits a command on spaces, without a shell): what
# the trace sees changes from one second to the next.
#
#   sh workloads/phases.sh syscalls   dd copies /dev/zero for 4 s; from
#                                     2 s, md5sum reads it for 4 s
#   sh workloads/phases.sh reads      dd reads /dev/urandom 2 s each in
#                                     4 KiB, 64 KiB, then 1 MiB blocks
set -eu
case ${1:-} in
syscalls)
	timeout 4 dd if=/dev/zero of=/dev/null bs=1M status=none &
	sleep 2
	timeout 4 md5sum /dev/zero || true
	wait ;;
reads)
	for bs in 4k 64k 1M; do
		timeout 2 dd if=/dev/urandom of=/dev/null bs=$bs status=none || true
	done ;;
*)
	echo "usage: phases.sh syscalls|reads" >&2
	exit 2 ;;
esac
