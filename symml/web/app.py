"""``symml serve``: the ASGI application (Starlette) behind the local derivation page.

Routes: ``GET /`` the page, ``GET /static/...`` its script and style (shipped in the
package: nothing loads from another host; math is MathML made on the server, which
browsers render natively), ``POST /api/derive`` a derivation, ``POST /api/check`` a parse
check for live error messages, ``GET /api/operations`` the operations offered and
``GET /api/methods`` the methods of the minimize operation.

Reliability: each derivation runs in a forked worker process with its own time limit, at
most ``workers`` at a time, so a slow or hostile request cannot block the others; a worker
still running at the deadline is terminated and the request gets a LimitError in JSON.
Request bodies over ``max_body`` bytes are refused (413). Every error is JSON with the
SymmlError's message (and position, for syntax errors): never a traceback or a 500. No
state is kept between requests, and nothing is written to disk.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import warnings
from pathlib import Path

from ..errors import SymmlError

__all__ = ["create_app", "STATIC"]

STATIC = Path(__file__).resolve().parent / "static"


def _require():
    try:
        import starlette  # noqa: F401
    except ImportError:
        raise SymmlError('the web page needs its extra: pip install "symml[web]"') from None


def _child(conn, request, what):  # runs in the forked worker
    try:
        from .derive import check, derive, error_json

        try:
            out = derive(request) if what == "derive" else check(request.get("formula"))
        except BaseException as exc:  # noqa: BLE001 - reported as JSON, never a traceback
            out = error_json(exc) if isinstance(exc, SymmlError) else {
                "ok": False, "error": {"type": "InternalError",
                                       "message": f"internal error ({type(exc).__name__}); please report it"}}  # fmt: skip
        try:
            text = json.dumps(out, allow_nan=False)  # what the response may carry: strict JSON
        except (TypeError, ValueError) as exc:
            text = json.dumps({"ok": False, "error": {"type": "InternalError", "message":
                               f"internal error (the answer is not JSON: {exc}); "
                               "please report it"}})  # fmt: skip
        conn.send(text)
    finally:
        conn.close()


def _run_isolated(request, seconds: float, what: str = "derive") -> dict:
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, request, what), daemon=True)
    with warnings.catch_warnings():
        # JAX (imported by a compile backend elsewhere in this process) warns on every fork.
        # The worker never calls JAX, and a worker that hangs is killed at the time limit.
        warnings.filterwarnings("ignore", r"os\.fork\(\) was called", RuntimeWarning)
        proc.start()
    child.close()
    try:
        if parent.poll(seconds):
            try:
                return json.loads(parent.recv())
            except EOFError:
                pass
        return {"ok": False, "error": {"type": "LimitError", "message":
                f"the derivation took longer than {seconds:g} s and was stopped; simplify the "
                "formula or raise the server's --time-limit"}}  # fmt: skip
    finally:
        parent.close()
        if proc.is_alive():
            proc.terminate()
        proc.join(1)
        if proc.is_alive():
            proc.kill()
            proc.join()


def _preload() -> None:
    """Import what the minimize operation and the pictures use once, in the server, so that
    each forked worker inherits it instead of importing SciPy's optimizers again."""
    import importlib

    for name in ("symml.optimize", "symml.optimize.scipy_methods", "symml.web.minimize",
                 "symml.compile", "contourpy"):  # fmt: skip
        try:
            importlib.import_module(name)
        except ImportError:  # contourpy is optional: the pictures shade cells without it
            pass


def create_app(time_limit: float = 10.0, workers: int = 2, max_body: int = 65536):
    """The Starlette application.

    >>> app = create_app()  # doctest: +SKIP
    """
    _require()
    from ..lang import parser as _parser_module

    _parser_module.DISK_CACHE = False  # nothing written to disk, not even the parser cache
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, HTMLResponse, JSONResponse
    from starlette.routing import Route

    from .. import steps as _steps  # noqa: F401
    from . import derive as _derive_module  # noqa: F401 - loaded once, inherited by each fork
    from .derive import OPERATIONS, _register_optional

    _register_optional()
    _preload()

    state: dict = {"gate": None}  # the semaphore is made inside the server's event loop

    async def body(request: Request):
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            return None, JSONResponse({"ok": False, "error": {"type": "ArgumentError",
                                       "message": f"the request body is over {max_body} bytes"}}, status_code=413)  # fmt: skip
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > max_body:
                return None, JSONResponse({"ok": False, "error": {"type": "ArgumentError",
                                           "message": f"the request body is over {max_body} bytes"}}, status_code=413)  # fmt: skip
        try:
            data = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None, JSONResponse({"ok": False, "error": {"type": "ArgumentError",
                                       "message": "the request body must be JSON"}}, status_code=400)  # fmt: skip
        if not isinstance(data, dict):
            return None, JSONResponse({"ok": False, "error": {"type": "ArgumentError",
                                       "message": "the request body must be a JSON object"}}, status_code=400)  # fmt: skip
        return data, None

    async def page(request: Request):
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))

    async def static(request: Request):
        name = request.path_params["name"]
        path = (STATIC / name).resolve()
        if path.parent != STATIC or not path.is_file():
            return JSONResponse({"ok": False, "error": {"type": "NotFound", "message": name}}, status_code=404)
        return FileResponse(path)

    async def isolated(request: Request, seconds: float, what: str):
        data, err = await body(request)
        if err is not None:
            return err
        if state["gate"] is None:
            state["gate"] = asyncio.Semaphore(workers)
        async with state["gate"]:
            out = await asyncio.get_running_loop().run_in_executor(
                None, _run_isolated, data, seconds, what
            )
        return JSONResponse(out)

    async def api_derive(request: Request):
        return await isolated(request, time_limit, "derive")

    async def api_check(request: Request):
        return await isolated(request, min(time_limit, 3.0), "check")

    async def api_operations(request: Request):
        _register_optional()
        return JSONResponse({k: v[0] for k, v in OPERATIONS.items()})

    async def api_methods(request: Request):
        from .minimize import PAGE_METHODS

        return JSONResponse(list(PAGE_METHODS))

    return Starlette(routes=[
        Route("/", page), Route("/static/{name}", static),
        Route("/api/derive", api_derive, methods=["POST"]),
        Route("/api/check", api_check, methods=["POST"]),
        Route("/api/operations", api_operations),
        Route("/api/methods", api_methods),
    ])  # fmt: skip
