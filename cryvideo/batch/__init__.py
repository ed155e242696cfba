"""Batch runs: the per-file jobs of ``predict`` and ``detect``, where they run (in this process,
or on a Dask cluster: embedded ``LocalCluster`` or an existing scheduler), and the one row per
file of their outputs (JSON lines, Parquet), committed in batches and resumable.

From Python (a notebook), the whole loop of ``cryvideo detect --out cries.jsonl --resume``:

>>> from cryvideo.batch import DetectJob, DetectSettings, plan_batch, run_batch
>>> plan = plan_batch(["recordings/"], command="detect", out="cries.jsonl", resume=True)
>>> report = run_batch(plan, DetectJob(DetectSettings(summary=True)), echo=False)  # doctest: +SKIP
>>> report.records[0]["crying"]                                                    # doctest: +SKIP
True
"""

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
from .plan import BatchPlan, plan_batch
from .records import COLUMNS, arrow_schema, read_records, to_row
from .runner import BatchReport, BatchRunner, batch_failure, run_batch
from .settings import DetectSettings

__all__ = [
    "COLUMNS",
    "BatchPlan",
    "BatchReport",
    "BatchRunner",
    "DetectJob",
    "DetectSettings",
    "FileOutcome",
    "PredictJob",
    "RecordSink",
    "arrow_schema",
    "batch_failure",
    "dashboard_link",
    "dask_client",
    "on_dask",
    "output_format",
    "plan_batch",
    "read_records",
    "run_batch",
    "run_records",
    "run_file",
    "serial",
    "threads_per_worker",
    "to_row",
]
