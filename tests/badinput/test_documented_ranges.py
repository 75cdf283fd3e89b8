"""Every numeric option of every module has a range in _option_ranges.RANGES, and its documentation states it."""

import ast
import importlib
import os

import pytest
import yaml

from ansible_collections.citrix_community.ips.plugins.module_utils._option_ranges import RANGES

PLUGINS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "plugins")


def _documentation(path):
    """The DOCUMENTATION string of a module, read without importing it."""
    tree = ast.parse(open(path).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError("no DOCUMENTATION in %s" % path)


def _merged(path):
    """A module's documentation with its citrix_community.ips doc fragments' options merged in (as ansible-doc does).
    Fragments are imported, not parsed: one may build its text from shared pieces (windows_host.py)."""
    doc = _documentation(path)
    options = dict(doc.get("options") or {})
    for fragment in doc.get("extends_documentation_fragment") or []:
        # citrix_community.ips.NAME is NAME.py's DOCUMENTATION; citrix_community.ips.NAME.VAR its VAR (upper case)
        parts = fragment.split(".")[2:]
        variable = parts[1].upper() if len(parts) > 1 else "DOCUMENTATION"
        module = importlib.import_module("ansible_collections.citrix_community.ips.plugins.doc_fragments." + parts[0])
        options.update(yaml.safe_load(getattr(module.ModuleDocFragment, variable)).get("options") or {})
    doc["options"] = options
    return doc


def _numeric_options(options, prefix=""):
    for name, doc in sorted((options or {}).items()):
        if doc.get("type") in ("int", "float"):
            yield prefix + name, doc
        yield from _numeric_options(doc.get("suboptions"), prefix + name + ".")


def _fmt(number):
    return str(int(number)) if float(number) == int(number) else str(number)


@pytest.fixture(scope="module")
def docs():
    folder = os.path.join(PLUGINS, "modules")
    return dict((name[:-3], _merged(os.path.join(folder, name))) for name in sorted(os.listdir(folder)) if name.endswith(".py"))


def test_every_numeric_option_has_a_documented_enforced_range(docs):
    seen = 0
    missing = []
    for module, doc in docs.items():
        for path, option in _numeric_options(doc.get("options")):
            if path not in RANGES:
                missing.append("%s: %s has no range" % (module, path))
                continue
            low, high, _what = RANGES[path]
            text = " ".join(option["description"] if isinstance(option["description"], list) else [option["description"]]).lower()
            if "from %s" % _fmt(low) not in text or "to %s" % _fmt(high) not in text:
                missing.append("%s: %s does not document %s to %s" % (module, path, _fmt(low), _fmt(high)))
            seen += 1
    assert not missing, missing
    assert seen >= 25
