"""Whole jobs behind the command line: augment a dataset or an array to a file, describe
it, verify it. One engine (:mod:`.engine`) runs a work (:mod:`.works`) from a source
(:mod:`.sources`) into a sink (:mod:`.sinks`); :mod:`.formats` reads and writes every
output layout; :mod:`.info`, :mod:`.verify` and :mod:`.preview` read and show outputs.
"""

from .engine import (
    CHUNK,
    DEFAULT_MEMORY_MB,
    MAX_CHUNK,
    OUTPUT_DTYPES,
    AugmentSummary,
    Options,
    augment_dataset,
    augment_file,
    augment_zarr,
    chunk_sources,
    source_images,
)
from .formats import COLUMNS, open_output
from .info import describe
from .sources import InputError, open_source
from .verify import VerifyResult, verify
from .works import MAX_COPIES, FixedAngles, RandomDraws, Work, random_work

__all__ = [
    "CHUNK",
    "COLUMNS",
    "DEFAULT_MEMORY_MB",
    "MAX_CHUNK",
    "MAX_COPIES",
    "OUTPUT_DTYPES",
    "AugmentSummary",
    "FixedAngles",
    "InputError",
    "Options",
    "RandomDraws",
    "VerifyResult",
    "Work",
    "augment_dataset",
    "augment_file",
    "augment_zarr",
    "chunk_sources",
    "describe",
    "open_output",
    "open_source",
    "random_work",
    "source_images",
    "verify",
]
