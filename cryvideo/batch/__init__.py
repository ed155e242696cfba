"""Batch runs: the per-file jobs of ``predict`` and ``detect``, where they run (in this process,
or on a Dask cluster: embedded ``LocalCluster`` or an existing scheduler), and the one row per
file of their outputs (JSON lines, Parquet), committed in batches and resumable."""

from .executors import (
    dashboard_link,
    dask_client,
    on_dask,
    run_records,
    serial,
    threads_per_worker,
)
from .jobs import DetectJob, FileOutcome, PredictJob, run_file
from .outputs import RecordSink, output_format
from .records import COLUMNS, arrow_schema, read_records, to_row

__all__ = [
    "COLUMNS",
    "DetectJob",
    "FileOutcome",
    "PredictJob",
    "RecordSink",
    "arrow_schema",
    "dashboard_link",
    "dask_client",
    "on_dask",
    "output_format",
    "read_records",
    "run_records",
    "run_file",
    "serial",
    "threads_per_worker",
    "to_row",
]
