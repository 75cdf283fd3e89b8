"""The Citrix Cloud stand-in: launches `python -m ips_lab.citrix` (lab/ips_lab/citrix/) with a config
JSON of random tenant, API client and admin credentials and a random resource location id.

The CA and the server certificate come from ips_lab.common.tls.ensure_ca(state_dir), called here
before the start (it generates them once per state dir; the server reuses them), so the env file
can name the CA. The server prints `READY https://...` when it listens; readiness here is a
TLS-verified HTTPS answer against that CA.
"""

import json
import secrets
import string
import uuid

from ips_lab.runstate import HOST, http_answers, write_private
from ips_lab.launchers import Launch, StandIn, python

TOKEN_TTL = 3600
JOB_SECONDS = 4


def customer_id():
    alphabet = string.ascii_lowercase + string.digits
    return "lab" + "".join(map(secrets.choice, [alphabet] * 9))


class Citrix(StandIn):
    name = "cloud"
    port_key = "API"
    ready_timeout = 60.0
    # azurite and gcs are listed because `ips-lab up --parts cloud` adds dependencies one level deep.
    depends = ("samba", "moto", "azurite", "gcs", "azure", "gce")

    def prepare(self, port, deps, previous):
        old = (previous or {}).get("values", {})
        state = self.folder
        smb = deps.get("samba") or {}
        moto = deps.get("moto") or {}
        azure = (deps.get("azure") or {}).get("values", {})
        gce = (deps.get("gce") or {}).get("values", {})
        config = {
            "host": HOST,
            "port": port,
            "customer_id": old.get("CITRIX_CLOUD_CUSTOMER_ID") or customer_id(),
            "client_id": old.get("CITRIX_CLOUD_CLIENT_ID") or str(uuid.uuid4()),
            "client_secret": old.get("CITRIX_CLOUD_CLIENT_SECRET") or secrets.token_urlsafe(30),
            "admin_token": old.get("IPS_LAB_ADMIN_TOKEN") or secrets.token_urlsafe(30),
            "resource_location_ids": [old.get("IPS_LAB_RESOURCE_LOCATION_ID") or str(uuid.uuid4())],
            "smb": {"port": smb.get("port")},
            # prepare checks AWS targets in moto (lab/ips_lab/jobwork/prepare.py)
            "moto_url": "http://%s:%d" % (HOST, moto["port"]) if moto.get("port") else None,
            # prepare checks Azure targets in the Azure plane and GCP images in the GCE plane, signing in
            # with the planes' own principal and token (lab/ips_lab/jobwork/prepare.py)
            "azure": {"url": azure["IPS_LAB_AZURE_URL"], "ca_path": azure["IPS_LAB_AZURE_CA_PATH"],
                      "tenant_id": azure["IPS_LAB_AZURE_TENANT_ID"], "client_id": azure["IPS_LAB_AZURE_CLIENT_ID"],
                      "client_secret": azure["IPS_LAB_AZURE_CLIENT_SECRET"],
                      "subscription_id": azure["IPS_LAB_AZURE_SUBSCRIPTION_ID"]} if azure.get("IPS_LAB_AZURE_URL") else None,
            "gce": {"url": gce["IPS_LAB_GCE_URL"], "project": gce["IPS_LAB_GCP_PROJECT"],
                    "token": gce["IPS_LAB_GCP_TOKEN"]} if gce.get("IPS_LAB_GCE_URL") else None,
            "token_ttl": TOKEN_TTL,
            "job_seconds": JOB_SECONDS,
            "daas_site_id": old.get("IPS_LAB_DAAS_SITE_ID") or str(uuid.uuid4()),
            "daas_admin_user": old.get("IPS_LAB_DAAS_ADMIN_USER") or "ipslab\\ctxadmin",
            "daas_admin_password": old.get("IPS_LAB_DAAS_ADMIN_PASSWORD") or secrets.token_urlsafe(18),
        }
        from ips_lab.common.tls import ensure_ca

        ca_path = ensure_ca(str(state))[0]
        config_path = state / "config.json"
        write_private(config_path, json.dumps(config, indent=2) + "\n")
        argv = [python(), "-m", "ips_lab.citrix", "--state-dir", str(state), "--config", str(config_path)]
        values = {
            "CITRIX_CLOUD_CUSTOMER_ID": config["customer_id"],
            "CITRIX_CLOUD_CLIENT_ID": config["client_id"],
            "CITRIX_CLOUD_CLIENT_SECRET": config["client_secret"],
            "CITRIX_CLOUD_API_URL": "https://%s:%d" % (HOST, port),
            "CITRIX_CLOUD_CA_PATH": str(ca_path),
            "IPS_LAB_ADMIN_TOKEN": config["admin_token"],
            "IPS_LAB_RESOURCE_LOCATION_ID": config["resource_location_ids"][0],
            # the DaaS REST stand-in (lab/ips_lab/daas/) on the same host, like api.cloud.com/cvad/manage
            "IPS_LAB_DAAS_URL": "https://%s:%d/cvad/manage" % (HOST, port),
            "IPS_LAB_DAAS_SITE_ID": config["daas_site_id"],
            # the same site through the on-premises Orchestration API (a Delivery Controller's), with its own admin sign-in
            "IPS_LAB_DAAS_ONPREM_URL": "https://%s:%d/citrix/orchestration/api" % (HOST, port),
            "IPS_LAB_DAAS_ADMIN_USER": config["daas_admin_user"],
            "IPS_LAB_DAAS_ADMIN_PASSWORD": config["daas_admin_password"],
        }
        return Launch(argv, self.python_env(), values)

    def answers(self, record):
        ca = record["values"]["CITRIX_CLOUD_CA_PATH"]
        return http_answers("https://%s:%d/" % (HOST, record["port"]), cafile=ca)
