"""tracebook's kernel under jupyter_kernel_test, the protocol test suite of
the Jupyter project, plus tracebook's own tests written with its helpers.

Run by scripts/test-clients.sh, which installs the kernelspec first:
    TRACEBOOK_KERNEL=tracebook-fake /usr/bin/python3 -m unittest -v test_tracebook_kernel
"""

import os
import time
import unittest
import uuid

import jupyter_kernel_test as jkt
from jupyter_kernel_test.msgspec_v5 import validate_message

from samples import FLAVOUR, KERNEL, SAMPLES

IN_CI = os.environ.get("CI") == "true"


def require(key):
    """The sample for key; without one, the test cannot run: a failure in
    CI, a skip (with the reason) elsewhere."""
    value = SAMPLES.get(key)
    if value is None:
        msg = f"the {FLAVOUR} flavour has no sample for {key}"
        if IN_CI:
            raise AssertionError(msg)
        raise unittest.SkipTest(msg)
    return value


class TracebookKernelTests(jkt.KernelTests):
    kernel_name = KERNEL
    language_name = "bpftrace"
    file_extension = ".bt"

    code_hello_world = SAMPLES["code_hello_world"] or ""
    code_stderr = SAMPLES["code_stderr"] or ""
    completion_samples = SAMPLES["completion_samples"] or []
    complete_code_samples = SAMPLES["complete_code_samples"] or []
    incomplete_code_samples = SAMPLES["incomplete_code_samples"] or []
    invalid_code_samples = SAMPLES["invalid_code_samples"] or []
    code_page_something = SAMPLES["code_page_something"] or ""
    code_generate_error = SAMPLES["code_generate_error"] or ""
    code_execute_result = SAMPLES["code_execute_result"] or []
    code_display_data = SAMPLES["code_display_data"] or []
    supported_history_operations = ("tail", "range", "search")
    code_history_pattern = SAMPLES["code_history_pattern"] or ""
    code_inspect_sample = SAMPLES["code_inspect_sample"] or ""
    code_clear_output = SAMPLES["code_clear_output"] or ""

    # tracebook's own tests, named test_tracebook_* as jupyter_kernel_test's
    # README suggests.

    def test_tracebook_every_attribute_set(self):
        for key, value in SAMPLES.items():
            self.assertIsNotNone(value, key)

    def test_tracebook_kernel_info(self):
        self.flush_channels()
        msg_id = self.kc.kernel_info()
        reply = self.kc.get_shell_msg(timeout=jkt.TIMEOUT)
        validate_message(reply, "kernel_info_reply", msg_id)
        c = reply["content"]
        self.assertEqual(c["protocol_version"], "5.3")
        self.assertEqual(c["implementation"], "tracebook")
        li = c["language_info"]
        self.assertEqual(li["mimetype"], "text/x-bpftrace")
        self.assertEqual(li["pygments_lexer"], "c")
        self.assertEqual(li["codemirror_mode"], "text/x-csrc")
        self.assertIn("host kernel: Linux", c["banner"])
        self.assertIn("BTF: ", c["banner"])
        self.assertIn("probe types: ", c["banner"])
        # busy and idle for kernel_info too (wait_for_ready relies on it)
        states = []
        while len(states) < 2:
            msg = self.kc.get_iopub_msg(timeout=jkt.TIMEOUT)
            if msg["parent_header"].get("msg_id") == msg_id:
                validate_message(msg, "status", msg_id)
                states.append(msg["content"]["execution_state"])
        self.assertEqual(states, ["busy", "idle"])

    def test_tracebook_interrupt(self):
        code = require("code_runs_until_interrupted")
        self.flush_channels()
        msg_id = self.kc.execute(code=code)
        # Wait until the cell runs, then interrupt the way the notebook's
        # stop button does: the kernelspec's interrupt_mode is "message", so
        # this is an interrupt_request on control.
        while True:
            msg = self.kc.get_iopub_msg(timeout=jkt.TIMEOUT)
            if msg["msg_type"] == "execute_input" and msg["parent_header"]["msg_id"] == msg_id:
                break
        time.sleep(0.3)
        start = time.monotonic()
        self.km.interrupt_kernel()
        reply = self.get_non_kernel_info_reply(timeout=jkt.TIMEOUT)
        validate_message(reply, "execute_reply", msg_id)
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "Interrupted")
        # What the interrupted cell shows after its reply (a trace cell's
        # maps, printed as Ctrl-C prints them) ends with its idle.
        while True:
            msg = self.kc.get_iopub_msg(timeout=jkt.TIMEOUT)
            if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                    and msg["content"]["execution_state"] == "idle"):
                break
        # The kernel goes on.
        reply, output = self.execute_helper(self.code_hello_world)
        self.assertEqual(reply["content"]["status"], "ok")

    def test_tracebook_stop_on_error(self):
        bad = require("code_slow_error")
        self.flush_channels()
        first = self.kc.execute(code=bad)
        second = self.kc.execute(code=self.code_hello_world)
        replies = {}
        while len(replies) < 2:
            reply = self.get_non_kernel_info_reply(timeout=jkt.TIMEOUT)
            validate_message(reply, "execute_reply")
            replies[reply["parent_header"]["msg_id"]] = reply["content"]
        self.assertEqual(replies[first]["status"], "error")
        # The queued cell is answered without running, with status error
        # (as xeus does; jupyter_kernel_test does not accept "aborted").
        self.assertEqual(replies[second]["status"], "error")
        self.assertEqual(replies[second]["ename"], "Aborted")

    def test_tracebook_live_display(self):
        code = require("code_live_display")
        self.flush_channels()
        reply, output = self.execute_helper(code)
        self.assertEqual(reply["content"]["status"], "ok")
        types = [m["msg_type"] for m in output]
        self.assertEqual(types[0], "display_data")
        display_id = output[0]["content"]["transient"]["display_id"]
        updates = [m for m in output if m["msg_type"] == "update_display_data"]
        # Many redraws asked for in a burst; the kernel throttles them but
        # always sends the final state.
        self.assertLessEqual(len(updates), 3, types)
        self.assertGreaterEqual(len(updates), 1, types)
        last = updates[-1]["content"]
        self.assertEqual(last["transient"]["display_id"], display_id)
        final = require("live_display_final_text")
        if isinstance(final, str):
            self.assertEqual(last["data"]["text/plain"], final)
        else:
            self.assertRegex(last["data"]["text/plain"], final)
        for m in output:
            if m["msg_type"] in ("display_data", "update_display_data"):
                self.assertIn("text/plain", m["content"]["data"])

    def test_tracebook_comm_open_is_closed(self):
        self.flush_channels()
        comm_id = uuid.uuid4().hex
        msg = self.kc.session.msg(
            "comm_open", {"comm_id": comm_id, "target_name": "jupyter.widget", "data": {}}
        )
        self.kc.shell_channel.send(msg)
        closed = False
        deadline = time.monotonic() + jkt.TIMEOUT
        while time.monotonic() < deadline and not closed:
            m = self.kc.get_iopub_msg(timeout=jkt.TIMEOUT)
            closed = m["msg_type"] == "comm_close" and m["content"]["comm_id"] == comm_id
        self.assertTrue(closed, "no comm_close for a comm_open with an unknown target")
        msg_id = self.kc.comm_info()
        reply = self.get_non_kernel_info_reply(timeout=jkt.TIMEOUT)
        validate_message(reply, "comm_info_reply", msg_id)
        self.assertEqual(reply["content"]["comms"], {})

    def test_tracebook_history_with_output(self):
        sample = require("code_execute_result")[0]
        self.flush_channels()
        self.execute_helper(sample["code"])
        msg_id = self.kc.history(hist_access_type="tail", n=1, output=True, raw=True)
        reply = self.get_non_kernel_info_reply(timeout=jkt.TIMEOUT)
        validate_message(reply, "history_reply", msg_id)
        session, line, (source, output) = reply["content"]["history"][0]
        self.assertEqual(source, sample["code"])
        self.assertEqual(output, sample["result"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
