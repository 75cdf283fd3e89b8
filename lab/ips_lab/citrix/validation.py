"""Checks request bodies against rules.py, the way the real service would: strictly, naming the field."""

import json
import re

from ..common import rules
from ..common.errors import ApiError
from ..jobwork.smb_location import parse_smb_location

_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")
_SMB_KEYS = {"location": "location", "credentialid": "credentialId"}


class Problems(object):
    """Collects field problems; raise_if_any() turns them into one 400 naming the first field."""

    def __init__(self):
        self.errors = {}

    def add(self, field, message):
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self):
        if not self.errors:
            return
        field, messages = next(iter(self.errors.items()))
        detail = messages[0]
        more = sum(len(m) for m in self.errors.values()) - 1
        if more:
            detail += " (%d more problem%s in 'errors')" % (more, "s" if more > 1 else "")
        raise ApiError(400, detail, errors=self.errors)


def _is_str(value):
    return isinstance(value, str) and value.strip() != ""


def _check_kind(name, spec, value, problems):
    """Type-check one value; returns the normalised value (smb keys fixed, gcp key parsed)."""
    kind = spec.kind
    if kind == "str" and not _is_str(value):
        problems.add(name, "The field '%s' must be a non-empty string." % name)
    elif kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        problems.add(name, "The field '%s' must be an integer." % name)
    elif kind == "bool" and not isinstance(value, bool):
        problems.add(name, "The field '%s' must be true or false." % name)
    elif kind == "strs" and not (isinstance(value, list) and all(_is_str(v) for v in value)):
        problems.add(name, "The field '%s' must be a list of non-empty strings." % name)
    elif kind == "tags" and not (isinstance(value, dict) and all(isinstance(k, str) and k and isinstance(v, str) for k, v in value.items())):
        problems.add(name, "The field '%s' must be an object of string keys to string values." % name)
    elif kind == "enum" and value not in spec.choices:
        problems.add(name, "The field '%s' must be one of %s (got %s)." % (name, ", ".join(spec.choices), json.dumps(value)))
    elif kind == "md5" and not (isinstance(value, str) and _MD5.match(value)):
        problems.add(name, "The field '%s' must be an MD5 hash: 32 hexadecimal characters." % name)
    elif kind == "xd":
        _check_xd_reconfigure(name, value, problems)
    elif kind == "smb":
        return _check_smb(name, value, problems)
    elif kind == "gcp_key":
        return _check_gcp_key(name, value, problems)
    return value


def _check_xd_reconfigure(name, value, problems):
    if not isinstance(value, list):
        problems.add(name, "The field '%s' must be a list of {ParameterName, ParameterValue} objects." % name)
        return
    seen = set()
    for i, item in enumerate(value):
        where = "%s[%d]" % (name, i)
        if not isinstance(item, dict) or set(item) != {"ParameterName", "ParameterValue"}:
            problems.add(where, "The element '%s' must be an object with exactly the keys ParameterName and ParameterValue." % where)
        elif not _is_str(item["ParameterName"]) or not isinstance(item["ParameterValue"], str):
            problems.add(where, "The element '%s' needs a non-empty string ParameterName and a string ParameterValue." % where)
        else:
            param = item["ParameterName"].lower()
            pattern = rules.XD_RECONFIGURE_VALUES.get(param)
            if param in seen:
                problems.add(where, "The element '%s' repeats the parameter '%s'; give each parameter once." % (where, item["ParameterName"]))
            elif pattern and not re.search(pattern, item["ParameterValue"]):
                problems.add(where, "The element '%s' has a bad value for '%s': %s." % (where, param, json.dumps(item["ParameterValue"])))
            elif param == "portnumber" and not 1 <= int(item["ParameterValue"]) <= 65535:
                problems.add(where, "The element '%s' has a port number out of range: %s." % (where, item["ParameterValue"]))
            seen.add(param)


def _check_smb(name, value, problems):
    if not isinstance(value, dict):
        problems.add(name, "The field '%s' must be an object with location and credentialId." % name)
        return value
    fixed = {}
    for key, item in value.items():
        canonical = _SMB_KEYS.get(str(key).lower())
        if canonical is None:
            problems.add("%s.%s" % (name, key), "The field '%s.%s' is not known; allowed: location, credentialId." % (name, key))
        else:
            fixed[canonical] = item
    for key in ("location", "credentialId"):
        if not _is_str(fixed.get(key)):
            problems.add("%s.%s" % (name, key), "The field '%s.%s' is required and must be a non-empty string." % (name, key))
    if _is_str(fixed.get("location")):
        try:
            parse_smb_location(fixed["location"])
        except ValueError as exc:
            problems.add("%s.location" % name, "The field '%s.location' %s." % (name, exc))
    return fixed


def _check_gcp_key(name, value, problems):
    key = value
    if isinstance(value, str):
        try:
            key = json.loads(value)
        except ValueError:
            problems.add(name, "The field '%s' must be a service-account key: an object or its JSON text." % name)
            return value
    if not isinstance(key, dict):
        problems.add(name, "The field '%s' must be a service-account key: an object or its JSON text." % name)
        return value
    missing = [k for k in rules.GCP_KEY_REQUIRED if not _is_str(key.get(k))]
    if missing:
        problems.add(name, "The field '%s' lacks the service-account key field(s): %s." % (name, ", ".join(missing)))
    return key


def check_fields(body, allowed, problems):
    """Unknown fields, missing required fields and types; returns the normalised body."""
    out = {}
    for name, value in body.items():
        spec = allowed.get(name)
        if spec is None:
            problems.add(name, "The field '%s' is not known for this request." % name)
        elif value is None and not spec.required:
            continue
        else:
            out[name] = _check_kind(name, spec, value, problems)
    for name, spec in allowed.items():
        if spec.required and body.get(name) is None:
            problems.add(name, "The field '%s' is required." % name)
    return out


def require_object(body):
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", field="body")


def validate_credential(body, path_id=None):
    """A wallet create/replace body -> (id, type, secret fields). path_id is the id of a PUT."""
    require_object(body)
    problems = Problems()
    cred_id = body.get("id", path_id)
    if not isinstance(cred_id, str) or not re.match(rules.CREDENTIAL_ID_PATTERN, cred_id):
        problems.add("id", "The field 'id' is required: 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit.")
    elif path_id is not None and cred_id != path_id:
        problems.add("id", "The field 'id' ('%s') must match the id in the path ('%s')." % (cred_id, path_id))
    cred_type = body.get("type")
    fields = rules.CREDENTIAL_TYPES.get(cred_type) if isinstance(cred_type, str) else None
    if fields is None:
        problems.add("type", "The field 'type' must be one of %s (got %s)." % (", ".join(rules.CREDENTIAL_TYPES), json.dumps(cred_type)))
        problems.raise_if_any()
    rest = {k: v for k, v in body.items() if k not in ("id", "type")}
    secrets = check_fields(rest, fields, problems)
    problems.raise_if_any()
    return cred_id, cred_type, secrets


def validate_job(job_type, body, credential_type_of, resource_location_ids):
    """A job body -> its normalised form. credential_type_of(id) gives a wallet entry's type or None."""
    spec = rules.JOB_TYPES[job_type]
    require_object(body)
    problems = Problems()
    platform = body.get("platform")
    allowed = dict(rules.COMMON_FIELDS, **spec.fields)
    if platform in rules.PLATFORMS:
        allowed.update(rules.PLATFORM_FIELDS[platform])
        if platform not in spec.platforms:
            problems.add("platform", "The job type '%s' does not support platform '%s'; supported: %s." % (job_type, platform, ", ".join(spec.platforms)))
    selectors = spec.selectors.get(platform, ()) if spec.selectors and platform in rules.PLATFORMS else ()
    allowed.update({f: rules.opt("str") for f in selectors})
    normalised = check_fields(body, allowed, problems)
    if spec.selectors and platform in rules.PLATFORMS:
        named = [f for f in selectors if normalised.get(f)]
        if not named:
            problems.add(selectors[0], "The job needs the field %s to name its disk on platform '%s'." % (" or ".join("'%s'" % f for f in selectors), platform))
        elif len(named) > 1:
            problems.add(named[1], "The fields '%s' and '%s' both name the disk; send only one." % (named[0], named[1]))
    for field, platforms in rules.PREPARE_OUTPUTS.items():
        if field in normalised and field in spec.fields and platform in rules.PLATFORMS and platform not in platforms:
            problems.add(field, "The field '%s' is not offered on platform '%s'; it is for %s." % (field, platform, ", ".join(platforms)))
    for first, second in rules.EXCLUSIVE:
        if normalised.get(first) and normalised.get(second):
            problems.add(second, "The fields '%s' and '%s' exclude each other; send only one." % (first, second))
    if job_type == "diagnostics" and not any(normalised.get(f) for f in rules.DIAGNOSTICS_COLLECT):
        problems.add(rules.DIAGNOSTICS_COLLECT[0], "The job collects nothing: set at least one of %s to true." % ", ".join(rules.DIAGNOSTICS_COLLECT))
    rl = normalised.get("resourceLocationId")
    if _is_str(rl) and rl not in resource_location_ids:
        problems.add("resourceLocationId", "The field 'resourceLocationId' names an unknown resource location '%s'." % rl)
    _check_credentials(normalised, credential_type_of, problems)
    for (field, value), (other, needed) in rules.REQUIRES.items():
        present = normalised.get(field) not in (None, "", False) if value == rules.PRESENT else normalised.get(field) == value
        if present and other in spec.fields and normalised.get(other) != needed:
            shown = json.dumps(normalised.get(field))
            problems.add(field, "The field '%s' set to %s needs '%s' to be '%s'." % (field, shown, other, needed))
    problems.raise_if_any()
    return normalised


def _check_credentials(body, credential_type_of, problems):
    platform = body.get("platform")
    cred = body.get("platformCredentialId")
    if _is_str(cred) and platform in rules.PLATFORMS:
        _check_wallet_ref("platformCredentialId", cred, rules.PLATFORM_CREDENTIAL_TYPE[platform], credential_type_of, problems)
    for name, value in body.items():
        if isinstance(value, dict) and _is_str(value.get("credentialId")) and rules.COMMON_FIELDS.get(name) is None:
            _check_wallet_ref(name + ".credentialId", value["credentialId"], rules.SMB_CREDENTIAL_TYPE, credential_type_of, problems)


def _check_wallet_ref(field, cred_id, needed_type, credential_type_of, problems):
    actual = credential_type_of(cred_id)
    if actual is None:
        problems.add(field, "The field '%s' names a credential '%s' that is not in the wallet." % (field, cred_id))
    elif actual != needed_type:
        problems.add(field, "The field '%s' names a %s credential '%s'; this needs a %s credential." % (field, actual, cred_id, needed_type))


def mask_secrets(value):
    """A deep copy of a body with the value of every key naming a password or secret masked."""
    if isinstance(value, dict):
        return {k: (rules.MASK if any(m in str(k).lower() for m in rules.SECRET_KEY_MARKERS) else mask_secrets(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value
