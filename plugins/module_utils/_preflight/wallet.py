# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of the credential wallet: every credential id the jobs will name exists, with the right type."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils import _credentials, _wire
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import MISSING, OK, could_not_check, item

# The wallet type each platform's connection credential must have.
PLATFORM_TYPES = {"vsphere": "username_password", "xenserver": "username_password", "nutanix": "username_password",
                  "azure": "azure", "aws": "aws", "gcp": "gcp"}


def check(client, wanted, pending=()):
    """`wanted`: [(credential id, Ansible type, which option names it)]. `pending`: ids the credentials role
    would create in this run (check mode), reported ok with that note."""
    items = []
    seen = set()
    for ident, ctype, option in wanted:
        if not ident or (ident, ctype) in seen:
            continue
        seen.add((ident, ctype))
        name = "wallet credential %s (%s)" % (ident, option)
        if ident in pending:
            items.append(item(name, OK, "the credentials role creates it in this run (%s)" % option, scope=option))
            continue
        try:
            meta = _credentials.get(client, ident)
        except IPSError as exc:
            items.append(could_not_check(name, exc, "list the wallet with ips_credential_info", option))
            continue
        want = _wire.CREDENTIAL_TYPES[ctype].json
        if meta is None:
            items.append(item(name, MISSING, "the wallet has no credential %s (%s)" % (ident, option),
                              "create it with ips_credential (type %s) or the credentials role, or fix %s" % (ctype, option), option))
            continue
        got = meta.get(_wire.CREDENTIAL_TYPE.json)
        if got != want:
            items.append(item(name, MISSING, "credential %s is of type %s; %s needs %s" % (ident, got, option, want),
                              "recreate %s with type %s (ips_credential), or name another credential in %s" % (ident, ctype, option), option))
        else:
            items.append(item(name, OK, "exists, type %s" % got, scope=option))
    return items
