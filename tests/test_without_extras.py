"""The library works without its drawing and progress-bar dependencies: matplotlib is needed
only to draw a figure (``--preview``, the reports) and tqdm only to show a bar."""

import subprocess
import sys

import numpy as np

from idx_fixtures import write_dataset

#: Run first in the subprocess: importing either package then raises ImportError.
WITHOUT = "import sys\nsys.modules['matplotlib'] = sys.modules['tqdm'] = None\n"

ARRAY_API = """
import numpy as np
import fastaug
from fastaug import ndimage

x = np.random.default_rng(0).random((3, 9, 8))
fastaug.rotate(x, 15)
fastaug.augment(x, angles=(15, -15))
ndimage.affine_transform(x, np.eye(3))
ndimage.map_coordinates(x, np.zeros((3, 2, 2)))
ndimage.rotate(x, 10, axes=(1, 2))
ndimage.shift(x, 0.5)
ndimage.spline_filter(x)
ndimage.spline_filter1d(x)
ndimage.zoom(x, 1.5)
print('array API ok', sorted({'matplotlib', 'tqdm'} & {m.split('.')[0] for m in sys.modules
                                                      if sys.modules[m] is not None}))
"""

JOBS = """
from fastaug import cli
data, out = sys.argv[1:]
assert cli.main(['augment', '--angles', '15', '--limit', '1000', '--data', data, '--out',
                 out + '/a.npz']) == 0
assert cli.main(['augment', '--angles', '15', '--input', out + '/a.npy', '--out',
                 out + '/b.npy']) == 0
print('jobs ok')
"""


def _without_extras(code, *args):
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT + code, *map(str, args)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_array_api_without_matplotlib_and_tqdm():
    assert "array API ok []" in _without_extras(ARRAY_API)


def test_dataset_jobs_without_matplotlib_and_tqdm(tmp_path):
    """The in-memory job on 1000 images and an out-of-core --input job, with no terminal
    (so no bar) as in a pipeline or a batch system."""
    write_dataset(tmp_path / "data", n_train=1000)
    np.save(tmp_path / "a.npy", np.arange(5 * 6 * 7, dtype=np.uint8).reshape(5, 6, 7))
    assert "jobs ok" in _without_extras(JOBS, tmp_path / "data", tmp_path)
    with np.load(tmp_path / "a.npz") as written:
        assert written["images"].shape == (2000, 28, 28)
    assert np.load(tmp_path / "b.npy").shape == (10, 6, 7)


def test_a_shown_bar_is_tqdms_and_a_hidden_one_does_nothing(capsys):
    import tqdm

    from fastaug._progress import tqdm as progress_bar

    with progress_bar(total=2, desc="shown", file=sys.stderr) as bar:
        assert isinstance(bar, tqdm.tqdm)
        bar.update(2)
    with progress_bar(total=2, desc="hidden", disable=True) as bar:
        assert not isinstance(bar, tqdm.tqdm)
        bar.update(2)
    err = capsys.readouterr().err
    assert "shown" in err and "hidden" not in err
