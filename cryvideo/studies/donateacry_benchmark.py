"""``cryvideo benchmark donateacry``, callable from Python: the feature-credibility benchmark
(paper Table 2) from a Donateacry folder to its report files.

The evaluation is :func:`cryvideo.studies.donateacry.run_benchmark`, the report
:func:`cryvideo.studies.donateacry_report.write_report`; this module reads the corpus (features
cached), runs the evaluation and writes the report, or rewrites the report alone.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the parser imports this module: sklearn and librosa load when used
    from ..audio.features import FeatureParams
    from .donateacry import BenchmarkConfig, BenchmarkResult

__all__ = ["DonateacryBenchmarkSettings", "DonateacryBenchmarkRun", "run_donateacry_benchmark",
           "DEFAULT_OUT"]

#: Output folder when none is named.
DEFAULT_OUT = "donateacry-benchmark"


def _config() -> BenchmarkConfig:
    from .donateacry import BenchmarkConfig

    return BenchmarkConfig()


def _params() -> FeatureParams:
    from ..audio.features import FeatureParams

    return FeatureParams()


@dataclasses.dataclass(frozen=True)
class DonateacryBenchmarkSettings:
    """What ``benchmark donateacry`` runs and where its report goes.

    Attributes
    ----------
    data_dir : str or os.PathLike
        Donateacry folder (cleaned corpus, or raw ``.caf``/``.3gp`` buckets).
    config : BenchmarkConfig
        The evaluation: class sets, protocols, features, models, repeats (checked when made).
    params : FeatureParams
        Feature parameters (stored with the results).
    out : str or os.PathLike
        Output folder.
    cache_dir : str or os.PathLike, optional
        Feature cache folder (default: ``$CRYVIDEO_CACHE_DIR/features``).
    ae_dnn_results : str or os.PathLike, optional
        An ``ae_dnn_donateacry.json`` whose AE+DNN rows join the table.
    report_only : bool
        Run nothing: rewrite the report from ``out/donateacry_results.json``.

    Examples
    --------
    >>> from cryvideo.studies.donateacry import BenchmarkConfig
    >>> from cryvideo.studies.donateacry_benchmark import DonateacryBenchmarkSettings
    >>> s = DonateacryBenchmarkSettings("donateacry/", config=BenchmarkConfig(
    ...     protocols=("grouped",), models=("SVM",), n_permutations=0))
    >>> s.out
    'donateacry-benchmark'
    """

    data_dir: str
    config: BenchmarkConfig = dataclasses.field(default_factory=lambda: _config())
    params: FeatureParams = dataclasses.field(default_factory=lambda: _params())
    out: str = DEFAULT_OUT
    cache_dir: str | None = None
    ae_dnn_results: str | None = None
    report_only: bool = False

    @classmethod
    def from_options(cls, data_dir, *, class_sets=None, config: dict | None = None,
                     params: dict | None = None, **settings) -> DonateacryBenchmarkSettings:
        """Settings from plain values, as a command line gives them.

        Parameters
        ----------
        data_dir : str or os.PathLike
        class_sets : sequence of str, optional
            Class-set specs (:func:`~cryvideo.studies.donateacry.parse_class_set`: ``"paper4"``,
            ``"all5"``, ``"hungry,tired"``, …); default: the config's.
        config, params : dict, optional
            Fields of :class:`~cryvideo.studies.donateacry.BenchmarkConfig` and
            :class:`~cryvideo.audio.features.FeatureParams`; those not given keep their
            defaults.
        **settings
            The other fields of this class.

        Examples
        --------
        >>> from cryvideo.studies.donateacry_benchmark import DonateacryBenchmarkSettings
        >>> s = DonateacryBenchmarkSettings.from_options(
        ...     "donateacry/", class_sets=["paper4"], config={"n_permutations": 0},
        ...     params={"duration": 3.0})
        >>> list(s.config.class_sets), s.params.duration
        (['paper4'], 3.0)
        """
        from ..audio.features import FeatureParams
        from .donateacry import BenchmarkConfig, parse_class_set

        config = dict(config or {})
        if class_sets:
            config["class_sets"] = dict(parse_class_set(c) for c in class_sets)
        return cls(data_dir, config=BenchmarkConfig(**config),
                   params=FeatureParams(**(params or {})), **settings)


@dataclasses.dataclass(frozen=True)
class DonateacryBenchmarkRun:
    """What a run wrote and did.

    Attributes
    ----------
    paths : list of Path
        The report files written.
    result : BenchmarkResult
        The evaluation (read back with ``report_only``).
    cache_stats : dict, optional
        Feature cache ``hits`` and ``misses`` (None with ``report_only``).
    """

    paths: list[Path]
    result: BenchmarkResult
    cache_stats: dict | None = None


def run_donateacry_benchmark(settings: DonateacryBenchmarkSettings, *,
                             progress: bool = True) -> DonateacryBenchmarkRun:
    """Compute (or load from the cache) the features, run every model under each protocol and
    write the report (Markdown table, CSVs, JSON, confusion-matrix PNGs) into
    ``settings.out``.

    Parameters
    ----------
    settings : DonateacryBenchmarkSettings
    progress : bool
        Progress bars on stderr (features, then fits).

    Returns
    -------
    DonateacryBenchmarkRun

    Raises
    ------
    InputFileError
        ``ae_dnn_results`` is not an AE+DNN results file (checked before anything runs).
    DatasetError
        No such data folder, or no clip of the classes asked for.

    Examples
    --------
    >>> from cryvideo.studies.donateacry_benchmark import (DonateacryBenchmarkSettings,
    ...                                                    run_donateacry_benchmark)
    >>> run = run_donateacry_benchmark(DonateacryBenchmarkSettings(
    ...     "../shared/data/donateacry", out="/tmp/da"))        # doctest: +SKIP
    >>> run.paths[0]                                            # doctest: +SKIP
    PosixPath('/tmp/da/donateacry_table2.md')
    """
    from ..audio.cache import FeatureCache
    from ..progress import StageProgress
    from .donateacry import load_dataset, run_benchmark
    from .donateacry_report import load_ae_dnn_rows, load_result, write_report

    s = settings
    ae_dnn = load_ae_dnn_rows(s.ae_dnn_results) if s.ae_dnn_results else None
    if s.report_only:
        result = load_result(os.path.join(s.out, "donateacry_results.json"))
        return DonateacryBenchmarkRun(write_report(result, s.out, ae_dnn=ae_dnn), result)
    specs = s.config.model_specs()
    needed = sorted({c for cs in s.config.class_sets.values() for c in cs})
    bar = StageProgress(unit="clip", disable=None if progress else True)
    try:
        data = load_dataset(s.data_dir, params=s.params, features=s.config.features,
                            classes=needed,
                            keep_matrices=any(x.feature_input == "matrix" for x in specs),
                            cache=FeatureCache(s.cache_dir), progress=bar)
    finally:
        bar.close()
    bar = StageProgress(unit="fit", disable=None if progress else True)
    try:
        result = run_benchmark(data, s.config, progress=bar)
    finally:
        bar.close()
    return DonateacryBenchmarkRun(write_report(result, s.out, ae_dnn=ae_dnn), result,
                                  dict(data.cache_stats))
