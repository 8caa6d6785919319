"""Every random transform draws what it declares: each parameter's range and distribution,
their independence, and how often ``p`` applies a transform, drawn through the public path
(``Compose.draw_params``, and the pipeline's own output where the gate is concerned).

The other transform tests compare outputs with ``draw_params()`` from the same code, so a
wrong draw (a rotation drawing only negative angles, a shift on the wrong axis) passes them;
these tests check the draws against the documented distributions instead.

Statistics: N = 20,000 draws per parameter, from fixed seeds, so every test is deterministic
(it cannot flake: the same numbers are drawn on every run). Each test rejects at a
significance level ``ALPHA = 1e-3``: a correct generator would fail one such test on one in
a thousand seeds, so the handful of tests here still pass on almost any seed if the
counter-based draws are ever re-keyed, while N = 20,000 keeps them strict: a
Kolmogorov-Smirnov test at this level rejects any CDF off by more than 1.95 / sqrt(N) =
1.4 % of the range (a range shifted or narrowed by 1.4 %, half a range lost), a
frequency off by more than 3.3 sigma (0.011 at p = 0.3), and a correlation above 0.023.
"""

import numpy as np
import pytest
from scipy import stats

from fastaug import transforms as tf

N = 20_000
ALPHA = 1e-3


def _entries(*transforms, n=N, seed=0, epoch=0):
    """The per-transform draws of ``tf.Compose(transforms)`` for ``n`` samples."""
    return tf.Compose(list(transforms)).draw_params(n, seed=seed, epoch=epoch).transforms


def assert_uniform(values, lo, hi):
    """Within ``[lo, hi]`` and distributed as U(lo, hi) (a KS test); a point if lo == hi."""
    values = np.asarray(values, dtype=np.float64)
    assert values.shape[0] >= 1000, values.shape
    if lo == hi:
        np.testing.assert_array_equal(values, lo)
        return
    assert lo <= values.min() and values.max() <= hi, (values.min(), values.max(), lo, hi)
    p = stats.kstest(values, stats.uniform(lo, hi - lo).cdf).pvalue
    assert p > ALPHA, f"not U({lo}, {hi}): KS p = {p:.2e}, mean {values.mean():.4f}"


def assert_independent(a, b):
    """No linear dependence between two draws of the same samples (a Pearson test)."""
    p = stats.pearsonr(np.asarray(a, np.float64), np.asarray(b, np.float64)).pvalue
    assert p > ALPHA, f"correlated draws: p = {p:.2e}"


def assert_frequency(applied, p):
    """``applied`` (bool per sample) is True with probability ``p``: exactly never or always
    at 0 and 1, else within a binomial bound."""
    applied = np.asarray(applied)
    assert applied.dtype == bool
    k, n = int(applied.sum()), applied.size
    if p in (0.0, 1.0):
        assert k == p * n, (k, n, p)
        return
    pvalue = stats.binomtest(k, n, p).pvalue
    assert pvalue > ALPHA, f"applied {k} of {n} times for p = {p}: binomial p = {pvalue:.2e}"


# ------------------------------------------------------------------ each parameter
@pytest.mark.parametrize("degrees,lo,hi", [(30, -30, 30), ((5, 40), 5, 40), ((-7, -7), -7, -7)])
def test_random_rotation_angles_are_uniform_over_degrees(degrees, lo, hi):
    (entry,) = _entries(tf.RandomRotation(degrees))
    assert_uniform(entry["angle"], lo, hi)


def test_random_affine_draws_every_parameter_uniformly_and_independently():
    t = tf.RandomAffine(20, translate=(0.1, 0.3), scale=(0.7, 1.2), shear=(-10, 5, -3, 8), p=0.3)
    (e,) = _entries(t)
    draws = {
        "angle": (e["angle"], -20, 20),
        # translate=(a, b): a of the width (columns), b of the height (rows)
        "rows": (e["shift_fraction"][:, 0], -0.3, 0.3),
        "cols": (e["shift_fraction"][:, 1], -0.1, 0.1),
        "scale": (e["scale"], 0.7, 1.2),
        # shear=(x lo, x hi, y lo, y hi); the drawn pair is (y, x)
        "shear y": (e["shear"][:, 0], -3, 8),
        "shear x": (e["shear"][:, 1], -10, 5),
    }
    for values, lo, hi in draws.values():
        assert_uniform(values, lo, hi)
        # the gate (p) is drawn apart from the values: the applied ones are uniform too
        assert_uniform(values[e["applied"]], lo, hi)
    names = list(draws)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert_independent(draws[a][0], draws[b][0])
    assert_frequency(e["applied"], 0.3)


def test_random_affine_defaults_and_single_number_shear():
    (e,) = _entries(tf.RandomAffine(15))
    assert_uniform(e["angle"], -15, 15)
    np.testing.assert_array_equal(e["shift_fraction"], 0.0)
    np.testing.assert_array_equal(e["scale"], 1.0)
    np.testing.assert_array_equal(e["shear"], 0.0)
    (e,) = _entries(tf.RandomAffine(0, shear=12))  # a number: x shear in (-12, 12), no y shear
    np.testing.assert_array_equal(e["angle"], 0.0)
    assert_uniform(e["shear"][:, 1], -12, 12)
    np.testing.assert_array_equal(e["shear"][:, 0], 0.0)
    (e,) = _entries(tf.RandomAffine(0, translate=(0.2, 0.0), scale=(1.5, 1.5)))
    assert_uniform(e["shift_fraction"][:, 1], -0.2, 0.2)
    np.testing.assert_array_equal(e["shift_fraction"][:, 0], 0.0)
    np.testing.assert_array_equal(e["scale"], 1.5)


def test_gaussian_blur_sigma_is_uniform():
    (e,) = _entries(tf.GaussianBlur((0.3, 2.5)))
    assert_uniform(e["sigma"], 0.3, 2.5)
    (e,) = _entries(tf.GaussianBlur(1.1))
    assert_uniform(e["sigma"], 1.1, 1.1)


def test_gaussian_noise_std_is_uniform():
    (e,) = _entries(tf.GaussianNoise((0.01, 0.2)))
    assert_uniform(e["std"], 0.01, 0.2)
    (e,) = _entries(tf.GaussianNoise(0.05))
    assert_uniform(e["std"], 0.05, 0.05)


@pytest.mark.parametrize(
    "brightness,contrast,beta,alpha",
    [(0.2, 0.4, (-0.2, 0.2), (0.6, 1.4)), ((0.0, 0.3), (-0.5, 0.1), (0.0, 0.3), (0.5, 1.1))],
)
def test_brightness_contrast_draws(brightness, contrast, beta, alpha):
    (e,) = _entries(tf.BrightnessContrast(brightness, contrast))
    assert_uniform(e["beta"], *beta)
    assert_uniform(e["alpha"], *alpha)
    assert_independent(e["alpha"], e["beta"])


def test_one_of_chooses_uniformly_and_its_members_keep_their_own_p():
    members = [tf.RandomRotation(10), tf.HorizontalFlip(p=0.5), tf.VerticalFlip(p=1.0)]
    one_of, rotation, hflip, vflip = _entries(tf.OneOf(members, p=0.6))
    assert_frequency(one_of["applied"], 0.6)
    choice = one_of["choice"]
    counts = np.bincount(choice, minlength=4)
    assert counts[3] == 0 and choice.min() == 0  # only 0, 1 and 2
    p = stats.chisquare(counts[:3]).pvalue  # uniform over the three members
    assert p > ALPHA, (counts, p)
    applied = one_of["applied"]
    # a member is applied only where the tf.OneOf applied and chose it, then with its own p
    for j, (entry, own_p) in enumerate(((rotation, 1.0), (hflip, 0.5), (vflip, 1.0))):
        chosen = applied & (choice == j)
        assert not (entry["applied"] & ~chosen).any()
        assert_frequency(entry["applied"][chosen], own_p)
    assert_uniform(rotation["angle"], -10, 10)


def test_compose_draws_each_transform_independently_and_flattens():
    first, second = _entries(tf.RandomRotation(30, p=0.5), tf.RandomRotation(30, p=0.5))
    for e in (first, second):
        assert_uniform(e["angle"], -30, 30)
        assert_frequency(e["applied"], 0.5)
    assert_independent(first["angle"], second["angle"])
    assert_independent(first["applied"], second["applied"])
    # a nested tf.Compose is its transforms in place: the same draws
    nested = tf.Compose(
        [tf.Compose([tf.RandomRotation(30, p=0.5)]), tf.RandomRotation(30, p=0.5)]
    ).draw_params(N, seed=0)
    for e, f in zip(nested.transforms, (first, second)):
        np.testing.assert_array_equal(e["angle"], f["angle"])
        np.testing.assert_array_equal(e["applied"], f["applied"])


def test_draws_of_other_seeds_epochs_and_neighbouring_samples_are_independent():
    (base,) = _entries(tf.RandomRotation(30), seed=5, epoch=1)
    (other_seed,) = _entries(tf.RandomRotation(30), seed=6, epoch=1)
    (other_epoch,) = _entries(tf.RandomRotation(30), seed=5, epoch=2)
    for other in (other_seed, other_epoch):
        assert_uniform(other["angle"], -30, 30)
        assert_independent(base["angle"], other["angle"])
    assert_independent(base["angle"][:-1], base["angle"][1:])


# ------------------------------------------------------------------ p
def _every_transform(p):
    return [
        tf.RandomRotation((5, 30), p=p),
        tf.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5, p=p),
        tf.HorizontalFlip(p=p),
        tf.VerticalFlip(p=p),
        tf.GaussianNoise(0.05, p=p),
        tf.GaussianBlur((0.5, 1.0), p=p),
        tf.BrightnessContrast(0.2, 0.2, p=p),
        tf.OneOf([tf.RandomRotation((5, 30)), tf.HorizontalFlip(p=1.0)], p=p),
    ]


@pytest.mark.parametrize("p", [0.0, 1.0, 0.3])
@pytest.mark.parametrize("k", range(len(_every_transform(1.0))))
def test_p_sets_how_often_a_transform_applies(p, k):
    """The drawn gate has frequency ``p``, and the output changes exactly where it is set."""
    (entry, *_) = _entries(_every_transform(p)[k])
    assert_frequency(entry["applied"], p)
    # through the pipeline: random float images, each changed by any applied transform
    x = np.random.default_rng(k).random((2000, 6, 5))
    t = _every_transform(p)[k]
    out = t(x, seed=1)
    gate = tf.Compose([t]).draw_params(len(x), seed=1).transforms[0]["applied"]
    changed = (out != x).any(axis=(1, 2))
    np.testing.assert_array_equal(changed, gate)
    assert_frequency(changed, p)


def test_flips_apply_half_the_time_by_default():
    for flip in (tf.HorizontalFlip(), tf.VerticalFlip()):
        (entry,) = _entries(flip)
        assert_frequency(entry["applied"], 0.5)


# ------------------------------------------------------------------ the noise itself
@pytest.mark.parametrize("std", [0.05, (0.02, 0.08)])
def test_gaussian_noise_is_normal_with_the_declared_std(std):
    """The added noise, divided by each sample's drawn std, is standard normal (KS) and
    independent from pixel to pixel and sample to sample; float images (top 1.0)."""
    x = np.full((80, 32, 32), 0.5)  # 10 std from the clip at 0 and 1 at most
    t = tf.GaussianNoise(std)
    out = t(x, seed=3)
    drawn = tf.Compose([t]).draw_params(len(x), seed=3).transforms[0]["std"]
    lo, hi = (std, std) if np.isscalar(std) else std
    assert lo <= drawn.min() and drawn.max() <= hi
    z = (out - 0.5) / drawn[:, None, None]
    p = stats.kstest(z.ravel(), "norm").pvalue
    assert p > ALPHA, f"noise / std is not N(0, 1): KS p = {p:.2e}, std {z.std():.4f}"
    assert_independent(z[:, :, :-1].ravel(), z[:, :, 1:].ravel())  # neighbouring pixels
    assert_independent(z[:-1].ravel(), z[1:].ravel())  # neighbouring samples


def test_gaussian_noise_on_uint8_has_std_times_255():
    """uint8 images: noise of std ``std * 255``, rounded half away from zero as SciPy
    stores; the counts of each rounded value against their exact probabilities (chi-square,
    tail bins merged to at least 20 expected)."""
    std = 0.05 * 255.0
    out = tf.GaussianNoise(0.05)(np.full((64, 32, 32), 128, np.uint8), seed=2)
    values = out.astype(np.int64).ravel() - 128
    assert np.abs(values).max() < 127  # no clipping: the distribution is the rounded one
    edges = np.arange(-40, 41)  # value k counts in (k - 0.5, k + 0.5]
    probs = np.diff(stats.norm.cdf(np.concatenate([[-np.inf], edges[:-1] + 0.5, [np.inf]]) / std))
    counts = np.bincount(np.clip(values, -40, 40) + 40, minlength=len(edges))
    expected = probs * values.size
    keep = expected >= 20
    observed = np.concatenate([counts[keep], [counts[~keep].sum()]])
    expected = np.concatenate([expected[keep], [expected[~keep].sum()]])
    p = stats.chisquare(observed, expected).pvalue
    assert p > ALPHA, f"uint8 noise is not N(0, {std}) rounded: chi-square p = {p:.2e}"
