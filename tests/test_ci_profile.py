"""CI cannot flip on a property test: with ``CI`` set (``.ci/run`` sets it), hypothesis runs
the ``ci`` profile of tests/conftest.py: derandomized, no example database, no timing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import hypothesis_profile
from hypothesis import HealthCheck, settings

TESTS = Path(__file__).resolve().parent


def test_ci_profile_is_derandomized_without_a_database():
    p = settings.get_profile("ci")
    assert p.derandomize is True
    assert p.database is None
    assert p.deadline is None
    assert HealthCheck.too_slow in p.suppress_health_check


@pytest.mark.parametrize("env,profile", [
    ({"CI": "true"}, "ci"), ({"CI": "1"}, "ci"), ({}, "default"), ({"CI": "false"}, "default"),
    ({"CI": ""}, "default"), ({"CI": "true", "HYPOTHESIS_PROFILE": "default"}, "default")])
def test_profile_follows_the_environment(env, profile):
    assert hypothesis_profile(env) == profile


@pytest.mark.parametrize("ci,expected", [("true", "True None"), (None, "False")])
def test_a_fresh_run_loads_the_profile(ci, expected):
    """What pytest does at start-up: conftest is imported, and the profile is loaded."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    if ci is not None:
        env["CI"] = ci
    code = ("import conftest; from hypothesis import settings; d = settings.default; "
            "print(d.derandomize, d.database if d.derandomize else '')")
    out = subprocess.run([sys.executable, "-c", code], cwd=TESTS, env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout.strip()
    assert out == expected


def test_ci_entry_point_sets_ci():
    assert 'export CI="${CI:-true}"' in (TESTS.parent / ".ci" / "run").read_text()
