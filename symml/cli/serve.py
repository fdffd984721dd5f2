"""``symml serve``: the local derivation page."""

from __future__ import annotations

import argparse


def _cmd_serve(args):
    from ..web import serve

    try:
        serve(args.host, args.port, args.open, args.time_limit)
    except KeyboardInterrupt:
        print("symml serve: stopped")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="step-by-step derivations on a local web page",
                       description="Serve the derivation page on this machine (nothing is sent anywhere).")  # fmt: skip
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback only)")
    p.add_argument("--open", action="store_true", help="open the page in a browser")
    p.add_argument("--time-limit", dest="time_limit", type=float, default=10.0,
                   help="seconds per derivation request (default 10)")  # fmt: skip
    p.set_defaults(func=_cmd_serve)
