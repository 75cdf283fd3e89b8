"""The Citrix Cloud stand-in's configuration: fixed keys from the config file, and the keys
/_lab/config may change (common/config.py keeps them)."""

import json
import secrets
import uuid

from ..common import rules
from ..common.config import is_number


# Keys the admin API may change at runtime: (check, what the check wants, for the 400 message).
MUTABLE = {
    "token_ttl": (lambda v: is_number(v) and v > 0, "a positive number"),
    "job_seconds": (lambda v: is_number(v) and v >= 0, "a non-negative number"),
    "retention_seconds": (lambda v: is_number(v) and v >= 0, "a non-negative number"),
    "progress_step": (lambda v: is_number(v) and 0 < v <= 100, "a number > 0 and <= 100"),
    # the DaaS stand-in (lab/ips_lab/daas/): job length, resource cache life (0 = no cache), /me answers 530 when false
    "daas_job_seconds": (lambda v: is_number(v) and v >= 0, "a non-negative number"),
    "daas_cache_seconds": (lambda v: is_number(v) and v >= 0, "a non-negative number"),
    "daas_activated": (lambda v: isinstance(v, bool), "true or false"),
}
DEFAULTS = {"host": "127.0.0.1", "port": 0, "token_ttl": 3600, "job_seconds": 4, "progress_step": 1,
            "retention_seconds": rules.RETENTION_SECONDS, "smb": {},
            "moto_url": None, "azure": None, "gce": None,
            "daas_site_id": None, "daas_job_seconds": 4, "daas_cache_seconds": 3600, "daas_activated": True,
            # the on-premises Orchestration API's Citrix admin (HTTP Basic at <onprem base>/tokens); the password is random per lab
            "daas_admin_user": "ipslab\\ctxadmin", "daas_admin_password": None}
REQUIRED = ("customer_id", "client_id", "client_secret", "admin_token", "resource_location_ids")


def load_config(config):
    """A config dict (from the JSON file or a test) with defaults filled in; ValueError if incomplete."""
    out = json.loads(json.dumps(DEFAULTS))
    out.update(config)
    missing = [k for k in REQUIRED if not out.get(k)]
    if missing:
        raise ValueError("lab config lacks: %s" % ", ".join(missing))
    if out["host"] not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the lab listens on loopback only (host %r)" % out["host"])
    given = {k: v for k, v in (out.get("smb") or {}).items() if v is not None}
    # the DaaS site id: given by the launcher (env IPS_LAB_DAAS_SITE_ID), else one derived from the customer
    out["daas_site_id"] = out["daas_site_id"] or str(uuid.uuid5(uuid.NAMESPACE_URL, "ips-lab-site/" + out["customer_id"]))
    out["daas_admin_password"] = out["daas_admin_password"] or secrets.token_urlsafe(18)
    out["smb"] = dict({"host": "127.0.0.1", "port": 445}, **given)
    return out
