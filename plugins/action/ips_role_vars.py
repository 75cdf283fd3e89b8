# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ips_role_vars: check a role's variables against its meta/argument_specs.yml before the role's first task, naming
an unknown key of a dict variable with the closest valid one (a failure) and an unknown variable with the role's
prefix that looks like a declared one (a warning). Run by the role_vars role, a dependency of each role, so it comes
before ansible-core's own argument validation."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.citrix_community.ips.plugins.plugin_utils.role_vars import message, unknown_keys, unknown_variables

ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")


def _yaml(path):
    try:
        with open(path) as handle:
            return yaml.safe_load(handle) or {}
    except (IOError, OSError):
        return {}


def _names_set_by(role_dir):
    names = set()
    for sub in ("defaults", "vars"):
        names.update(_yaml(os.path.join(role_dir, sub, "main.yml")))
    tasks = os.path.join(role_dir, "tasks")
    for name in os.listdir(tasks) if os.path.isdir(tasks) else ():
        with open(os.path.join(tasks, name)) as handle:
            text = handle.read()
        names.update(re.findall(r"register:\s*([A-Za-z_][A-Za-z0-9_]*)", text))
        names.update(re.findall(r"^\s+([A-Za-z_][A-Za-z0-9_]*):", text, re.M))  # set_fact and vars keys
    return names


class ActionModule(ActionBase):
    _VALID_ARGS = frozenset(("role",))
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        role = self._task.args.get("role")
        role_dir = os.path.join(ROLES, str(role))
        spec = (_yaml(os.path.join(role_dir, "meta", "argument_specs.yml")).get("argument_specs") or {}).get("main")
        if not role or not spec:
            result.update(failed=True, msg="ips_role_vars: role must name a role of citrix_community.ips with meta/argument_specs.yml "
                                           "(got %r)" % role)
            return result
        options = spec.get("options") or {}
        values = {}
        for name in options:
            if name in task_vars:
                try:
                    values[name] = self._templar.template(task_vars[name])
                except Exception:  # pylint: disable=broad-except  # an undefined part: ansible-core's validation reports it
                    continue
        problems = unknown_keys(options, values)
        warnings = ["%s is not a variable of the %s role: did you mean %s?" % (name, role, close)
                    for name, close in unknown_variables(role + "_", task_vars, set(options) | _names_set_by(role_dir))]
        if warnings:
            result["warnings"] = warnings
        if problems:
            result.update(failed=True, msg=message(role, problems), unknown=[p[0] for p in problems])
            return result
        # the rest of ansible-core's checks (types, choices, required keys), as a short message before the detail rather
        # than the whole spec on one line; values are never shown
        errors = [str(e) for e in ArgumentSpecValidator(options).validate(values).error_messages]
        if errors:
            result.update(failed=True, msg="%s role: %s Detail: %s" % (role, errors[0].split(". ")[0].rstrip(".") + ".", "; ".join(errors)))
            return result
        result.update(changed=False, msg="%s role: every dict variable holds only keys it knows" % role)
        return result
