# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ips_upload_wait: wait for an ips_upload started with async/poll 0, printing its progress file.

It runs on the controller and asks the host that runs the upload (async_status, slurp), so it works
for localhost and a delegated host alike; the loop is the shared one (plugin_utils/follow.py).
A dead upload is one whose progress file stops changing (its heartbeat rewrites it every few
seconds), judged on the controller's clock only, so clock skew between the hosts does not matter.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import time

from ansible.utils.display import Display

from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import Status
from ansible_collections.citrix_community.ips.plugins.plugin_utils.follow import FollowAction, StopFollowing

display = Display()

MIB = 1048576.0


def progress_line(label, p):
    if not p.get("bytes_total"):  # before the upload knows its size (creating the target, planning): no figures yet
        return "upload %s: %s" % (label, p.get("phase") or "starting")
    limit = p.get("rate_limit_mib_s")
    return "upload %s: %s %s%%, %.1f of %.1f MiB, %s MiB/s%s, eta %s s" % (
        label, p.get("phase", "starting"), p.get("percent", 0), (p.get("bytes_done") or 0) / MIB, (p.get("bytes_total") or 0) / MIB,
        p.get("rate_mib_s", 0), " (limit %s MiB/s)" % limit if limit else "", p.get("eta_seconds", "?"))


class ActionModule(FollowAction):
    ARGUMENT_SPEC = dict(
        jid=dict(type="str", required=True),
        progress_file=dict(type="str", required=True),
        label=dict(type="str"),
        poll_delay=dict(type="int", default=5),
        report_every=dict(type="int", default=30),
        stale_after=dict(type="int", default=120),
        timeout=dict(type="int", default=21600),
    )
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def follow(self, args, task_vars):
        if args["stale_after"] < 1:
            raise StopFollowing("stale_after must be 1 or more, got %s" % args["stale_after"])
        if args["stale_after"] <= args["poll_delay"]:
            raise StopFollowing("stale_after (%d) must be longer than poll_delay (%d): the progress file cannot be judged faster than "
                                "it is looked at" % (args["stale_after"], args["poll_delay"]))
        jid = args["jid"]
        label = args["label"] or "job %s" % jid
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        read_every = min(args["report_every"] or args["poll_delay"], args["stale_after"] / 3.0)  # often enough to judge staleness
        seen = {"progress": {}, "updated": None, "changed_at": time.monotonic(), "read_at": None}

        def look():
            status = self.run_module("ansible.legacy.async_status", {"jid": jid, "_async_dir": async_dir}, task_vars)
            if status.get("failed") and status.get("msg") == "could not find job":
                raise StopFollowing("upload %s: cannot follow background job %s: the host that runs the upload has no such job "
                                    "(another host, or its async folder was wiped); run the upload task again: it resumes from its "
                                    "journal" % (label, jid))
            if status.get("finished"):
                return {"finished": status, "progress": seen["progress"]}
            if status.get("failed"):
                raise StopFollowing("upload %s: cannot follow background job %s: %s" % (label, jid, status.get("msg")))
            now = time.monotonic()
            if seen["read_at"] is None or now - seen["read_at"] >= read_every:
                seen["read_at"] = now
                seen["progress"] = self._read_progress(args["progress_file"], task_vars)
                # tells the upload someone still waits for it (see _upload/watchdog.py: unwatched, it ends itself)
                self.run_module("ansible.legacy.file", {"path": args["progress_file"] + ".watched", "state": "touch", "mode": "0600"},
                                task_vars)
                if seen["progress"].get("updated") != seen["updated"]:
                    seen["updated"], seen["changed_at"] = seen["progress"].get("updated"), now
            if now - seen["changed_at"] > args["stale_after"]:
                raise StopFollowing(
                    "upload %s: the background upload (job %s) has not written its progress file for %d s (stale_after %d s): it is no "
                    "longer running (killed, or its host restarted). Run the playbook again: it starts a new upload that resumes "
                    "where this one stopped." % (label, jid, now - seen["changed_at"], args["stale_after"]))
            return {"progress": seen["progress"]}

        def status(obs):
            p = obs["progress"]
            return Status(jid, p.get("phase", "starting"), p.get("percent"), None)

        final = self.wait("The background upload %s, job" % label, look, lambda obs: "finished" in obs, status, args,
                          lambda _s, obs: progress_line(label, obs["progress"]),
                          resume="it goes on in the background: run the playbook again to wait for it")["finished"]
        final["finished"] = final["started"] = True
        if not final.get("failed"):
            display.display("upload %s: done" % label)
        return final

    def _read_progress(self, path, task_vars):
        """The progress file as a dict; {} while it does not exist yet or cannot be parsed."""
        got = self.run_module("ansible.legacy.slurp", {"src": path}, task_vars)
        if got.get("failed") or "content" not in got:
            return {}
        try:
            return json.loads(base64.b64decode(got["content"]).decode("utf-8"))
        except ValueError:
            return {}
