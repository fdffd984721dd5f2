"""`symml serve` as a process: it prints its URL, Ctrl-C (SIGINT) stops it cleanly (exit 0,
port released), it writes nothing to disk while answering requests (its working directory,
HOME and TMPDIR stay empty), and --open hands the URL to the browser (BROWSER is pointed at
a script that records it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason='the web page needs pip install "symml[web]"')
pytest.importorskip("uvicorn", reason='the web page needs pip install "symml[web]"')
httpx = pytest.importorskip("httpx", reason='the web tests need httpx (pip install "symml[web]")')

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp_path: Path, *extra: str, env: dict | None = None):
    port = _free_port()
    dirs = {k: tmp_path / k for k in ("cwd", "home", "tmp")}
    for d in dirs.values():
        d.mkdir()
    environ = {**os.environ, "HOME": str(dirs["home"]), "TMPDIR": str(dirs["tmp"]),
               "XDG_CACHE_HOME": str(dirs["home"] / ".cache"),
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               **(env or {})}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "symml", "serve", "--port", str(port), "--time-limit", "20", *extra],
        cwd=dirs["cwd"], env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/api/operations", timeout=1).status_code == 200:
                return proc, base, port, dirs
        except httpx.HTTPError:
            time.sleep(0.1)
        if proc.poll() is not None:
            break
    proc.kill()
    out, err = proc.communicate()
    pytest.fail(f"the server did not start: {out}\n{err}")


def _files(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


def test_ctrl_c_stops_the_server_cleanly_and_nothing_is_written(tmp_path):
    proc, base, port, dirs = _start(tmp_path)
    try:
        for req in ({"formula": "sin(x^2)", "operation": "diff", "variables": "x"},
                    {"formula": "x*y", "operation": "lagrange", "constraints": "x^2 + y^2 == 1"},
                    {"formula": "(1 - x)^2 + 100*(y - x^2)^2", "operation": "minimize",
                     "start": "x=-1.2 y=1"},
                    {"formula": "2^(10^10)", "operation": "diff"}):  # fmt: skip
            r = httpx.post(base + "/api/derive", json=req, timeout=60)
            assert r.status_code == 200 and "ok" in r.json()
        assert httpx.post(base + "/api/check", json={"formula": "x^"}, timeout=30).status_code == 200
        assert httpx.get(base + "/", timeout=10).status_code == 200
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert f"{base}/" in out  # the URL was printed
    assert "Traceback" not in err
    with socket.socket() as s:  # the port is released
        assert s.connect_ex(("127.0.0.1", port)) != 0
    for name, d in dirs.items():
        assert _files(d) == [], f"the server wrote into its {name}: {_files(d)}"


def test_open_hands_the_url_to_the_browser(tmp_path):
    record = tmp_path / "opened.txt"
    script = tmp_path / "browser.py"
    script.write_text(f"import sys\nopen({str(record)!r}, 'w').write(sys.argv[1])\n")
    proc, base, _port, _dirs = _start(tmp_path, "--open",
                                      env={"BROWSER": f"{sys.executable} {script} %s"})  # fmt: skip
    try:
        for _ in range(200):
            if record.exists() and record.read_text():
                break
            time.sleep(0.1)
        assert record.read_text() == f"{base}/"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
