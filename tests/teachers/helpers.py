"""Run a tool's ``main(argv)`` in the test process (no interpreter start-up), capturing its exit."""
from __future__ import annotations

import importlib.util
import os.path as osp
from typing import Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def call_tool(tool: str, argv: list[str]) -> Optional[str]:
    """Call ``main(argv)`` of ``tools/...py``; return None on success, else the SystemExit message."""
    name = 'tool_' + osp.splitext(tool)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, tool))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        module.main(argv)
    except SystemExit as exit_:
        if exit_.code in (None, 0):
            return None
        return str(exit_.code)
    return None


def tool_main(tool: str):
    """The ``main`` function of ``tools/...py`` (for tools that return a value, like tools/test.py)."""
    name = 'tool_' + osp.splitext(tool)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, tool))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main
