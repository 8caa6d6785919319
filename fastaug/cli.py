"""``fastaug`` command line: a thin skin over the public API.

Each subcommand parses its arguments, calls one function, prints the result. Errors in the
arguments or the data are one line on stderr (the traceback only with ``--debug``):
exit 2 for usage errors, 1 for failures, 128 + the signal's number when interrupted by
Ctrl-C (130), SIGTERM (143) or SIGHUP (129), after removing temporary files.
"""

import argparse
import math
import re
import signal
import sys
import threading
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from typing import NamedTuple

from . import _startup

#: What ``ArgumentParser.add_subparsers`` returns.
Subparsers = argparse._SubParsersAction

EXAMPLES_AUGMENT = """examples:
  fastaug augment --angles 15,-15                    # MNIST train: originals, +15, -15
  fastaug augment --random-rotation 15 --copies 4 --seed 0   # 4 random rotations each
  fastaug augment --pipeline mnist --copies 2 --no-original  # presets.mnist() draws
  fastaug augment --angles=-10,10 --dtype uint8 --out mnist-u8.npz
  fastaug augment --angles -30:30:10 --no-original   # -30, -20, ..., 30 degrees
  fastaug augment --angles 15,-15 --dataset fashion-mnist --split test --limit 1000
  fastaug augment --angles 15,-15 --out aug.npy --preview aug.png --force
  fastaug augment --angles 15,-15 --input big.npy --labels y.npy --out big-aug.npy --memory 128
  fastaug augment --angles 15,-15 --input x.zarr --out x-aug.zarr --scheduler tcp://127.0.0.1:8786
"""

EXAMPLES_COMPILE = """examples:
  fastaug compile                       # float64, float32, uint8 rotation + the MLP, 2 processes
  fastaug compile --dtypes uint8 --jobs 1
  RUN fastaug compile                   # in a Dockerfile: the image starts with warm kernels
"""

EXAMPLES_INFO = """examples:
  fastaug info mnist-train-augmented.npz
"""

EXAMPLES_EXPERIMENT = """examples:
  fastaug experiment                    # 10 seeds, 4000 steps, writes reports/experiment.md
  fastaug experiment --seeds 3 --steps 1000 --out-dir /tmp/report
"""

EXAMPLES_TRAIN_REPORT = """examples:
  fastaug train-report                  # 3 seeds x 10 epochs, writes reports/augmentation.md
  fastaug train-report --seeds 5 --epochs 20 --out-dir /tmp/report
"""

EXAMPLES_VERIFY = """examples:
  fastaug verify mnist-train-augmented.npz --samples 200
"""

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_ANGLE_ITEM = re.compile(rf"^({_NUMBER})(?::({_NUMBER}):({_NUMBER}))?$")
#: Most angles one --angles may give (each makes a full copy of the dataset).
MAX_ANGLES = 3600


def angle_list(text):
    """``15,-15`` -> [15.0, -15.0]; ``-30:30:10`` -> -30, -20, ..., 30 (START:STOP:STEP, STOP
    included when the steps reach it, as in ``numpy.arange(START, STOP + STEP/2, STEP)``
    but in exact decimal steps, so 0:1:0.1 gives 0.3, not 0.30000000000000004).

    Items mix freely (``-30:30:10,45``). Empty items, words, NaN, inf, a zero step, a
    step away from STOP and more than :data:`MAX_ANGLES` angles are usage errors.
    """
    values = []
    for item in text.split(","):
        match = _ANGLE_ITEM.match(item.strip())
        if match is None:
            raise argparse.ArgumentTypeError(
                "expected comma-separated finite numbers in degrees or START:STOP:STEP "
                f"ranges, e.g. 15,-15 or -30:30:10; got {text!r}"
            )
        start, stop, step = match.groups()
        if stop is None:
            values.append(float(start))
        else:
            values.extend(_angle_range(Decimal(start), Decimal(stop), Decimal(step), item))
        if len(values) > MAX_ANGLES:
            raise argparse.ArgumentTypeError(f"at most {MAX_ANGLES} angles; got more from {text!r}")
    if not all(math.isfinite(a) for a in values):
        raise argparse.ArgumentTypeError(f"angles must be finite; got {text!r}")
    return values


def _angle_range(start, stop, step, item):
    if step == 0:
        raise argparse.ArgumentTypeError(f"the step of {item!r} must not be 0")
    steps = (stop - start) / step
    if steps < 0:
        raise argparse.ArgumentTypeError(f"{item!r} is empty: the step goes away from the stop")
    if steps >= MAX_ANGLES:
        raise argparse.ArgumentTypeError(f"at most {MAX_ANGLES} angles; {item!r} gives more")
    return [float(start + k * step) for k in range(int(steps) + 1)]


def _number(text, convert, valid, expected):
    """An argparse type: ``convert(text)`` that passes ``valid``, else a usage error."""
    try:
        value = convert(text)
    except ValueError:
        value = None
    if value is None or not valid(value):
        raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
    return value


def _dtype_list(text):
    import numpy as np

    names = [t.strip() for t in text.split(",") if t.strip()]
    try:
        dtypes = [np.dtype(n) for n in names]
    except TypeError:
        dtypes = []
    if not names or len(dtypes) != len(names) or any(d.kind not in "biuf" for d in dtypes):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numeric dtypes, e.g. float32,uint8; got {text!r}"
        )
    return [d.name for d in dtypes]


def positive_int(text):
    return _number(text, int, lambda v: v >= 1, "a positive integer")


def seed_value(text):
    """A ``--seed``: the library's one rule for seeds (an integer from 0 to 2**64 - 1)."""
    from ._validation import RANDOM_COUNTER_LIMIT

    return _number(text, int, lambda v: 0 <= v < RANDOM_COUNTER_LIMIT,
                   "an integer from 0 to 2**64 - 1")  # fmt: skip


def thread_count(text):
    from ._parallel import MAX_THREADS

    return _number(
        text, int, lambda v: 1 <= v <= MAX_THREADS, f"an integer from 1 to {MAX_THREADS}"
    )


def finite_float(text):
    return _number(text, float, math.isfinite, "a finite number")


def non_negative_float(text):
    return _number(text, float, lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0")


def build_parser(commands: Collection[str | None] | None = None) -> argparse.ArgumentParser:
    """The ``fastaug`` parser: every subcommand, with the arguments of those in ``commands``
    only (of all when None). ``fastaug --help`` so imports none of the library: some
    choices (the datasets, the boundary modes) come from modules that load NumPy and Numba."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="fastaug",
        description="Exact, fast batch image augmentation (SciPy-exact "
        "rotations on Numba kernels).",
    )
    parser.add_argument("--version", action="version", version=f"fastaug {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, subcommand in SUBCOMMANDS.items():
        if commands is None or name in commands:
            subcommand.parser(sub, subcommand.summary)
        else:
            sub.add_parser(name, help=subcommand.summary)
    return parser


def _subparser(
    sub: Subparsers, name: str, summary: str, description: str, examples: str
) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=summary,
        description=description,
        epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def augment_parser(sub: Subparsers, summary: str) -> None:
    """``fastaug augment``: a dataset split (or an ``--input`` array) and its rotations or
    random variants."""
    from .datasets import DATASETS
    from .presets import NAMES as PRESETS
    from .resampling import MODES

    aug = _subparser(
        sub,
        "augment",
        summary,
        "Write each image of a dataset split followed by its rotations "
        "(scipy.ndimage.rotate semantics, reshape=False), or by random variants drawn per "
        "sample from a seed (their parameters stored with them), with aligned labels.",
        EXAMPLES_AUGMENT,
    )
    what = aug.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--angles",
        type=angle_list,
        help="comma-separated angles in degrees, e.g. 15,-15, and ranges "
        "START:STOP:STEP with STOP included, e.g. -30:30:10 (--angles=-15,15 and "
        "--angles -15,15 both work)",
    )
    what.add_argument(
        "--random-rotation",
        type=non_negative_float,
        metavar="DEGREES",
        help="instead of fixed angles: --copies random rotations of each image, each angle "
        "uniform in [-DEGREES, DEGREES] (uses --order, --mode, --cval)",
    )
    what.add_argument(
        "--pipeline",
        choices=PRESETS,
        help="instead of fixed angles: --copies random variants of each image by a preset "
        "pipeline (mnist: fastaug.presets.mnist(), rotation, shift and scale)",
    )
    aug.add_argument(
        "--copies",
        type=positive_int,
        default=1,
        metavar="N",
        help="random variants per image with --random-rotation or --pipeline (default: 1)",
    )
    aug.add_argument(
        "--seed",
        type=seed_value,
        default=0,
        help="seed of the random variants: the same seed gives the same file (default: 0)",
    )
    aug.add_argument(
        "--dataset", default="mnist", choices=sorted(DATASETS), help="dataset (default: mnist)"
    )
    aug.add_argument(
        "--data",
        metavar="DIR",
        help="folder with the four IDX files (default: "
        "FASTAUG_DATA, then the cache, then download)",
    )
    aug.add_argument(
        "--split",
        default="train",
        choices=("train", "test"),
        help="split to augment (default: train)",
    )
    aug.add_argument(
        "--order",
        type=int,
        default=3,
        choices=range(6),
        metavar="{0..5}",
        help="spline order (default: 3, as scipy)",
    )
    aug.add_argument(
        "--mode",
        default="nearest",
        choices=list(MODES),
        help="boundary mode (default: nearest, as the source script)",
    )
    aug.add_argument(
        "--cval", type=finite_float, default=0.0, help="fill value for constant modes (default: 0)"
    )
    aug.add_argument(
        "--dtype",
        default="float32",
        choices=("float32", "uint8"),
        help="float32 in [0, 1] (default) or uint8 in [0, 255]",
    )
    aug.add_argument(
        "--layout",
        default="interleaved",
        choices=("interleaved", "blocked"),
        help="interleaved: image, its rotations, next image... (default); "
        "blocked: all originals, then each angle",
    )
    aug.add_argument(
        "--no-original",
        dest="include_original",
        action="store_false",
        help="leave the unrotated images out",
    )
    aug.add_argument(
        "--limit", type=positive_int, metavar="N", help="only the first N images of the split"
    )
    aug.add_argument(
        "--threads",
        type=thread_count,
        metavar="N",
        help="threads for the kernels (default: all cores)",
    )
    aug.add_argument(
        "--out",
        metavar="PATH",
        help="output .npz (default: <dataset>-<split>-augmented.npz) or .npy; with --input "
        "also DIR.zarr",
    )
    aug.add_argument(
        "--input",
        metavar="PATH",
        help="augment this array instead of a dataset: .npy, .npz (with --key) or a Zarr "
        "directory, images (N, H, W) or (N, H, W, C); larger than memory is fine, and an "
        "interrupted run resumes",
    )
    aug.add_argument("--key", help="the array of an --input .npz")
    aug.add_argument("--labels", metavar="PATH", help="labels for --input (.npy, .npz or Zarr)")
    aug.add_argument(
        "--scale",
        action=argparse.BooleanOptionalAction,
        help="with --input: divide integer images (up to 16 bits) by their dtype's maximum "
        "into float32 [0, 1] (default: uint8 only; every other dtype keeps its values, and a "
        "value the output --dtype cannot hold exactly is an error)",
    )
    aug.add_argument(
        "--memory",
        type=positive_int,
        default=256,
        metavar="MB",
        help="the job's data buffers stay within MB, whatever the number of angles or, "
        "with --input, the size of the data (default: 256)",
    )
    aug.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --input DIR.zarr and --out DIR.zarr: run on this dask.distributed "
        "scheduler (tcp://host:8786); needs the dask extra",
    )
    aug.add_argument("--force", action="store_true", help="overwrite existing output files")
    aug.add_argument("--preview", metavar="PNG", help="also write a PNG grid of samples")
    aug.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar, no compile notice and no summary line",
    )


def compile_parser(sub: Subparsers, summary: str) -> None:
    """``fastaug compile``: which kernels to compile, in how many processes."""
    comp = _subparser(
        sub,
        "compile",
        summary,
        "Compile fastaug's kernels for the given dtypes into Numba's disk cache "
        "(once per machine; a first call otherwise compiles them, ~5 s). Useful in a "
        "container build or a CI step. Tasks run in parallel processes.",
        EXAMPLES_COMPILE,
    )
    comp.add_argument(
        "--dtypes",
        type=_dtype_list,
        default=None,
        metavar="LIST",
        help="comma-separated dtypes (default: float64,float32,uint8)",
    )
    comp.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        metavar="N",
        help="processes at once (default: the number of CPUs; 1: this one)",
    )
    comp.add_argument(
        "--no-mlp",
        dest="mlp",
        action="store_false",
        help="only the rotation kernels, not the MLP's",
    )
    comp.add_argument("--quiet", action="store_true", help="no summary")


def info_parser(sub: Subparsers, summary: str) -> None:
    """``fastaug info FILE``."""
    info = _subparser(
        sub,
        "info",
        summary,
        "Print the arrays, parameters and label counts of a file written by 'fastaug augment'.",
        EXAMPLES_INFO,
    )
    info.add_argument("file", help=".npz or .npy written by fastaug augment")


def verify_parser(sub: Subparsers, summary: str) -> None:
    """``fastaug verify FILE``: how many samples, and where the source dataset is."""
    ver = _subparser(
        sub,
        "verify",
        summary,
        "Recompute K random augmented samples of an augmented file from the "
        "source dataset with SciPy (ndimage.rotate for fixed angles, ndimage.affine_transform "
        "for random draws, whose parameters are drawn again from the file's seed); exit 1 if "
        "any differs by more than the tolerance.",
        EXAMPLES_VERIFY,
    )
    ver.add_argument("file", help=".npz or .npy written by fastaug augment")
    ver.add_argument(
        "--samples",
        type=positive_int,
        default=100,
        metavar="K",
        help="how many augmented samples to recompute (default: 100)",
    )
    ver.add_argument("--data", metavar="DIR", help="folder with the source IDX files")


def experiment_parser(sub: Subparsers, summary: str) -> None:
    """``fastaug experiment``: the source's experiment's seeds, steps and rate."""
    exp = _subparser(
        sub,
        "experiment",
        summary,
        "Train the source script's MLP on 10 MNIST images (A) and on those 10 "
        "plus their +-15 degree rotations (B) from the same weights, over several seeds; "
        "write reports/experiment.md and two PNGs.",
        EXAMPLES_EXPERIMENT,
    )
    exp.add_argument(
        "--seeds",
        type=positive_int,
        default=10,
        metavar="K",
        help="number of seeds, 8, 9, ... (default: 10; seed 8 is the source's)",
    )
    exp.add_argument(
        "--steps", type=positive_int, default=4000, help="full-batch SGD steps (default: 4000)"
    )
    exp.add_argument(
        "--lr", type=finite_float, default=0.001, help="learning rate (default: 0.001)"
    )
    _report_arguments(exp)


def train_report_parser(sub: Subparsers, summary: str) -> None:
    """``fastaug train-report``: seeds, epochs, rate and batch size."""
    rep = _subparser(
        sub,
        "train-report",
        summary,
        "Train fastaug's MLP on the 60000 MNIST training images, plain and with "
        "Loader + presets.mnist() (same seeds, order, epochs and learning rate); score both "
        "on the test set and a +-15 degree rotated copy; write reports/augmentation.md and "
        "two PNGs (about a minute for 3 seeds x 10 epochs on 2 cores).",
        EXAMPLES_TRAIN_REPORT,
    )
    rep.add_argument(
        "--seeds", type=positive_int, default=3, metavar="K", help="seeds 0..K-1 (default: 3)"
    )
    rep.add_argument("--epochs", type=positive_int, default=10, help="epochs (default: 10)")
    rep.add_argument("--lr", type=finite_float, default=0.1, help="learning rate (default: 0.1)")
    rep.add_argument(
        "--batch-size", type=positive_int, default=100, help="minibatch size (default: 100)"
    )
    _report_arguments(rep)


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    """Where a report's data comes from and where it goes."""
    parser.add_argument("--data", metavar="DIR", help="folder with the MNIST IDX files")
    parser.add_argument(
        "--out-dir",
        default="reports",
        metavar="DIR",
        help="where to write the report (default: reports)",
    )


def _join_negative_values(argv):
    """Let ``--angles -15,15`` work: argparse would take ``-15,15`` for an option."""
    fixed = []
    it = iter(argv)
    for arg in it:
        if arg == "--angles":
            value = next(it, None)
            fixed.append(f"--angles={value}" if value is not None else arg)
        else:
            fixed.append(arg)
    return fixed


def cmd_augment(args):
    from . import set_num_threads
    from .jobs import augment_dataset, random_work

    if args.threads:
        set_num_threads(args.threads)
    random = None
    if args.angles is None:
        random = random_work(
            args.random_rotation,
            args.pipeline,
            copies=args.copies,
            seed=args.seed,
            order=args.order,
            mode=args.mode,
            cval=args.cval,
        )
    elif args.copies != 1:
        raise ValueError("--copies is for --random-rotation or --pipeline")
    if args.input is not None:
        summary = _augment_input(args, random)
    else:
        for option in ("key", "labels", "scheduler", "scale"):
            if getattr(args, option) is not None:
                raise ValueError(f"--{option} is for --input")
        summary = _augment_dataset(args, random, augment_dataset)
    if not args.quiet:
        print(summary.line())
    return 0


def _augment_input(args, random):
    """``--input``: an array of any size, out of core, or on a Dask scheduler."""
    from .jobs import FixedAngles

    work = (
        random if random is not None else FixedAngles(args.angles, args.order, args.mode, args.cval)
    )
    progress = not args.quiet and sys.stderr.isatty()
    if args.scheduler is not None:
        from .jobs import augment_zarr

        return augment_zarr(
            args.input,
            args.out,
            work,
            scheduler=args.scheduler,
            labels=args.labels,
            dtype=args.dtype,
            include_original=args.include_original,
            force=args.force,
            scale=args.scale,
            limit=args.limit,
        )
    from .jobs import augment_file

    return augment_file(
        args.input,
        work,
        key=args.key,
        labels=args.labels,
        dtype=args.dtype,
        layout=args.layout,
        include_original=args.include_original,
        out=args.out,
        memory_mb=args.memory,
        force=args.force,
        progress=progress,
        scale=args.scale,
        limit=args.limit,
    )


def _augment_dataset(args, random, augment_dataset):
    return augment_dataset(
        args.angles or (),
        random=random,
        dataset=args.dataset,
        data=args.data,
        split=args.split,
        order=args.order,
        mode=args.mode,
        cval=args.cval,
        dtype=args.dtype,
        layout=args.layout,
        include_original=args.include_original,
        limit=args.limit,
        out=args.out,
        force=args.force,
        preview=args.preview,
        progress=not args.quiet and sys.stderr.isatty(),
        memory_mb=args.memory,
    )


def cmd_compile(args):
    from .warmup import DEFAULT_DTYPES, TASKS, compile_kernels

    tasks = TASKS if args.mlp else ("rotation",)
    seconds, results = compile_kernels(args.dtypes or DEFAULT_DTYPES, tasks, jobs=args.jobs)
    if not args.quiet:
        kernels = {
            row[0] for _, _, _, table in results for row in table if not row[0].startswith("numba:")
        }
        for task, dtype, spent, table in results:
            print(f"  {task:8s} {dtype:8s} {spent:6.2f} s, {len(table)} functions compiled")
        print(
            f"compiled {len(kernels)} fastaug kernels for {len(results)} tasks in "
            f"{seconds:.1f} s (cache: {_cache_dir()})"
        )
    return 0


def _cache_dir():
    from .kernels import _jit

    return _jit.CACHE_DIR or "off (FASTAUG_JIT_CACHE=0)"


def cmd_info(args):
    from .jobs import describe

    print(describe(args.file))
    return 0


def cmd_verify(args):
    from .jobs import verify

    result = verify(args.file, args.samples, data=args.data)
    print(result.line())
    return 0 if result.ok else 1


def cmd_experiment(args):
    from .reports.experiment import experiment

    command = (
        f"fastaug experiment --seeds {args.seeds} --steps {args.steps} --lr {args.lr}"
        f" --out-dir {args.out_dir}"
    )
    summary, seconds = experiment(
        args.seeds,
        args.steps,
        args.lr,
        data=args.data,
        out_dir=args.out_dir,
        command=command,
        progress=lambda k, n: print(f"seed {k}/{n} done", file=sys.stderr),
    )
    accuracy = ", ".join(
        f"{name} {100 * model['accuracy'][0]:.2f} %" for name, model in summary["models"].items()
    )
    print(
        f"wrote {args.out_dir}/experiment.md (+ 2 PNGs) in {seconds:.1f} s: test accuracy "
        f"{accuracy} over {summary['seeds']} seeds"
    )
    return 0


def cmd_train_report(args):
    from .reports.training import training_report

    command = (
        f"fastaug train-report --seeds {args.seeds} --epochs {args.epochs} --lr {args.lr}"
        f" --batch-size {args.batch_size} --out-dir {args.out_dir}"
    )
    summary, seconds = training_report(
        args.seeds,
        args.epochs,
        args.lr,
        args.batch_size,
        data=args.data,
        out_dir=args.out_dir,
        command=command,
        progress=lambda k, n: print(f"seed {k}/{n} done", file=sys.stderr),
    )
    accuracy = ", ".join(
        f"{name} {100 * summary[name]['test'][0]:.2f} % "
        f"(rotated {100 * summary[name]['rotated'][0]:.2f} %)"
        for name in ("plain", "augmented")
    )
    print(
        f"wrote {args.out_dir}/augmentation.md (+ 2 PNGs) in {seconds:.1f} s: "
        f"test accuracy {accuracy}"
    )
    return 0


class Subcommand(NamedTuple):
    summary: str  # the one line ``fastaug --help`` shows
    parser: Callable[[Subparsers, str], None]  # adds the subcommand's parser and arguments
    run: Callable[[argparse.Namespace], int]  # parsed arguments -> exit status


#: The subcommands, in the order ``fastaug --help`` lists them.
SUBCOMMANDS = {
    "augment": Subcommand(
        "rotate every image of a dataset split and write an augmented file",
        augment_parser,
        cmd_augment,
    ),
    "compile": Subcommand(
        "compile the kernels into the disk cache ahead of use", compile_parser, cmd_compile
    ),
    "info": Subcommand("describe an augmented file", info_parser, cmd_info),
    "verify": Subcommand(
        "recompute random samples with SciPy and compare", verify_parser, cmd_verify
    ),
    "experiment": Subcommand(
        "reproduce the source's 10-vs-30-image MLP experiment as a report",
        experiment_parser,
        cmd_experiment,
    ),
    "train-report": Subcommand(
        "train the MLP on full MNIST with and without on-the-fly augmentation",
        train_report_parser,
        cmd_train_report,
    ),
}


#: Signals that end a command as Ctrl-C does: temporary files removed, exit 128 + signal.
TERMINATING = ("SIGTERM", "SIGHUP")


class Terminated(BaseException):
    """A terminating signal, raised in the main thread as Ctrl-C raises KeyboardInterrupt
    (a BaseException for the same reason: no ``except Exception`` swallows it)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame):
    # Once: a second signal must not interrupt the clean-up of the first.
    for name in TERMINATING:
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise Terminated(signum)


def _catch_terminating_signals():
    """Install :func:`_terminate` for :data:`TERMINATING`; returns the handlers to restore
    (none when not in the main thread, where Python cannot install handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    signums = [getattr(signal, name) for name in TERMINATING if hasattr(signal, name)]
    return {signum: signal.signal(signum, _terminate) for signum in signums}


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed command line (``sys.argv[1:]`` when None); usage errors and ``--help``
    exit here (SystemExit), before any of the library is imported."""
    argv = _join_negative_values(sys.argv[1:] if argv is None else list(argv))
    # Top-level options take no value: the first other word names the subcommand.
    parser = build_parser([next((arg for arg in argv if not arg.startswith("-")), None)])
    args = parser.parse_args(argv)
    if getattr(args, "angles", None) == []:  # argparse drops a value of "--" (--angles=--)
        parser.error("argument --angles: expected comma-separated finite numbers; got '--'")
    return args


def run(args: argparse.Namespace) -> int:
    """Run a parsed command: its exit status, errors turned into one line on stderr."""
    from . import _compiling  # the compile notice listens before any kernel loads
    from .datasets import DatasetError, DatasetNotFound
    from .io import OutputError

    if getattr(args, "quiet", False):
        _compiling.compile_notice(False)
    previous = _catch_terminating_signals()
    try:
        return SUBCOMMANDS[args.command].run(args)
    except (KeyboardInterrupt, Terminated) as exc:
        from .io import remove_own_temporaries

        remove_own_temporaries()  # also one the signal caught before its clean-up began
        signum = getattr(exc, "signum", signal.SIGINT)
        resume = "; run it again to resume" if getattr(args, "input", None) else ""
        print(
            f"fastaug: interrupted ({signal.Signals(signum).name}); no output was written{resume}",
            file=sys.stderr,
        )
        return 128 + signum
    except (DatasetNotFound, DatasetError, OutputError, ValueError, TypeError, OSError) as exc:
        if args.debug:
            raise
        print(f"fastaug {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line for anything unforeseen too
        if args.debug:
            raise
        print(
            f"fastaug {args.command}: internal error: {type(exc).__name__}: {exc} "
            "(please report it; --debug shows the traceback)",
            file=sys.stderr,
        )
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """``fastaug`` in this process: parse ``argv`` and run the command; its exit status."""
    return run(parse(argv))


def console() -> int:
    """The ``fastaug`` command's own process (console script, ``python -m fastaug``):
    :func:`main` with the start-up measures of :mod:`fastaug._startup`, taken once the
    arguments are parsed, so that ``--help`` and usage errors stay quick."""
    args = parse()
    _startup.before_command()
    code = run(args)
    _startup.before_exit()
    return code
