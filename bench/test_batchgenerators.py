"""A real client (issue 21, item 5): batchgenerators' ``augment_spatial``, the spatial
augmentation of nnU-Net, on a batch of 3-D volumes, once as shipped (SciPy) and once with
``batchgenerators.augmentations.utils.map_coordinates = fastaug.map_coordinates``.

Both runs seed NumPy's global RNG (batchgenerators draws from it) identically, so the two
batches (data and segmentation) must be identical. The time spent inside the
``map_coordinates`` calls is measured by wrapping the function with a timer, as well as the
whole call (coordinate fields, elastic smoothing and the rest stay SciPy/NumPy in both).
Needs the ``bench`` extra. Run: ``pytest bench/test_batchgenerators.py --benchmark-only -s``.
"""

import time
from contextlib import contextmanager

import numpy as np
import pytest
from scipy import ndimage
from threadpoolctl import threadpool_limits

import fastaug
from bench.conftest import MEDIANS, record

utils = pytest.importorskip("batchgenerators.augmentations.utils")
spatial = pytest.importorskip("batchgenerators.augmentations.spatial_transformations")

CASE = "batchgenerators-augment-spatial-3d"
#: A batch of 2 samples x 2 channels of 96^3 (and one segmentation channel), 64^3 patches.
SAMPLES, CHANNELS, SIZE, PATCH = 2, 2, 96, 64
#: One map_coordinates call per sample and channel, data and segmentation.
CALLS = SAMPLES * (CHANNELS + 1)
#: nnU-Net's 3-D configuration: elastic deformation, rotation about all three axes by up to
#: 30 degrees, scaling; cubic for the images, nearest for the labels; every sample warped.
SPATIAL = dict(
    patch_size=(PATCH,) * 3,
    patch_center_dist_from_border=PATCH // 2,
    do_elastic_deform=True,
    alpha=(0.0, 900.0),
    sigma=(9.0, 13.0),
    do_rotation=True,
    angle_x=(-np.pi / 6, np.pi / 6),
    angle_y=(-np.pi / 6, np.pi / 6),
    angle_z=(-np.pi / 6, np.pi / 6),
    do_scale=True,
    scale=(0.85, 1.25),
    border_mode_data="constant",
    border_cval_data=0,
    order_data=3,
    border_mode_seg="constant",
    border_cval_seg=-1,
    order_seg=0,
    random_crop=True,
    p_el_per_sample=1,
    p_scale_per_sample=1,
    p_rot_per_sample=1,
)
SEED = 1234

#: The last batch and the map_coordinates seconds of each timed rounds, by peer.
BATCHES = {}
INSIDE = {}


@pytest.fixture(scope="module")
def batch():
    return make_batch()


def make_batch():
    """Float32 volumes (smooth structures plus noise) and a float32 label map of 3 classes
    (concentric shells), as nnU-Net hands them to augment_spatial."""
    rng = np.random.default_rng(21)
    axes = np.meshgrid(*[np.linspace(-1, 1, SIZE)] * 3, indexing="ij", sparse=True)
    radius = np.sqrt(sum(a**2 for a in axes))
    data = np.empty((SAMPLES, CHANNELS) + (SIZE,) * 3, np.float32)
    data[...] = np.cos(4 * radius) + rng.normal(0.0, 0.2, data.shape)
    seg = np.empty((SAMPLES, 1) + (SIZE,) * 3, np.float32)
    seg[...] = np.digitize(radius, [0.4, 0.7])
    return data, seg


@contextmanager
def timed_map_coordinates(function, spent, clock=time.perf_counter):
    """Route augment_spatial's map_coordinates (looked up in batchgenerators' utils, where
    ``interpolate_img`` lives) through ``function``, appending each call's seconds on
    ``clock`` to ``spent``; restored afterwards."""
    original = utils.map_coordinates

    def timed(*args, **kwargs):
        start = clock()
        result = function(*args, **kwargs)
        spent.append(clock() - start)
        return result

    utils.map_coordinates = timed
    try:
        yield
    finally:
        utils.map_coordinates = original


def augment(batch, function, spent, clock=time.perf_counter):
    """One seeded augment_spatial call on ``batch`` with ``function`` as map_coordinates.

    BLAS is limited to one thread, as batchgenerators' ``MultiThreadedAugmenter`` runs its
    workers (``threadpool_limits(limits=1, user_api="blas")``): augment_spatial's
    ``np.dot`` of the coordinate grid would otherwise leave OpenBLAS threads spinning on
    the cores for a while after each call, and they take the core of fastaug's second
    thread (measured on the 2-core VM: 22 ms per order-3 call instead of 13-15 ms; SciPy,
    single-threaded, is not affected).
    """
    np.random.seed(SEED)
    with threadpool_limits(limits=1, user_api="blas"):
        with timed_map_coordinates(function, spent, clock):
            return spatial.augment_spatial(*batch, **SPATIAL)


PEERS = {"fastaug": fastaug.map_coordinates, "scipy": ndimage.map_coordinates}


@pytest.mark.parametrize("threads", [2], indirect=True)
@pytest.mark.parametrize("peer", PEERS)
def test_augment_spatial(benchmark, batch, peer, threads):
    function = PEERS[peer]
    augment(batch, function, [])  # compile outside the timing
    rounds = []

    def one_round():
        spent = []
        result = augment(batch, function, spent)
        assert len(spent) == CALLS  # every call went through ``function``
        rounds.append(sum(spent))
        return result

    benchmark.group = CASE
    result = benchmark.pedantic(one_round, rounds=5, warmup_rounds=0)
    inside = float(np.median(rounds))
    benchmark.extra_info.update(case=CASE, peer=peer, map_coordinates_seconds=inside, calls=CALLS)
    record(benchmark, f"{peer}-{CASE}")
    INSIDE[peer], BATCHES[peer] = inside, result
    if peer == "fastaug":
        for mine, scipy in zip(result, augment(batch, ndimage.map_coordinates, [])):
            np.testing.assert_array_equal(mine, scipy)


def test_batchgenerators_targets():
    """Issue 21: identical batches, and >= 4x SciPy on the time inside map_coordinates."""
    if set(BATCHES) != set(PEERS):
        pytest.skip("needs both peers measured in this run")
    for mine, scipy in zip(BATCHES["fastaug"], BATCHES["scipy"]):
        assert np.array_equal(mine, scipy)
    inside = INSIDE["scipy"] / INSIDE["fastaug"]
    whole = MEDIANS[f"scipy-{CASE}"] / MEDIANS[f"fastaug-{CASE}"]
    print(
        f"\naugment_spatial: map_coordinates {INSIDE['scipy'] * 1e3:.0f} ms -> "
        f"{INSIDE['fastaug'] * 1e3:.0f} ms ({inside:.2f}x), whole call "
        f"{MEDIANS[f'scipy-{CASE}'] * 1e3:.0f} ms -> {MEDIANS[f'fastaug-{CASE}'] * 1e3:.0f} ms "
        f"({whole:.2f}x)"
    )
    assert inside >= 4, f"map_coordinates time {inside:.2f}x SciPy, target 4x"
