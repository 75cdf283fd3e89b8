# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The life of one IPS job request, shared by every job module.

desired request -> find the job with the same idempotency key (or the output) -> decide ->
check mode: the service validates (dryRun), nothing is created -> submit -> wait -> result.
Modules build the body and say how to recognise an existing output; this file does the rest.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.module_utils.basic import env_fallback

from ansible_collections.citrix_community.ips.plugins.module_utils import _jobs
from ansible_collections.citrix_community.ips.plugins.module_utils import _waiter
from ansible_collections.citrix_community.ips.plugins.module_utils import _wire

# Values under keys that look like these are replaced in diffs and returned requests.
_SECRET_KEY_PARTS = ("password", "secret", "token", "privatekey", "private_key", "sas")
MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def wait_argument_spec():
    """The options documented by the citrix_community.ips.wait doc fragment."""
    return dict(
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=7200),
        wait_sleep=dict(type="int", default=30),
    )


def job_argument_spec():
    """The options documented by the citrix_community.ips.job and .wait doc fragments."""
    spec = wait_argument_spec()
    spec.update(
        resource_location_id=dict(type="str", fallback=(env_fallback, ["CITRIX_CLOUD_RESOURCE_LOCATION_ID"])),
        prefix=dict(type="str", default="ips"),
        tags=dict(type="dict", default={}),
        force=dict(type="bool", default=False),
        extra_body=dict(type="dict", default={}),
        job_timeout=dict(type="int"),
        pending_credentials=dict(type="list", elements="str", default=[]),
    )
    return spec


def check_wait_options(mod):
    for name in ("wait_timeout", "wait_sleep"):
        if mod.params[name] < 1:
            mod.fail("%s must be 1 or more seconds, got %s." % (name, mod.params[name]))


def masked(value):
    """A copy of a request with secret-looking values replaced, for diff and results."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            secret = any(part in str(key).lower().replace("-", "_") for part in _SECRET_KEY_PARTS)
            out[key] = MASK if secret and isinstance(item, str) else masked(item)
        return out
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def credential_ids(body):
    """Every wallet credential id a job body names (the platform credential and each SMB location's)."""
    names = (_wire.JOB_COMMON_FIELDS["platform_credential_id"].json, _wire.SMB_LOCATION_FIELDS["credential_id"].json)
    found = set()
    if isinstance(body, dict):
        for key, value in body.items():
            if key in names and isinstance(value, str):
                found.add(value)
            else:
                found |= credential_ids(value)
    elif isinstance(body, list):
        for item in body:
            found |= credential_ids(item)
    return found


def common_body(params, platform, credential_id):
    """The fields every job body carries: platform, resource location, platform credential, prefix."""
    fields = _wire.JOB_COMMON_FIELDS
    return {
        fields["platform"].json: _wire.PLATFORMS[platform].json,
        fields["resource_location_id"].json: params["resource_location_id"],
        fields["platform_credential_id"].json: credential_id,
        fields["prefix"].json: params["prefix"],
    }


def smb_output_check(mod, filename, artifacts=None):
    """An `output_exists` callable for JobRunner: looks for `filename` in smb.location, read-only, with the
    optional smb.username/password/domain/port (never sent in the job). None when no smb.username is given.

    The callable returns None when the file is not there, else the module's return values for it
    (`artifacts` maps return names to "path", "filename" or "size").
    """
    smb = mod.params.get("smb") or {}
    if not smb.get("username"):
        return None
    location = smb["location"].strip()
    url = (location if location.endswith("/") else location + "/") + filename
    artifacts = artifacts or {}

    def check():
        # Imported here: smbprotocol is needed only when the check is asked for.
        from ansible_collections.citrix_community.ips.plugins.module_utils._sources import SmbFileSource, SourceError
        try:
            source = SmbFileSource(url, smb_user=smb["username"], smb_password=smb.get("password"), smb_domain=smb.get("domain"),
                                   smb_port=smb.get("port") or 445, max_connections=1, option="smb")
        except SourceError as err:
            if "does not exist on the share" in str(err):
                return None
            raise SourceError("Looking for an existing output with smb.username (read-only, never sent in the job) failed: %s. "
                              "Fix smb.username, smb.password, smb.domain or smb.port, or remove smb.username to let the service "
                              "decide about an existing output." % err)
        try:
            found = {"path": url, "filename": filename, "size": source.size}
        finally:
            source.close()
        out = dict((name, found[what]) for name, what in artifacts.items())
        out.update(exists=True, path=url, size_bytes=found["size"])
        return out
    return check


class JobRunner(object):
    """Runs one job request through find -> decide -> check -> submit -> wait for a module.

    force: with `force_resubmits` (jobs without an overwrite field: diagnostics, reverse_image) every
    forced run submits a new job; otherwise force is the body's overwrite field, part of the request
    and its key, so a forced request is idempotent like any other (a re-run finds the forced job).
    """

    def __init__(self, mod, job_type, body, output_exists=None, artifacts=(), force_resubmits=False, kind=None):
        self.mod = mod
        self.job_type = job_type
        self.output_exists = output_exists
        self.artifact_keys = tuple(artifacts)
        self.force_resubmits = force_resubmits
        self.output = None
        params = mod.params
        if not params["resource_location_id"]:
            mod.fail("resource_location_id is required: set it to the id of the resource location whose Connector Appliance runs IPS jobs "
                     "(Citrix Cloud > Resource Locations), or set CITRIX_CLOUD_RESOURCE_LOCATION_ID.")
        check_wait_options(mod)
        body = copy.deepcopy(body)
        body.update(copy.deepcopy(params["extra_body"]))
        tags_field = _wire.JOB_COMMON_FIELDS["tags"].json
        self.key = _jobs.idempotency_key(job_type, body)
        tags = dict((str(k), str(v)) for k, v in (params["tags"] or {}).items())
        tags.update(body.get(tags_field) or {})
        tags[_wire.IDEMPOTENCY_TAG] = self.key
        if kind and kind != job_type:
            tags[_wire.KIND_TAG] = kind  # shown as the job's `kind` (the service reports a publish as an export)
        body[tags_field] = tags
        self.body = body

    def run(self):
        """-> the module result dict (changed, job, request, resumed, idempotency_key)."""
        mod, params = self.mod, self.mod.params
        client = mod.client

        # Find what exists.
        existing = _jobs.find_by_key(client, self.key)
        output = None
        # Only when the service knows no job with this key (never submitted, or forgotten after 24 h): after a
        # failed job the file may be a partial one, so the request goes to the service again.
        if existing is None and self.output_exists is not None and not params["force"]:
            output = self.output = self.output_exists()

        # Decide.
        if existing and existing["state"] == _jobs.RUNNING:
            action = "attach"
        elif existing and existing["state"] == _jobs.COMPLETE and not (params["force"] and self.force_resubmits):
            action = None
        elif output:
            action = None
        else:
            action = "submit"
        result = dict(changed=action is not None, resumed=action == "attach", idempotency_key=self.key,
                      request=masked(self.body), job=existing, output=output)
        if mod.diff_mode:
            result["diff"] = dict(before={} if action == "submit" else dict(request=masked(self.body)), after=dict(request=masked(self.body)))

        # Check mode: the service validates the request, nothing is created.
        if mod.check_mode:
            if action == "submit":
                result["validation"] = self.validate()
            result.update(self.artifacts(existing))
            return result

        # Submit.
        job = existing
        if action == "submit":
            job = _jobs.submit(client, self.job_type, self.body)

        # Wait.
        if job is not None:
            job = _jobs.wait(client, job, _waiter.for_options(params["wait"], params["wait_timeout"], params["wait_sleep"]))
        if job is not None and job["state"] in (_jobs.FAILED, _jobs.CANCELLED):
            raise _jobs.JobFailed(job)
        result["job"] = job
        result.update(self.artifacts(job))
        return result

    def validate(self):
        """Check mode: the service's dryRun answer. A request naming a credential that an earlier task of the run
        would create (pending_credentials, check mode only) cannot pass the service's wallet check yet, so it is not
        sent; the prediction says which credentials it waits for."""
        pending = sorted(credential_ids(self.body) & set(self.mod.params.get("pending_credentials") or ()))
        if pending:
            return {"dryRun": False, "valid": None, "pending_credentials": pending,
                    "reason": "not validated by the service: it names wallet credentials an earlier task would create (%s)"
                              % ", ".join(pending)}
        return _jobs.submit(self.mod.client, self.job_type, self.body, dry_run=True)

    def artifacts(self, job):
        """The job's artifacts under the module's return names (None until the job reports them)."""
        found = (job or {}).get("artifacts") or {}
        out = dict((key, found.get(_wire.ARTIFACTS[key].json)) for key in self.artifact_keys)
        if job is None and self.output:
            out.update((key, self.output[key]) for key in self.artifact_keys if key in self.output)
        return out
