"""Process-group clean-up for the tools that run under ``torchrun`` (``--launcher pytorch``)."""
from __future__ import annotations

import gc


def destroy_process_group() -> None:
    """Destroy the default ``torch.distributed`` process group if one is initialised, then collect garbage so that
    the group's objects (and their communication threads) are freed now; a no-op without a group.

    A group still referenced at interpreter exit (e.g. by a DDP wrapper caught in a reference cycle) is destroyed
    during finalization, where gloo can abort (``terminate called without an active exception``, SIGABRT) after the
    work is done, which fails the whole ``torchrun`` job. Callers drop their own references (the runner) first.
    """
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()):
        return
    dist.destroy_process_group()
    gc.collect()
