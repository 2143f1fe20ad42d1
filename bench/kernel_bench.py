"""Kernel latency: tracebook against ipykernel, in the same run.

    /usr/bin/python3 bench/kernel_bench.py --binary bin/tracebook [--runs N] [--cells M]

Measures, through jupyter_client as a notebook server drives a kernel:
  start     from KernelManager.start_kernel() to wait_for_ready() returning,
            i.e. a kernel_info_reply plus its IOPub traffic (median of N starts)
  execute   one trivial cell: execute_request sent to both its execute_reply
            and its idle status received (median and p90 of M cells); for
            the bpftrace kernel, BEGIN { exit(); }, which loads and runs a
            BPF program
and prints tracebook/ipykernel ratios. The target is a ratio <= 1.

For the bpftrace kernel it also measures how soon a 5-probe cell's probes
are attached (target: 20 ms): from sending its execute_request to
receiving its live display, which the kernel shows once every probe is
attached, and the kernel's own figure (execute to attach) from that
display's metadata. Cells start a second apart, as a user's do: the kernel
releases a finished cell's tracepoints in the background, and a tracepoint
cannot be opened while one is being released.

With --binary, the binary installs its kernelspec (--kernel names it,
tracebook by default; a name ending in -fake serves the fake executor) into
a temporary directory put first on JUPYTER_PATH; without, the kernelspec
must already be installed. ipykernel is Debian's python3 kernelspec. The
bpftrace kernel needs root.

Both numbers include jupyter_client's fixed 0.2 s IOPub flush at the end of
wait_for_ready, the same for both kernels.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from jupyter_client.manager import KernelManager

TRIVIAL = {"python3": "pass"}


def trivial(kernel):
    if kernel in TRIVIAL:
        return TRIVIAL[kernel]
    return "print hi" if kernel.endswith("-fake") else "BEGIN { exit(); }"


def start(kernel):
    t0 = time.perf_counter()
    km = KernelManager(kernel_name=kernel)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return time.perf_counter() - t0, km, kc


def execute(kc, code):
    t0 = time.perf_counter()
    msg_id = kc.execute(code)
    replied = idle = False
    while not (replied and idle):
        if not replied:
            try:
                m = kc.get_shell_msg(timeout=0.001 if idle else 0)
                replied = m["parent_header"].get("msg_id") == msg_id
            except Exception:
                pass
        if not idle:
            try:
                m = kc.get_iopub_msg(timeout=0.001 if replied else 0)
                idle = (m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status"
                        and m["content"]["execution_state"] == "idle")
            except Exception:
                pass
    return time.perf_counter() - t0


def bench(kernel, runs, cells):
    starts = []
    for _ in range(runs):
        t, km, kc = start(kernel)
        starts.append(t)
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    t, km, kc = start(kernel)
    code = trivial(kernel)
    for _ in range(10):  # warm up
        execute(kc, code)
    rtts = sorted(execute(kc, code) for _ in range(cells))
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return {
        "start": statistics.median(starts),
        "exec": statistics.median(rtts),
        "exec_p90": rtts[int(len(rtts) * 0.9)],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--cells", type=int, default=300)
    ap.add_argument("--kernel", default="tracebook")
    ap.add_argument("--attach-cells", type=int, default=10, help="5-probe cells to time")
    ap.add_argument("--binary", help="tracebook binary whose kernelspec to install and test")
    a = ap.parse_args()
    if a.binary:
        tmp = tempfile.mkdtemp()
        try:
            fake = ["--fake-executor"] if a.kernel.endswith("-fake") else []
            subprocess.run([a.binary, "--install", "--prefix", tmp, "--name", a.kernel, *fake],
                           check=True, stdout=subprocess.DEVNULL)
            os.environ["JUPYTER_PATH"] = os.path.join(tmp, "share", "jupyter")
            return run(a)
        finally:
            shutil.rmtree(tmp)
    return run(a)


FIVE_PROBES = """%%trace 50ms
tracepoint:syscalls:sys_enter_read { @reads[comm] = count(); }
tracepoint:syscalls:sys_enter_write { @writes[comm] = count(); }
tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }
tracepoint:sched:sched_switch { @switches[cpu] = count(); }
tracepoint:sched:sched_wakeup { @wakeups = count(); }"""


def attach(kernel, cells):
    """Median and p90 of send-to-live-display, and the kernel's median
    execute-to-attach, for a 5-probe cell."""
    _, km, kc = start(kernel)
    client, inkernel = [], []
    try:
        for i in range(cells + 1):
            time.sleep(1)
            t0 = time.perf_counter()
            msg_id = kc.execute(FIVE_PROBES)
            seen = None
            while True:
                m = kc.get_iopub_msg(timeout=30)
                if m["parent_header"].get("msg_id") != msg_id:
                    continue
                if m["msg_type"] == "display_data" and seen is None:
                    seen = time.perf_counter() - t0
                    meta = m["content"]["metadata"]["tracebook"]
                    assert meta["probes"] == 5, meta
                    kernel_ms = meta["attach_ms"]
                if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    break
            reply = kc.get_shell_msg(timeout=30)
            assert reply["content"]["status"] == "ok", reply["content"]
            if i > 0:  # the first compiles against cold caches
                client.append(seen)
                inkernel.append(kernel_ms / 1000)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    client.sort()
    return statistics.median(client), client[int(len(client) * 0.9)], statistics.median(inkernel)


def run(a):
    results = {k: bench(k, a.runs, a.cells) for k in (a.kernel, "python3")}
    tb, py = results[a.kernel], results["python3"]
    print(f"{'':28}{a.kernel:>16}{'ipykernel':>12}{'ratio':>8}")
    rows = [("start to kernel_info (ms)", "start"), ("execute round trip (ms)", "exec"), ("execute p90 (ms)", "exec_p90")]
    worse = False
    for label, key in rows:
        ratio = tb[key] / py[key]
        worse |= ratio > 1
        print(f"{label:28}{tb[key] * 1000:16.2f}{py[key] * 1000:12.2f}{ratio:8.2f}")
    if not a.kernel.endswith("-fake") and a.attach_cells > 0:
        med, p90, kern = attach(a.kernel, a.attach_cells)
        print(f"{'5 probes attached (ms)':28}{med * 1000:16.2f}{'':>12}{'':>8}  p90 {p90 * 1000:.2f}, in the kernel {kern * 1000:.2f}")
        if med > 0.020:
            print("a 5-probe cell took more than 20 ms to attach", file=sys.stderr)
            worse = True
    if worse:
        print("tracebook is slower than ipykernel on some measure", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
