"""Protocols over a corpus: few-shot recognition, temporal detection, retrieval, late fusion, and the report.

They compose the layers below (corpus, datasets, models, evaluation) and may train through mmengine's
``Runner``; the metrics they report are computed on arrays by :mod:`vpd_mm.evaluation`.
"""
