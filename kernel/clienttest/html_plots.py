"""Executed notebooks, converted to HTML by `jupyter nbconvert --to html`
and opened in headless Chromium: every plot must be drawn, at a non-zero
size, and there must be as many as the notebook holds.

    /usr/bin/python3 html_plots.py NOTEBOOK.ipynb ...
    /usr/bin/python3 html_plots.py --screenshots DIR NOTEBOOK.ipynb[:FIRST-LAST][=NAME] ...

A notebook's plots are its outputs whose richest type, in nbconvert's HTML
order, is image/svg+xml, and the <svg> elements inside text/html outputs
(the live display). In the page, an SVG output must be an <img> that
decoded (naturalWidth > 0) or an inline <svg> with drawn content (a
non-empty getBBox()), and its getBoundingClientRect() must have a width
and a height.

Each notebook is converted twice:

  - with svg_as_img.html.j2, which writes SVG outputs as <img> of a data:
    URI, as nbconvert >= 7.7 does itself: every plot must pass;
  - with nbconvert's own template: every plot must pass too, except where
    nbconvert is older than 7.7, whose HTML cleaner empties inline SVG
    (jupyter/nbconvert#1849, #1894): there the emptied plots are counted
    and reported as that known bug, and the check fails only if a plot
    is missing altogether.

With --screenshots, a PNG of each notebook (of its cells FIRST to LAST,
indices counted over all cells, when given) is written to DIR, from the
first conversion, as NAME.png (the notebook's name by default).

The browser is Debian's chromium, driven by chromedriver through Selenium
(python3-selenium, chromium-driver). Nothing goes to the network: the
browser resolves no host name, and the page's CDN scripts (MathJax,
require.js) are blocked. In CI (CI=true) a missing browser, driver or
Selenium fails the check; elsewhere it is skipped with the reason.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import nbformat
import nbconvert

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "svg_as_img.html.j2")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# nbconvert's HTML order of preference among the types tracebook sends.
PRIORITY = ["text/html", "image/svg+xml", "text/plain"]


def cannot(why):
    if os.environ.get("CI") == "true":
        sys.exit(f"html_plots: FAIL: {why} (CI=true)")
    print(f"html_plots: SKIP: {why}")
    sys.exit(0)


def expected_plots(nb):
    """The plots a notebook holds, per code cell index: (images, inline)."""
    want = {}
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code":
            continue
        imgs = inline = 0
        for o in c.outputs:
            if o.output_type not in ("display_data", "execute_result"):
                continue
            mime = next((m for m in PRIORITY if m in o.data), None)
            if mime == "image/svg+xml":
                imgs += 1
            elif mime == "text/html":
                inline += len(re.findall(r"<svg[\s>]", o.data["text/html"]))
        if imgs or inline:
            want[i] = (imgs, inline)
    return want


def convert(paths, outdir, template):
    """Converts notebooks (one nbconvert run) and returns their pages."""
    args = ["jupyter", "nbconvert", "--to", "html", "--output-dir", outdir, *paths]
    if template:
        args[4:4] = ["--template-file", TEMPLATE]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"nbconvert: {r.stderr.strip()[-2000:]}")
    return [os.path.join(outdir, os.path.splitext(os.path.basename(p))[0] + ".html") for p in paths]


def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        cannot("Python module selenium is missing (python3-selenium)")
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not os.access(exe, os.X_OK):
            cannot(f"{exe} is missing (chromium, chromium-driver)")
    profile = tempfile.mkdtemp(prefix="tracebook-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars",
              f"--user-data-dir={profile}", "--window-size=1000,1000"]:
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    d.execute_cdp_cmd("Network.enable", {})
    d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["http://*", "https://*"]})
    d.set_script_timeout(20)
    return d, profile


# Measures every plot of the page, by the notebook cell it is in (the lab
# template writes one .jp-Cell per cell, in order).
MEASURE = """
const done = arguments[arguments.length - 1];
const imgs = [...document.querySelectorAll('.jp-OutputArea-output img')];
Promise.all(imgs.map(i => i.decode().catch(() => null))).then(() => {
  const cells = [...document.querySelectorAll('.jp-Cell')];
  const out = [];
  cells.forEach((cell, i) => {
    for (const img of cell.querySelectorAll('.jp-OutputArea-output img')) {
      const r = img.getBoundingClientRect();
      out.push({cell: i, kind: 'img', w: r.width, h: r.height, drawn: img.complete && img.naturalWidth > 0});
    }
    for (const svg of cell.querySelectorAll('.jp-OutputArea-output svg')) {
      if (svg.parentElement.closest('svg')) continue;
      const r = svg.getBoundingClientRect();
      let bb = {width: 0, height: 0};
      try { bb = svg.getBBox(); } catch (e) {}
      out.push({cell: i, kind: 'svg', w: r.width, h: r.height, drawn: bb.width > 0 && bb.height > 0});
    }
  });
  const m = document.getElementById('MathJax_Message');
  if (m) m.style.display = 'none';
  done({cells: cells.length, plots: out, height: document.documentElement.scrollHeight});
});
"""


def check_page(d, html, nb, path, template):
    """Problems with the page's plots; the count of emptied inline SVGs."""
    d.get("file://" + html)
    got = d.execute_async_script(MEASURE)
    problems, emptied = [], 0
    code_cells = sum(1 for c in nb.cells if c.cell_type in ("code", "markdown", "raw"))
    if got["cells"] != code_cells:
        problems.append(f"{got['cells']} cells in the page, {code_cells} in the notebook")
        return problems, 0
    want = expected_plots(nb)
    by_cell = {}
    for p in got["plots"]:
        by_cell.setdefault(p["cell"], []).append(p)
    for i in sorted(set(want) | set(by_cell)):
        imgs, inline = want.get(i, (0, 0))
        plots = by_cell.get(i, [])
        n_img = sum(p["kind"] == "img" for p in plots)
        n_svg = sum(p["kind"] == "svg" for p in plots)
        if template:
            ok = n_img == imgs and n_svg == inline
        else:
            ok = n_img + n_svg == imgs + inline
        if not ok:
            problems.append(f"cell {i}: {n_img} images and {n_svg} inline SVGs in the page, "
                            f"the notebook has {imgs} SVG outputs and {inline} SVGs in HTML")
        for p in plots:
            if p["w"] <= 0 or p["h"] <= 0:
                problems.append(f"cell {i}: a {p['kind']} plot of size {p['w']}x{p['h']}")
            elif not p["drawn"]:
                if p["kind"] == "svg" and not template and nbconvert_strips_svg():
                    emptied += 1
                else:
                    problems.append(f"cell {i}: a {p['kind']} plot ({p['w']:.0f}x{p['h']:.0f}) with nothing drawn")
    return problems, emptied


def nbconvert_strips_svg():
    v = tuple(int(x) for x in re.findall(r"\d+", nbconvert.__version__)[:2])
    return v < (7, 7)


def screenshot(d, html, nb, first, last, out):
    d.get("file://" + html)
    d.execute_async_script(MEASURE)
    n = len(nb.cells)
    first = max(0, min(first, n - 1))
    last = max(first, min(n - 1 if last is None else last, n - 1))
    rect = d.execute_script("""
const cells = [...document.querySelectorAll('.jp-Cell')];
const a = cells[arguments[0]].getBoundingClientRect(), b = cells[arguments[1]].getBoundingClientRect();
const main = document.querySelector('main') || document.body;
const m = main.getBoundingClientRect();
return {x: m.left, y: a.top + window.scrollY - 8, width: m.width, height: b.bottom - a.top + 12};
""", first, last)
    shot = d.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {**rect, "scale": 1},
    })
    with open(out, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    return os.path.getsize(out)


def selftest(d, tmp):
    """The check must see a broken plot: a notebook with a good SVG output
    and one that cannot be drawn (no SVG namespace) fails on the second
    only."""
    good = '<svg xmlns="http://www.w3.org/2000/svg" width="120pt" height="60pt" viewBox="0 0 120 60"><rect x="1" y="1" width="50" height="20"/></svg>'
    bad = good.replace(' xmlns="http://www.w3.org/2000/svg"', "")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("display_data", data={"image/svg+xml": svg, "text/plain": "x"}) for svg in (good, bad)])])
    path = os.path.join(tmp, "selftest.ipynb")
    nbformat.write(nb, path)
    problems, _ = check_page(d, convert([path], os.path.join(tmp, "selftest"), True)[0], nb, path, True)
    if len(problems) != 1 or "nothing drawn" not in problems[0]:
        sys.exit(f"html_plots: the check does not see a broken plot: {problems}")


def main(argv):
    shots = None
    if argv[:1] == ["--screenshots"]:
        shots, argv = argv[1], argv[2:]
        os.makedirs(shots, exist_ok=True)
    if not argv:
        sys.exit("usage: html_plots.py [--screenshots DIR] NOTEBOOK.ipynb[:FIRST-LAST] ...")
    if shutil.which("jupyter") is None:
        cannot("the jupyter command is missing")
    t0 = time.time()
    d, profile = browser()
    tmp = tempfile.mkdtemp(prefix="tracebook-html-")
    failed = False
    try:
        selftest(d, tmp)
        argv = [a if "=" in a else a + "=" for a in argv]
        paths = [a.partition("=")[0].partition(":")[0] for a in argv]
        pages = {t: convert(paths, os.path.join(tmp, "template" if t else "default"), t) for t in (True, False)}
        for k, arg in enumerate(argv):
            arg, _, name = arg.partition("=")
            path, _, cells = arg.partition(":")
            nb = nbformat.read(path, as_version=4)
            total = sum(a + b for a, b in expected_plots(nb).values())
            notes, bad = [], False
            for template in (True, False):
                html = pages[template][k]
                problems, emptied = check_page(d, html, nb, path, template)
                for p in problems:
                    print(f"html_plots {path} ({'svg_as_img' if template else 'default'} template): {p}")
                bad |= bool(problems)
                if emptied:
                    notes.append(f"nbconvert {nbconvert.__version__}'s default template emptied {emptied} inline SVGs "
                                 "(jupyter/nbconvert#1894)")
                if template and shots and not problems:
                    first, _, last = cells.partition("-")
                    name = os.path.join(shots, (name or os.path.splitext(os.path.basename(path))[0]) + ".png")
                    size = screenshot(d, html, nb, int(first or 0), int(last) if last else None, name)
                    notes.append(f"screenshot {name} ({size // 1024} KiB)")
            failed |= bad
            print(f"html_plots {path}: {'FAILED' if bad else 'ok'} ({total} plots)" + "".join(f"; {n}" for n in notes))
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"html_plots: {len(argv)} notebooks in {time.time() - t0:.1f}s")
    if failed:
        sys.exit("html_plots: some notebooks failed")


if __name__ == "__main__":
    main(sys.argv[1:])
