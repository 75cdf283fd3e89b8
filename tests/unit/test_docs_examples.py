"""The YAML the documentation shows is YAML the collection takes: every ```yaml block of the README and docs/
parses, every option a task gives one of our modules exists (down to the keys of dict options, aliases included),
every role variable an inventory fragment sets is declared in a role's meta/argument_specs.yml (down to the keys
of dict variables), and every `module_defaults` group is one of ours with options its members take.

The blocks keep the placeholders a reader replaces (`<id>`, `vcenter.corp.example`), so they are checked
against the collection's own specs rather than run; docs/lab.md's playbooks and the README's first playbook
run verbatim against the lab (tests/integration/test_lab_for_newcomers.py, test_docs_playbooks.py).
"""

import re
from pathlib import Path

import pytest
import yaml
from test_collection_metadata import rendered_docs

REPO = Path(__file__).resolve().parents[2]
PREFIX = "citrix_community.ips."
# keys every task may carry next to its module (ansible's task keywords that show up in our docs)
TASK_KEYWORDS = {"name", "register", "async", "poll", "when", "loop", "vars", "become", "delegate_to", "no_log", "tags",
                 "check_mode", "diff", "changed_when", "failed_when", "until", "retries", "delay", "environment",
                 "module_defaults", "ignore_errors", "run_once", "notify", "block", "rescue", "always", "loop_control"}


def yaml_blocks():
    found = []
    for path in [REPO / "README.md"] + sorted((REPO / "docs").rglob("*.md")):
        text = path.read_text()
        for match in re.finditer(r"^```yaml\n(.*?)^```", text, re.S | re.M):
            line = text.count("\n", 0, match.start()) + 1
            found.append(pytest.param(path.relative_to(REPO), line, match.group(1), id="%s:%d" % (path.relative_to(REPO), line)))
    return found


BLOCKS = yaml_blocks()


@pytest.fixture(scope="module")
def module_options():
    names = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py"))
    return dict((name, docs["doc"].get("options") or {}) for name, docs in
                ((n.replace(PREFIX, ""), d) for n, d in rendered_docs(names).items()))


@pytest.fixture(scope="module")
def role_options():
    options = {}
    for spec in (REPO / "roles").glob("*/meta/argument_specs.yml"):
        main = (yaml.safe_load(spec.read_text()).get("argument_specs") or {}).get("main") or {}
        options.update(main.get("options") or {})
    return options


def names_of(options):
    """Option names and aliases -> the option's spec."""
    out = {}
    for name, spec in options.items():
        spec = spec or {}
        out[name] = spec
        for alias in spec.get("aliases") or []:
            out[alias] = spec
    return out


def unknown_keys(given, options, where):
    """Keys of `given` that `options` (an argument spec's options) does not declare, recursing into dict options."""
    known = names_of(options)
    problems = []
    for key, value in given.items():
        if str(key).startswith("..."):  # "{...same options...}": the reader fills it in
            continue
        if key not in known:
            problems.append("%s.%s" % (where, key))
            continue
        sub = known[key].get("suboptions") or known[key].get("options")
        if sub and isinstance(value, dict):
            problems.extend(unknown_keys(value, sub, "%s.%s" % (where, key)))
        elif sub and isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    problems.extend(unknown_keys(item, sub, "%s.%s[]" % (where, key)))
    return problems


# dict role variables the migrate role hands to a module's platform dict whole (so the role's spec stops there):
# (variable, key) -> the module whose `<platform>` option takes it
PASS_THROUGH = {("migrate_source", "connection"): "ips_export", ("migrate_target", "connection"): "ips_prepare",
                ("migrate_target", "upload"): "ips_upload"}


def unknown_pass_through_keys(role_vars, module_options):
    problems = []
    for (variable, key), module in PASS_THROUGH.items():
        value = role_vars.get(variable) or {}
        platform = value.get("platform")
        if isinstance(value.get(key), dict) and platform:
            spec = module_options[module].get(platform) or {}
            problems.extend(unknown_keys(value[key], spec.get("suboptions") or {}, "%s.%s (%s %s)" % (variable, key, module, platform)))
    return problems


def tasks_in(document):
    """Tasks of a play list, a task list or a single task."""
    items = document if isinstance(document, list) else [document]
    for item in items:
        if not isinstance(item, dict):
            continue
        if "hosts" in item:  # a play
            for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                yield from tasks_in(item.get(section) or [])
            continue
        for section in ("block", "rescue", "always"):
            yield from tasks_in(item.get(section) or [])
        yield item


def module_defaults_in(document):
    items = document if isinstance(document, list) else [document]
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("module_defaults"), dict):
            yield item["module_defaults"]


def test_the_docs_have_yaml_examples():
    assert len(BLOCKS) >= 5, "the docs lost their YAML examples (found %d)" % len(BLOCKS)


@pytest.mark.parametrize("path,line,text", BLOCKS)
def test_a_yaml_example_names_only_what_the_collection_takes(path, line, text, module_options, role_options):
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        pytest.fail("%s:%d is not valid YAML: %s" % (path, line, err))
    problems = []
    for task in tasks_in(document):
        ours = [k for k in task if str(k).startswith(PREFIX)]
        for key in ours:
            module = key[len(PREFIX):]
            assert module in module_options, "%s:%d uses %s, which is not a module of the collection" % (path, line, key)
            if isinstance(task[key], dict):
                problems.extend(unknown_keys(task[key], module_options[module], key))
        if ours:
            strange = [k for k in task if k not in TASK_KEYWORDS and not str(k).startswith(PREFIX)]
            problems.extend("%s: %s is not a task keyword" % (ours[0], k) for k in strange)
    groups = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]
    for defaults in module_defaults_in(document):
        for group, values in defaults.items():
            name = group[len("group/" + PREFIX):] if group.startswith("group/" + PREFIX) else None
            assert name in groups, "%s:%d: module_defaults names %s, not an action group of the collection" % (path, line, group)
            members = [module_options[m] for m in groups[name] if m in module_options]
            for key in values or {}:
                if not any(key in names_of(options) for options in members):
                    problems.append("%s: no member of the group takes %s" % (group, key))
    if isinstance(document, dict) and "module_defaults" not in document and "hosts" not in document:
        # an inventory fragment: role variables of ours, checked against the roles' argument specs
        ours = dict((k, v) for k, v in document.items() if re.match(r"(migrate|export|upload|prepare|publish|credentials|job_wait)_", str(k)))
        problems.extend(unknown_keys(ours, role_options, "vars"))
        problems.extend(unknown_pass_through_keys(ours, module_options))
    assert not problems, "%s:%d names what the collection does not take: %s" % (path, line, problems)
