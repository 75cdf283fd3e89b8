"""The appliance's connector configurations, built from the names the launcher gives (config
"connector_names"), with ids stable across restarts (uuid5 of the name) as an appliance keeps them.

  azure           "Image Portability for Azure": prepare and publish run through it (the Azure plane)
  vsphere         "VMware vSphere": the export source of vSphere disks
  share           "Windows File Share" on the PVS store share: PVS publish writes there
  export_share    "Windows File Share" on the export share, the appliance's default IPS share: exports go
                  there unless -FileShareConnectorConfigId names another share connector (inferred)
  azure_layering  "Azure Deployments": an Azure connector of the wrong type for IPS (to test that error)
"""

import uuid

NAMESPACE = uuid.UUID("6f1c2b1e-3c55-4b9a-9a0e-4c1ab7e0a11a")
DEFAULT_NAMES = {"azure": "lab-azure-ips", "vsphere": "lab-vsphere", "share": "lab-pvs-share", "export_share": "lab-ips-share",
                 "azure_layering": "lab-azure-layering"}


def build(names, smb):
    """The connector list: dicts with Id, Name, Type, PlatformType (+ Share, SharePath, DiskFormat for file shares)."""
    names = dict(DEFAULT_NAMES, **(names or {}))
    host = (smb or {}).get("host") or "127.0.0.1"

    def conn(key, type_, platform, **extra):
        return dict(Id=str(uuid.uuid5(NAMESPACE, names[key])), Name=names[key], Type=type_, PlatformType=platform, **extra)

    def share(key, share_name, default):
        return conn(key, "Windows File Share", "FileShare", Share=share_name, SharePath="\\\\%s\\%s" % (host, share_name),
                    DiskFormat="VHDX", DefaultForIps=default)

    return [
        conn("azure", "Image Portability for Azure", "Azure"),
        conn("vsphere", "VMware vSphere", "VSphere"),
        share("share", (smb or {}).get("pvs_share") or "pvs-store", False),
        share("export_share", (smb or {}).get("export_share") or "ips-exports", True),
        conn("azure_layering", "Azure Deployments", "Azure"),
    ]
