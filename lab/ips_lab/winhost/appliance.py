"""What the Citrix.AppLayering cmdlets do on the lab's Windows host: bind (binding.py), check the appliance
session of the runspace, act on the modelled appliance (connectors, tasks), write PowerShell objects.

A pipeline holds cmdlets only: a script (`add_script`) is refused outright, an unknown command is
CommandNotFoundException. Errors a cmdlet raises are terminating: the pipeline ends Failed with the
ErrorRecord. Objects returned are PSCustomObjects with the appliance's type names (inferred).
"""

import datetime
import fnmatch
import re
import time
import uuid

from psrpcore.types import ErrorCategory, PSCustomObject, PSDateTime, PSInt, PSInt64, PSList

from .binding import BindingError, bind, net_type_of
from .cmdlets import PVS_CMDLETS, PVS_SNAPIN, find_cmdlet
from .shells import error_record
from .tasks import TERMINAL

WAIT_POLL_SECONDS = 0.05  # how often Wait-AlTask looks at the task (lab time runs with the wall clock)
ARM_DISK = re.compile(r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Compute/disks/(?P<name>[^/]+)$",
                      re.IGNORECASE)
VSPHERE_DISK = re.compile(r"^\[(?P<datastore>[^\]]+)\] (?P<path>.+\.vmdk)$")
IPS_AZURE = "Image Portability for Azure"
FILE_SHARE = "Windows File Share"
SOURCE_TYPES = ("VMware vSphere", "Citrix Hypervisor", "Nutanix AHV", IPS_AZURE)
TASK_TYPE_NAMES = ["Citrix.AppLayering.WorkTicket", "System.Object"]  # inferred
SECRET = "********"


class CmdletError(Exception):
    """A terminating error of a cmdlet: the pipeline fails with `record`."""

    def __init__(self, record, message):
        super().__init__(message)
        self.record = record


def cmdlet_error(cmdlet, error_id, message, category=ErrorCategory.InvalidOperation, exception="System.InvalidOperationException",
                 target=None):
    reason = exception.rsplit(".", 1)[-1]
    fqid = "%s,%s" % (error_id, cmdlet) if cmdlet else error_id
    return CmdletError(error_record(message, fqid, category, reason, exception, target), message)


def jsonable(value):
    """A received value as the recorder keeps it (secure strings masked)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value if not isinstance(value, str) else str(value)
    if isinstance(value, dict):
        return dict((str(k), jsonable(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if net_type_of(value) == "System.Security.SecureString":
        return SECRET
    if hasattr(value, "UserName") and hasattr(value, "Password"):
        return {"UserName": str(value.UserName), "Password": SECRET}
    if isinstance(value, datetime.timedelta):
        return str(value)
    return str(value)


class Appliance(object):
    """The modelled appliance and the cmdlets that reach it; `run` is the pipeline runner of the shells."""

    def __init__(self, config, store, clock, runtime, faults, tasks, recorder):
        self.config = config
        self._store = store
        self._clock = clock
        self._runtime = runtime
        self._faults = faults
        self._tasks = tasks
        self._recorder = recorder
        self.connectors = config["connectors"]
        self.pvs = None  # the PVS farm (pvs.py), set by host.py: the Citrix.PVS.SnapIn cmdlets act on it

    # --- the pipeline ----------------------------------------------------------------------------

    def run(self, shell, commands, output):
        objects = None
        for index, command in enumerate(commands):
            entry = {"shell": shell.id, "cmdlet": command.name, "parameters": {}, "positional": []}
            self._recorder.record(entry)  # before it runs: a test sees a Wait-AlTask that is still waiting
            try:
                if command.is_script:
                    entry.update(cmdlet="<script>", script_length=len(command.name or ""))
                    raise cmdlet_error(None, "ScriptsNotAllowed", "This host runs Citrix.AppLayering and %s cmdlets only; scripts "
                                       "are refused. Send the cmdlet with add_cmdlet() and its parameters with add_parameter()." % PVS_SNAPIN,
                                       ErrorCategory.PermissionDenied, "System.Management.Automation.PSSecurityException")
                found = find_cmdlet(command.name)
                for name, value in command.parameters:
                    if name is None:
                        entry["positional"].append({"type": net_type_of(value), "value": jsonable(value)})
                    else:
                        entry["parameters"][str(name)] = {"type": net_type_of(value), "value": jsonable(value)}
                if found is not None and found[0] in PVS_CMDLETS and not shell.state.get("pvs_snapin"):
                    found = None  # the PVS cmdlets exist only once the snap-in is added to the runspace
                if found is None:
                    raise CmdletError(error_record(
                        "The term '%s' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the "
                        "spelling of the name, or if a path was included, verify that the path is correct and try again." % command.name,
                        "CommandNotFoundException", ErrorCategory.ObjectNotFound, "CommandNotFoundException",
                        "System.Management.Automation.CommandNotFoundException", command.name), "not found")
                name, cmdlet = found
                entry["cmdlet"] = name
                if objects is not None and not cmdlet.pipeline_input:
                    raise cmdlet_error(name, "InputObjectNotBound", "The input object cannot be bound to any parameters for the command "
                                       "either because the command does not take pipeline input or the input and its properties do not "
                                       "match any of the parameters that take pipeline input.", ErrorCategory.InvalidArgument,
                                       "System.Management.Automation.ParameterBindingException")
                bound = bind(name, cmdlet, command.parameters)
                if objects is not None:
                    bound["InputObject"] = list(objects)
                attr = "_" + name.replace("-", "_").lower()
                handler = getattr(self, attr, None) or getattr(self.pvs, attr)
                results = handler(shell, name, bound, output)
            except (BindingError, CmdletError) as exc:
                entry["error"] = str(exc.record.FullyQualifiedErrorId)
                output.fail(exc.record)
                return
            objects = results
            if index == len(commands) - 1:
                for obj in results:
                    output.write(obj)

    # --- the appliance session -------------------------------------------------------------------

    def _session(self, shell, cmdlet, bound):
        """The session the cmdlet runs in (ConnectionId, else the runspace's default), or a terminating error."""
        connections = shell.state.get("connections", [])
        wanted = bound.get("ConnectionId")
        session_id = wanted if wanted else (connections[-1] if connections else None)
        if session_id is None or session_id not in connections:
            if wanted:
                raise cmdlet_error(cmdlet, "ConnectionNotFound", "There is no App Layering appliance connection with id '%s' in this "
                                   "session. Run Connect-AlAppliance first." % wanted, ErrorCategory.ObjectNotFound)
            raise cmdlet_error(cmdlet, "NotConnected", "You are not connected to an App Layering appliance. Run Connect-AlAppliance "
                               "-Address <appliance> -Credential <credential> first.", ErrorCategory.ConnectionError,
                               "System.InvalidOperationException")
        row = self._store.one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        now = self._clock.now()
        if row is None or row["expires_at"] <= now:
            raise cmdlet_error(cmdlet, "SessionTimeout", "The App Layering appliance session has expired or is no longer valid "
                               "(SessionTimeout). Run Connect-AlAppliance again.", ErrorCategory.AuthenticationError,
                               "System.UnauthorizedAccessException")
        # the appliance's session timeout is an idle timeout: every call renews it
        self._store.update("sessions", "id", session_id, {"expires_at": now + self._runtime.get("session_ttl_seconds")})
        return row

    def expire_sessions(self):
        self._store.execute("UPDATE sessions SET expires_at = ?", (self._clock.now() - 1,))

    def _connect_alappliance(self, shell, cmdlet, bound, output):
        appliance = self.config["appliance"]
        address = bound["Address"].strip()
        if address.lower() != appliance["address"].lower():
            raise cmdlet_error(cmdlet, "ConnectionFailed", "Could not connect to the App Layering appliance at '%s': No such host is "
                               "known." % address, ErrorCategory.ConnectionError, "System.Net.WebException", address)
        if not bound.get("IgnoreCertificateErrors") and not self._runtime.get("appliance_certificate_trusted"):
            raise cmdlet_error(cmdlet, "CertificateError", "Could not establish trust relationship for the SSL/TLS secure channel with "
                               "the App Layering appliance '%s': its certificate is self-signed. Use -IgnoreCertificateErrors or trust "
                               "the appliance's certificate." % address, ErrorCategory.SecurityError, "System.Net.WebException", address)
        credential = bound["Credential"]
        if credential["UserName"].lower() != appliance["user"].lower() or credential["Password"] != appliance["password"]:
            raise cmdlet_error(cmdlet, "InvalidCredentials", "Login to the App Layering appliance '%s' failed: the user name or password "
                               "is incorrect (InvalidCredentials)." % address, ErrorCategory.AuthenticationError,
                               "System.UnauthorizedAccessException", address)
        session_id = str(uuid.uuid4())
        now = self._clock.now()
        self._store.insert("sessions", {"id": session_id, "shell": shell.id, "user": credential["UserName"], "address": address,
                                        "created_at": now, "expires_at": now + self._runtime.get("session_ttl_seconds")})
        shell.state.setdefault("connections", []).append(session_id)
        return [PSCustomObject(PSTypeName="Citrix.AppLayering.ApplianceConnection", Id=session_id, Address=address,
                               UserName=credential["UserName"], IgnoreCertificateErrors=bool(bound.get("IgnoreCertificateErrors")),
                               Version="25.11.0.3")]

    def _disconnect_alappliance(self, shell, cmdlet, bound, output):
        session = self._session(shell, cmdlet, bound)
        self._store.execute("DELETE FROM sessions WHERE id = ?", (session["id"],))
        shell.state["connections"] = [c for c in shell.state.get("connections", []) if c != session["id"]]
        return []

    # --- connectors ------------------------------------------------------------------------------

    @staticmethod
    def _connector_object(conn):
        props = dict(Id=conn["Id"], Name=conn["Name"], Type=conn["Type"], PlatformType=conn["PlatformType"])
        if conn["Type"] == FILE_SHARE:
            props.update(SharePath=conn["SharePath"], DiskFormat=conn["DiskFormat"])
        return PSCustomObject(PSTypeName="Citrix.AppLayering.ConnectorConfig", **props)

    def _get_alconnectorconfig(self, shell, cmdlet, bound, output):
        self._session(shell, cmdlet, bound)
        found = self.connectors
        if bound.get("Id"):
            found = [c for c in found if c["Id"].lower() == bound["Id"].lower()]
        if bound.get("Name"):
            found = [c for c in found if fnmatch.fnmatchcase(c["Name"].lower(), bound["Name"].lower())]
        if not found and (bound.get("Name") or bound.get("Id")):
            what = bound.get("Name") or bound.get("Id")
            output.write_error(error_record("No connector configuration matching '%s' was found on the appliance." % what,
                                            "ConnectorConfigNotFound,%s" % cmdlet, ErrorCategory.ObjectNotFound, "ItemNotFoundException",
                                            "System.Management.Automation.ItemNotFoundException", what))
        return [self._connector_object(c) for c in found]

    def _connector(self, cmdlet, connector_id, param, types):
        for conn in self.connectors:
            if conn["Id"].lower() == connector_id.lower():
                if conn["Type"] not in types:
                    raise cmdlet_error(cmdlet, "InvalidConnectorType", "The connector configuration '%s' (%s) is of type '%s'; -%s needs a "
                                       "connector of type %s." % (conn["Name"], conn["Id"], conn["Type"], param, " or ".join(
                                           "'%s'" % t for t in types)), ErrorCategory.InvalidArgument, "System.ArgumentException", connector_id)
                return conn
        raise cmdlet_error(cmdlet, "ConnectorConfigNotFound", "No connector configuration with id '%s' (-%s) exists on the appliance. Look "
                           "it up with Get-AlConnectorConfig -Name <name>." % (connector_id, param), ErrorCategory.ObjectNotFound,
                           "System.ArgumentException", connector_id)

    def _default_share(self):
        return next(c for c in self.connectors if c.get("DefaultForIps"))

    # --- tasks -----------------------------------------------------------------------------------

    def task_object(self, row):
        progress = self._tasks.progress(row)
        state = progress.state
        status = progress.message or (state if state in TERMINAL else progress.stage)
        items = [PSCustomObject(PSTypeName="Citrix.AppLayering.WorkItem", Id=PSInt64(row["id"]), State=state, Status=status,
                                ItemType=row["type"])]
        result = row["result"] if state == "Completed" else {}
        return PSCustomObject(
            PSTypeName=TASK_TYPE_NAMES[0], Id=PSInt64(row["id"]), WorkTicketId=PSInt64(row["id"]), Type=row["type"], State=state,
            Status=status, Stage=progress.stage, PercentComplete=PSInt(progress.percent),
            Message=progress.message or "", StartTime=PSDateTime.fromtimestamp(row["created_at"], datetime.timezone.utc),
            EndTime=PSDateTime.fromtimestamp(row["completed_at"], datetime.timezone.utc) if row["completed_at"] else None,
            Result=dict(result or {}), WorkItems=PSList(items))

    def _start(self, shell, cmdlet, bound, task_type, parameters, session):
        if self._faults.take("task_id_zero", cmdlet=cmdlet):
            message = "Another operation is in progress on the appliance; the task was not started (WorkTicketId 0)."
            return [PSCustomObject(PSTypeName=TASK_TYPE_NAMES[0], Id=PSInt64(0), WorkTicketId=PSInt64(0), Type=task_type, State="None",
                                   Status=message, Stage="", PercentComplete=PSInt(0), Message=message, Result={}, WorkItems=PSList([]))]
        row = self._tasks.create(task_type, parameters, session["id"])
        return [self.task_object(row)]

    def _start_alipsexport(self, shell, cmdlet, bound, output):
        session = self._session(shell, cmdlet, bound)
        source = self._connector(cmdlet, bound["ConnectorConfigId"], "ConnectorConfigId", SOURCE_TYPES)
        share = (self._connector(cmdlet, bound["FileShareConnectorConfigId"], "FileShareConnectorConfigId", (FILE_SHARE,))
                 if bound.get("FileShareConnectorConfigId") else self._default_share())
        disk = bound["SourceDisk"]
        if source["Type"] == "VMware vSphere":
            match = VSPHERE_DISK.match(disk)
            if not match:
                raise cmdlet_error(cmdlet, "InvalidSourceDisk", "-SourceDisk '%s' is not a vSphere disk path; use the datastore form "
                                   "'[datastore] folder/disk.vmdk'." % disk, ErrorCategory.InvalidArgument, "System.ArgumentException", disk)
            seed = match.group("path")
        elif source["Type"] == IPS_AZURE:
            if not ARM_DISK.match(disk):
                raise cmdlet_error(cmdlet, "InvalidSourceDisk", "-SourceDisk '%s' is not the full resource id of an Azure managed disk "
                                   "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/disks/<name>)." % disk,
                                   ErrorCategory.InvalidArgument, "System.ArgumentException", disk)
            seed = disk
        else:
            seed = disk
        parameters = {"source_connector": source["Id"], "source_disk": disk, "seed": seed, "share": share["Id"],
                      "output": bound["OutputDiskName"], "tags": bound.get("Tags") or {}}
        return self._start(shell, cmdlet, bound, "IpsExport", parameters, session)

    def _start_alipsprepare(self, shell, cmdlet, bound, output):
        session = self._session(shell, cmdlet, bound)
        self._connector(cmdlet, bound["ConnectorConfigId"], "ConnectorConfigId", (IPS_AZURE,))
        match = ARM_DISK.match(bound["SourceDisk"])
        if not match:
            raise cmdlet_error(cmdlet, "InvalidSourceDisk", "-SourceDisk '%s' is not the full resource id of an Azure managed disk "
                               "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/disks/<name>)." % bound["SourceDisk"],
                               ErrorCategory.InvalidArgument, "System.ArgumentException", bound["SourceDisk"])
        pvs = bound["ProvisioningType"] == "Pvs"
        for name in ("Misa", "Mcsio"):
            if pvs and bound.get(name) not in (None, "None"):
                raise cmdlet_error(cmdlet, "InvalidParameterCombination", "-%s applies to MCS images only; it cannot be used with "
                                   "-ProvisioningType Pvs." % name, ErrorCategory.InvalidArgument, "System.ArgumentException", name)
        if not pvs and bound.get("PvsInstallVersion"):
            raise cmdlet_error(cmdlet, "InvalidParameterCombination", "-PvsInstallVersion applies to PVS images only; it cannot be used "
                               "with -ProvisioningType Mcs.", ErrorCategory.InvalidArgument, "System.ArgumentException", "PvsInstallVersion")
        parameters = dict((k, v) for k, v in bound.items() if k not in ("ConnectionId",))
        parameters.update(subscription=match.group("sub"), resource_group=match.group("rg"), disk=match.group("name"))
        return self._start(shell, cmdlet, bound, "IpsPrepare", parameters, session)

    def _start_alipspublish(self, shell, cmdlet, bound, output):
        session = self._session(shell, cmdlet, bound)
        self._connector(cmdlet, bound["ConnectorConfigId"], "ConnectorConfigId", (IPS_AZURE,))
        share = self._connector(cmdlet, bound["FileShareConnectorConfigId"], "FileShareConnectorConfigId", (FILE_SHARE,))
        match = ARM_DISK.match(bound["SourceDisk"])
        if not match:
            raise cmdlet_error(cmdlet, "InvalidSourceDisk", "-SourceDisk '%s' is not the full resource id of an Azure managed disk."
                               % bound["SourceDisk"], ErrorCategory.InvalidArgument, "System.ArgumentException", bound["SourceDisk"])
        parameters = {"source_disk": bound["SourceDisk"], "subscription": match.group("sub"), "resource_group": match.group("rg"),
                      "disk": match.group("name"), "share": share["Id"], "output": bound["OutputDiskName"], "tags": bound.get("Tags") or {}}
        return self._start(shell, cmdlet, bound, "IpsPublish", parameters, session)

    def _start_alipsdiagnostics(self, shell, cmdlet, bound, output):
        session = self._session(shell, cmdlet, bound)
        share = self._connector(cmdlet, bound["FileShareConnectorConfigId"], "FileShareConnectorConfigId", (FILE_SHARE,))
        about = bound.get("WorkTicketId")
        if about is not None and self._tasks.get(about) is None:
            raise self._no_task(cmdlet, about)
        return self._start(shell, cmdlet, bound, "IpsDiagnostics", {"share": share["Id"], "about": about}, session)

    @staticmethod
    def _no_task(cmdlet, task_id):
        return cmdlet_error(cmdlet, "WorkTicketNotFound", "The appliance has no task with WorkTicketId %s (WorkTicketNotFound)." % task_id,
                            ErrorCategory.ObjectNotFound, "System.Management.Automation.ItemNotFoundException", task_id)

    def _task_ids(self, cmdlet, bound):
        ids = []
        if bound.get("WorkTicketId") is not None:
            ids.append(bound["WorkTicketId"])
        for obj in bound.get("InputObject") or []:
            ident = None
            for prop in ("WorkTicketId", "TaskId", "Id"):
                ident = obj.get(prop) if isinstance(obj, dict) else getattr(obj, prop, None)
                if ident is not None:
                    break
            if ident is None and isinstance(obj, int):
                ident = obj
            if ident is None:
                raise cmdlet_error(cmdlet, "InvalidInputObject", "The input object has no WorkTicketId or TaskId property.",
                                   ErrorCategory.InvalidArgument, "System.ArgumentException")
            ids.append(int(ident))
        if not ids:
            raise cmdlet_error(cmdlet, "NoTaskGiven", "Name the task with -WorkTicketId (alias -TaskId) or pipe a task object in.",
                               ErrorCategory.InvalidArgument, "System.ArgumentException")
        return ids

    def _get_altask(self, shell, cmdlet, bound, output):
        self._session(shell, cmdlet, bound)
        if bound.get("WorkTicketId") is None and not bound.get("InputObject"):
            return [self.task_object(r) for r in self._tasks.all()]
        rows = []
        for task_id in self._task_ids(cmdlet, bound):
            row = self._tasks.get(task_id)
            if row is None:
                raise self._no_task(cmdlet, task_id)
            rows.append(row)
        return [self.task_object(r) for r in rows]

    def _stop_altask(self, shell, cmdlet, bound, output):
        self._session(shell, cmdlet, bound)
        rows = []
        for task_id in self._task_ids(cmdlet, bound):
            row = self._tasks.cancel(task_id)
            if row is None:
                raise self._no_task(cmdlet, task_id)
            rows.append(row)
        return [self.task_object(r) for r in rows]

    def _wait_altask(self, shell, cmdlet, bound, output):
        self._session(shell, cmdlet, bound)
        ids = self._task_ids(cmdlet, bound)
        stops = set(s.lower() for s in (bound.get("AdditionalStates") or []))
        done = []
        for task_id in ids:
            while True:
                row = self._tasks.get(task_id)
                if row is None:
                    raise self._no_task(cmdlet, task_id)
                state = self._tasks.progress(row).state
                if state in TERMINAL or state.lower() in stops:
                    done.append(row)
                    break
                if output.stopped.is_set() or shell.closed:
                    return [self.task_object(r) for r in done]  # stopped (Ctrl+C) or the pool was deleted
                # Wait-AlTask polls the appliance: an expired session ends the wait with the appliance's error
                self._session(shell, cmdlet, bound)
                time.sleep(WAIT_POLL_SECONDS)
        return [self.task_object(r) for r in done]
