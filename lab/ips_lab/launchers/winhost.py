"""The Windows host with Citrix.AppLayering (lab/ips_lab/winhost/): PowerShell Remoting over HTTPS on
/wsman with the lab CA, Basic and NTLM, in front of a modelled App Layering appliance whose tasks write to
the lab's Samba and the Azure plane.

Its certificate comes from the lab CA of the Citrix Cloud stand-in (common/tls.py under the cloud part's
folder), so IPS_LAB_WINHOST_CA_PATH is the same file as CITRIX_CLOUD_CA_PATH.
The Windows account, the appliance account and the admin token are random per lab and kept in the part's
config.json while other parts keep running. Readiness: a TLS-verified answer of /wsman (401 without
credentials is an answer).
"""

import json
import secrets

from ips_lab.runstate import HOST, http_answers, write_private
from ips_lab.launchers import Launch, StandIn, python

WINDOWS_USER = "ipslab-admin"
APPLIANCE_ADDRESS = "al-appliance.ips-lab.test"
APPLIANCE_USER = "administrator"
# the PVS farm the console host reaches (winhost/pvs.py seeds the site, store and collections)
PVS_SERVER = "pvs-01.ips-lab.test"
# connector configuration names on the appliance (the winhost derives their ids from them)
CONNECTOR_NAMES = {"azure": "lab-azure-ips", "vsphere": "lab-vsphere", "share": "lab-pvs-share", "export_share": "lab-ips-share",
                   "azure_layering": "lab-azure-layering"}


def _old_config(path, previous):
    if not previous:
        return {}
    try:
        with open(str(path)) as src:
            return json.load(src)
    except (OSError, ValueError):
        return {}


class WinHost(StandIn):
    name = "winhost"
    port_key = "WINHOST"
    ready_timeout = 30.0
    # cloud: the host serves with the lab CA of the Citrix Cloud stand-in (CITRIX_CLOUD_CA_PATH trusts it too)
    depends = ("samba", "azure", "cloud")

    def prepare(self, port, deps, previous):
        from ips_lab.common.tls import ensure_ca
        from ips_lab.winhost import pvs

        state = self.folder
        config_path = state / "config.json"
        old = _old_config(config_path, previous)
        smb = (deps.get("samba") or {}).get("values", {})
        azure = (deps.get("azure") or {}).get("values", {})
        config = {
            "host": HOST,
            "port": port,
            "user": WINDOWS_USER,
            "password": old.get("password") or secrets.token_urlsafe(18),
            "admin_token": old.get("admin_token") or secrets.token_urlsafe(30),
            "appliance": {"address": APPLIANCE_ADDRESS, "user": APPLIANCE_USER,
                          "password": (old.get("appliance") or {}).get("password") or secrets.token_urlsafe(18)},
            "connector_names": CONNECTOR_NAMES,
            "pvs": {"server": PVS_SERVER},
            # the file share connectors' account is the lab's SMB account
            "smb": {"host": smb.get("IPS_LAB_SMB_HOST", HOST), "port": int(smb.get("IPS_LAB_SMB_PORT") or 445),
                    "user": smb.get("IPS_LAB_SMB_USER"), "password": smb.get("IPS_LAB_SMB_PASSWORD"),
                    "domain": smb.get("IPS_LAB_SMB_DOMAIN"), "export_share": smb.get("IPS_LAB_SMB_EXPORT_SHARE"),
                    "pvs_share": smb.get("IPS_LAB_SMB_PVS_SHARE")},
            # the Image Portability for Azure connector signs in with the Azure plane's principal
            "azure": {"url": azure["IPS_LAB_AZURE_URL"], "ca_path": azure["IPS_LAB_AZURE_CA_PATH"],
                      "tenant_id": azure["IPS_LAB_AZURE_TENANT_ID"], "client_id": azure["IPS_LAB_AZURE_CLIENT_ID"],
                      "client_secret": azure["IPS_LAB_AZURE_CLIENT_SECRET"],
                      "subscription_id": azure["IPS_LAB_AZURE_SUBSCRIPTION_ID"]} if azure.get("IPS_LAB_AZURE_URL") else None,
        }
        config["tls_dir"] = str(self.run.part_dir("cloud"))
        ca_path = ensure_ca(config["tls_dir"])[0]
        write_private(config_path, json.dumps(config, indent=2) + "\n")
        argv = [python(), "-m", "ips_lab.winhost", "--state-dir", str(state), "--config", str(config_path)]
        url = "https://%s:%d" % (HOST, port)
        values = {
            "IPS_LAB_WINHOST_URL": url + "/wsman",
            "IPS_LAB_WINHOST_HOST": HOST,
            "IPS_LAB_WINHOST_PORT": str(port),
            "IPS_LAB_WINHOST_USER": WINDOWS_USER,
            "IPS_LAB_WINHOST_PASSWORD": config["password"],
            "IPS_LAB_WINHOST_CA_PATH": str(ca_path),
            "IPS_LAB_WINHOST_ADMIN_URL": url,
            "IPS_LAB_WINHOST_ADMIN_TOKEN": config["admin_token"],
            "IPS_LAB_APPLIANCE_ADDRESS": APPLIANCE_ADDRESS,
            "IPS_LAB_APPLIANCE_USER": APPLIANCE_USER,
            "IPS_LAB_APPLIANCE_PASSWORD": config["appliance"]["password"],
            "IPS_LAB_AL_CONNECTOR_AZURE": CONNECTOR_NAMES["azure"],
            "IPS_LAB_AL_CONNECTOR_VSPHERE": CONNECTOR_NAMES["vsphere"],
            "IPS_LAB_AL_CONNECTOR_SHARE": CONNECTOR_NAMES["share"],
            "IPS_LAB_AL_CONNECTOR_EXPORT_SHARE": CONNECTOR_NAMES["export_share"],
            "IPS_LAB_PVS_SERVER": PVS_SERVER,
            "IPS_LAB_PVS_PORT": str(pvs.PVS_PORT),
            "IPS_LAB_PVS_SITE": pvs.SITE,
            "IPS_LAB_PVS_STORE": pvs.STORES[0],
            "IPS_LAB_PVS_COLLECTION": "lab-collection",
            "IPS_LAB_PVS_COLLECTION_2": "lab-collection-2",
            "IPS_LAB_PVS_VERSIONED_DISK": pvs.VERSIONED,
        }
        return Launch(argv, self.python_env(), values)

    def answers(self, record):
        values = record["values"]
        return http_answers(values["IPS_LAB_WINHOST_URL"], cafile=values["IPS_LAB_WINHOST_CA_PATH"])
