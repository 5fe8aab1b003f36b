"""A real JupyterLab server on a free localhost port and Debian's Chromium driven by Playwright.

Shared by the browser tests (conftest.py) and bench/board.py. The server runs offline (no news, no update
check, read-only extension manager) with its own config, runtime and settings directories, a token, and
--allow-root (CI runs as root). Chromium is /usr/bin/chromium; no browser is ever downloaded.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("TRACKBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
SRC = Path(__file__).resolve().parents[2] / "src"


@dataclass
class Lab:
    """A running JupyterLab: its base URL, token, root directory and log file."""

    url: str
    token: str
    root: Path
    log: Path
    proc: subprocess.Popen[bytes]

    def notebook_url(self, name: str, app: str = "lab") -> str:
        path = f"lab/tree/{name}" if app == "lab" else f"notebooks/{name}"
        return f"{self.url}/{path}?token={self.token}&reset"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_lab(root: Path, work: Path, *, timeout: float = 90.0) -> Iterator[Lab]:
    """Start `jupyter lab` serving `root`; its private directories go under `work`."""
    port = free_port()
    token = secrets.token_hex(16)
    for d in ("cfg", "rt", "ipy", "settings", "ws", "data"):
        (work / d).mkdir(parents=True, exist_ok=True)
    # No "get notified about news?" toast over the page (and no attempt to fetch news).
    notes = work / "settings" / "@jupyterlab" / "apputils-extension"
    notes.mkdir(parents=True, exist_ok=True)
    (notes / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(work / "cfg"),
        "JUPYTER_RUNTIME_DIR": str(work / "rt"),
        "IPYTHONDIR": str(work / "ipy"),
        "JUPYTERLAB_SETTINGS_DIR": str(work / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(work / "ws"),
        "JUPYTER_DATA_DIR": str(work / "data"),
        "JUPYTER_PLATFORM_DIRS": "1",
        # The kernel imports this checkout's trackbook even when it is not installed.
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    log = work / "lab.log"
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--allow-root", "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.extension_manager=readonly", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, log, proc)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{lab.log_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{lab.url}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not start in {timeout:.0f} s:\n{lab.log_text()[-3000:]}")
            time.sleep(0.25)
        yield lab
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def check_chromium() -> str:
    """The Chromium executable, or a clear failure saying how to install it (never a download)."""
    if not Path(CHROMIUM).is_file():
        raise RuntimeError(
            f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`; .ci/run does this)"
        )
    return CHROMIUM


def launch(playwright: Any) -> Any:
    """Headless Debian Chromium."""
    return playwright.chromium.launch(executable_path=check_chromium(), args=CHROMIUM_ARGS, headless=True)


# -- driving a notebook ------------------------------------------------------------------------------------

KERNEL_IDLE = (
    "() => { const w = window.jupyterapp?.shell?.currentWidget;"
    " return w?.sessionContext?.session?.kernel?.status === 'idle' && !!w.content?.widgets?.length; }"
)
KERNEL_STATUS = "() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status ?? ''"


def open_notebook(page: Any, lab: Lab, name: str, *, timeout: float = 90.0) -> None:
    """Open a notebook in JupyterLab and wait for its kernel to be idle."""
    page.goto(lab.notebook_url(name))
    page.wait_for_function(KERNEL_IDLE, timeout=timeout * 1000)


def run_cell(page: Any, index: int, *, wait: bool = True, timeout: float = 90.0) -> None:
    """Run cell `index` of the current notebook. With wait=False return at once (the cell keeps running):
    commands.execute resolves only when the cell finishes, so its promise is dropped."""
    page.evaluate(
        "(i) => { const nb = window.jupyterapp.shell.currentWidget.content; nb.activeCellIndex = i;"
        " nb.deselectAll(); window.jupyterapp.commands.execute('notebook:run-cell'); }",
        index,
    )
    if wait:
        wait_cell_done(page, index, timeout=timeout)


def wait_cell_done(page: Any, index: int, *, timeout: float = 90.0) -> None:
    """Wait until cell `index` has an execution count and the kernel is idle again."""
    page.wait_for_function(
        "(i) => { const w = window.jupyterapp.shell.currentWidget; const c = w.content.widgets[i];"
        " return c.model.executionCount !== null && w.sessionContext.session.kernel.status === 'idle'; }",
        arg=index,
        timeout=timeout * 1000,
    )


def cell_text_output(page: Any, index: int) -> str:
    """The text of cell `index`'s outputs (stdout and text/plain)."""
    return str(page.evaluate(
        "(i) => { const c = window.jupyterapp.shell.currentWidget.content.widgets[i];"
        " const outs = c.model.outputs; const parts = [];"
        " for (let k = 0; k < outs.length; k++) { const o = outs.get(k).toJSON();"
        "  if (o.text) parts.push(Array.isArray(o.text) ? o.text.join('') : o.text);"
        "  if (o.ename) parts.push(o.ename + ': ' + o.evalue);"
        "  const d = o.data && o.data['text/plain']; if (d) parts.push(Array.isArray(d) ? d.join('') : d); }"
        " return parts.join('\\n'); }",
        index,
    ))


def canvas_ink(page: Any, selector: str) -> list[int]:
    """For each canvas matching `selector`, how many pixels are painted (alpha > 0)."""
    return list(page.evaluate(
        "(sel) => [...document.querySelectorAll(sel)].map(c => { if (!c.width || !c.height) return 0;"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
        " for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; })",
        selector,
    ))
