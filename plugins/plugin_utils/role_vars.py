# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unknown keys in a role's dict variables, and unknown variables with the role's prefix, each with the closest valid
name. ansible-core's role argument validation (meta/argument_specs.yml) names an unknown key and lists the supported
ones; it suggests nothing and never looks at a misspelt top-level variable (that one is simply not read)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib


def _closest(name, valid):
    found = difflib.get_close_matches(name, sorted(valid), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_keys(spec, values, path=""):
    """[(dotted name, suggestion or None, valid names)] for every key of `values` that `spec` (an options dict) lacks,
    into nested dicts and lists of dicts whose spec declares options."""
    problems = []
    for name, value in sorted((values or {}).items()):
        where = "%s.%s" % (path, name) if path else name
        if name not in spec:
            if path:
                problems.append((where, _closest(name, spec), sorted(spec)))
            continue
        options = spec[name].get("options")
        if not options:
            continue
        if isinstance(value, dict):
            problems.extend(unknown_keys(options, value, where))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    problems.extend(unknown_keys(options, item, "%s[%d]" % (where, index)))
    return problems


def unknown_variables(prefix, names, known):
    """[(name, suggestion)] for variables starting with `prefix` that the role neither declares nor sets, and that look
    like a declared one (a typo). A name like nothing declared is left alone: it may be the user's own."""
    # compared without the prefix every name shares, and closer than for keys: a warning must be worth reading
    declared = dict((k[len(prefix):], k) for k in known if k.startswith(prefix))
    out = []
    for name in sorted(names):
        if name.startswith(prefix) and name not in known:
            close = difflib.get_close_matches(name[len(prefix):], sorted(declared), n=1, cutoff=0.75)
            if close:
                out.append((name, declared[close[0]]))
    return out


def message(role, problems):
    first = problems[0]
    text = "%s role: %s is not a key it knows%s" % (role, first[0], ": did you mean %s?" % first[1] if first[1] else ".")
    rest = ["%s%s (valid: %s)" % (where, " - did you mean %s?" % close if close else "", ", ".join(valid))
            for where, close, valid in problems]
    return text + " Detail: " + "; ".join(rest)
