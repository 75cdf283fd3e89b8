"""The fault matrix runs beside tests/integration, on the same labs: its fixtures (lab_env, lab, run_target, ...)
are the integration suite's, loaded under a name of their own so the two conftest modules never collide."""

import os
import sys
from pathlib import Path

import pytest
from reliability_helpers import TALLY, integration_conftest

_it = integration_conftest()
lab_env, lab_admin, lab, own_token_cache, test_secrets, run_target, find_leaks = (
    _it.lab_env, _it.lab_admin, _it.lab, _it.own_token_cache, _it.test_secrets, _it.run_target, _it.find_leaks)
# each cell's CPU-seconds, measured as the integration tests' are (the suite's report lists both)
pytest_runtest_setup = _it.pytest_runtest_setup
# the tally as the controller sums it from each cell's report (under xdist the cells count in the workers)
SUMMED = dict((key, 0) for key in TALLY)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item, call):
    _it.pytest_runtest_makereport(item, call)
    if call.when == "setup":
        item.user_properties.append(("tally_start", dict(TALLY)))
    elif call.when == "teardown":
        start = dict(item.user_properties).get("tally_start")
        if start is not None:
            item.user_properties.append(("tally", dict((key, TALLY[key] - start[key]) for key in TALLY)))


def pytest_runtest_logreport(report):
    _it.pytest_runtest_logreport(report)
    if report.when == "teardown":
        for key, value in (dict(report.user_properties).get("tally") or {}).items():
            SUMMED[key] += value


def _integration_conftest_loaded():
    """Whether pytest loaded tests/integration's conftest itself (both suites in one run): it prints the CPU report."""
    mine = Path(_it.__file__).resolve()
    return any(m is not _it and getattr(m, "__file__", None) and Path(m.__file__).resolve() == mine for m in list(sys.modules.values()))


def pytest_collection_modifyitems(config, items):
    if os.environ.get("IPS_TEST_LONG") == "1":
        return
    skip = pytest.mark.skip(reason="a long variant: make test-long (IPS_TEST_LONG=1) runs it")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config):
    config.addinivalue_line("markers", "long: a long fault-matrix variant, run by make test-long")


def pytest_terminal_summary(terminalreporter, config):
    if not _integration_conftest_loaded():
        _it.pytest_terminal_summary(terminalreporter, config)
    if hasattr(config, "workerinput"):
        return
    if SUMMED["cells"]:
        terminalreporter.write_line("fault matrix: %(cells)d cells, %(faults_tried)d faults tried, %(faults_survived)d survived, "
                                    "%(bytes_resent)d bytes re-sent beyond what was in flight, %(duplicate_jobs)d duplicate jobs" % SUMMED)
