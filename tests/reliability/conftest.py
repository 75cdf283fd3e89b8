"""The fault matrix runs beside tests/integration, on the same labs: its fixtures (lab_env, lab, run_target, ...)
are the integration suite's, loaded under a name of their own so the two conftest modules never collide."""

import os

import pytest
from reliability_helpers import TALLY, integration_conftest

_it = integration_conftest()
lab_env, lab_admin, lab, own_token_cache, test_secrets, run_target, find_leaks = (
    _it.lab_env, _it.lab_admin, _it.lab, _it.own_token_cache, _it.test_secrets, _it.run_target, _it.find_leaks)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("IPS_TEST_LONG") == "1":
        return
    skip = pytest.mark.skip(reason="a long variant: make test-long (IPS_TEST_LONG=1) runs it")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config):
    config.addinivalue_line("markers", "long: a long fault-matrix variant, run by make test-long")


def pytest_terminal_summary(terminalreporter):
    if TALLY["cells"]:
        terminalreporter.write_line("fault matrix: %(cells)d cells, %(faults_tried)d faults tried, %(faults_survived)d survived, "
                                    "%(bytes_resent)d bytes re-sent beyond what was in flight, %(duplicate_jobs)d duplicate jobs" % TALLY)
