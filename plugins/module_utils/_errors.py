# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's typed errors.

str() of every error is the one line a user reads in the failed task: what happened, why, and
what to do. It ends with the Citrix transaction id when there is one, so support can trace the
call. No secret may reach an error: whoever builds one passes the secrets it knows to `redact()`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

REDACTED = "********"
# Error bodies are kept for debugging, but a whole HTML error page helps nobody.
_MAX_TEXT = 300
_MAX_BODY = 4096
# JSON keys of a service error that carry the human-readable reason, best first (RFC 7807-ish
# bodies, then the OAuth error shape of the token endpoint).
_SAS_SIGNATURE = re.compile(r"(\bsig=)[^&\s\"'<>]+")
_MESSAGE_KEYS = ("detail", "title", "message", "error_description", "error")


def redact(text, secrets):
    """`text` with every non-empty secret, and the signature of any SAS URL, replaced by a fixed marker."""
    if text is None:
        return None
    text = str(text)
    # Longest first, so a secret that contains another is masked whole.
    for secret in sorted((s for s in secrets or () if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    # A SAS URL (Azure disk access, blob) is a bearer secret by its signature, whoever prints it.
    return _SAS_SIGNATURE.sub(r"\1" + REDACTED, text)


def _trim(text, limit):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def service_message(body):
    """The service's reason from an error body: its detail/title/message when JSON, else the trimmed text."""
    if not body:
        return ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body)
    except ValueError:
        return _trim(body, _MAX_TEXT)
    if isinstance(data, dict):
        for key in _MESSAGE_KEYS:
            value = data.get(key)
            if value and isinstance(value, str):
                return _trim(value, _MAX_TEXT)
    return _trim(body, _MAX_TEXT)


class IPSError(Exception):
    """Base of the collection's errors."""

    def __init__(self, message, transaction_id=None):
        super(IPSError, self).__init__(message)
        self.message = message
        self.transaction_id = transaction_id

    def __str__(self):
        if self.transaction_id:
            return "%s (transaction id: %s)" % (self.message, self.transaction_id)
        return self.message

    def __repr__(self):
        # Only the public message: attributes set by subclasses are already redacted, but the
        # default repr would show constructor args, and those must never matter for secrecy.
        return "%s(%r)" % (type(self).__name__, str(self))


_MORE_PROBLEMS = re.compile(r"\s*\(\d+ more problems? in 'errors'\)")
_QUOTED_FIELD = re.compile(r"'([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)'")


def to_option_names(text):
    """`text` with every quoted JSON field the collection knows replaced by the option it comes from."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._wire import option_name

    return _QUOTED_FIELD.sub(lambda m: "'%s'" % (option_name(m.group(1)) or m.group(1)), str(text))


def field_errors(body):
    """The service's per-field problems (`errors`: {field: [message]}) as [{option, field, messages}], option names
    in the messages; [] when the body has none."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._wire import option_name

    try:
        data = json.loads(body.decode("utf-8", "replace") if isinstance(body, bytes) else body or "")
    except ValueError:
        return []
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, dict):
        return []
    out = []
    for field, messages in errors.items():
        messages = messages if isinstance(messages, list) else [messages]
        out.append({"option": option_name(field) or field, "field": field, "messages": [to_option_names(m) for m in messages]})
    return out


class IPSApiError(IPSError):
    """The service answered with an HTTP error status."""

    def __init__(self, status, message, transaction_id=None, method=None, path=None, body=None, retries=0, hint=None):
        self.status = status
        self.method = method
        self.path = path
        self.body = None if body is None else body[:_MAX_BODY]
        self.retries = retries
        self.service_message = message
        # every field problem the service listed (the detail names only the first), with option names
        self.errors = field_errors(body) or None
        if message:
            message = to_option_names(_MORE_PROBLEMS.sub("", message))
        if self.errors:
            problems = ["%s: %s" % (e["option"], m) for e in self.errors for m in e["messages"]]
            rest = [p for p in problems if not p.endswith(message or "\0")]
            if len(rest) == len(problems) and message:  # the detail is not one of them: keep it, list them all
                message = "%s; %s" % (message, "; ".join(problems))
            elif rest:
                message = "%s; also %s" % (message, "; ".join(rest))
        text = "Citrix Cloud answered HTTP %s to %s %s" % (status, method or "?", path or "?")
        if message:
            text += ": %s" % message
        if retries:
            text += " (after %d retr%s)" % (retries, "y" if retries == 1 else "ies")
        if hint:
            text += ". %s" % hint
        super(IPSApiError, self).__init__(text, transaction_id)


class IPSAuthError(IPSError):
    """The token endpoint refused the API client."""

    def __init__(self, status, message, transaction_id=None):
        self.status = status
        self.service_message = message
        text = "Citrix Cloud refused the API client (HTTP %s%s): check client_id, client_secret and customer_id " \
               "(Identity and Access Management > API Access), and that region or api_url points at the customer's " \
               "Citrix Cloud" % (status, ": %s" % message if message else "")
        super(IPSAuthError, self).__init__(text, transaction_id)


class IPSConnectionError(IPSError):
    """No usable answer reached us (refused, reset, timed out), after the retries the policy allowed."""

    def __init__(self, host, reason, retries=0, transaction_id=None, method=None, hint=None):
        self.host = host
        self.reason = reason
        self.retries = retries
        self.method = method
        text = "Could not talk to %s: %s (%d retr%s made)" % (host, reason, retries, "y" if retries == 1 else "ies")
        if hint:
            text += ". %s" % hint
        else:
            text += ". Check the network path (proxy, firewall, DNS) to the host, then re-run"
        super(IPSConnectionError, self).__init__(text, transaction_id)


class IPSTLSError(IPSError):
    """The server's TLS certificate could not be verified."""

    def __init__(self, host, reason, transaction_id=None):
        self.host = host
        self.reason = reason
        text = "TLS certificate verification failed for %s: %s. If the host uses a private CA, set ca_path to its " \
               "CA bundle (PEM); validate_certs: false disables verification (for labs only)" % (host, reason)
        super(IPSTLSError, self).__init__(text, transaction_id)
