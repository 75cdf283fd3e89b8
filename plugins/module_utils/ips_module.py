# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPSModule: what every module of the collection shares.

It wraps AnsibleModule (composition, not inheritance), adds the auth options of the `auth` doc
fragment, builds the Citrix Cloud client lazily, and turns the collection's typed errors into
one clear `fail_json` message at the module boundary, never a traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.module_utils.basic import AnsibleModule, _load_params, env_fallback
from ansible.module_utils.common.validation import check_type_dict

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils._option_ranges import INSECURE_WARNING, insecure_options, range_problems
from ansible_collections.citrix_community.ips.plugins.module_utils._wire import REGION_API_URLS


def auth_argument_spec():
    """The options documented by the citrix_community.ips.auth doc fragment."""
    return dict(
        customer_id=dict(type="str", fallback=(env_fallback, ["CITRIX_CLOUD_CUSTOMER_ID"])),
        client_id=dict(type="str", fallback=(env_fallback, ["CITRIX_CLOUD_CLIENT_ID"])),
        client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["CITRIX_CLOUD_CLIENT_SECRET"])),
        region=dict(type="str", default="us", choices=sorted(REGION_API_URLS), fallback=(env_fallback, ["CITRIX_CLOUD_REGION"])),
        api_url=dict(type="str", fallback=(env_fallback, ["CITRIX_CLOUD_API_URL"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["CITRIX_CLOUD_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["CITRIX_CLOUD_CA_PATH"])),
        request_timeout=dict(type="float", default=60),
        max_retries=dict(type="int", default=5),
        retry_max_delay=dict(type="float", default=60),
        token_cache=dict(type="bool", default=True, fallback=(env_fallback, ["CITRIX_CLOUD_TOKEN_CACHE"])),
    )


# option -> the environment variable that can stand in for it, for error messages.
_REQUIRED_AUTH = (
    ("customer_id", "CITRIX_CLOUD_CUSTOMER_ID"),
    ("client_id", "CITRIX_CLOUD_CLIENT_ID"),
    ("client_secret", "CITRIX_CLOUD_CLIENT_SECRET"),
)


# error attribute -> result key: the structured, non-secret facts a failed task returns.
_ERROR_RESULT_FIELDS = {
    "status": "http_status",
    "errors": "errors",
    "transaction_id": "transaction_id",
    "job_id": "job_id",
    "job_status": "job_status",
    "progress": "progress",
    "job": "job",
}


def client_from_params(p, cls=None, credentials=None, **extra):
    """An IPSClient (or `cls`, e.g. the DaaS client, with `extra` arguments) from the auth options (a module's params, or an
    action plugin's args); IPSError names what is missing. `credentials` (customer id, client id, secret) replace the
    Citrix Cloud API client's (the DaaS client on premises signs in as a Citrix administrator instead)."""
    # Imported here so modules that never call the service don't pay for it.
    from ansible_collections.citrix_community.ips.plugins.module_utils._auth import default_cache_dir
    from ansible_collections.citrix_community.ips.plugins.module_utils._client import IPSClient

    missing = [] if credentials else ["%s (or %s)" % (opt, env) for opt, env in _REQUIRED_AUTH if not p.get(opt)]
    if missing:
        raise IPSError("Citrix Cloud credentials are incomplete: set %s. Create an API client under "
                       "Identity and Access Management > API Access." % ", ".join(missing))
    if p["max_retries"] < 0:
        raise IPSError("max_retries must be 0 or more, got %s." % p["max_retries"])
    customer_id, client_id, client_secret = credentials or (p["customer_id"], p["client_id"], p["client_secret"])
    return (cls or IPSClient)(
        customer_id=customer_id,
        client_id=client_id,
        client_secret=client_secret,
        region=p["region"],
        api_url=p["api_url"],
        validate_certs=p["validate_certs"],
        ca_path=p["ca_path"],
        request_timeout=p["request_timeout"],
        max_retries=p["max_retries"],
        retry_max_delay=p["retry_max_delay"],
        token_cache=default_cache_dir() if p.get("token_cache", True) else None,
        **extra
    )


def _unparsable_dicts_plain(spec):
    """`spec`, with the sub-options dropped from any dict option whose given value cannot be read as a dict.

    ansible-core's no_log scan of sub-options reads such a value first and fails with "dictionary requested,
    could not parse JSON or key=value", naming no option; without its sub-options the type check reports it,
    naming the option ("argument 'azure' is of type str and we were unable to convert to dict").
    """
    try:
        given = _load_params()
    except Exception:  # pylint: disable=broad-except
        return spec  # AnsibleModule reports unreadable input itself
    if not isinstance(given, dict):
        return spec
    plain = dict(spec)
    for name, option in spec.items():
        value = given.get(name)
        if option.get("type") == "dict" and option.get("options") and isinstance(value, str):
            try:
                check_type_dict(value)
            except TypeError:
                plain[name] = dict((k, v) for k, v in option.items() if k not in ("options", "required_if", "mutually_exclusive"))
    return plain


class IPSModule(object):
    """An AnsibleModule with the Citrix Cloud auth options and client."""

    def __init__(self, argument_spec, auth=True, client_factory=None, **kwargs):
        # auth=False: modules that never call Citrix Cloud (uploads, disk info) take no auth options.
        # client_factory(params): another client on the same auth options (the DaaS modules' DaasClient).
        self._client_factory = client_factory or client_from_params
        spec = auth_argument_spec() if auth else {}
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=_unparsable_dicts_plain(spec), **kwargs)
        self.params = self.module.params
        self._client = None
        self._started = time.monotonic()
        # What the options alone show to be wrong fails here, before any connection.
        for option in insecure_options(self.params):
            self.warn(INSECURE_WARNING % option)
        problems = range_problems(self.params)
        if problems:
            self.fail("; ".join(problems))

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def diff_mode(self):
        return self.module._diff

    @property
    def client(self):
        if self._client is None:
            self._client = self._build_client()
        return self._client

    def _build_client(self):
        try:
            return self._client_factory(self.params)
        except IPSError as err:
            self.fail(str(err))

    def add_secret(self, value):
        """Mask a secret the module learned at run time (e.g. inside a parsed JSON key)."""
        if value:
            self.module.no_log_values.add(value)

    def warn(self, msg):
        self.module.warn(msg)

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def fail_from_error(self, err):
        # Only non-secret, structured facts of the error travel with the message.
        fields = dict((key, getattr(err, attr)) for attr, key in _ERROR_RESULT_FIELDS.items() if getattr(err, attr, None) is not None)
        self.module.fail_json(msg=str(err), **fields)

    def exit(self, **result):
        result.setdefault("changed", False)
        result["elapsed"] = round(time.monotonic() - self._started, 3)
        self.module.exit_json(**result)

    def run(self, main):
        """Call main(self) and turn any collection error into one fail_json message."""
        try:
            main(self)
        except IPSError as err:
            self.fail_from_error(err)
