"""`symml serve`: the JSON API (in process) and a load test against a real server on
127.0.0.1 with good formulas, syntax errors, hostile inputs and oversized bodies."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("starlette", reason='the web page needs pip install "symml[web]"')
pytest.importorskip("httpx", reason='the web tests need httpx (pip install "symml[web]")')

import httpx  # noqa: E402

from symml.web import create_app  # noqa: E402
from symml.web.derive import derive  # noqa: E402


class _Client:
    """The app called in process through httpx's ASGI transport, on one event loop."""

    def __init__(self, app):
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://local")

    def get(self, url, **kw):
        return self.loop.run_until_complete(self.http.get(url, **kw))

    def post(self, url, **kw):
        return self.loop.run_until_complete(self.http.post(url, **kw))

    def close(self):
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def client():
    c = _Client(create_app(time_limit=10.0))
    yield c
    c.close()


def test_page_and_static_files_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and "symml" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from other hosts
    for name in ("page.js", "page.css"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and "http" not in r.text.replace("http://www.w3.org", "")
    assert client.get("/static/../app.py").status_code == 404


def test_derive_returns_a_verified_tree_with_mathml_and_renderings(client):
    r = client.post("/api/derive", json={"formula": "x^2*sin(x)", "operation": "diff", "variables": "x"})
    d = r.json()
    assert r.status_code == 200 and d["ok"] and d["verified"]
    assert d["result"]["text"] == "x^2*cos(x) + 2*x*sin(x)"
    assert "<math" in d["result"]["html"] and "<math" in d["steps"][0]["equation_html"]
    assert d["renderings"]["latex_document"].startswith("\\documentclass")
    ops = client.get("/api/operations").json()
    assert {"diff", "grad", "hessian", "taylor", "integrate", "lagrange"} <= set(ops)


@pytest.mark.parametrize(
    "req",
    [{"formula": "x^2*y + y^3", "operation": "hessian", "variables": "x y"},
     {"formula": "exp(x)*cos(y)", "operation": "taylor", "point": "x=0 y=0", "order": 2},
     {"formula": "x*exp(x)", "operation": "integrate", "variables": "x"},
     {"formula": "x^2", "operation": "integrate", "variables": "x", "lower": "0", "upper": "1"},
     {"formula": "x*y", "operation": "lagrange", "constraints": "x^2 + y^2 == 1"},
     {"formula": "x^2*y + sin(y)", "operation": "grad", "variables": "x y"},
     {"formula": "x*y; x + y^2", "operation": "jacobian", "variables": "x y"},
     {"formula": "x^2 + 3*y^2", "operation": "minimize", "start": "x=1 y=1"}],  # fmt: skip
)
def test_every_operation_agrees_with_the_python_api(client, req):
    d = client.post("/api/derive", json=req).json()
    assert d["ok"] and d["verified"]
    assert d == json.loads(json.dumps(derive(req)))


def test_errors_are_json_with_the_position(client):
    r = client.post("/api/check", json={"formula": "sin(x))"})
    e = r.json()["error"]
    assert r.status_code == 200 and e["type"] == "ParseError" and e["line"] == 1 and "^" in e["snippet"]
    assert client.post("/api/check", json={"formula": "sin(x)"}).json() == {"ok": True}
    bad = client.post("/api/derive", content=b"not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "ArgumentError"
    big = client.post("/api/derive", content=b"{" + b" " * 100_000 + b"}")
    assert big.status_code == 413
    unknown = client.post("/api/derive", json={"formula": "x", "operation": "frobnicate"}).json()
    assert not unknown["ok"] and "unknown operation" in unknown["error"]["message"]


def test_a_slow_derivation_is_stopped_at_the_time_limit():
    c = _Client(create_app(time_limit=1.0))
    try:
        t = time.monotonic()
        d = c.post("/api/derive", json={"formula": "exp(sin(x))", "operation": "taylor",
                                        "point": "x=0", "order": 12}).json()  # fmt: skip
        assert time.monotonic() - t < 5
        assert d["ok"] or d["error"]["type"] == "LimitError"
    finally:
        c.close()


def test_a_slow_derivation_does_not_block_a_quick_one():
    """While one request runs to the time limit, another is answered (in its own worker)."""
    c = _Client(create_app(time_limit=6.0))
    slow = {"formula": "exp(sin(exp(sin(x))))", "operation": "taylor", "point": "x=0", "order": 12}
    quick = {"formula": "x^3", "operation": "diff", "variables": "x"}
    done: list[str] = []

    async def timed(name, body, delay):
        await asyncio.sleep(delay)
        r = await c.http.post("/api/derive", json=body)
        done.append(name)
        return r.json()

    async def both():
        return await asyncio.gather(timed("slow", slow, 0), timed("quick", quick, 0.5))

    try:
        s, q = c.loop.run_until_complete(both())
    finally:
        c.close()
    assert q["ok"] and q["result"]["text"] == "3*x^2"
    assert s["error"]["type"] == "LimitError"  # this Taylor series needs far more than 6 s
    assert done == ["quick", "slow"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_load_200_requests_from_8_clients_against_a_real_server():
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "symml", "serve", "--port", str(port), "--time-limit", "10"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/api/operations", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        mix = [
            ("derive", {"formula": "sin(x^2)", "operation": "diff", "variables": "x"}, "ok"),
            ("derive", {"formula": "sin(x", "operation": "diff"}, "ParseError"),
            ("derive", {"formula": "2^(10^10)", "operation": "diff"}, "LimitError"),
            ("derive", {"formula": "(" * 10000 + "x" + ")" * 10000, "operation": "diff", "variables": "x"}, "any"),
            ("check", {"formula": "x^2 +"}, "ParseError"),
            ("big", None, 413),
            ("derive", {"formula": "(x - 1)^2 + (y + 2)^4", "operation": "minimize",
                        "start": "x=0 y=0"}, "ok"),
            ("derive", {"formula": "x^2", "operation": "minimize", "max_iter": 10**12}, "ArgumentError"),
        ]

        async def one(client, k):
            # the 10k-parenthesis request is the slow one: 5 of the 200
            kind, body, expect = mix[3] if k % 40 == 3 else mix[[0, 1, 2, 4, 5, 6, 7][k % 7]]
            t = time.monotonic()
            if kind == "big":
                r = await client.post(base + "/api/derive", content=b"{" + b" " * 200_000 + b"}")
                assert r.status_code == 413
            else:
                r = await client.post(base + f"/api/{kind}", json=body)
                assert r.status_code == 200, r.text
                out = r.json()
                if expect == "ok":
                    assert out["ok"] and out["verified"], out.get("error") or out["verify_message"]
                elif expect != "any":
                    assert not out["ok"] and out["error"]["type"] == expect, out
            return time.monotonic() - t

        async def main():
            async with httpx.AsyncClient(timeout=30) as client:
                sem = asyncio.Semaphore(8)

                async def guarded(k):
                    async with sem:
                        return await one(client, k)

                return await asyncio.gather(*(guarded(k) for k in range(200)))

        times = asyncio.run(main())
        assert len(times) == 200 and max(times) < 30
        assert httpx.get(base + "/api/operations", timeout=5).status_code == 200  # still answering
    finally:
        server.terminate()
        server.wait(10)
