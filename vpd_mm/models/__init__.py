"""Models (registered in ``mmaction.registry.MODELS``): the VPD student, its decoder and distiller, the
downstream BiGRU recognizer and detector, and baselines missing from the mmaction2 wheel.

Each module registers itself on import; add one import line per module below.
"""
