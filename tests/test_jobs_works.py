"""The Work contract of the dataset engine: what a work declares of its columns before any
is drawn (the size checks use it) is what it then makes, in every pass shape."""

import numpy as np
import pytest

from fastaug import jobs

WORKS = {
    "fixed angles": lambda: jobs.FixedAngles([15.0, -15.0, 40.0], 3, "nearest", 0.0),
    "random rotation": lambda: jobs.random_work(20, copies=3, seed=4),
    "pipeline": lambda: jobs.random_work(pipeline="mnist", copies=3, seed=4),
}
PASSES = [(slice(None), True), (slice(None), False), (slice(0, 0), True), (slice(1, 2), False)]


@pytest.mark.parametrize("name", sorted(WORKS))
@pytest.mark.parametrize("items, original", PASSES)
def test_declared_columns_are_the_columns_made(name, items, original):
    work = WORKS[name]()
    chosen = work.pass_items()[items]
    made = work.columns(5, original, 7, chosen)
    declared = work.column_types()
    assert list(made) == list(declared)
    rows = 5 * (len(chosen) + original)
    for column, (shape, dtype) in declared.items():
        assert made[column].shape == (rows,) + shape and made[column].dtype == dtype, column
    # the same rows whatever the chunk they are drawn in (sources 7..11 = 7..8 + 9..11)
    first, rest = work.columns(2, original, 7, chosen), work.columns(3, original, 9, chosen)
    for column in declared:
        np.testing.assert_array_equal(
            made[column], np.concatenate([first[column], rest[column]]), err_msg=column
        )
