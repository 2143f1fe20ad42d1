"""Code samples for the client tier, one set per executor flavour.

The client tests (jupyter_kernel_test, jupyter console, nbclient) are the
same for every flavour; only the code they send differs. The flavour comes
from the kernelspec name: a name ending in "-fake" is served by the fake
executor (kernel/kerneltest), anything else by the bpftrace executor.
"""

import os

KERNEL = os.environ.get("TRACEBOOK_KERNEL", "tracebook-fake")
FLAVOUR = "fake" if KERNEL.endswith("-fake") else "bpftrace"

# Every key is used by some test. A flavour may set a key to None when it
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
    # The bpftrace executor does not exist yet. When it lands, fill these in
    # (bpftrace programs whose outputs the executor's tests pin down) and
    # switch scripts/test-clients.sh to the "tracebook" kernelspec.
    "bpftrace": {
        "code_hello_world": 'BEGIN { printf("hello, world\\n"); exit(); }',
        "code_stderr": None,
        "completion_samples": None,
        "complete_code_samples": ["BEGIN { exit(); }", 'BEGIN { printf("{"); exit(); }'],
        "incomplete_code_samples": ["BEGIN {", "kprobe:do_nanosleep { @[comm] = count("],
        "invalid_code_samples": ["}", "BEGIN { ) }"],
        "code_page_something": "%help",
        "code_generate_error": "BEGIN { nosuchfunction(); }",
        "code_execute_result": None,
        "code_display_data": None,
        "code_history_pattern": None,
        "code_inspect_sample": "printf",
        "code_clear_output": None,
        "code_runs_until_interrupted": "interval:s:1 { @ticks = count(); }",
        "code_slow_error": None,
        "code_live_display": None,
        "live_display_final_text": None,
        "code_console_multiline": ["BEGIN {", '  printf("{\\n"); exit();', "}"],
        "console_multiline_output": "{",
    },
}[FLAVOUR]
