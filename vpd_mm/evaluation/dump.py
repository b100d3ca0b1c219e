"""``DumpPredictionsJSON``: write every test prediction to a JSON file (``tools/test.py --dump x.json``)."""
from __future__ import annotations

import json
from typing import Any, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmaction.registry import METRICS

from ..corpus.corpus import atomic_write_bytes


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


@METRICS.register_module()
class DumpPredictionsJSON(BaseMetric):
    """Collect ``pred_score``, ``pred_label`` and ``gt_label`` of each sample and write them as JSON.

    Args:
        out_file (str): output ``.json`` path (written atomically on the main process).
        keys (Sequence[str]): data-sample fields to keep when present.
    """

    default_prefix = 'dump'

    def __init__(self, out_file: str, keys: Sequence[str] = ('pred_score', 'pred_label', 'gt_label'),
                 collect_device: str = 'cpu', prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not out_file.endswith('.json'):
            raise ValueError(f'out_file must be a .json file, got {out_file}')
        self.out_file = out_file
        self.keys = tuple(keys)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append({k: _plain(sample[k]) for k in self.keys if k in sample})

    def compute_metrics(self, results: list) -> dict:
        data = json.dumps(results).encode()
        atomic_write_bytes(self.out_file, lambda f: f.write(data))
        return {'num_samples': len(results)}
