# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table that knows the App Layering appliance's PowerShell surface (Citrix.AppLayering 25.11+).

Every cmdlet name and parameter the appliance backend sends, and every field it reads from a task
object, is here and nowhere else, each with its research flag and where it was read (the project's
reference notes, successor-and-mcs.md section 2 and applayering-daas.md section 1.2):

  SEEN         read in a Citrix source (developer-docs 25.11 cmdlet pages, a real script: OnPremIPS.ps1)
  INFERRED     a reasoned guess (the same shape as a seen sibling cmdlet)
  UNCONFIRMED  no public source names it yet; chosen by the PowerShell verb-noun pattern of the module

When a real appliance disagrees with a name here, fix it here: it is a one-line change. Values are
sent as typed PSRP parameters (never as script text), so each parameter also says its type:
  string, switch (sent as $true), int64, enum (sent as its member name), hashtable, timespan,
  credential (PSCredential), list (of hashtables).
The lab keeps its own copy of these rules on purpose.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

SEEN = "seen"
INFERRED = "inferred"
UNCONFIRMED = "unconfirmed"

# flag: provenance; source: where it was read (or why it is guessed).
Cmdlet = namedtuple("Cmdlet", ["name", "flag", "source"])
Param = namedtuple("Param", ["name", "type", "flag", "source"])
Field = namedtuple("Field", ["name", "flag", "source"])

_DOCS = "developer-docs citrix-app-layering-sdk 25.11"
_SCRIPT = "OnPremIPS.ps1 (jeffriechers, Jan 2026)"

CMDLETS = {
    "connect": Cmdlet("Connect-AlAppliance", SEEN, _SCRIPT),
    "connector": Cmdlet("Get-AlConnectorConfig", SEEN, _SCRIPT),
    "export": Cmdlet("Start-AlIpsExport", SEEN, _DOCS + " wait-altask example"),
    "prepare": Cmdlet("Start-AlIpsPrepare", SEEN, _DOCS + " start-alipsprepare"),
    "publish": Cmdlet("Start-AlIpsPublish", UNCONFIRMED, "docs name a publish task; the cmdlet name is not public"),
    "diagnostics": Cmdlet("Start-AlIpsDiagnostics", UNCONFIRMED, "module page names diagnostic tasks; the cmdlet name is not public"),
    "wait": Cmdlet("Wait-AlTask", SEEN, _DOCS + " wait-altask"),
    "task": Cmdlet("Get-AlTask", UNCONFIRMED, "task look-up: not public; Get- twin of Wait-AlTask"),
    "stop": Cmdlet("Stop-AlTask", UNCONFIRMED, "task cancel: not public; the SOAP API has CancelWorkTickets"),
}

# cmdlet key -> {our name: Param}. Only these parameters are ever sent.
PARAMS = {
    "connect": {
        "address": Param("Address", "string", SEEN, _SCRIPT),
        "credential": Param("Credential", "credential", SEEN, _SCRIPT),
        "ignore_certificate_errors": Param("IgnoreCertificateErrors", "switch", SEEN, _SCRIPT),
    },
    "connector": {
        "name": Param("Name", "string", SEEN, _SCRIPT),
    },
    "export": {
        "connector_id": Param("ConnectorConfigId", "string", SEEN, _DOCS + " wait-altask example"),
        "source_disk": Param("SourceDisk", "string", SEEN, _DOCS + " wait-altask example"),
        "output_disk_name": Param("OutputDiskName", "string", SEEN, _DOCS + " wait-altask example"),
        "share_connector_id": Param("FileShareConnectorConfigId", "string", UNCONFIRMED,
                                    "the export's share is a Windows File Share connector (docs); the parameter is not public"),
        "tags": Param("Tags", "hashtable", INFERRED, "same as Start-AlIpsPrepare"),
        "timeout": Param("Timeout", "timespan", INFERRED, "same as Start-AlIpsPrepare"),
    },
    "prepare": {
        "connector_id": Param("ConnectorConfigId", "string", SEEN, _DOCS),
        "provisioning_type": Param("ProvisioningType", "enum", SEEN, _DOCS),
        "source_disk": Param("SourceDisk", "string", SEEN, _DOCS),
        "output_disk_name": Param("OutputDiskName", "string", SEEN, _DOCS),
        "domain_unjoin": Param("DomainUnjoin", "switch", SEEN, _DOCS),
        "pvs_install_version": Param("PvsInstallVersion", "string", SEEN, _DOCS),
        "install_upl": Param("InstallUpl", "switch", SEEN, _DOCS),
        "update_layer_repo": Param("UpdateLayerRepo", "string", SEEN, _DOCS),
        "chkdsk": Param("Chkdsk", "switch", SEEN, _DOCS),
        "defrag": Param("Defrag", "switch", SEEN, _DOCS),
        "enable_rdp": Param("EnableRdp", "switch", SEEN, _DOCS),
        "misa": Param("Misa", "enum", SEEN, _DOCS + "; values Install, Force in " + _SCRIPT),
        "mcsio": Param("Mcsio", "enum", SEEN, _DOCS + "; values Install, Force in " + _SCRIPT),
        "tags": Param("Tags", "hashtable", SEEN, _DOCS),
        "xd_reconfigure": Param("XdReconfigure", "list", SEEN, _DOCS + " (InstallerParameter[]; Name/Value members inferred)"),
        "timeout": Param("Timeout", "timespan", SEEN, _DOCS),
        "debug_settings": Param("DebugSettings", "hashtable", SEEN, _DOCS + "; key enableBootDiagnostics in " + _SCRIPT),
    },
    "publish": {
        "connector_id": Param("ConnectorConfigId", "string", INFERRED, "the Azure IPS connector that reaches the prepared disk, as prepare"),
        "share_connector_id": Param("FileShareConnectorConfigId", "string", UNCONFIRMED,
                                    "the publish task writes through a Windows File Share connector (docs); the parameter is not public"),
        "source_disk": Param("SourceDisk", "string", INFERRED, "as Start-AlIpsPrepare"),
        "output_disk_name": Param("OutputDiskName", "string", INFERRED, "as Start-AlIpsPrepare"),
        "tags": Param("Tags", "hashtable", INFERRED, "as Start-AlIpsPrepare"),
        "timeout": Param("Timeout", "timespan", INFERRED, "as Start-AlIpsPrepare"),
    },
    "diagnostics": {
        "share_connector_id": Param("FileShareConnectorConfigId", "string", UNCONFIRMED,
                                    "diagnostics land on a share (docs); the parameter is not public"),
    },
    "task": {
        "task_id": Param("WorkTicketId", "int64", INFERRED, "Wait-AlTask's -WorkTicketId <Int64> (alias TaskId)"),
    },
    "stop": {
        "task_id": Param("WorkTicketId", "int64", INFERRED, "Wait-AlTask's -WorkTicketId <Int64> (alias TaskId)"),
    },
}

# Enum members, by our value.
PROVISIONING_TYPES = {"mcs": "Mcs", "pvs": "Pvs"}  # SEEN: ProvisioningType enum, docs
INSTALL_TYPES = {"install": "Install", "force": "Force"}  # SEEN: IpsInstallType values in the script
# InstallerParameter members (an -XdReconfigure item): INFERRED (the cloud module's name/value pairs).
INSTALLER_PARAMETER = {"name": Field("Name", INFERRED, "cloud IPS xdReconfigure items"),
                       "value": Field("Value", INFERRED, "cloud IPS xdReconfigure items")}

# What the collection reads from objects the cmdlets return.
CONNECTOR_FIELDS = {
    "id": Field("Id", SEEN, _SCRIPT),
    "name": Field("Name", INFERRED, "looked up by -Name"),
    "type": Field("Type", UNCONFIRMED, "the connector type shown in the console (Image Portability for Azure)"),
}
# The console's name of the only Azure connector type that runs IPS tasks: SEEN (docs connect/azure).
AZURE_IPS_CONNECTOR_TYPE = "Image Portability for Azure"

TASK_FIELDS = {
    "id": Field("WorkTicketId", SEEN, _DOCS + " wait-altask (alias TaskId)"),
    "id_alias": Field("TaskId", SEEN, _DOCS + " wait-altask"),
    "state": Field("State", SEEN, "WorkTicketResult{Id, State, WorkItems} of the SOAP API"),
    "work_items": Field("WorkItems", SEEN, _SCRIPT),
    "progress": Field("PercentComplete", UNCONFIRMED, "no public source shows task progress"),
    "stage": Field("Stage", UNCONFIRMED, "no public source names the current step"),
    "status": Field("Status", INFERRED, "WorkItems[].Status of the SOAP API, on the task"),
    "error": Field("Message", UNCONFIRMED, "the SOAP API puts errors in Error/Message"),
    "output": Field("Result", UNCONFIRMED, "no public source shows where a task reports its output"),
}
# Keys of a completed task's result table (TASK_FIELDS "output") -> the module return values they fill.
RESULT_FIELDS = {
    "vhd_path": Field("OutputPath", UNCONFIRMED, "not public"),
    "vhd_filename": Field("OutputFileName", UNCONFIRMED, "not public"),
    "size_bytes": Field("SizeBytes", UNCONFIRMED, "not public"),
    "disk_name": Field("OutputDiskName", UNCONFIRMED, "not public"),
    "disk_id": Field("OutputDiskId", UNCONFIRMED, "not public"),
    "diagnostics_path": Field("OutputPath", UNCONFIRMED, "not public"),
}
WORK_ITEM_FIELDS = {
    "state": Field("State", SEEN, "WorkItems[]{Id, State, Status, ItemType} of the SOAP API"),
    "status": Field("Status", SEEN, "WorkItems[].Status text of the SOAP API"),
}

# Task states -> the collection's job states (running / complete / failed / cancelled).
# "Completed", "Failed", "Canceled" SEEN (Wait-AlTask: terminal states); the others INFERRED from
# the SOAP API's work ticket states. An unknown state counts as running (Wait-AlTask itself only
# stops at the terminal ones), so a new intermediate state never fails a task.
TASK_STATES = {
    "completed": "complete",
    "failed": "failed",
    "canceled": "cancelled",
    "cancelled": "cancelled",
    "pending": "running",
    "running": "running",
    "actionrequired": "running",
}

# The start cmdlets' answer when a conflicting operation runs: a task id of 0. SEEN: packer-plugin-citrix 1.1.0.
BUSY_TASK_ID = 0


def cmdlet(key):
    return CMDLETS[key].name


def param(cmdlet_key, key):
    return PARAMS[cmdlet_key][key]
