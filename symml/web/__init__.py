"""``symml serve``: step-by-step derivations on a local web page (an extra:
``pip install "symml[web]"``). See docs/web.md.

The computation behind the page is :func:`symml.web.derive.derive` (pure, no server); the
ASGI application is :func:`symml.web.app.create_app`.
"""

from __future__ import annotations

__all__ = ["create_app", "serve"]


def create_app(*args, **kwargs):
    """The ASGI application (see :func:`symml.web.app.create_app`)."""
    from .app import create_app as _create

    return _create(*args, **kwargs)


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False,
          time_limit: float = 10.0) -> None:  # fmt: skip
    """Run the page with uvicorn until Ctrl-C (bound to the loopback interface by default)."""
    from ..errors import SymmlError

    try:
        import uvicorn
    except ImportError:
        raise SymmlError('the web page needs its extra: pip install "symml[web]"') from None
    app = create_app(time_limit=time_limit)
    url = f"http://{host}:{port}/"
    print(f"symml serve: {url} (Ctrl-C stops it)", flush=True)
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
