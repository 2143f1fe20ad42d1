"""A scripted `jupyter console --simple-prompt` session against tracebook.

jupyter console is the client that leans hardest on is_complete_request
(Enter runs the cell only when the kernel says it is complete) and on
kernel_info's banner. Two sessions: stdin piped (one cell per line, as the
reference notes verify), and an interactive one under pexpect that types a
multi-line cell and must see the continuation prompt with the kernel's
indent.

    TRACEBOOK_KERNEL=tracebook-fake /usr/bin/python3 console_session.py
"""

import os
import re
import subprocess
import sys
import time

import pexpect

from samples import KERNEL, SAMPLES

TIMEOUT = 30
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
ARGS = ["console", f"--kernel={KERNEL}", "--simple-prompt", "--no-confirm-exit"]


def piped():
    cells = [SAMPLES["code_hello_world"], SAMPLES["code_execute_result"][0]["code"], SAMPLES["code_generate_error"]]
    out = subprocess.run(
        ["jupyter", *ARGS],
        input="\n".join(cells) + "\n",
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    text = out.stdout + out.stderr
    want = ["host kernel: Linux", "hello, world", f"Out[2]: {SAMPLES['code_execute_result'][0]['result']}", "In [3]"]
    missing = [w for w in want if w not in text]
    if missing or out.returncode != 0:
        sys.exit(f"piped console session: rc {out.returncode}, missing {missing}:\n{text}")
    print("piped console session: ok")


def interactive():
    """The full prompt_toolkit console (the --simple-prompt one reads single
    lines and never asks is_complete), in a pty, with escape codes
    stripped before matching."""
    child = pexpect.spawn(
        "jupyter", ARGS[:2] + ["--no-confirm-exit"], timeout=TIMEOUT, encoding="utf-8",
        dimensions=(40, 160), env={**os.environ, "TERM": "xterm"},
    )
    seen = ""

    def wait_for(pattern):
        nonlocal seen
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            m = re.search(pattern, seen)
            if m:
                seen = seen[m.end():]
                return m
            try:
                chunk = child.read_nonblocking(65536, timeout=0.2)
            except pexpect.TIMEOUT:
                continue
            seen += ANSI.sub("", chunk)
        sys.exit(f"interactive console: no {pattern!r} within {TIMEOUT}s; screen since last match:\n{seen}")

    try:
        wait_for(r"In \[1\]: ")
        first, *rest = SAMPLES["code_console_multiline"]
        child.send(first + "\r")
        # is_complete said "incomplete": a continuation prompt carrying the
        # kernel's indent, not a run.
        wait_for(r"\.\.\.: {4}")
        for line in rest:
            child.send(line + "\r")
        wait_for(re.escape(SAMPLES["console_multiline_output"]))
        wait_for(r"In \[2\]: ")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    print("interactive console session: ok")


if __name__ == "__main__":
    piped()
    interactive()
