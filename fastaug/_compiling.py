"""Saying when fastaug's kernels compile, and measuring how long each takes.

Numba compiles a kernel the first time it meets new argument types and keeps the machine code
in fastaug's disk cache (``fastaug/kernels/_jit.py``), so this happens once per machine and
dtype. It takes seconds, holding the GIL: without a word, a first call looks hung. Numba
broadcasts a ``numba:compile`` event only when it really compiles (a cache hit sends none), so
a listener on it says exactly when: one line on stderr the first time in a process, and on a
terminal a spinner with the seconds elapsed until the compile is done.
``fastaug.compile_notice(False)`` (the command line's ``--quiet``) silences it.
"""

from __future__ import annotations

import sys
import threading
import time

from numba.core import event

#: What a first use compiles, measured on a 2-core VM (empty cache, one rotate call).
TYPICAL_SECONDS = 5

#: Seconds without a compile after which the spinner stops.
QUIET_AFTER = 0.3
_KERNEL_PACKAGE = "fastaug.kernels"
_FRAMES = "|/-\\"


def _compiled_function(data):
    """The Python function a ``numba:compile`` event compiles, and its module (or None, "")."""
    dispatcher = data.get("dispatcher") if isinstance(data, dict) else None
    func = getattr(dispatcher, "py_func", None)
    return func, (getattr(func, "__module__", "") or "")


def _is_ours(data):
    return _compiled_function(data)[1].startswith(_KERNEL_PACKAGE)


class _Notice(event.Listener):
    """Prints the notice when an outermost compile of a fastaug kernel starts; on a terminal,
    one spinner thread runs from then until no kernel has compiled for :data:`QUIET_AFTER`
    seconds (a first call compiles several kernels one after another), drawing only while a
    compile runs: the line is cleared as each ends, so the caller's output never lands
    behind it. Numba compiles under one global lock, so one compile at a time."""

    def __init__(self):
        self.enabled = True
        self.said = False
        self.depth = 0
        self.last_end = 0.0
        self.spinner = None
        self.drawing = threading.Lock()

    def on_start(self, ev):
        self.depth += 1
        if self.depth != 1 or not self.enabled or not _is_ours(ev.data):
            return
        stream = sys.stderr
        if not self.said:
            self.said = True
            print(
                f"fastaug: compiling kernels for first use, once (cached on disk): "
                f"~{TYPICAL_SECONDS} s",
                file=stream,
                flush=True,
            )
        if (self.spinner is None or not self.spinner.is_alive()) and _is_terminal(stream):
            self.spinner = threading.Thread(
                target=self._spin, args=(stream,), daemon=True, name="fastaug-compile-spinner"
            )
            self.spinner.start()

    def on_end(self, ev):
        self.depth -= 1
        if self.depth == 0:
            self.last_end = time.perf_counter()
            if self.spinner is not None:
                with self.drawing:
                    sys.stderr.write("\r\033[K")
                    sys.stderr.flush()

    def _spin(self, stream):
        start = time.perf_counter()
        frame = 0
        while self.depth > 0 or time.perf_counter() - self.last_end < QUIET_AFTER:
            with self.drawing:
                if self.depth > 0:
                    stream.write(
                        f"\r{_FRAMES[frame % len(_FRAMES)]} compiling "
                        f"{time.perf_counter() - start:4.1f} s"
                    )
                    stream.flush()
            frame += 1
            time.sleep(0.1)


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


_notice = _Notice()
event.register("numba:compile", _notice)


def compile_notice(enabled: bool = True) -> None:
    """Say (True, the default) or do not say (False) on stderr when kernels compile."""
    _notice.enabled = bool(enabled)


class CompileTimes(event.Listener):
    """Seconds spent compiling each kernel while installed (``with CompileTimes() as t``):
    ``t.table()`` lists (name, signatures compiled, inclusive s, exclusive s), slowest
    first. Inclusive time counts the kernels compiled on the way (callees); exclusive time
    does not, so the exclusive column adds up to the whole."""

    def __init__(self):
        self.stack = []
        self.times = {}

    def on_start(self, ev):
        self.stack.append([_name(ev.data), time.perf_counter(), 0.0])

    def on_end(self, ev):
        name, start, nested = self.stack.pop()
        spent = time.perf_counter() - start
        if self.stack:
            self.stack[-1][2] += spent
        record = self.times.setdefault(name, [0, 0.0, 0.0])
        record[0] += 1
        record[1] += spent
        record[2] += spent - nested

    def __enter__(self):
        event.register("numba:compile", self)
        return self

    def __exit__(self, *exc):
        event.unregister("numba:compile", self)

    def table(self):
        return sorted(
            (
                (name, n, inclusive, exclusive)
                for name, (n, inclusive, exclusive) in self.times.items()
            ),
            key=lambda row: -row[3],
        )


def _name(data):
    func, module = _compiled_function(data)
    if func is None:
        return "?"
    if module.startswith(_KERNEL_PACKAGE):
        return f"{module[len('fastaug.') :]}.{func.__qualname__}"
    return f"numba: {func.__qualname__.split('.<locals>')[0]}"
