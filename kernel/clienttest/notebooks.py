"""Notebooks through nbclient (what `jupyter nbconvert --execute` and
`jupyter execute` use) against tracebook's kernel.

    TRACEBOOK_KERNEL=tracebook-fake /usr/bin/python3 notebooks.py [NOTEBOOK.ipynb ...]

With the fake flavour it runs a notebook built here in the fake language
(stdout, a live display that nbclient must collapse to its last state, a
result, an error, and a cell that times out and is interrupted through the
kernelspec's message interrupt mode). Notebooks named on the command line
(notebooks/*.ipynb) are bpftrace investigations: they run only with the
bpftrace flavour, and must execute without an error.
"""

import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook

from samples import FLAVOUR, KERNEL, SAMPLES


def run(cells, **kw):
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": KERNEL, "language": "bpftrace"}
    kw.setdefault("timeout", 60)
    NotebookClient(nb, kernel_name=KERNEL, **kw).execute()
    return nb


def fail(msg):
    sys.exit(f"nbclient: {msg}")


def check(cond, msg):
    if not cond:
        fail(msg)


def fake_notebook():
    live = SAMPLES["code_live_display"]
    nb = run([SAMPLES["code_hello_world"], live, SAMPLES["code_execute_result"][0]["code"]])
    hello, display, result = (c.outputs for c in nb.cells)
    check(hello[0].output_type == "stream" and hello[0].text == "hello, world\n", f"hello cell: {hello}")
    # nbclient applies update_display_data to the output it updates: one
    # output, showing the last state.
    check(len(display) == 1 and display[0].output_type == "display_data", f"live display cell: {display}")
    check(display[0].data["text/plain"] == SAMPLES["live_display_final_text"], f"live display not final: {display}")
    check(result[0].output_type == "execute_result" and result[0].data["text/plain"] == "42", f"result cell: {result}")
    check(nb.cells[2].execution_count == 3, f"execution counts {[c.execution_count for c in nb.cells]}")

    # An error stops the notebook there (CellExecutionError) and later
    # cells do not run.
    try:
        run([SAMPLES["code_generate_error"], SAMPLES["code_hello_world"]])
        fail("an error cell did not stop the run")
    except CellExecutionError as e:
        check("FakeError" in str(e), f"error text: {e}")

    # A cell past its timeout is interrupted (interrupt_request on control,
    # as the kernelspec's interrupt_mode says) and shows the interrupt.
    nb = run([SAMPLES["code_runs_until_interrupted"], SAMPLES["code_hello_world"]],
             allow_errors=True, interrupt_on_timeout=True, timeout=3)
    stuck, after = (c.outputs for c in nb.cells)
    check(any(o.output_type == "error" and o.ename == "Interrupted" for o in stuck), f"interrupted cell: {stuck}")
    check(after and after[0].text == "hello, world\n", f"cell after the interrupt: {after}")
    print("nbclient fake notebook: ok")


def investigations(paths):
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        try:
            NotebookClient(nb, kernel_name=KERNEL, timeout=300).execute()
        except CellExecutionError as e:
            fail(f"{path}: {e}")
        print(f"nbclient {path}: ok")


if __name__ == "__main__":
    if FLAVOUR == "fake":
        fake_notebook()
        if sys.argv[1:]:
            print(f"nbclient: {len(sys.argv) - 1} notebooks in notebooks/ are bpftrace; they run with the bpftrace executor, not the fake")
    else:
        investigations(sys.argv[1:])
