#!/bin/sh
# Tier 5, the kernel matrix: the kernel-tier tests (kprobe, kretprobe,
# kprobe_multi, fentry/fexit ...) run inside Debian's kernels under qemu,
# because the development machines have neither kprobes nor trampolines.
#
#   sh scripts/test-kernels.sh
#
# For each kernel line it resolves the newest kernel with apt, downloads and
# unpacks its vmlinuz once into a cache outside the repository, boots it
# with TCG and a busybox initramfs holding CGO_ENABLED=0 test binaries, and
# judges the run from the serial log. It exits 1 unless every binary ran and
# passed on every kernel. See README.md, "Kernel matrix".
#
# Variables:
#   KERNELS        apt packages naming the kernel lines: a metapackage
#                  (resolved to the newest kernel it depends on) or one
#                  linux-image-* package. Default: Debian 12's 6.1 and 6.12
#                  cloud kernels.
#   KTEST_PKGS     Go packages to test in the guest. Default: every package
#                  whose tests need root (they import runtime/runtimetest or
#                  call os.Geteuid), except difftest (it needs bpftrace).
#   KTEST_SELECT   the guest test selection, per package: a -test.run or
#                  -test.skip pattern (default scripts/ktest/select, which
#                  says why; empty runs every test).
#   KTEST_RUN      a -test.run pattern for every binary (default: the
#                  selection's); it replaces a package's run pattern.
#   KTEST_APPEND   more kernel command-line words.
#   KTEST_PRE      a shell command the guest runs before the tests (to look
#                  around a kernel while debugging).
#   KTEST_CACHE    the kernel cache (default ~/.cache/tracebook-ktest); its
#                  logs/ keeps the serial log of every run.
#   KTEST_TIMEOUT  seconds one kernel may take, boot to power-off (600).
#   KTEST_CPUS, KTEST_MEM  the guest's -smp and -m (2, 1024).
#   KTEST_ACCEL    qemu's -accel (tcg,thread=single: the host has no usable
#                  KVM; with multi-threaded TCG, two-CPU 6.1 guests on a
#                  loaded host soft-locked twice in attach tests that patch
#                  kernel text, and single-threaded TCG was faster).
#   KTEST_QEMU_ARGS  more qemu arguments.
#   KTEST_JOBS     kernels booted at once (default: the number of CPUs;
#                  single-threaded TCG keeps each guest on one).
#   KTEST_CLI      the main package built into the guest as /bin/tracebook,
#                  for the end-to-end tests of the command ("." ; empty for
#                  none).
#   KTEST_MUST_PASS  package:Test pairs that must have passed on every
#                  kernel, not merely not failed (default: runtime's
#                  TestGuestFeatures, the proof that the feature probes
#                  which skip tests on the host pass in the guest).
set -eu

cd "$(dirname "$0")/.."
GO=${GO:-go}
KERNELS=${KERNELS:-"linux-image-cloud-amd64 linux-image-6.12-cloud-amd64"}
KTEST_CACHE=${KTEST_CACHE:-${HOME:-/root}/.cache/tracebook-ktest}
KTEST_TIMEOUT=${KTEST_TIMEOUT:-600}
KTEST_CPUS=${KTEST_CPUS:-2}
KTEST_MEM=${KTEST_MEM:-1024}
KTEST_JOBS=${KTEST_JOBS:-$(nproc)}
KTEST_CLI=${KTEST_CLI-.}
KTEST_ACCEL=${KTEST_ACCEL:-tcg,thread=single}
KTEST_QEMU_ARGS=${KTEST_QEMU_ARGS:-}
KTEST_RUN=${KTEST_RUN:-}
KTEST_SELECT=${KTEST_SELECT-scripts/ktest/select}
KTEST_APPEND=${KTEST_APPEND:-}
module=$($GO list -m)

t0=$(date +%s)
say() { echo "test-kernels: $*"; }
die() { echo "test-kernels: $*" >&2; exit 1; }

# --- prerequisites -------------------------------------------------------
missing=""
command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 || missing="$missing busybox-static"
command -v cpio >/dev/null || missing="$missing cpio"
if [ -n "$missing" ]; then
	say "installing:$missing"
	sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi
# busybox must be static: it is the guest's only userland.
if file -L /bin/busybox 2>/dev/null | grep -q 'dynamically linked'; then
	die "/bin/busybox is dynamically linked; install busybox-static"
fi

mkdir -p "$KTEST_CACHE/logs"
work=$(mktemp -d "${TMPDIR:-/tmp}/tracebook-ktest.XXXXXX")
# On an interrupt, stop the guests still booting, by their process ids:
# the boot subshells first, then each qemu's timeout (which passes the
# signal on).
stop_guests() {
	for f in "$work"/boot.pids "$work"/*.pid; do
		[ -f "$f" ] && xargs kill <"$f" 2>/dev/null
	done
	wait 2>/dev/null
}
trap 'stop_guests; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# --- kernels -------------------------------------------------------------
# resolve prints the package holding the kernel a KERNELS word names: the
# newest version a metapackage depends on, preferring the -unsigned build
# (the same vmlinuz without the EFI signature). Without apt (offline) the
# last resolution, kept in the cache, is used. Two apt-cache calls in all:
# each costs about half a second.
apt_depends=$(apt-cache depends $KERNELS 2>/dev/null || true)
apt_names=$(apt-cache pkgnames linux-image- 2>/dev/null || true)
resolve() {
	meta=$1
	dep=$(echo "$apt_depends" | awk -v m="$meta" '
		/^[^ ]/ { cur = $1; next }
		cur == m && /^ *Depends: linux-image-/ { print $2; exit }')
	[ -n "$dep" ] || dep=$meta
	if echo "$apt_names" | grep -qFx -- "$dep-unsigned"; then
		dep=$dep-unsigned
	fi
	if echo "$apt_names" | grep -qFx -- "$dep"; then
		echo "$dep" >"$KTEST_CACHE/$meta.resolved"
		echo "$dep"
	elif [ -f "$KTEST_CACHE/$meta.resolved" ]; then
		cat "$KTEST_CACHE/$meta.resolved"
	else
		return 1
	fi
}

# fetch makes $KTEST_CACHE/<pkg>/{vmlinuz,config} from the package's .deb,
# once.
fetch() {
	pkg=$1
	dir=$KTEST_CACHE/$pkg
	[ -s "$dir/vmlinuz" ] && [ -s "$dir/config" ] && return 0
	say "downloading $pkg"
	tmp=$(mktemp -d "$KTEST_CACHE/.fetch.XXXXXX")
	(cd "$tmp" && apt-get download -q "$pkg" 2>&1 | grep -v 'unsandboxed as root' || true)
	deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { rm -rf "$tmp"; die "apt-get download $pkg produced no .deb"; }
	(cd "$tmp" && dpkg-deb --fsys-tarfile "$deb" | tar -x --wildcards './boot/vmlinuz-*' './boot/config-*')
	mkdir -p "$dir"
	mv "$tmp"/boot/vmlinuz-* "$dir/vmlinuz"
	cfg=$(ls "$tmp"/boot/config-*)
	basename "$cfg" | sed 's/^config-//' >"$dir/release"
	mv "$cfg" "$dir/config"
	rm -rf "$tmp"
}

kernels=""
for meta in $KERNELS; do
	pkg=$(resolve "$meta") || die "apt knows no package $meta (apt-get update?)"
	fetch "$pkg"
	kernels="$kernels $pkg"
	say "kernel line $meta: $pkg ($(cat "$KTEST_CACHE/$pkg/release"))"
done
t_kernels=$(date +%s)

# --- test binaries -------------------------------------------------------
if [ -z "${KTEST_PKGS:-}" ]; then
	KTEST_PKGS=$($GO list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}} {{join .TestImports " "}} {{join .XTestImports " "}}{{end}}' ./... |
		while read -r path dir imports; do
			case $path in */difftest) continue ;; esac
			case " $imports " in
			*" $module/runtime/runtimetest "*) echo "$path"; continue ;;
			esac
			if grep -qs 'os\.Geteuid()' "$dir"/*_test.go; then echo "$path"; fi
		done)
fi
[ -n "$KTEST_PKGS" ] || die "no packages to test"

initrd_root=$work/root
mkdir -p "$initrd_root/bin" "$initrd_root/tests" "$initrd_root/ktest" \
	"$initrd_root/proc" "$initrd_root/sys" "$initrd_root/dev" "$initrd_root/tmp" \
	"$initrd_root/etc"
# The command builds while the test binaries do; one go test -c builds
# every package's binary (in parallel, each named as go test names it,
# codegen.test: tests may expect that as their comm).
if [ -n "$KTEST_CLI" ]; then
	CGO_ENABLED=0 $GO build -trimpath -ldflags=-w -o "$initrd_root/bin/tracebook" "$KTEST_CLI" \
		>"$work/cli.out" 2>&1 &
	cli_pid=$!
fi
pkgs=$($GO list $KTEST_PKGS)
# shellcheck disable=SC2086 # a list of packages
$GO list -f '{{.ImportPath}} {{.Dir}}' $pkgs >"$work/dirs"
mkdir -p "$work/bins"
# -w: no DWARF (a third of each binary, and nothing reads it).
# shellcheck disable=SC2086 # a list of packages
CGO_ENABLED=0 $GO test -c -ldflags=-w -o "$work/bins/" $pkgs ||
	die "building the test binaries failed"
if [ -n "$KTEST_CLI" ]; then
	wait "$cli_pid" || { cat "$work/cli.out" >&2; die "building $KTEST_CLI failed"; }
	say "built the tracebook command ($(du -h "$initrd_root/bin/tracebook" | cut -f1))"
fi
nbin=0
for p in $pkgs; do
	rel=${p#"$module"}
	rel=${rel#/}
	name=$(echo "${rel:-${module##*/}}" | tr / _)
	bin=$work/bins/${p##*/}.test
	[ -f "$bin" ] || continue # no test files after all
	dir=$(awk -v p="$p" '$1 == p { print $2 }' "$work/dirs")
	mkdir -p "$initrd_root/tests/$name"
	mv "$bin" "$initrd_root/tests/$name/"
	# go test runs a package's tests in its directory: copy its testdata.
	[ -d "$dir/testdata" ] && cp -r "$dir/testdata" "$initrd_root/tests/$name/"
	# The package's line of the selection, as flags, one per line.
	if [ -n "$KTEST_SELECT" ]; then
		awk -v pkg="${rel:-.}" '
			/^[ \t]*(#|$)/ { next }
			$1 == pkg && $2 == "run" { print "-test.run=" $3 }
			$1 == pkg && $2 == "skip" { print "-test.skip=" $3 }
		' "$KTEST_SELECT" >"$initrd_root/tests/$name/args"
		[ -s "$initrd_root/tests/$name/args" ] || rm "$initrd_root/tests/$name/args"
	fi
	nbin=$((nbin + 1))
	say "built $name ($(du -h "$initrd_root/tests/$name/${p##*/}.test" | cut -f1))$(
		[ -f "$initrd_root/tests/$name/args" ] && printf ', guest selection %s' "$(tr '\n' ' ' <"$initrd_root/tests/$name/args")")"
done
[ "$nbin" -gt 0 ] || die "no test binaries"
if [ -z "${KTEST_MUST_PASS+set}" ]; then
	KTEST_MUST_PASS=""
	# A -test.run filter decides for itself what runs.
	if [ -d "$initrd_root/tests/runtime" ] && [ -z "$KTEST_RUN" ]; then
		KTEST_MUST_PASS="runtime:TestGuestFeatures"
	fi
fi
t_build=$(date +%s)

# --- initramfs -----------------------------------------------------------
cp /bin/busybox "$initrd_root/bin/busybox"
for a in $(/bin/busybox --list); do
	# busybox lists itself: linking it would replace the binary.
	[ "$a" = busybox ] && continue
	ln -sf busybox "$initrd_root/bin/$a"
done
# A shared libc and bash, with the loader cache that finds them: uprobe
# tests resolve "libc" and "bash" as on any distribution. The tests never
# need more of a userland (and skip where they would: gcc, bpftrace).
for f in /bin/bash $(ldd /bin/bash | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
	mkdir -p "$initrd_root$(dirname "$f")"
	rm -f "$initrd_root$f" # busybox may have linked an applet there
	cp -L "$f" "$initrd_root$f"
done
ls /lib/x86_64-linux-gnu/libc.so.6 >/dev/null
echo /lib/x86_64-linux-gnu >"$initrd_root/etc/ld.so.conf"
ldconfig -r "$initrd_root"
cp scripts/ktest/init "$initrd_root/init"
chmod 755 "$initrd_root/init"
echo "root:x:0:0:root:/tmp:/bin/sh" >"$initrd_root/etc/passwd"
echo "root:x:0:" >"$initrd_root/etc/group"
# Each kernel's config, from its package, so the guest tests can tell
# what the kernel was built with (CONFIG_FPROBE decides kprobe_multi).
for pkg in $kernels; do
	cp "$KTEST_CACHE/$pkg/config" "$initrd_root/ktest/config-$(cat "$KTEST_CACHE/$pkg/release")"
done
{
	[ -z "$KTEST_RUN" ] || echo "KTEST_ARGS='-test.run=$KTEST_RUN'"
	[ -z "${KTEST_PRE:-}" ] || echo "KTEST_PRE='$KTEST_PRE'"
} >"$initrd_root/ktest/env"
# Uncompressed: the guest would inflate a gzip'd one under emulation
# (about 4 s for 45 MB); qemu loads the plain cpio into guest memory at
# host speed.
(cd "$initrd_root" && find . | cpio -o -H newc --quiet) >"$work/initrd.cpio"
say "initramfs $(du -h "$work/initrd.cpio" | cut -f1) with $nbin test binaries"
t_initrd=$(date +%s)

# --- boot and judge ------------------------------------------------------
# boot runs one kernel and writes its verdict to $work/<pkg>.verdict.
# no_timer_check: on a loaded host the TCG guest's IO-APIC timer check
# can fail and panic the boot ("IO-APIC + timer doesn't work!").
boot() {
	pkg=$1
	log=$work/$pkg.log
	start=$(date +%s)
	set +e
	timeout "$KTEST_TIMEOUT" qemu-system-x86_64 -accel "$KTEST_ACCEL" -cpu max \
		-m "$KTEST_MEM" -smp "$KTEST_CPUS" \
		-kernel "$KTEST_CACHE/$pkg/vmlinuz" -initrd "$work/initrd.cpio" \
		-append "console=ttyS0 panic=-1 quiet no_timer_check $KTEST_APPEND TRACEBOOK_KTEST=1" \
		$KTEST_QEMU_ARGS -nographic -no-reboot </dev/null >"$log.raw" 2>&1 &
	# timeout passes a TERM on to qemu: the exit trap uses this.
	echo $! >"$work/$pkg.pid"
	wait $!
	rc=$?
	rm -f "$work/$pkg.pid"
	set -e
	# Serial lines end in CRLF, and the first carries escape sequences. A
	# kernel message may end up in front of a marker: split it off.
	tr -d '\r' <"$log.raw" | sed 's/\x1b[[0-9;?]*[a-zA-Z]//g' |
		sed 's/^\(..*\)\(KTEST-\(BOOT\|RUN\|END\|DONE\) \)/\1\n\2/' >"$log"
	rm -f "$log.raw"
	echo "rc=$rc secs=$(($(date +%s) - start))" >"$work/$pkg.verdict"
}

# KTEST_JOBS kernels at a time.
running=0
for pkg in $kernels; do
	boot "$pkg" &
	echo $! >>"$work/boot.pids"
	running=$((running + 1))
	if [ "$running" -ge "$KTEST_JOBS" ]; then
		wait
		running=0
	fi
done
wait
rm -f "$work/boot.pids"

# report prints, for one kernel, each test's PASS/FAIL/SKIP line prefixed
# with the kernel and package (a skip with its reason: the test's last log
# line before it), then one line per package.
report() {
	awk -v rel="$1" '
	/^KTEST-RUN / { pkg = $2; t0 = substr($3, 8); npass = nfail = nskip = 0; split("", last); next }
	/^KTEST-END / {
		rc = substr($3, 4)
		printf "%s %s %s: %d passed, %d failed, %d skipped, %.0fs (rc=%s)\n",
			(rc == 0 ? "ok  " : "FAIL"), rel, pkg, npass, nfail, nskip, substr($4, 8) - t0, rc
		pkg = ""; next
	}
	pkg == "" { next }
	/^=== (RUN|NAME|CONT) / { cur = $3; next }
	/^ +[^ ]+\.go:[0-9]+: / { l = $0; sub(/^ +/, "", l); last[cur] = l; next }
	/^ *--- (PASS|FAIL|SKIP): / {
		line = $0; sub(/^ */, "", line)
		indent = substr($0, 1, length($0) - length(line))
		if (line ~ /^--- PASS/) npass++
		else if (line ~ /^--- FAIL/) nfail++
		else nskip++
		split(line, f, " ")
		if (line !~ /^--- PASS/ && (f[3] in last)) line = line "  " last[f[3]]
		printf "%s %s: %s%s\n", rel, pkg, indent, line
	}
	' "$2"
}

fails=0
summary=""
for pkg in $kernels; do
	log=$work/$pkg.log
	rel=$(cat "$KTEST_CACHE/$pkg/release")
	rc=$(sed -n 's/^rc=\([0-9]*\).*/\1/p' "$work/$pkg.verdict")
	secs=$(sed -n 's/.*secs=\([0-9]*\).*/\1/p' "$work/$pkg.verdict")
	runs=$(grep -c '^KTEST-RUN ' "$log" || true)
	done_line=$(grep '^KTEST-DONE ' "$log" || true)
	echo
	echo "=== $rel ($pkg): qemu rc=$rc, ${secs}s"
	report "$rel" "$log"
	why=""
	[ "$rc" = 0 ] || why="$why qemu exited $rc$([ "$rc" = 124 ] && echo " (timeout after ${KTEST_TIMEOUT}s)");"
	grep -q '^KTEST-BOOT ' "$log" || why="$why /init never started;"
	[ "$runs" = "$nbin" ] || why="$why $runs of $nbin test binaries ran;"
	# A selection or a filter that matched nothing must not pass quietly.
	empty=$(awk '
		/^KTEST-RUN / { pkg = $2; n = 0; next }
		/^KTEST-END / { if (n == 0) printf " %s", pkg; pkg = ""; next }
		pkg != "" && /^--- PASS: / { n++ }' "$log")
	[ -z "$empty" ] || why="$why no test passed in:$empty;"
	for must in $KTEST_MUST_PASS; do
		awk -v pkg="${must%%:*}" -v test="${must#*:}" '
			/^KTEST-RUN / { in_pkg = ($2 == pkg) }
			in_pkg && index($0, "--- PASS: " test " (") == 1 { found = 1 }
			END { exit !found }' "$log" || why="$why ${must#*:} of ${must%%:*} did not pass;"
	done
	case $done_line in
	"KTEST-DONE fail=0 "*) ;;
	"") why="$why no KTEST-DONE line;" ;;
	*) why="$why ${done_line#KTEST-DONE };" ;;
	esac
	if [ -n "$why" ]; then
		fails=$((fails + 1))
		keep=$KTEST_CACHE/logs/$rel.log
		cp "$log" "$keep"
		summary="$summary
FAIL $rel:$why serial log: $keep"
		# What the guest printed last says most about a hang or a panic.
		if [ -z "$done_line" ]; then
			echo "--- last lines of the serial log:"
			tail -n 30 "$log"
		fi
	else
		cp "$log" "$KTEST_CACHE/logs/$rel.log"
		summary="$summary
PASS $rel: $nbin test binaries, ${secs}s"
	fi
done

t_end=$(date +%s)
echo
echo "kernel matrix:$summary"
echo "time: $((t_end - t0))s (kernels $((t_kernels - t0))s, build $((t_build - t_kernels))s, initramfs $((t_initrd - t_build))s, boots $((t_end - t_initrd))s)"
[ "$fails" = 0 ] || exit 1
