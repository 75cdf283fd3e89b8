"""The collection's metadata agrees with its modules."""

import ast
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def modules_using_ipsmodule():
    for path in sorted((REPO / "plugins" / "modules").glob("*.py")):
        if "IPSModule" in path.read_text():
            yield path


def test_every_auth_module_is_in_the_ips_action_group():
    group = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]["ips"]
    names = [p.stem for p in modules_using_ipsmodule()]
    assert names, "no module found"
    assert sorted(group) == sorted(names)


def test_every_auth_module_documents_its_group_membership():
    for path in modules_using_ipsmodule():
        tree = ast.parse(path.read_text())
        doc = next(node.value.value for node in tree.body if isinstance(node, ast.Assign) and node.targets[0].id == "DOCUMENTATION")
        data = yaml.safe_load(doc)
        assert "citrix_community.ips.auth" in data["extends_documentation_fragment"], path.name
        assert data["attributes"]["action_group"]["membership"] == ["citrix_community.ips.ips"], path.name
