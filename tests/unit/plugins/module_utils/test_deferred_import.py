"""_deferred_import: an optional library is imported when first used, and a missing one is one clear line."""

import subprocess
import sys

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils._deferred_import import Deferred

MODULES = "ansible_collections.citrix_community.ips.plugins.modules."


@pytest.mark.parametrize("module", ["ips_export", "ips_prepare", "ips_publish", "ips_job", "ips_diagnostics", "ips_pvs_vdisk"])
def test_a_module_that_may_reach_windows_or_vsphere_imports_neither_library_until_it_does(module):
    # a fresh interpreter: this process has imported both long ago
    probe = ("import sys, %s%s as m; from ansible_collections.citrix_community.ips.plugins.module_utils import _psrp; "
             "before = sorted(n for n in ('pypsrp', 'pyVmomi', 'spnego') if n in sys.modules); "
             "_psrp.Session('win.example', 'admin', password='x'); print(before, 'pypsrp' in sys.modules)" % (MODULES, module))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["[]", "True"], out


def test_a_name_is_loaded_once_on_first_use():
    calls = []

    def loader():
        calls.append(1)
        import json
        return {"dumps": json.dumps}

    lib = Deferred("json", loader)
    assert calls == []
    assert lib.dumps([1]) == "[1]" and lib.missing() is None
    assert calls == [1]
    with pytest.raises(AttributeError, match="json has no loads here"):
        lib.loads  # pylint: disable=pointless-statement


def test_a_missing_library_is_named_with_the_import_error():
    def loader():
        import ips_no_such_library  # noqa: F401 pylint: disable=import-error,unused-import
        return {}

    assert Deferred("ips_no_such_library", loader).missing() == "ModuleNotFoundError: No module named 'ips_no_such_library'"
