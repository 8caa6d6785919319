"""Progress bars that need tqdm only when one is shown.

A job shows a bar on a terminal without ``--quiet``; a library call, a pipe or ``--quiet``
shows none, and then tqdm is not imported at all, so the array API and the dataset jobs work
without it. Where a bar should show but tqdm is not installed, the job runs without one.
"""


class _NoBar:
    """What a hidden bar needs to do: nothing."""

    def update(self, n=1):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def tqdm(*, disable=False, **options):
    """``tqdm.tqdm(**options)`` when shown (``disable`` false and tqdm installed), else a
    bar that does nothing; the keyword arguments are tqdm's."""
    if not disable:
        try:
            from tqdm import tqdm as bar
        except ImportError:
            pass
        else:
            return bar(**options)
    return _NoBar()
