"""The lab's folders depend one way only: common/ <- jobwork/ <- citrix/, jobwork/ <- winhost/,
common/ <- daas/ <- citrix/, common/ <- planes/ and common/ <- realhosts/
(the launchers only start processes, and read the names a stand-in seeds, such as winhost/'s PVS farm,
to publish them in the env file), and nothing in the lab imports the collection (the lab keeps
its own copy of the rules)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "lab" / "ips_lab"
# folder -> what its modules may import from the lab besides their own folder
ALLOWED = {
    "common": set(),
    "jobwork": {"common"},
    "citrix": {"common", "jobwork", "daas"},
    "daas": {"common"},
    "planes": {"common"},
    "winhost": {"common", "jobwork"},
    "realhosts": {"common"},
    "launchers": {"common", "runstate", "realhosts", "winhost"},
}


def imported_modules(path):
    """(line, absolute module name) of every import in `path`, relative ones resolved."""
    package = "ips_lab.%s" % path.parent.name
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if not node.level:
                yield node.lineno, node.module
                continue
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            if node.module:
                yield node.lineno, "%s.%s" % (base, node.module)
            else:
                for alias in node.names:
                    yield node.lineno, "%s.%s" % (base, alias.name)


def wrong_imports(folder, root=PACKAGE):
    wrong = []
    for path in sorted((root / folder).glob("*.py")):
        for line, module in imported_modules(path):
            parts = module.split(".")
            if parts[0] in ("ansible_collections", "plugins"):
                wrong.append("%s:%d imports the collection (%s)" % (path.relative_to(root), line, module))
            elif parts[0] == "ips_lab" and len(parts) > 1 and parts[1] != folder and parts[1] not in ALLOWED[folder]:
                wrong.append("%s:%d imports %s" % (path.relative_to(root), line, module))
    return wrong


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_folders_import_one_way(folder):
    assert not wrong_imports(folder)


def test_the_check_sees_a_wrong_import(tmp_path):
    (tmp_path / "jobwork").mkdir()
    (tmp_path / "jobwork" / "bad.py").write_text("from ..citrix import rules\nfrom ansible_collections.x import y\n")
    assert wrong_imports("jobwork", tmp_path) == ["jobwork/bad.py:1 imports ips_lab.citrix",
                                                  "jobwork/bad.py:2 imports the collection (ansible_collections.x)"]
