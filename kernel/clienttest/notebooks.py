"""Notebooks through nbclient (what `jupyter nbconvert --execute` and
`jupyter execute` use) against tracebook's kernel.

    TRACEBOOK_KERNEL=tracebook-fake /usr/bin/python3 notebooks.py [NOTEBOOK.ipynb ...]
    TRACEBOOK_KERNEL=tracebook /usr/bin/python3 notebooks.py [--save] NOTEBOOK.ipynb ...

With the fake flavour it runs a notebook built here in the fake language
(stdout, a live display that nbclient must collapse to its last state, a
result, an error, and a cell that times out and is interrupted through the
kernelspec's message interrupt mode). Notebooks named on the command line
(notebooks/*.ipynb) are bpftrace investigations: they run only with the
bpftrace flavour, must execute without an error (but in cells tagged
raises-exception, which must fail), and each cell must show what its
metadata.tracebook.expect lists:

    "stdout", "stderr"   a stream with that name
    "svg", "html"        a display or result with image/svg+xml, text/html
    "result"             an execute_result
    "live"               a live display (its final status line)
    "text:REGEX"         REGEX matches the cell's text (streams, text/plain)
    "svg:REGEX"          REGEX matches one of the cell's SVGs (e.g. "<polyline")

Each notebook runs in its own directory, as Jupyter runs a notebook's
kernel, so its cells can name files beside it (workloads/phases.sh).

With --save, each notebook is written back with its new outputs: that is
how notebooks/ is refreshed (scripts/refresh-notebooks.sh). With --out DIR,
the executed notebooks are written to DIR instead, for html_plots.py.
"""

import os
import re
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


def cell_text(outputs):
    parts = []
    for o in outputs:
        if o.output_type == "stream":
            parts.append(o.text)
        elif o.output_type in ("display_data", "execute_result"):
            parts.append(o.data.get("text/plain", ""))
        elif o.output_type == "error":
            parts.append(f"{o.ename}: {o.evalue}")
    return "".join(parts)


def has(outputs, what):
    if what in ("stdout", "stderr"):
        return any(o.output_type == "stream" and o.name == what and o.text for o in outputs)
    if what in ("svg", "html"):
        mime = {"svg": "image/svg+xml", "html": "text/html"}[what]
        return any(o.output_type in ("display_data", "execute_result") and mime in o.data for o in outputs)
    if what == "result":
        return any(o.output_type == "execute_result" for o in outputs)
    if what == "live":
        return any(o.output_type == "display_data" and "tracebook" in o.get("metadata", {})
                   and o.data.get("text/plain", "").startswith("done after") for o in outputs)
    if what.startswith("text:"):
        return re.search(what[5:], cell_text(outputs), re.M) is not None
    if what.startswith("svg:"):
        return any(o.output_type in ("display_data", "execute_result") and re.search(what[4:], o.data.get("image/svg+xml", ""))
                   for o in outputs)
    raise ValueError(f"unknown expectation {what!r}")


def check_notebook(path, nb):
    """Every cell ran, failed only where tagged, and shows what it expects."""
    problems = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code":
            continue
        where = f"{path} cell {i} ({c.source.splitlines()[0] if c.source else ''!r})"
        errors = [o for o in c.outputs if o.output_type == "error"]
        tagged = "raises-exception" in c.metadata.get("tags", [])
        if errors and not tagged:
            problems.append(f"{where}: {errors[0].ename}: {errors[0].evalue}")
        if tagged and not errors:
            problems.append(f"{where}: tagged raises-exception but did not fail")
        for what in c.metadata.get("tracebook", {}).get("expect", []):
            if not has(c.outputs, what):
                problems.append(f"{where}: no {what} in:\n{cell_text(c.outputs)[:2000]}")
    return problems


def investigations(paths, save=False, out=None):
    failed = False
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        try:
            NotebookClient(nb, kernel_name=KERNEL, timeout=300,
                           resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}}).execute()
        except CellExecutionError as e:
            print(f"nbclient {path}: FAILED: {e}")
            failed = True
            continue
        problems = check_notebook(path, nb)
        for p in problems:
            print(f"nbclient {p}")
        if problems:
            failed = True
            continue
        if save or out:
            # The kernelspec name stays the one users install.
            nb.metadata["kernelspec"]["name"] = "tracebook"
            nbformat.write(nb, os.path.join(out, os.path.basename(path)) if out else path)
        print(f"nbclient {path}: ok ({sum(c.cell_type == 'code' for c in nb.cells)} cells)" + (", saved" if save else ""))
    if failed:
        sys.exit("nbclient: some notebooks failed")


if __name__ == "__main__":
    if FLAVOUR == "fake":
        fake_notebook()
        if sys.argv[1:]:
            print(f"nbclient: {len(sys.argv) - 1} notebooks in notebooks/ are bpftrace; they run with the bpftrace executor, not the fake")
    else:
        args = sys.argv[1:]
        save = "--save" in args
        out = None
        if "--out" in args:
            i = args.index("--out")
            out = args[i + 1]
            del args[i:i + 2]
            os.makedirs(out, exist_ok=True)
        investigations([a for a in args if a != "--save"], save=save, out=out)
