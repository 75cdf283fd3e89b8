"""The two documentations of the windows_host option (doc_fragments/windows_host.py): the App Layering backend's and
ips_pvs_vdisk's. ansible-test's yamllint reads a fragment only as a literal string, so the sub-options are written
out twice; they must stay the same, as both modules take the same dict (_psrp.windows_host_spec())."""

import yaml

from ansible_collections.citrix_community.ips.plugins.doc_fragments.windows_host import ModuleDocFragment
from ansible_collections.citrix_community.ips.plugins.module_utils import _psrp


def _windows_host(text):
    return yaml.safe_load(text)["options"]["windows_host"]


def test_both_variants_document_the_same_sub_options():
    appliance, pvs = _windows_host(ModuleDocFragment.APPLIANCE_HOST), _windows_host(ModuleDocFragment.PVS_CONSOLE)
    assert appliance["suboptions"] == pvs["suboptions"]
    assert pvs.get("required") is True and not appliance.get("required")


def test_the_sub_options_are_those_the_modules_take():
    documented = _windows_host(ModuleDocFragment.APPLIANCE_HOST)["suboptions"]
    spec = _psrp.windows_host_spec()["options"]
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        assert documented[name].get("type", "str") == option.get("type", "str"), name
        assert documented[name].get("default") == option.get("default"), name
