"""Models (registered in ``mmaction.registry.MODELS``): the VPD student, its decoder and distiller, the
downstream BiGRU recognizer and detector, and baselines missing from the mmaction2 wheel.

Each module registers itself on import; add one import line per module below.
"""
from . import distiller, pose_motion_head, student  # noqa: F401,E402  (VPD student, D, distiller)
from . import bigru, detector  # noqa: F401,E402  (BiGRURecognizer, FrameBiGRUDetector)
from . import gsm, msg3d, resnet_weights  # noqa: F401,E402  (ResNetGSM, MSG3DFromPaper, LocalPretrainedResNet)
