"""`jupyter run` against tracebook: it appends the file name to the
kernel's argv (which the kernel must ignore) and never shuts the kernel
down (so the kernel must notice its parent is gone and exit by itself).

    TRACEBOOK_KERNEL=tracebook-fake /usr/bin/python3 jupyter_run.py
"""

import os
import subprocess
import sys
import tempfile
import time

from samples import KERNEL, SAMPLES


def kernels_of(runtime_dir):
    """PIDs of processes whose command line names a connection file in
    runtime_dir: the kernels this test started, and no one else's."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if any(runtime_dir.encode() in a for a in args) and b"--kernel" in args:
            pids.append(int(pid))
    return pids


def main():
    runtime = os.environ["JUPYTER_RUNTIME_DIR"]
    with tempfile.NamedTemporaryFile("w", suffix=".bt", delete=False) as f:
        f.write(SAMPLES["code_hello_world"] + "\n")
    try:
        out = subprocess.run(["jupyter", "run", f"--kernel={KERNEL}", f.name],
                             capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(f.name)
    if "hello, world" not in out.stdout:
        sys.exit(f"jupyter run: rc {out.returncode}, no hello, world:\n{out.stdout}\n{out.stderr}")
    if f'ignoring argument "{f.name}"' not in out.stderr:
        sys.exit(f"jupyter run: the kernel did not log the argument it ignored:\n{out.stderr}")
    # The kernel polls for its parent each second.
    deadline = time.monotonic() + 10
    while kernels_of(runtime) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = kernels_of(runtime)
    if left:
        for pid in left:
            os.kill(pid, 9)
        sys.exit(f"jupyter run: kernel {left} still running 10s after its parent exited")
    print("jupyter run: ok (extra argument ignored, kernel exited with its parent)")


if __name__ == "__main__":
    main()
