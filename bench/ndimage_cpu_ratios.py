"""CPU time per call (``time.process_time``, best of N) of SciPy and of fastaug on one
thread, for issue 21's affine_transform and map_coordinates rows: a ratio that other
processes sharing the machine disturb far less than wall time (they take cores away from
fastaug's second thread first). Run: ``python -m bench.ndimage_cpu_ratios``.
"""

import json
import time

from scipy import ndimage

import fastaug
from bench.test_ndimage_geometric import make_cases


def _best_cpu(call, n):
    call()
    best = float("inf")
    for _ in range(n):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def _repeated(f, args, kwargs, repeat):
    return lambda: [f(*args, **kwargs) for _ in range(repeat)]


#: Calls timed together per round: a 28 x 28 call alone is below the clock's resolution.
REPEAT = {"affine-2d-28-order3": 200}


def main():
    cases = make_cases()
    fastaug.set_num_threads(1)
    results = {}
    for name, (func, args, kwargs) in cases.items():
        repeat = REPEAT.get(name, 1)
        times = {}
        for peer, module in (("scipy", ndimage), ("fastaug", fastaug)):
            call = _repeated(getattr(module, func), args, kwargs, repeat)
            times[peer] = _best_cpu(call, 20 if repeat > 1 else 5)
        results[f"{name} (x{repeat} calls)" if repeat > 1 else name] = {
            "scipy_ms": round(times["scipy"] * 1e3, 2),
            "fastaug_1_thread_ms": round(times["fastaug"] * 1e3, 2),
            "ratio": round(times["scipy"] / times["fastaug"], 2),
        }
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
