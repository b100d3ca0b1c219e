"""Each fix in vpd_mm.compat: the upstream breakage exists without it (checked in a fresh interpreter that does
not import vpd_mm), and is gone with it."""
from __future__ import annotations

import datetime
import os.path as osp
import pickle

import numpy as np
import pytest
import torch

from conftest import REPO, STGCN_CONFIG, run_python


def _python(code: str) -> tuple[int, str]:
    result = run_python(['-c', code], timeout=120)
    return result.returncode, result.stdout + result.stderr


# 1. the mmaction2 1.2.0 wheel lacks localizers/drn ------------------------------------------------------------
def test_drn_breakage_exists_without_vpd_mm():
    code, out = _python('import mmaction.models')
    assert code != 0
    assert "No module named 'mmaction.models.localizers.drn'" in out


def test_mmaction_models_import_with_vpd_mm():
    code, out = _python('import vpd_mm, mmaction.models\n'
                        'from mmaction.registry import MODELS\n'
                        'assert MODELS.get("STGCN") is not None and MODELS.get("DRN") is None\n'
                        'from mmaction.models.localizers import DRN\n'
                        'try:\n    DRN()\nexcept ImportError as e:\n    print("refused:", e)\n')
    assert code == 0, out
    assert 'refused: DRN is missing from the mmaction2 1.2.0 wheel' in out


# 2. pkg_resources (removed in setuptools >= 82) for `mmaction::` configs ---------------------------------------
_NO_PKG_RESOURCES = 'import sys\nsys.modules["pkg_resources"] = None  # as with setuptools >= 82\n'


def test_mmaction_base_config_breaks_without_pkg_resources(tmp_path):
    # a config that inherits `mmaction::` directly (ours list configs/_base_/import_vpd_mm.py first, which applies
    # the fix before that base is resolved: tests/test_packaging.py)
    config = tmp_path / 'bare_mmaction_base.py'
    config.write_text("_base_ = 'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py'\n")
    code, out = _python(_NO_PKG_RESOURCES + f'from mmengine.config import Config\nConfig.fromfile({str(config)!r})')
    assert code != 0
    assert 'pkg_resources' in out


def test_mmaction_base_config_resolves_with_vpd_mm():
    code, out = _python(_NO_PKG_RESOURCES + 'import vpd_mm\nfrom mmengine.config import Config\n'
                        f'cfg = Config.fromfile({STGCN_CONFIG!r})\n'
                        'print(cfg.model.type, cfg.default_scope, cfg.model.cls_head.num_classes)')
    assert code == 0, out
    assert 'RecognizerGCN mmaction 3' in out


def test_installed_path_matches_import_location():
    import mmaction

    from vpd_mm.compat import get_installed_path, is_installed
    assert get_installed_path('mmaction2') == osp.dirname(mmaction.__file__)
    assert is_installed('mmaction2') and not is_installed('surely-not-a-package-xyz')


# 3. torch >= 2.6 weights_only checkpoints ---------------------------------------------------------------------
@pytest.fixture(scope='module')
def trained_checkpoint(tiny_pose_dataset, tmp_path_factory):
    from conftest import data_root_options
    work_dir = str(tmp_path_factory.mktemp('ckpt'))
    result = run_python(['tools/train.py', STGCN_CONFIG, '--work-dir', work_dir, '--seed', '0',
                         *data_root_options(tiny_pose_dataset), 'train_cfg.max_epochs=1'])
    assert result.returncode == 0, result.stderr[-3000:]
    return osp.join(work_dir, 'epoch_1.pth')


def test_plain_torch_load_refuses_mmengine_checkpoint(trained_checkpoint):
    assert torch.__version__ >= '2.6'
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer|weights_only'):
        torch.load(trained_checkpoint)  # torch's default: weights_only=True


def test_allowlisted_load_keeps_message_hub(trained_checkpoint):
    from mmengine.logging import HistoryBuffer

    from vpd_mm.compat import load_checkpoint_file
    ckpt = load_checkpoint_file(trained_checkpoint)
    assert ckpt['meta']['epoch'] == 1
    buffers = ckpt['message_hub']['log_scalars']
    assert isinstance(buffers['train/loss'], HistoryBuffer)
    assert buffers['train/loss'].mean() > 0
    assert set(ckpt['state_dict']) >= {'backbone.data_bn.weight', 'cls_head.fc.weight'}


def test_mmengine_load_checkpoint_uses_allowlist(trained_checkpoint):
    from mmengine.runner import load_checkpoint
    import vpd_mm  # noqa: F401
    from mmaction.registry import MODELS
    from mmengine.config import Config
    model = MODELS.build(Config.fromfile(STGCN_CONFIG).model)
    ckpt = load_checkpoint(model, trained_checkpoint, map_location='cpu')
    saved = ckpt['state_dict']['cls_head.fc.weight']
    assert torch.equal(model.cls_head.fc.weight.detach(), saved)


def test_foreign_global_is_refused_with_name_and_file(tmp_path):
    from mmengine.runner import CheckpointLoader

    from vpd_mm.compat import UnsafeCheckpointError
    path = str(tmp_path / 'planted.pth')
    torch.save({'state_dict': {'w': torch.zeros(2)}, 'meta': {'when': datetime.date(2020, 1, 1)}}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(path)  # what resume / load_from / init_cfg / init_model call
    assert 'datetime.date' in str(info.value) and path in str(info.value)


class _GetattrGadget:
    """Pickles as getattr(HistoryBuffer, '__init__'): getattr is only allowed for the statistics methods."""

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return getattr, (HistoryBuffer, '__init__')


def test_getattr_is_allowed_only_for_history_buffer_statistics(tmp_path):
    from vpd_mm.compat import UnsafeCheckpointError, load_checkpoint_file
    path = str(tmp_path / 'gadget.pth')
    torch.save({'x': _GetattrGadget()}, path)
    with pytest.raises(UnsafeCheckpointError, match="getattr.*__init__"):
        load_checkpoint_file(path)


def test_test_tool_refuses_planted_checkpoint(tiny_pose_dataset, tmp_path):
    from conftest import data_root_options
    path = str(tmp_path / 'planted.pth')
    torch.save({'state_dict': {}, 'meta': {'when': datetime.date(2020, 1, 1)}}, path)
    result = run_python(['tools/test.py', STGCN_CONFIG, path, '--work-dir', str(tmp_path),
                         *data_root_options(tiny_pose_dataset)])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f'error: {path}: refusing to load the checkpoint: it pickles global(s) datetime.date that are not on '
        'vpd_mm.compat.checkpoint_allowlist(); only load files you trust, and re-save them as a plain state_dict')
    assert 'Traceback' not in result.stderr


def test_empty_history_buffer_loads(tmp_path):
    """A HistoryBuffer never updated holds empty arrays, whose data pickles as ``bytes()`` (protocol 2): allowed;
    ``bytes`` with any argument is not."""
    from mmengine.logging import HistoryBuffer

    from vpd_mm.compat import UnsafeCheckpointError, checkpoint_allowlist, load_checkpoint_file
    path = str(tmp_path / 'fresh.pth')
    torch.save({'state_dict': {'w': torch.ones(2)}, 'message_hub': {'log_scalars': {'x': HistoryBuffer()}}}, path)
    assert 'builtins.bytes' in torch.serialization.get_unsafe_globals_in_checkpoint(path)
    without_bytes = [e for e in checkpoint_allowlist() if not (isinstance(e, tuple) and e[1] == 'builtins.bytes')]
    with torch.serialization.safe_globals(without_bytes), pytest.raises(pickle.UnpicklingError, match='bytes'):
        torch.load(path, weights_only=True)  # the breakage: refused before the fix
    buffer = load_checkpoint_file(path)['message_hub']['log_scalars']['x']
    assert isinstance(buffer, HistoryBuffer) and buffer.data[0].shape == (0,) and buffer.data[0].dtype == np.float64
    path = str(tmp_path / 'bytes.pth')
    torch.save({'x': _BytesGadget()}, path)
    with pytest.raises(UnsafeCheckpointError, match=r'builtins\.bytes\(1000000000,\) is not an allowed'):
        load_checkpoint_file(path)


class _BytesGadget:
    """Pickles as bytes(10**9): a gigabyte allocated by the unpickler."""

    def __reduce__(self):
        return bytes, (10 ** 9,)


class _OpenGadget:
    """Pickles as open(path, 'w'): unpickled without restriction, it creates the file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return open, (self.path, 'w')


def test_url_checkpoints_load_weights_only(tmp_path, monkeypatch):
    """mmengine's http(s)/torchvision/open-mmlab loaders call torch.hub.load_state_dict_from_url, whose default
    is weights_only=False; vpd_mm routes them through the allow-list."""
    from mmengine.runner import CheckpointLoader

    from vpd_mm.compat import UnsafeCheckpointError
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))  # the download cache: no network needed
    cache = tmp_path / 'hub' / 'checkpoints'
    cache.mkdir(parents=True)
    marker = tmp_path / 'MARKER'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'x': _OpenGadget(str(marker))}, str(cache / 'planted.pth'))
    url = 'https://example.invalid/planted.pth'
    torch.hub.load_state_dict_from_url(url)  # the breakage: torch's default runs the pickled call
    assert marker.exists()
    marker.unlink()
    with pytest.raises(UnsafeCheckpointError, match=f'^{url}: refusing to load the checkpoint: it pickles '
                       r'global\(s\) io\.open that are not on'):
        CheckpointLoader.load_checkpoint(url)  # what load_from / init_cfg=Pretrained with a URL call
    assert not marker.exists()
    torch.save({'state_dict': {'w': torch.ones(1)}}, str(cache / 'plain.pth'))
    assert torch.equal(CheckpointLoader.load_checkpoint('https://example.invalid/plain.pth')['state_dict']['w'],
                       torch.ones(1))


# 4. numpy 2 removed np.Inf / np.trapz / np.in1d, still used by mmaction2 -------------------------------------
def _pose_compact_sample():
    keypoint = np.zeros((1, 2, 17, 2), np.float32)
    keypoint[0, 0, :, 0] = np.linspace(20, 60, 17)
    keypoint[0, 0, :, 1] = np.linspace(30, 50, 17)
    keypoint[0, 1] = keypoint[0, 0] + 10
    return dict(keypoint=keypoint, img_shape=(100, 200), total_frames=2)


def test_pose_compact_breaks_under_numpy2_without_fix():
    code, out = _python('import numpy as np\n'
                        'from mmaction.datasets.transforms.pose_transforms import PoseCompact\n'
                        'kp = np.ones((1, 2, 17, 2), np.float32)\n'
                        'PoseCompact(hw_ratio=None, allow_imgpad=False)(dict(keypoint=kp, img_shape=(10, 10)))')
    assert code != 0 and 'np.Inf' in out


def test_pose_compact_with_fix_hand_computed():
    import vpd_mm  # noqa: F401
    from mmaction.datasets.transforms import PoseCompact
    out = PoseCompact(padding=0.25, threshold=0, hw_ratio=None, allow_imgpad=False)(_pose_compact_sample())
    # x in [20, 70], y in [30, 60]: centre (45, 45), half sizes (25, 15) * 1.25 = (31.25, 18.75)
    # -> box x [13.75, 76.25], y [26.25, 63.75], truncated to ints: x [13, 76], y [26, 63]
    assert out['img_shape'] == (37, 63)
    np.testing.assert_allclose(out['crop_quadruple'], (13 / 200, 26 / 100, 63 / 200, 37 / 100))
    np.testing.assert_allclose(out['keypoint'][0, 0, 0], [20 - 13, 30 - 26], atol=1e-5)
    with pytest.raises(AttributeError):
        np.__getattr__('Inf')


def test_average_recall_at_avg_proposals_with_fix():
    import vpd_mm  # noqa: F401
    from mmaction.evaluation.functional import average_recall_at_avg_proposals
    gt = {'v': np.array([[0.0, 10.0]])}
    proposals = {'v': np.array([[0.0, 10.0, 0.9], [20.0, 30.0, 0.5]])}
    recall, avg_recall, proposals_per_video, auc = average_recall_at_avg_proposals(
        gt, proposals, total_num_proposals=2, max_avg_proposals=2, temporal_iou_thresholds=np.array([0.5]))
    # the single ground truth is found by the first proposal: recall 1 at every budget >= 1 proposal
    assert avg_recall[-1] == pytest.approx(1.0)
    assert 0 < auc <= 100


# 5. CPU data-parallel training with the gloo backend ---------------------------------------------------------
@pytest.mark.slow
def test_two_process_gloo_training(tiny_pose_dataset, tmp_path):
    from conftest import data_root_options
    import os
    import subprocess
    import sys
    env = dict(os.environ, PYTHON=sys.executable, PORT='29533', PYTHONWARNINGS='ignore')
    cmd = ['bash', 'tools/dist_train.sh', STGCN_CONFIG, '2', '--work-dir', str(tmp_path), *data_root_options(
        tiny_pose_dataset), 'train_cfg.max_epochs=1', 'env_cfg.dist_cfg.backend=gloo']
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]  # torchrun fails if any rank fails
    assert 'Distributed training: True' in log
    checkpoints = sorted(p.name for p in tmp_path.glob('*.pth'))
    assert 'epoch_1.pth' in checkpoints
    assert len([c for c in checkpoints if c.startswith('epoch_')]) == 1  # saved once (rank 0), not per rank
