"""The Azure control plane (lab/ips_lab/planes/azure_plane.py): Entra tokens, ARM managed disks and
the disk SAS blob front, over HTTPS with its own lab CA, storing the bytes in Azurite.

Secrets (client secret, token and SAS signing keys, the /_lab/ admin token) are random per lab and kept in the part's
config.json while other parts keep running (like the cloud stand-in's).
"""

import json
import secrets
import uuid

from ips_lab.runstate import HOST, http_answers, write_private
from ips_lab.launchers import Launch, StandIn, python

RESOURCE_GROUPS = ("ips-lab-rg", "ips-lab-rg2")
LOCATION = "eastus"


def _old_config(path, previous):
    if not previous:
        return {}
    try:
        with open(str(path)) as src:
            return json.load(src)
    except (OSError, ValueError):
        return {}


class Azure(StandIn):
    name = "azure"
    port_key = "AZURE"
    ready_timeout = 30.0
    depends = ("azurite",)

    def prepare(self, port, deps, previous):
        from ips_lab.common.tls import ensure_ca, ensure_client_certificate

        state = self.folder
        config_path = state / "config.json"
        old = _old_config(config_path, previous)
        azurite = (deps.get("azurite") or {}).get("values", {})
        config = {
            "host": HOST,
            "port": port,
            "tenant_id": old.get("tenant_id") or str(uuid.uuid4()),
            "client_id": old.get("client_id") or str(uuid.uuid4()),
            "client_secret": old.get("client_secret") or secrets.token_urlsafe(30),
            "subscription_id": old.get("subscription_id") or str(uuid.uuid4()),
            "resource_groups": list(RESOURCE_GROUPS),
            "location": LOCATION,
            "token_key": old.get("token_key") or secrets.token_urlsafe(32),
            "sas_key": old.get("sas_key") or secrets.token_urlsafe(32),
            "admin_token": old.get("admin_token") or secrets.token_urlsafe(30),
            "msi_header": old.get("msi_header") or secrets.token_urlsafe(24),
            "token_ttl": 3600,
            "retry_after_ms": 100,
            "azurite": {
                "blob_url": azurite.get("IPS_LAB_AZURITE_BLOB_URL"),
                "account": azurite.get("IPS_LAB_AZURITE_ACCOUNT"),
                "key": azurite.get("IPS_LAB_AZURITE_KEY"),
            },
        }
        ca_path = ensure_ca(str(state))[0]
        # the app registration's certificate credential (client assertions signed with its key)
        config["client_certificate_path"] = ensure_client_certificate(state / "client-cert.pem")
        write_private(config_path, json.dumps(config, indent=2) + "\n")
        argv = [python(), "-m", "ips_lab.planes.azure_plane", "--state-dir", str(state), "--config", str(config_path)]
        url = "https://%s:%d" % (HOST, port)
        values = {
            "IPS_LAB_AZURE_URL": url,
            "IPS_LAB_AZURE_AUTHORITY": url,
            "IPS_LAB_AZURE_TENANT_ID": config["tenant_id"],
            "IPS_LAB_AZURE_CLIENT_ID": config["client_id"],
            "IPS_LAB_AZURE_CLIENT_SECRET": config["client_secret"],
            "IPS_LAB_AZURE_CLIENT_CERT_PATH": config["client_certificate_path"],
            "IPS_LAB_AZURE_IDENTITY_ENDPOINT": url + "/msi/token",
            "IPS_LAB_AZURE_IDENTITY_HEADER": config["msi_header"],
            "IPS_LAB_AZURE_SUBSCRIPTION_ID": config["subscription_id"],
            "IPS_LAB_AZURE_RESOURCE_GROUP": RESOURCE_GROUPS[0],
            "IPS_LAB_AZURE_LOCATION": LOCATION,
            "IPS_LAB_AZURE_CA_PATH": str(ca_path),
            "IPS_LAB_AZURE_ADMIN_TOKEN": config["admin_token"],
        }
        return Launch(argv, self.python_env(), values)

    def answers(self, record):
        return http_answers("https://%s:%d/" % (HOST, record["port"]), cafile=record["values"]["IPS_LAB_AZURE_CA_PATH"])
