"""The collection's metadata agrees with its modules (docs as ansible-doc renders them, fragments merged)."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def modules_using_ipsmodule():
    """Modules that take the Citrix Cloud auth options: IPSModule without auth=False, or an action plugin taking auth_argument_spec."""
    modules = set(p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if "IPSModule(" in p.read_text() and "auth=False" not in p.read_text())
    actions = set(p.stem for p in (REPO / "plugins" / "action").glob("*.py") if "auth_argument_spec()" in p.read_text())
    assert actions <= set(p.stem for p in (REPO / "plugins" / "modules").glob("*.py")), "an action plugin without its docs module"
    return sorted(modules | actions)


def rendered_docs(names):
    ansible_doc = str(Path(sys.executable).with_name("ansible-doc"))
    out = subprocess.run([ansible_doc, "--json", "-t", "module"] + ["citrix_community.ips.%s" % n for n in names],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    return json.loads(out)


def test_every_auth_module_is_in_the_ips_action_group():
    group = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]["ips"]
    names = modules_using_ipsmodule()
    assert names, "no module found"
    assert sorted(group) == names


def test_every_auth_module_documents_auth_and_group_membership():
    names = modules_using_ipsmodule()
    docs = rendered_docs(names)
    for name in names:
        doc = docs["citrix_community.ips.%s" % name]["doc"]
        assert "client_secret" in doc["options"], name
        assert doc["attributes"]["action_group"]["membership"] == ["citrix_community.ips.ips"], name
        assert doc["attributes"]["check_mode"]["support"] in ("full", "partial", "none"), name
        assert doc["attributes"]["check_mode"]["description"], name
