# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight: what a migration will use, checked before anything is submitted (ips_preflight).

One file per platform (citrix, wallet, smb, hypervisor with vsphere, azure, aws, gcp, upload); each
returns a list of items. An item is data: name, status (ok / missing / could_not_check), detail,
fix and scope. A check never creates or changes anything (the SMB probe file is written and removed).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

OK = "ok"
MISSING = "missing"
COULD_NOT_CHECK = "could_not_check"
STATUSES = (OK, MISSING, COULD_NOT_CHECK)


def item(name, status, detail, fix="", scope=""):
    """One checked item, as ips_preflight returns it."""
    return dict(name=name, status=status, detail=detail, fix=fix or "", scope=scope or "")


def size_text(size):
    """Bytes as people read them: GiB, or MiB below one GiB."""
    if size >= 1024 ** 3:
        return "%.1f GiB" % (size / 1073741824.0)
    return "%.1f MiB" % (size / 1048576.0)


def could_not_check(name, exc, fix, scope="", secrets=()):
    """The item of a check that failed to run: the error's first line (secrets redacted), with the fix."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._errors import redact

    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return item(name, COULD_NOT_CHECK, redact("%s: %s" % (type(exc).__name__, text), secrets)[:500], fix, scope)


def summary(items):
    """Readable lines: one per item, missing and could_not_check first, each with its fix."""
    order = {MISSING: 0, COULD_NOT_CHECK: 1, OK: 2}
    lines = []
    for it in sorted(items, key=lambda i: order[i["status"]]):
        line = "%-15s %s%s: %s" % (it["status"], it["name"], " [%s]" % it["scope"] if it["scope"] else "", it["detail"])
        if it["status"] != OK and it["fix"]:
            line += " -> fix: " + it["fix"]
        lines.append(line)
    counts = dict((s, sum(1 for i in items if i["status"] == s)) for s in STATUSES)
    lines.insert(0, "preflight: %d ok, %d missing, %d could not be checked" % (counts[OK], counts[MISSING], counts[COULD_NOT_CHECK]))
    return lines
