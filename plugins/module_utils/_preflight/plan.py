# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a migration will use, as the preflight sees it: its stages and the wallet credentials its jobs name.

The workflow table is the migrate role's (roles/migrate/vars/main.yml); keep the two equal.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils._preflight.wallet import PLATFORM_TYPES

WORKFLOW_STAGES = {
    "mcs_to_mcs": ("export", "upload", "prepare"),
    "pvs_to_mcs": ("upload", "prepare"),
    "pvs_to_pvs": ("upload", "prepare", "publish"),
    "mcs_to_pvs": ("export", "upload", "prepare", "publish"),
}
# Option values whose keys hold secrets, inside the free-form dicts (target.connection, target.upload).
SECRET_KEYS = ("password", "client_secret", "secret", "secret_access_key", "session_token", "token", "access_token",
               "x509_certificate_password", "service_account_key", "service_account_contents", "private_key")


def stages(workflow, wanted=None):
    """The stages to check: `wanted` (migrate's run stages, e.g. after migrate_start_at) or the workflow's."""
    known = WORKFLOW_STAGES[workflow]
    return tuple(s for s in known if not wanted or s in wanted)


def wallet_ids(p, run):
    """[(credential id, type, option)] of every wallet credential the jobs of the stages in `run` name."""
    out = []
    src, tgt, smb, store = p["source"] or {}, p["target"] or {}, p["smb"] or {}, p["pvs_store"] or {}
    if "export" in run and src.get("platform"):
        out.append(((src.get("connection") or {}).get("credential_id"), PLATFORM_TYPES[src["platform"]], "source.connection.credential_id"))
    if smb.get("credential_id") and ("export" in run or p["workflow"].startswith("pvs_")):
        out.append((smb["credential_id"], "username_password", "smb.credential_id"))
    if "prepare" in run or "publish" in run:
        out.append(((tgt.get("connection") or {}).get("credential_id"), PLATFORM_TYPES[tgt["platform"]], "target.connection.credential_id"))
    if "publish" in run and store.get("credential_id"):
        out.append((store["credential_id"], "username_password", "pvs_store.credential_id"))
    return out


def secrets_in(value):
    """Every secret value inside a free-form dict (recursively), for the module's no_log values."""
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in SECRET_KEYS and isinstance(inner, str) and inner:
                found.append(inner)
            elif key in SECRET_KEYS and isinstance(inner, dict):
                found.extend(v for v in inner.values() if isinstance(v, str) and len(v) > 8)
            else:
                found.extend(secrets_in(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(secrets_in(inner))
    return found
