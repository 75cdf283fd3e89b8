"""Fault rules of the Windows host (POST /_lab/faults), kept in its store so a restart keeps them:

  {"action": "drop", "cmdlet": "Wait-AlTask"}           the next Receive of a pipeline running that cmdlet
                                                        closes the TCP connection without an answer (the
                                                        task goes on: a dropped connection mid-task)
  {"action": "task_id_zero", "cmdlet": "Start-AlIpsExport"}  the start call answers WorkTicketId 0 and starts
                                                        nothing (the appliance's answer while a conflicting
                                                        operation runs)
  {"action": "fail_task", "type": "IpsExport", "stage": "ExportingDisk", "message": "..."}  the next task of
                                                        that type fails when it reaches that stage
  {"action": "expire_sessions"}                         every appliance session expires now (applied at once)
  {"action": "drop_shells"}                             WinRM forgets every open shell now, as when its service
                                                        restarts or a shell's IdleTimeout passes (applied at once):
                                                        a request naming one gets the invalid-selectors fault
  {"action": "fail_merge", "message": "..."}            the next Merge-PvsDisk's work fails with that message: the
                                                        new version disappears, no file is written (pvs.py)
  {"action": "status", "cmdlet": "Get-AlTask", "status": 503, "retry_after": 1}  the next Receive of a pipeline
                                                        running that cmdlet is answered with that HTTP status (an
                                                        empty body, Retry-After when given) and not carried out:
                                                        HTTP.sys answers 503 while WinRM's queue is full
  {"action": "slow", "cmdlet": "Get-AlTask", "delay": 12}  the next such Receive is answered `delay` seconds late

Each rule counts down `times` (default 1). `cmdlet` may be omitted (any cmdlet).
"""

import uuid

from ..common.errors import ApiError
from ..common.faults import number_field, times_of
from .cmdlets import ALL_CMDLETS as CMDLETS
from .tasks import TASK_TYPES

ACTIONS = ("drop", "task_id_zero", "fail_task", "expire_sessions", "drop_shells", "fail_merge", "status", "slow")
RULE_KEYS = ("action", "cmdlet", "type", "stage", "message", "times", "status", "retry_after", "delay")


class HostFaults(object):
    def __init__(self, store):
        self._store = store

    def add(self, body):
        """The rule's id; 400 naming the field when the body is wrong. `expire_sessions` and `drop_shells` are done at
        once by the admin API and never stored."""
        if not isinstance(body, dict):
            raise ApiError(400, "A fault rule must be a JSON object.", field="body")
        unknown = [k for k in body if k not in RULE_KEYS]
        if unknown:
            raise ApiError(400, "The fault field '%s' is not known; allowed: %s." % (unknown[0], ", ".join(RULE_KEYS)), field=unknown[0])
        action = body.get("action")
        if action not in ACTIONS:
            raise ApiError(400, "The fault field 'action' must be one of %s." % ", ".join(ACTIONS), field="action")
        rule = {"action": action, "cmdlet": body.get("cmdlet")}
        if rule["cmdlet"] is not None and rule["cmdlet"] not in CMDLETS:
            raise ApiError(400, "The fault field 'cmdlet' must be one of %s." % ", ".join(sorted(CMDLETS)), field="cmdlet")
        if action == "fail_task":
            task_type = body.get("type")
            if task_type not in TASK_TYPES:
                raise ApiError(400, "The field 'type' must be one of %s." % ", ".join(TASK_TYPES), field="type")
            stages = TASK_TYPES[task_type][0]
            if body.get("stage") not in stages:
                raise ApiError(400, "The field 'stage' must be one of the %s stages: %s." % (task_type, ", ".join(stages)), field="stage")
            if not isinstance(body.get("message"), str) or not body["message"]:
                raise ApiError(400, "The field 'message' must be the failure message (a non-empty string).", field="message")
            rule.update(type=task_type, stage=body["stage"], message=body["message"])
        if action == "fail_merge":
            if not isinstance(body.get("message"), str) or not body["message"]:
                raise ApiError(400, "The field 'message' must be the failure message (a non-empty string).", field="message")
            rule.update(message=body["message"])
        if action == "status":
            status = number_field(body, "status", 503, 400)
            if int(status) != status or status > 599:
                raise ApiError(400, "The fault field 'status' must be an HTTP error status (400 to 599).", field="status")
            rule.update(status=int(status), retry_after=number_field(body, "retry_after", None, 0))
        if action == "slow":
            rule.update(delay=number_field(body, "delay", 1.0, 0))
        fault_id = str(uuid.uuid4())
        self._store.insert("host_faults", {"id": fault_id, "rule": rule, "remaining": times_of(body)})
        return fault_id

    def list(self):
        return [dict(r["rule"], id=r["id"], times=r["remaining"]) for r in self._store.all("SELECT * FROM host_faults ORDER BY seq")]

    def clear(self):
        self._store.execute("DELETE FROM host_faults")

    def take(self, action, cmdlet=None, task_type=None):
        """The first matching rule (`cmdlet`: a name or the names of a pipeline), counted down; None if none."""
        with self._store.lock:
            for row in self._store.all("SELECT * FROM host_faults ORDER BY seq"):
                rule = row["rule"]
                names = cmdlet if isinstance(cmdlet, (list, tuple)) else [cmdlet]
                if rule["action"] != action or (rule.get("cmdlet") and rule["cmdlet"] not in names):
                    continue
                if task_type and rule.get("type") != task_type:
                    continue
                if row["remaining"] <= 1:
                    self._store.execute("DELETE FROM host_faults WHERE seq = ?", (row["seq"],))
                else:
                    self._store.update("host_faults", "seq", row["seq"], {"remaining": row["remaining"] - 1})
                return rule
        return None

    def take_task_failure(self, task_type):
        return self.take("fail_task", task_type=task_type)
