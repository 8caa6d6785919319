"""Arrays in GPU memory go to the CUDA backend, the rest stay on the CPU (issue 23, item 1).

No GPU and no numba-cuda needed: a stand-in exposes ``__cuda_array_interface__`` and the
GPU functions are replaced by recorders, so what is tested is the routing alone.
"""

import subprocess
import sys

import numpy as np
import pytest

import fastaug
import fastaug.cuda as gpu
import fastaug.ndimage as ndimage
from fastaug.cuda import SimulatedDeviceArray as StandIn


class _CpuTensor:
    """Like a PyTorch CPU tensor: the attribute exists on the type but reading it raises."""

    @property
    def __cuda_array_interface__(self):
        raise AttributeError("Can't get __cuda_array_interface__ on non-CUDA tensor")


def test_what_counts_as_a_device_array():
    assert gpu.is_device_array(StandIn(np.zeros(3)))
    assert not gpu.is_device_array(np.zeros(3))
    assert not gpu.is_device_array([1.0, 2.0])
    assert not gpu.is_device_array(_CpuTensor())


CALLS = [
    ("rotate", lambda x: ndimage.rotate(x, 15)),
    ("affine_transform", lambda x: ndimage.affine_transform(x, np.eye(2))),
    ("map_coordinates", lambda x: ndimage.map_coordinates(x, np.zeros((2, 3)))),
    ("shift", lambda x: ndimage.shift(x, 1.5)),
    ("zoom", lambda x: ndimage.zoom(x, 2)),
    ("spline_filter", lambda x: ndimage.spline_filter(x)),
    ("spline_filter", lambda x: ndimage.spline_filter1d(x, axis=0)),
    ("rotate_each", lambda x: fastaug.rotate_each(x, [15.0])),
    ("affine_each", lambda x: fastaug.affine_each(x, np.eye(2, 3)[None])),
]


@pytest.mark.parametrize("name, call", CALLS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CALLS)])
def test_device_arrays_go_to_the_cuda_backend(monkeypatch, name, call):
    seen = []

    def recorder(*args, **kwargs):
        seen.append(args[0])
        return "from the GPU"

    monkeypatch.setattr(gpu, name, recorder)
    device = StandIn(np.zeros((1, 4, 4)) if name.endswith("_each") else np.zeros((4, 4)))
    assert call(device) == "from the GPU"
    assert seen == [device]
    host = device.array
    assert isinstance(call(host), np.ndarray)  # NumPy stays on the CPU
    assert seen == [device]


def test_without_numba_cuda_the_error_says_what_to_install():
    code = (
        "import sys; sys.modules['numba.cuda'] = None\n"
        "import numpy as np, fastaug.ndimage as nd\n"
        "from fastaug.cuda import SimulatedDeviceArray as StandIn\n"
        "try:\n    nd.rotate(StandIn(np.zeros((4, 4))), 10)\n"
        "except ImportError as e:\n    print(e)\n"
    )
    tests = str(__import__("pathlib").Path(__file__).parent)
    done = subprocess.run([sys.executable, "-c", code, tests], capture_output=True, text=True)
    assert "pip install 'fastaug[cuda]'" in done.stdout, done.stderr


def test_numpy_without_row_stack_still_compiles():
    """numba-cuda 0.30 registers np.row_stack, which NumPy 2.5 removed; the shim in
    kernels.cuda.primitives names np.vstack so that its compiler still runs."""
    pytest.importorskip("numba_cuda", reason="numba-cuda not installed: pip install '.[cuda]'")
    code = (
        "import numpy as np\n"
        "if hasattr(np, 'row_stack'): del np.row_stack\n"
        "import fastaug.kernels.cuda.primitives\n"
        "assert np.row_stack is np.vstack\n"
        "from numba import cuda, float64\n"
        "def k(a):\n    a[0] = a[1] * 2.0\n"
        "ptx, _ = cuda.compile_ptx(k, (float64[:],), cc=(9, 0))\n"
        "print('compiled', len(ptx) > 0)\n"
    )
    env = dict(__import__("os").environ)
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert "compiled True" in done.stdout, done.stderr


def test_augment_of_a_device_array_goes_to_the_cuda_backend(monkeypatch):
    seen = []

    def recorder(images, labels, angles, include_original, layout, interp, channel_axis):
        seen.append((images, tuple(angles), include_original, layout, interp.order))
        return "images", "labels"

    monkeypatch.setattr(gpu, "augment", recorder)
    device = StandIn(np.zeros((2, 4, 4)))
    assert fastaug.augment(device, angles=(15, -15)) == ("images", "labels")
    assert seen == [(device, (15.0, -15.0), True, "interleaved", 3)]
    with pytest.raises(ValueError, match="layout"):
        fastaug.augment(device, layout="sideways")
    out, _ = fastaug.augment(device.array)
    assert isinstance(out, np.ndarray) and len(seen) == 1
