"""Studies: the benchmarks and experiments behind the numbers in README and docs, and their
report writers (the top library layer: it may use everything below it, and nothing below
imports it). ``cryvideo benchmark ...`` and the scripts in ``benchmarks/`` run them.

- :mod:`.donateacry`, :mod:`.donateacry_report` — reason classifiers on Donateacry;
- :mod:`.ae_dnn` — the AE+DNN audio branches under the same protocols;
- :mod:`.detection_cv`, :mod:`.detection_cv_report` — cry detectors, grouped CV;
- :mod:`.panns`, :mod:`.panns_report` — the PANNs studies (pooling, compression).

Each ``cryvideo benchmark NAME`` runs :mod:`.NAME_benchmark` (:mod:`.detection_benchmark`,
:mod:`.donateacry_benchmark`, :mod:`.panns_benchmark`): one frozen settings dataclass, checked
when made, and one function that runs the study and writes its results, callable from Python.
"""
