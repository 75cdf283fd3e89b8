"""THE table of the Windows host's cmdlets: Citrix.AppLayering 25.11 as the lab models it, with each
cmdlet's parameters, their .NET types and where each name comes from.

This is the lab's OWN copy (it never imports the collection's table): a name the collection gets wrong
fails here with PowerShell's own binding error. Flags: "seen" = in Citrix's published syntax or a real
script (reference successor-and-mcs.md 2.1-2.2, applayering-daas.md 1.2); "inferred" = the lab's choice
where nothing public shows the name (docs/lab.md lists them). The PVS snap-in's cmdlets (Citrix.PVS.SnapIn, PVS
1903 "PowerShell with Objects" as reference pvs-last-mile.md 1b and 2 reads it) are in PVS_CMDLETS: they exist
in a runspace only after `Add-PSSnapin Citrix.PVS.SnapIn`.
"""

import collections

SEEN, INFERRED = "seen", "inferred"

# parameter type -> the .NET type name PowerShell names in its binding errors
NET_TYPES = {
    "String": "System.String",
    "String[]": "System.String[]",
    "Int32": "System.Int32",
    "Int64": "System.Int64",
    "Switch": "System.Management.Automation.SwitchParameter",
    "Hashtable": "System.Collections.Hashtable",
    "TimeSpan": "System.TimeSpan",
    "Guid": "System.Guid",
    "PSCredential": "System.Management.Automation.PSCredential",
    "PSObject": "System.Management.Automation.PSObject",
    "ProvisioningType": "Citrix.AppLayering.Ips.ProvisioningType",  # namespace inferred
    "IpsInstallType": "Citrix.AppLayering.Ips.IpsInstallType",  # namespace inferred
    "InstallerParameter[]": "Citrix.AppLayering.Ips.InstallerParameter[]",  # namespace inferred
}
# enum type -> its members (ProvisioningType seen; IpsInstallType: Install and Force seen, None inferred)
ENUMS = {
    "ProvisioningType": ("Mcs", "Pvs"),
    "IpsInstallType": ("None", "Install", "Force"),
}

Param = collections.namedtuple("Param", ["type", "mandatory", "flag", "position", "aliases"])
Cmdlet = collections.namedtuple("Cmdlet", ["flag", "params", "pipeline_input"])


def p(type_, mandatory=False, flag=SEEN, position=None, aliases=()):
    return Param(type_, mandatory, flag, position, tuple(aliases))


CONNECTION = {"ConnectionId": p("Guid", flag=SEEN)}  # seen on every documented cmdlet
JOB_COMMON = {"Tags": p("Hashtable"), "Timeout": p("TimeSpan"), "DebugSettings": p("Hashtable")}
JOB_COMMON_INFERRED = {k: v._replace(flag=INFERRED) for k, v in JOB_COMMON.items()}

CMDLETS = {
    "Connect-AlAppliance": Cmdlet(SEEN, {
        "Address": p("String", True),
        "Credential": p("PSCredential", True),
        "IgnoreCertificateErrors": p("Switch"),
    }, False),
    "Disconnect-AlAppliance": Cmdlet(INFERRED, {"ConnectionId": p("Guid", flag=INFERRED)}, False),
    "Get-AlConnectorConfig": Cmdlet(SEEN, dict({
        "Name": p("String", position=0),
        "Id": p("String", flag=INFERRED),
    }, **CONNECTION), False),
    "Start-AlIpsExport": Cmdlet(SEEN, dict({
        "ConnectorConfigId": p("String", True),
        "SourceDisk": p("String", True),
        "OutputDiskName": p("String", True),
        # where the VHDX goes: a Windows File Share connector; without it the appliance's default IPS share
        "FileShareConnectorConfigId": p("String", flag=INFERRED),
    }, **dict(JOB_COMMON_INFERRED, **CONNECTION)), False),
    "Start-AlIpsPrepare": Cmdlet(SEEN, dict({
        "ConnectorConfigId": p("String", True),
        "ProvisioningType": p("ProvisioningType", True),
        "SourceDisk": p("String", True),
        "OutputDiskName": p("String", True),
        "DomainUnjoin": p("Switch"),
        "PvsInstallVersion": p("String"),
        "InstallUpl": p("Switch"),
        "UpdateLayerRepo": p("String"),
        "Chkdsk": p("Switch"),
        "Defrag": p("Switch"),
        "EnableRdp": p("Switch"),
        "Misa": p("IpsInstallType"),
        "Mcsio": p("IpsInstallType"),
        "XdReconfigure": p("InstallerParameter[]"),
    }, **dict(JOB_COMMON, **CONNECTION)), False),
    # the publish task is seen in the docs; its cmdlet name and parameters are not
    "Start-AlIpsPublish": Cmdlet(INFERRED, dict({
        "ConnectorConfigId": p("String", True, INFERRED),
        "FileShareConnectorConfigId": p("String", True, INFERRED),
        "SourceDisk": p("String", True, INFERRED),
        "OutputDiskName": p("String", True, INFERRED),
    }, **dict(JOB_COMMON_INFERRED, **CONNECTION)), False),
    # diagnostics are named by the module page; the cmdlet name and parameters are not
    "Start-AlIpsDiagnostics": Cmdlet(INFERRED, dict({
        "FileShareConnectorConfigId": p("String", True, INFERRED),
        "WorkTicketId": p("Int64", flag=INFERRED, aliases=("TaskId",)),
    }, **CONNECTION), False),
    "Wait-AlTask": Cmdlet(SEEN, dict({
        "InputObject": p("PSObject"),
        "WorkTicketId": p("Int64", position=0, aliases=("TaskId",)),
        "PollInterval": p("Int32"),
        "AdditionalStates": p("String[]"),
    }, **CONNECTION), True),
    "Get-AlTask": Cmdlet(INFERRED, dict({
        "WorkTicketId": p("Int64", flag=INFERRED, position=0, aliases=("TaskId",)),
    }, **CONNECTION), True),
    "Stop-AlTask": Cmdlet(INFERRED, dict({
        "WorkTicketId": p("Int64", True, INFERRED, position=0, aliases=("TaskId",)),
    }, **CONNECTION), True),
}


PVS_SNAPIN = "Citrix.PVS.SnapIn"
# a disk locator is named by -Name (alias -DiskLocatorName) with its site and store (seen on every disk cmdlet)
PVS_DISK = {"Name": p("String", aliases=("DiskLocatorName",)), "DiskLocatorId": p("Guid"), "SiteName": p("String"),
            "SiteId": p("Guid"), "StoreName": p("String"), "StoreId": p("Guid")}
PVS_TARGET = {"DeviceName": p("String"), "DeviceId": p("Guid"), "DeviceMac": p("String"), "CollectionName": p("String"),
              "CollectionId": p("Guid"), "SiteViewName": p("String"), "FarmViewName": p("String")}

PVS_CMDLETS = {
    "Set-PvsConnection": Cmdlet(SEEN, {
        "Server": p("String"), "Port": p("Int32"), "User": p("String"), "Domain": p("String"), "Password": p("String"),
        "Persist": p("Switch"),
    }, False),
    "Get-PvsSite": Cmdlet(SEEN, {"SiteName": p("String", flag=INFERRED), "SiteId": p("Guid", flag=INFERRED)}, False),
    "Get-PvsStore": Cmdlet(SEEN, {"StoreName": p("String", flag=INFERRED), "StoreId": p("Guid", flag=INFERRED)}, False),
    "Get-PvsCollection": Cmdlet(SEEN, {"CollectionName": p("String", flag=INFERRED), "SiteName": p("String", flag=INFERRED)}, False),
    "Get-PvsDevice": Cmdlet(SEEN, {"DeviceName": p("String", flag=INFERRED), "CollectionName": p("String", flag=INFERRED),
                                   "SiteName": p("String", flag=INFERRED)}, False),
    "Get-PvsDiskLocator": Cmdlet(SEEN, dict(PVS_DISK, DeviceName=p("String", flag=INFERRED)), False),
    "Get-PvsDiskInfo": Cmdlet(SEEN, dict(PVS_DISK), False),
    "Get-PvsUndefinedDisk": Cmdlet(SEEN, {"StoreName": p("String"), "ServerName": p("String"), "AutoAddEnabled": p("Switch"),
                                          "SiteName": p("String", flag=INFERRED)}, False),
    "New-PvsDiskLocator": Cmdlet(SEEN, {
        "Name": p("String", True, aliases=("DiskLocatorName",)), "SiteName": p("String"), "SiteId": p("Guid"),
        "StoreName": p("String"), "StoreId": p("Guid"), "ServerName": p("String"), "ServerId": p("Guid"),
        "Description": p("String"), "MenuText": p("String"), "Disabled": p("Switch"), "NewDiskWriteCacheType": p("Int32"),
        "VHDX": p("Switch"),
    }, False),
    "Set-PvsDisk": Cmdlet(SEEN, dict(PVS_DISK, WriteCacheType=p("Int32"), WriteCacheSize=p("Int32"), LicenseMode=p("Int32"),
                                     Description=p("String", flag=INFERRED)), False),
    "Add-PvsDiskLocatorToDevice": Cmdlet(SEEN, dict(PVS_DISK, RemoveExisting=p("Switch"), **PVS_TARGET), False),
    "Remove-PvsDiskLocatorFromDevice": Cmdlet(SEEN, dict(PVS_DISK, **PVS_TARGET), False),
    "Get-PvsDiskVersion": Cmdlet(SEEN, dict(PVS_DISK, Version=p("Int32")), False),
    "Merge-PvsDisk": Cmdlet(SEEN, dict(PVS_DISK, NewBase=p("Switch"), Access=p("Int32")), False),
}
SNAPIN_CMDLETS = {
    "Add-PSSnapin": Cmdlet(SEEN, {"Name": p("String[]", True, position=0), "PassThru": p("Switch")}, False),
}
ALL_CMDLETS = dict(CMDLETS, **dict(PVS_CMDLETS, **SNAPIN_CMDLETS))


def find_cmdlet(name):
    """(canonical name, Cmdlet) for a command name (case-insensitive, module-qualified allowed), or None."""
    bare = name.split("\\")[-1] if name.lower().startswith(("citrix.applayering\\", "citrix.pvs.snapin\\")) else name
    for known, cmdlet in ALL_CMDLETS.items():
        if known.lower() == bare.lower():
            return known, cmdlet
    return None
