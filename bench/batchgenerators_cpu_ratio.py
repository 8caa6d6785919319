"""CPU time inside augment_spatial's map_coordinates calls (``time.process_time``, best of
N rounds) with SciPy and with fastaug on one thread: the ratio that other processes sharing
the machine disturb far less than wall time (they take cores away from fastaug's second
thread first). Run: ``python -m bench.batchgenerators_cpu_ratio``.
"""

import json
import time

from scipy import ndimage

import fastaug
from bench.test_batchgenerators import augment, make_batch

ROUNDS = 5


def _best_cpu(batch, function):
    augment(batch, function, [])  # compile outside the timing
    best = float("inf")
    for _ in range(ROUNDS):
        spent = []
        augment(batch, function, spent, time.process_time)
        best = min(best, sum(spent))
    return best


def main():
    batch = make_batch()
    fastaug.set_num_threads(1)
    scipy = _best_cpu(batch, ndimage.map_coordinates)
    mine = _best_cpu(batch, fastaug.map_coordinates)
    print(
        json.dumps(
            {
                "scipy_ms": round(scipy * 1e3, 1),
                "fastaug_1_thread_ms": round(mine * 1e3, 1),
                "ratio": round(scipy / mine, 2),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
