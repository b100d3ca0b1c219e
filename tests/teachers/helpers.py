"""Run a tool's ``main(argv)`` in the test process (no interpreter start-up), capturing its exit."""
from __future__ import annotations

import contextlib
import importlib.util
import io
import os.path as osp
import sys
from typing import Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def call_tool(tool: str, argv: list[str]) -> Optional[str]:
    """Call ``main(argv)`` of ``tools/...py``; return None on success, else the error: the SystemExit message, or
    for a tool that prints ``error: ...`` and exits with status 2, that line (stderr is passed through)."""
    name = 'tool_' + osp.splitext(tool)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, tool))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            module.main(argv)
    except SystemExit as exit_:
        if exit_.code in (None, 0):
            return None
        errors = [line for line in err.getvalue().splitlines() if line.startswith('error: ')]
        return errors[-1] if exit_.code == 2 and errors else str(exit_.code)
    finally:
        sys.stderr.write(err.getvalue())
    return None


def tool_main(tool: str):
    """The ``main`` function of ``tools/...py`` (for tools that return a value, like tools/test.py)."""
    name = 'tool_' + osp.splitext(tool)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, tool))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main
