"""Every option an upload target reads is one ips_upload declares: an undeclared one can never be set by a user
(the Azure operation wait once read `wait_timeout` from the target options, so it was always 3600 s)."""

import importlib
import re
from pathlib import Path

import pytest

UPLOAD = Path(__file__).resolve().parents[5] / "plugins" / "module_utils" / "_upload"
READ = re.compile(r"""\b(?:o|options|self\.options)(?:\.get\(|\[)["']([a-z_]+)["']""")


@pytest.mark.parametrize("target", ["azure", "aws", "gcp"])
def test_every_option_a_target_reads_is_declared(target):
    spec = importlib.import_module("ansible_collections.citrix_community.ips.plugins.modules.ips_upload").SPEC
    read = set(READ.findall((UPLOAD / ("%s.py" % target)).read_text()))
    assert read, "the pattern found nothing: the test no longer reads the target's code"
    assert read <= set(spec[target]["options"]), "read but not declared: %s" % sorted(read - set(spec[target]["options"]))


def test_module_level_waits_and_retries_are_declared():
    spec = importlib.import_module("ansible_collections.citrix_community.ips.plugins.modules.ips_upload").SPEC
    for name in ("wait_timeout", "request_timeout", "retries"):
        assert spec[name]["type"] in ("int", "float") and spec[name]["default"] > 0
