"""Kernel latency: tracebook against ipykernel, in the same run.

    /usr/bin/python3 bench/kernel_bench.py --binary bin/tracebook [--runs N] [--cells M]

Measures, through jupyter_client as a notebook server drives a kernel:
  start     from KernelManager.start_kernel() to wait_for_ready() returning,
            i.e. a kernel_info_reply plus its IOPub traffic (median of N starts)
  execute   one trivial cell: execute_request sent to both its execute_reply
            and its idle status received (median and p90 of M cells)
and prints tracebook/ipykernel ratios. The target is a ratio <= 1.

With --binary, the binary installs its kernelspec (--kernel names it; a
name ending in -fake serves the fake executor) into a temporary directory
put first on JUPYTER_PATH; without, the kernelspec must already be
installed. ipykernel is Debian's python3 kernelspec.

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
    ap.add_argument("--kernel", default="tracebook-fake")
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
    if worse:
        print("tracebook is slower than ipykernel on some measure", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
