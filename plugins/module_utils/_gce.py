# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compute Engine calls of ips_gcp_image and ips_gcp_instance_template: the client made from a module's options, one
call (retried by the shared Retrier on throttling and outages; a POST
only where Google did not act on it), and an operation followed with the shared Waiter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils import _retries
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError, redact
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import Status

COMPUTE_URL = "https://compute.googleapis.com"


def from_module(module, project_holds):
    """The client of a module's gcp_* options (_gcp_auth.module_options); every secret met joins the module's
    no_log values. `project_holds` says what lives in the project, for the error when none is given."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._gcp_auth import credentials

    p = module.params
    if not p["gcp_project"]:
        raise IPSError("gcp_project (or GCP_PROJECT) is required: the project of %s." % project_holds)
    secrets = []
    creds = credentials(p["gcp_access_token"], p["gcp_service_account_contents"], p["gcp_service_account_file"], secrets)
    for secret in secrets:
        module.no_log_values.add(secret)
    return Gce(creds, p["gcp_project"], p["compute_endpoint"], secrets=secrets)


class GceError(IPSError):
    def __init__(self, status, message, doing):
        self.status = status
        super(GceError, self).__init__("Compute Engine refused to %s: HTTP %s: %s" % (doing, status, message))


class _Answer(Exception):
    def __init__(self, status, message, retry_after=None):
        super(_Answer, self).__init__(status)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class Gce(object):
    """Calls under compute/v1/projects/<project>/ with an authorised requests session."""

    def __init__(self, credentials, project, endpoint=None, timeout=60, max_retries=5, secrets=()):
        from google.auth.transport.requests import AuthorizedSession

        self.session = AuthorizedSession(credentials)
        self.base = "%s/compute/v1/projects/%s/" % ((endpoint or COMPUTE_URL).rstrip("/"), project)
        self.timeout = timeout
        self.policy = _retries.policy(max_retries)
        self.secrets = list(secrets)

    def call(self, method, path, body=None, doing="call Compute Engine", ok404=False):
        def attempt():
            try:
                resp = self.session.request(method, self.base + path, json=body, timeout=self.timeout)
            except Exception as exc:  # pylint: disable=broad-except  # requests/google-auth transport errors
                raise _Answer(None, redact(str(exc), self.secrets))
            if resp.status_code >= 400:
                try:
                    message = resp.json()["error"]["message"]
                except Exception:  # pylint: disable=broad-except
                    message = resp.text[:300]
                raise _Answer(resp.status_code, redact(message, self.secrets), resp.headers.get("Retry-After"))
            return resp.json() if resp.content else {}

        def classify(exc):
            if not isinstance(exc, _Answer):
                return _retries.FINAL
            if exc.status is None:
                return _retries.Verdict(_retries.is_retryable(method, dropped=True))
            return _retries.Verdict(_retries.is_retryable(method, exc.status), exc.status == 429, _retries.parse_retry_after(exc.retry_after))

        try:
            return _retries.Retrier(self.policy).call(classify, attempt)
        except _Answer as exc:
            if ok404 and exc.status == 404:
                return None
            raise GceError(exc.status or "(no answer)", exc.message, doing)

    def wait(self, op, waiter, doing):
        """Follow a global operation to DONE; its error becomes a GceError."""
        name = op["name"]
        op = waiter.until("The Compute Engine operation", lambda: self.call("GET", "global/operations/%s" % name, doing=doing),
                          lambda now: now.get("status") == "DONE", lambda now: Status(name, now.get("status"), now.get("progress"), doing),
                          first=op)
        if op.get("error"):
            raise GceError(op.get("httpErrorStatusCode"), "; ".join(e.get("message", "") for e in op["error"].get("errors", [])), doing)
        return op
