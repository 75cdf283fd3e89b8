# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ips_upload_wait: wait for an ips_upload started with async/poll 0, printing its progress file.

It runs on the controller and asks the host that runs the upload (async_status, slurp), so it works
for localhost and a delegated host alike. It is a loop here rather than a task file that includes
itself once per round: such an include nests one level per round, and ansible-core stops with
"maximum recursion depth exceeded" after about 230 levels (under two hours at 30 s a round).
A dead upload is one whose progress file stops changing (its heartbeat rewrites it every few
seconds), judged on the controller's clock only, so clock skew between the hosts does not matter.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

ARGUMENT_SPEC = dict(
    jid=dict(type="str", required=True),
    progress_file=dict(type="str", required=True),
    label=dict(type="str"),
    poll_delay=dict(type="int", default=5),
    report_every=dict(type="int", default=30),
    stale_after=dict(type="int", default=120),
    timeout=dict(type="int", default=21600),
)

MIB = 1048576.0


def progress_line(label, p):
    return "upload %s: %s %s%%, %.1f of %.1f MiB, %s MiB/s, eta %s s" % (
        label, p.get("phase", "starting"), p.get("percent", 0), (p.get("bytes_done") or 0) / MIB, (p.get("bytes_total") or 0) / MIB,
        p.get("rate_mib_s", 0), p.get("eta_seconds", "?"))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        for name in ("poll_delay", "report_every", "stale_after", "timeout"):
            if args[name] < 1:
                return dict(result, failed=True, msg="%s must be 1 or more, got %s" % (name, args[name]))
        if args["stale_after"] <= args["poll_delay"]:
            return dict(result, failed=True, msg="stale_after (%d) must be longer than poll_delay (%d): the progress file cannot be judged "
                        "faster than it is looked at" % (args["stale_after"], args["poll_delay"]))
        jid = args["jid"]
        label = args["label"] or "job %s" % jid
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))

        started = last_change = time.monotonic()
        last_seen = last_read = last_report = None
        read_every = min(args["report_every"], args["stale_after"] / 3.0)  # often enough to judge staleness in time
        progress = {}
        while True:
            status = self._execute_module(module_name="ansible.legacy.async_status", module_args={"jid": jid, "_async_dir": async_dir},
                                          task_vars=task_vars)
            if status.get("failed") and status.get("msg") == "could not find job":
                return dict(result, failed=True, msg="upload %s: cannot follow background job %s: the host that runs the upload has no "
                            "such job (another host, or its async folder was wiped); run the upload task again: it resumes from its "
                            "journal" % (label, jid))
            if status.get("finished"):
                status["finished"] = status["started"] = True
                status.pop("invocation", None)
                if not status.get("failed"):
                    display.display("upload %s: done" % label)
                result.update(status)
                return result
            if status.get("failed"):
                return dict(result, failed=True, msg="upload %s: cannot follow background job %s: %s" % (label, jid, status.get("msg")))
            now = time.monotonic()
            if last_read is None or now - last_read >= read_every:
                last_read = now
                progress = self._read_progress(args["progress_file"], task_vars)
                if progress.get("updated") != last_seen:
                    last_seen, last_change = progress.get("updated"), now
            if last_report is None or now - last_report >= args["report_every"]:
                last_report = now
                display.display(progress_line(label, progress))
            if now - last_change > args["stale_after"]:
                return dict(result, failed=True, msg=(
                    "upload %s: the background upload (job %s) has not written its progress file for %d s (stale_after %d s): it is no "
                    "longer running (killed, or its host restarted). Run the playbook again: it starts a new upload that resumes "
                    "where this one stopped." % (label, jid, now - last_change, args["stale_after"])))
            if now - started > args["timeout"]:
                return dict(result, failed=True, msg="upload %s: the background upload (job %s) did not finish within timeout (%d s); it "
                            "goes on in the background: run the playbook again to wait for it" % (label, jid, args["timeout"]))
            time.sleep(args["poll_delay"])

    def _read_progress(self, path, task_vars):
        """The progress file as a dict; {} while it does not exist yet or cannot be parsed."""
        got = self._execute_module(module_name="ansible.legacy.slurp", module_args={"src": path}, task_vars=task_vars)
        if got.get("failed") or "content" not in got:
            return {}
        try:
            return json.loads(base64.b64decode(got["content"]).decode("utf-8"))
        except ValueError:
            return {}
