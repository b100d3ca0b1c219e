"""DeepMimic motion capture: file format, humanoid layout, interpolation and forward kinematics (numpy/scipy; pybullet
for the forward kinematics).

- :mod:`.deepmimic`: the motion files, the pose layout (:class:`HumanoidPose`), slerp and poses at any time.
- :mod:`.kinematics`: the humanoid in pybullet (:class:`DeepMimicHumanoid`) and its COCO-17 joints.

Used by VIPE*'s training data (:mod:`vpd_mm.teachers.mocap_pose3d`) and by the embedded benchmark's renderer
(:mod:`vpd_mm.mocap_sports`). A low layer: imports nothing from :mod:`vpd_mm` but :mod:`vpd_mm.utils`.
"""
from .deepmimic import (LINK, POSE_DIM, POSE_LAYOUT, REVOLUTE_JOINTS, SPHERICAL_JOINTS, VIPE_HELDOUT_CLIPS,
                        VIPE_TRAIN_CLIPS, DeepMimicMotion, HumanoidPose, blend_poses, deepmimic_clip_paths,
                        interpolate_motion, read_deepmimic_motion, slerp)
from .kinematics import (COCO17_LINKS, FACE_OFFSETS, HEAD_OFFSET, HEAD_RADIUS, HUMANOID_SCALE, DeepMimicHumanoid,
                         coco17_from_links, humanoid_urdf_path, import_pybullet, load_deepmimic_clip)

__all__ = [
    'POSE_LAYOUT', 'POSE_DIM', 'LINK', 'SPHERICAL_JOINTS', 'REVOLUTE_JOINTS', 'VIPE_TRAIN_CLIPS',
    'VIPE_HELDOUT_CLIPS', 'HumanoidPose', 'DeepMimicMotion', 'deepmimic_clip_paths', 'read_deepmimic_motion',
    'slerp', 'blend_poses', 'interpolate_motion', 'HUMANOID_SCALE', 'HEAD_RADIUS', 'HEAD_OFFSET', 'FACE_OFFSETS',
    'COCO17_LINKS', 'import_pybullet', 'humanoid_urdf_path', 'coco17_from_links', 'DeepMimicHumanoid',
    'load_deepmimic_clip'
]
