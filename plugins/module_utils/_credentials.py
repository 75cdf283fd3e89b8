# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IPS credential wallet: request bodies, look-ups and the returned shape.

The wallet never gives secrets back, so all that can be compared with what exists is the id and
the type; everything else is sent only when the caller asks for it (create, or update_secret).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSApiError, IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils import _wire

# Keys a Google service-account key file always has; checked so a wrong file fails here, not in a job.
_GCP_KEY_REQUIRED = ("type", "project_id", "private_key", "client_email")
# Inner values of a service-account key that are secret.
GCP_KEY_SECRETS = ("private_key", "private_key_id")

_WIRE_TYPE_TO_OPTION = dict((name.json.lower(), option) for option, name in _wire.CREDENTIAL_TYPES.items())


def type_options():
    """Every type-specific option of every credential type: option -> type."""
    return dict((option, ctype) for ctype, fields in _wire.CREDENTIAL_FIELDS.items() for option in fields)


def misplaced_options(ctype, params):
    """Options set for another type than `ctype`, as (option, its type) pairs."""
    return sorted((opt, owner) for opt, owner in type_options().items() if owner != ctype and params.get(opt) is not None)


def parse_gcp_key(value):
    """A service-account key given as a dict or a JSON string -> dict; errors name the option."""
    if isinstance(value, dict):
        key = value
    else:
        try:
            key = json.loads(value)
        except (TypeError, ValueError):
            raise IPSError("gcp_service_account_key is not valid JSON: pass the content of the service-account key file, "
                           "for example \"{{ lookup('ansible.builtin.file', 'key.json') }}\".")
        if not isinstance(key, dict):
            raise IPSError("gcp_service_account_key must be a JSON object (the content of a service-account key file).")
    missing = [k for k in _GCP_KEY_REQUIRED if not key.get(k)]
    if missing:
        raise IPSError("gcp_service_account_key lacks %s: download a JSON key for the service account "
                       "(IAM > Service accounts > Keys) and pass its content." % ", ".join(missing))
    return key


def action_for(existing, ctype, state, update_secret):
    """What ips_credential does with credential `existing` (its shape, or None): None, 'create', 'update' or 'delete'.
    The wallet never shows a secret, so a credential of the right type is kept unless update_secret is 'always'. Also
    what ips_credential_info's `wanted` answers, so the credentials role calls ips_credential only where it acts."""
    if state == "absent":
        return "delete" if existing else None
    if existing is None:
        return "create"
    if existing["type"] != ctype or update_secret == "always":
        return "update"
    return None


def build_body(name, ctype, params):
    """The wallet request body for a credential of type `ctype` from module params."""
    missing = [opt for opt, field in _wire.CREDENTIAL_FIELDS[ctype].items() if field.required and params.get(opt) in (None, "")]
    if missing:
        raise IPSError("credential '%s' of type %s needs %s to be sent to the wallet; set %s."
                       % (name, ctype, ", ".join(missing), "it" if len(missing) == 1 else "them"))
    body = {_wire.CREDENTIAL_ID.json: name, _wire.CREDENTIAL_TYPE.json: _wire.CREDENTIAL_TYPES[ctype].json}
    for opt, field in _wire.CREDENTIAL_FIELDS[ctype].items():
        value = params.get(opt)
        if value in (None, ""):
            continue
        if opt == "gcp_service_account_key":
            value = parse_gcp_key(value)
        body[field.json] = value
    return body


def public_view(name, ctype, params):
    """What may be shown of a desired credential (diff): non-secret fields only."""
    view = {"name": name, "type": ctype}
    for opt, field in _wire.CREDENTIAL_FIELDS[ctype].items():
        if not field.secret and params.get(opt) not in (None, ""):
            view[opt] = params[opt]
    return view


def shape(meta):
    """Wallet metadata -> the collection's credential dict."""
    wire_type = str(meta.get(_wire.CREDENTIAL_TYPE.json) or "")
    return {
        "name": meta.get(_wire.CREDENTIAL_ID.json),
        "type": _WIRE_TYPE_TO_OPTION.get(wire_type.lower(), wire_type),
        "state": meta.get(_wire.CREDENTIAL_STATE.json),
        "created_at": meta.get(_wire.CREDENTIAL_CREATED_AT.json),
        "updated_at": meta.get(_wire.CREDENTIAL_UPDATED_AT.json),
    }


def get(client, name):
    """The credential's metadata, or None if the wallet has no such id."""
    try:
        return client.call("credential", path_params={"id": name}).data
    except IPSApiError as err:
        if err.status == 404:
            return None
        raise


def list_all(client, ctype=None):
    query = {_wire.QUERY_CREDENTIAL_TYPE.json: _wire.CREDENTIAL_TYPES[ctype].json} if ctype else None
    return list(client.iter_pages("credentials", query=query))


def create(client, body):
    return client.call("credential_create", body=body).data


def update(client, name, body):
    return client.call("credential_update", path_params={"id": name}, body=body).data


def delete(client, name):
    client.call("credential_delete", path_params={"id": name})
