"""Shared helpers of the case-study examples: argument parsing and optional figures."""

from __future__ import annotations

import argparse
from pathlib import Path


def parse_args(description: str):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--small", action="store_true", help="small sizes (used by the tests)")
    p.add_argument("--out", default="case-study-output", help="folder for the Markdown and figures")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return args, out


def pyplot():
    """matplotlib.pyplot with a file backend, or None (figures are then skipped)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print('matplotlib is not installed (pip install "symml[plot]"): no figure drawn')
        return None
    return plt
