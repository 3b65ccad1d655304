"""Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright — no browser download) against
Voilà and JupyterLab served on free localhost ports. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ALCHEMIST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}): {log.read_text()[-2000:]}")
        try:
            if url.startswith("tcp://"):  # a port check (Voilà runs the notebook on every GET of its page)
                host, port = url[6:].split(":")
                socket.create_connection((host, int(port)), timeout=2).close()
                return
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except Exception:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout} s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def browser():
    # module scope: Playwright's sync API keeps an event loop running in the main thread while it
    # is open, which would break later tests that call asyncio.run()
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium; .ci/run does it)")
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.dialogs = []  # any alert() from injected markup would land here
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


class Server:
    def __init__(self, command, cwd, env, url, log, timeout=90):
        self.log = log
        self.proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.url = url
        try:
            wait_http(url, timeout, self.proc, log)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _env(tmp_path) -> dict:
    env = dict(os.environ, ALCHEMIST_HOME=str(tmp_path / "home"), JUPYTER_CONFIG_DIR=str(tmp_path / "jcfg"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "jrt"), PYTHONPATH=str(ROOT / "src"))
    env.pop("ALCHEMIST_NATS_URL", None)
    return env


@pytest.fixture
def voila(tmp_path):
    """``voila(notebook_path) -> base URL``: serve one notebook with Voilà."""
    servers = []

    def start(notebook: Path) -> str:
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        command = [sys.executable, "-m", "voila", str(notebook), f"--port={port}", "--no-browser",
                   "--Voila.ip=127.0.0.1", f"--Voila.root_dir={notebook.parent}"]
        server = Server(command, notebook.parent, _env(tmp_path), f"tcp://127.0.0.1:{port}", tmp_path / f"voila-{port}.log")
        servers.append(server)
        return url

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def jupyterlab(tmp_path):
    """``jupyterlab(folder) -> (base URL, token)``: JupyterLab serving ``folder``."""
    servers = []

    def start(folder: Path):
        port, token = free_port(), "alchemist-test"
        url = f"http://127.0.0.1:{port}/"
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                   f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
                   "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        servers.append(Server(command, folder, _env(tmp_path), url + f"api?token={token}", tmp_path / f"lab-{port}.log"))
        return url, token

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def notebook_copy(tmp_path):
    """Copy a notebook into a temporary folder with its parameters replaced (``name, **values``)."""
    import nbformat

    def make(notebook: Path | str, name: str, **values) -> Path:
        nb = nbformat.read(str(notebook), as_version=4) if isinstance(notebook, Path) else nbformat.reads(notebook, as_version=4)
        for cell in nb.cells:
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                cell.source += "\n" + "\n".join(f"{k} = {v!r}" for k, v in values.items())
        folder = tmp_path / "nb"
        folder.mkdir(exist_ok=True)
        path = folder / name
        nbformat.write(nb, str(path))
        return path

    return make
