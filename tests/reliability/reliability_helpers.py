"""What the fault matrix's conftest and tests share: loading the integration suite's modules by path, and the tally."""

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
INTEGRATION = HERE.parent / "integration"
if str(INTEGRATION) not in sys.path:
    sys.path.append(str(INTEGRATION))  # the integration modules' own helpers (job_clock, lab_api), as pytest finds them there
TALLY = {"cells": 0, "faults_tried": 0, "faults_survived": 0, "bytes_resent": 0, "duplicate_jobs": 0}
_LOADED = {}


def load(name, path):
    """The module at `path` under `name` (once), so it never collides with another module of the same file name."""
    if name not in _LOADED:
        spec = importlib.util.spec_from_file_location(name, str(path))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _LOADED[name] = module
    return _LOADED[name]


def integration_conftest():
    return load("integration_conftest_for_reliability", INTEGRATION / "conftest.py")
