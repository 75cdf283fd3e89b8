# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ips_job_wait: follow a job to its end in one task, printing a line per progress or stage change.

It runs on the controller with the shared loop of plugin_utils/follow.py and looks at the job
itself, through the collection's client: one token for the whole wait (not one per look, as a
module run per look would cost) and looks cheap enough to see every progress step of a fast job.
A new kind of job (appliance task, DaaS job) is a row in KINDS: how to reach its service from the
task's arguments, and how to read one job in the collection's job shape.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance, _appliance_jobs, _jobs
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import auth_argument_spec, client_from_params
from ansible_collections.citrix_community.ips.plugins.plugin_utils.follow import FollowAction, StopFollowing

# kind -> connect(args) -> a client; get(client, id) -> the job in the collection's shape (id, state,
# status, progress, stage, error) or None when the service does not know it; status(job) for the waiter.
KINDS = {
    "ips": dict(connect=client_from_params, get=_jobs.get, status=_jobs.status_of, running=_jobs.RUNNING, complete=_jobs.COMPLETE),
    # an App Layering task (WorkTicketId): one appliance session on the Windows host for the whole wait
    "appliance": dict(connect=lambda args: _appliance.Appliance(args["appliance"], args["windows_host"]),
                      get=lambda appliance, task_id: appliance.get(_appliance_jobs.task_number(task_id)),
                      status=_appliance.status_of, running=_appliance.RUNNING, complete=_appliance.COMPLETE),
}


def _spec():
    spec = dict(
        id=dict(type="str", required=True),
        kind=dict(type="str", default="ips", choices=sorted(KINDS)),
        label=dict(type="str"),
        timeout=dict(type="int", default=7200),
        timeout_option=dict(type="str", default="timeout"),
        poll_delay=dict(type="float", default=30),
        report_every=dict(type="int", default=0),
    )
    spec.update(auth_argument_spec())  # module_defaults (group/citrix_community.ips.ips) and CITRIX_CLOUD_* reach them
    spec.update(appliance=_appliance.appliance_spec(), windows_host=_appliance_jobs.windows_host_spec())
    return spec


def _percent(progress):
    return ("%.1f" % progress) if isinstance(progress, float) else str(progress)


def progress_line(label, job):
    return "%s: %s, %s%% (%s), job %s" % (label, job.get("state"), _percent(job.get("progress")), job.get("stage") or "", job.get("id"))


def failure(label, job):
    """The message of a job that ended without completing, and what to do."""
    error = job.get("error") or {}
    detail = (error.get("message") if isinstance(error, dict) else str(error)) or "the service gave no reason"
    where = "at %s%% (%s)" % (_percent(job.get("progress")), job.get("stage") or "")
    if job.get("state") == _jobs.CANCELLED:
        return "%s: job %s was cancelled %s. Run again to submit it again." % (label, job["id"], where)
    return ("%s: job %s ended %s %s: %s. Fix the cause and run again: the failed job is submitted again, completed stages are "
            "skipped." % (label, job["id"], job.get("status"), where, detail))


class ActionModule(FollowAction):
    ARGUMENT_SPEC = _spec()
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def follow(self, args, task_vars):
        kind = KINDS[args["kind"]]
        job_id = args["id"]
        label = args["label"] or "%s job %s" % (args["kind"], job_id)
        try:
            client = kind["connect"](args)
        except IPSError as err:
            raise StopFollowing("%s: %s" % (label, err))

        def look():
            try:
                job = kind["get"](client, job_id)
            except IPSError as err:
                raise StopFollowing("%s: cannot read job %s: %s" % (label, job_id, err))
            if job is None:
                raise StopFollowing("%s: job %s is no longer known to the service (finished jobs are kept 24 hours). Run the stage "
                                    "again: it submits a new job." % (label, job_id))
            return job

        try:
            job = self.wait("%s: job" % label, look, lambda j: j["state"] != kind["running"], kind["status"], args,
                            lambda _s, j: progress_line(label, j), option=args["timeout_option"],
                            resume="run the stage again to attach to it")
        finally:
            if hasattr(client, "close"):
                client.close()
        if job["state"] not in (kind["running"], kind["complete"]):  # running: check mode looked once
            return dict(failed=True, msg=failure(label, job), job=job, job_id=job_id, job_status=job.get("status"),
                        progress=job.get("progress"))
        return dict(changed=False, job=job)
