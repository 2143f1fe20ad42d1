"""Code samples for the client tier, one set per executor flavour.

The client tests (jupyter_kernel_test, jupyter console, nbclient) are the
same for every flavour; only the code they send differs. The flavour comes
from the kernelspec name: a name ending in "-fake" is served by the fake
executor (kernel/kerneltest), anything else by the bpftrace executor.
"""

import os
import re

KERNEL = os.environ.get("TRACEBOOK_KERNEL", "tracebook-fake")
FLAVOUR = "fake" if KERNEL.endswith("-fake") else "bpftrace"

# Every key is used by some test. live_display_final_text may be a
# compiled pattern where the text holds timings. A flavour may set a key to None when it
# cannot express the feature; the test that needs it then fails (in CI) or
# is skipped with that reason (locally) -- see require() in the tests.
SAMPLES = {
    "fake": {
        # jupyter_kernel_test attributes
        "code_hello_world": "print hello, world",
        "code_stderr": "eprint something went sideways",
        "completion_samples": [
            {"text": "pri", "matches": {"print"}},
            {"text": "e", "matches": {"eprint", "error"}},
            {"text": "print x\ncl", "matches": {"clear"}},
        ],
        "complete_code_samples": ["print x", "print { }", "print (a[1])", "%probes"],
        "incomplete_code_samples": ["print {", "print (a[", "/* open comment"],
        "invalid_code_samples": ["}", "print ( ]", 'print "no end'],
        "code_page_something": "page the help text",
        "code_generate_error": "error boom",
        "code_execute_result": [
            {"code": "result 42", "result": "42"},
            {"code": "result forty-two", "result": "forty-two"},
        ],
        "code_display_data": [
            {"code": "display svg", "mime": "image/svg+xml"},
            {"code": "display html", "mime": "text/html"},
        ],
        # Matches one of code_execute_result's codes (jupyter_kernel_test's
        # unique search expects a single distinct input).
        "code_history_pattern": "result 4?",
        "code_inspect_sample": "print",
        "code_clear_output": "print before\nclear",
        # tracebook's own tests
        "code_runs_until_interrupted": "sleep forever",
        # Fails, but not at once: the next request has time to arrive and
        # queue behind it, as in "run all".
        "code_slow_error": "sleep 300ms\nerror boom",
        "code_live_display": "display svg live\nupdate live 60",
        "live_display_final_text": "<plot 60>",
        "code_console_multiline": ["print {", "print }"],
        "console_multiline_output": "{",
    },
    # The bpftrace executor (kernel/exec.go). Its Go tests
    # (kernel/exec_test.go) pin down the same behaviours in detail.
    "bpftrace": {
        "code_hello_world": 'BEGIN { printf("hello, world\\n"); exit(); }',
        # A checker warning goes to stderr, as bpftrace prints it.
        "code_stderr": 'BEGIN { $x = -1; printf("%d\\n", $x / 2); exit(); }',
        "completion_samples": [
            {"text": "tracepoint:sched:sched_swi", "matches": {"sched_switch"}},
            {"text": "tracepoint:sch", "matches": {"sched:"}},
            {"text": "BEGIN { @x = lhis", "matches": {"lhist"}},
            {"text": "%pro", "matches": {"%probes"}},
            {"text": 'tracepoint:syscalls:sys_enter_openat { printf("%s", str(args->filen', "matches": {"filename"}},
            {"text": "uprobe:/bin/bash:readline_internal_c", "matches": {"readline_internal_char"}},
        ],
        "complete_code_samples": ["BEGIN { exit(); }", 'BEGIN { printf("{"); exit(); }', "@x", "%probes"],
        "incomplete_code_samples": [
            "BEGIN {",
            "kprobe:do_nanosleep { @[comm] = count(",
            # a probe's predicate still waiting for its { body }
            'tracepoint:syscalls:sys_enter_read /comm == "kite"/',
            "tracepoint:syscalls:sys_enter_read",
        ],
        "invalid_code_samples": ["}", "BEGIN { ) }"],
        "code_page_something": "%help",
        "code_generate_error": "BEGIN { nosuchfunction(); }",
        # A bare @map as the last statement is the cell's result.
        "code_execute_result": [
            {"code": "@answer = 42; @answer", "result": "@answer: 42"},
            {"code": '@greeting["hello"] = 1; @greeting', "result": "@greeting[hello]: 1"},
        ],
        "code_display_data": [
            {"code": "BEGIN { @h = hist(100); exit(); }", "mime": "image/svg+xml"},
            {"code": "%maps", "mime": "text/html"},
        ],
        "code_history_pattern": "@answer = 4?; @answer",
        "code_inspect_sample": "printf",
        # A clear-screen escape (what clear(1) prints) clears the output.
        "code_clear_output": 'BEGIN { printf("before\\n"); printf("\\033[2J"); printf("after\\n"); exit(); }',
        "code_runs_until_interrupted": "interval:s:1 { @ticks = count(); }",
        # exit(1) fails the cell, once its command has run for 300 ms.
        "code_slow_error": "%%trace 10s -c 'sleep 0.3'\ntracepoint:sched:sched_process_exit /pid == cpid/ { exit(1); }",
        # Redrawn far more often than the kernel lets through.
        "code_live_display": "%%trace 450ms\ntracepoint:sched:sched_switch { @n = count(); }",
        "live_display_final_text": re.compile(r"done after 0\.\ds / 0\.\ds \[#{20}\] 100% \| 0 events \| 0 drops \| 1 probe\n"),
        "code_console_multiline": ["BEGIN {", '  printf("{\\n"); exit();', "}"],
        "console_multiline_output": "{",
    },
}[FLAVOUR]
