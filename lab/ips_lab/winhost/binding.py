"""Parameter binding as PowerShell does it for a compiled cmdlet: names (case-insensitive, aliases, unique
prefixes), positions, mandatory parameters and type conversion, with PowerShell's own ErrorRecords
(ParameterBindingException, category InvalidArgument) when it fails.

Values arrive as psrpcore deserialised them (PSString, PSInt, PSDict, ...); `net_type_of` names what
arrived the way .NET would, for the recorded calls.
"""

import datetime
import re
import uuid

from psrpcore.types import ErrorCategory

from .cmdlets import ENUMS, NET_TYPES
from .shells import error_record

BINDING_EXCEPTION = "System.Management.Automation.ParameterBindingException"
INT_RANGES = {"Int32": (-2 ** 31, 2 ** 31 - 1), "Int64": (-2 ** 63, 2 ** 63 - 1)}
TIMESPAN = re.compile(r"^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$")


class BindingError(Exception):
    """Binding failed; `record` is the ErrorRecord PowerShell would put on the failed pipeline."""

    def __init__(self, record, message):
        super().__init__(message)
        self.record = record


def binding_error(cmdlet, error_id, message, target=None):
    return BindingError(error_record(message, "%s,%s" % (error_id, cmdlet), ErrorCategory.InvalidArgument, "ParameterBindingException",
                                     BINDING_EXCEPTION, target), message)


def net_type_of(value):
    """The .NET type name of a received value ("$null" for null)."""
    if value is None:
        return "$null"
    names = getattr(getattr(value, "PSObject", None), "type_names", None)
    if names:
        return names[0][len("Deserialized."):] if names[0].startswith("Deserialized.") else names[0]
    return {bool: "System.Boolean", int: "System.Int32", str: "System.String", float: "System.Double"}.get(type(value), type(value).__name__)


def _display(value):
    """A value as PowerShell prints it inside a conversion error."""
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    if isinstance(value, (list, tuple)):
        return "System.Object[]"
    return str(value)


class _Unconvertible(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _to_int(value, kind):
    if _is_int(value):
        number = int(value)
    elif isinstance(value, str) and re.match(r"^\s*[+-]?\d+\s*$", value):
        number = int(value)
    elif isinstance(value, str):
        raise _Unconvertible("Input string was not in a correct format.")
    else:
        raise _Unconvertible(None)
    low, high = INT_RANGES[kind]
    if not low <= number <= high:
        raise _Unconvertible("Value was either too large or too small for an %s." % kind)
    return number


def _to_timespan(value):
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if _is_int(value):  # PowerShell reads an integer as ticks (100 ns)
        return int(value) / 1e7
    if isinstance(value, str):
        match = TIMESPAN.match(value.strip())
        if match:
            sign, days, hours, minutes, seconds, fraction = match.groups()
            if int(hours) < 24 and int(minutes) < 60 and int(seconds or 0) < 60:
                total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds or 0) + float("0." + (fraction or "0"))
                return -total if sign else total
        raise _Unconvertible("String '%s' was not recognized as a valid TimeSpan." % value)
    raise _Unconvertible(None)


def _to_credential(value):
    user = getattr(value, "UserName", None)
    password = getattr(value, "Password", None)
    if user is None or password is None:
        raise _Unconvertible(None)
    secret = password.decrypt() if hasattr(password, "decrypt") else str(password)
    return {"UserName": str(user), "Password": secret}


def convert(kind, value):
    """The Python value a cmdlet works with, or _Unconvertible."""
    if kind == "Switch":
        if value is None:
            return True
        if isinstance(value, bool):
            return value
        if hasattr(value, "IsPresent"):
            return bool(value.IsPresent)
        raise _Unconvertible(None)
    if value is None:
        if kind in ("String", "PSObject", "Hashtable", "String[]", "InstallerParameter[]"):
            return None
        raise _Unconvertible("Null cannot be converted to %s." % NET_TYPES[kind])
    if kind == "String":
        if isinstance(value, (dict, list, tuple)):
            raise _Unconvertible("Specified method is not supported.")
        return str(value)
    if kind in INT_RANGES:
        return _to_int(value, kind)
    if kind == "Hashtable":
        if not isinstance(value, dict):
            raise _Unconvertible(None)
        return dict((str(k), v) for k, v in value.items())
    if kind == "TimeSpan":
        return _to_timespan(value)
    if kind == "Guid":
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise _Unconvertible("Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")
    if kind == "PSCredential":
        return _to_credential(value)
    if kind in ("String[]", "InstallerParameter[]"):
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if kind == "String[]" and any(isinstance(i, (dict, list)) for i in items):
            raise _Unconvertible("Specified method is not supported.")
        return [i if isinstance(i, dict) else str(i) for i in items]
    if kind in ENUMS:
        members = ENUMS[kind]
        for member in members:
            if isinstance(value, str) and value.strip().lower() == member.lower():
                return member
        raise _Unconvertible("Unable to match the identifier name %s to a valid enumerator name. Specify one of the following "
                             "enumerator names and try again:\n%s" % (_display(value), ", ".join(members)))
    return value  # PSObject: anything


def bind(cmdlet_name, cmdlet, arguments):
    """{canonical parameter name: converted value}, or BindingError. `arguments`: [(name or None, value)]."""
    names = {}
    for name, param in cmdlet.params.items():
        names[name.lower()] = name
        for alias in param.aliases:
            names[alias.lower()] = name
    bound = {}
    positional = sorted((p.position, n) for n, p in cmdlet.params.items() if p.position is not None)
    for given, value in arguments:
        if given is None:
            free = [n for _pos, n in positional if n not in bound]
            if not free:
                raise binding_error(cmdlet_name, "PositionalParameterNotFound", "A positional parameter cannot be found that accepts "
                                    "argument '%s'." % _display(value), value)
            name = free[0]
        else:
            key = str(given).lstrip("-").lower()
            name = names.get(key)
            if name is None:
                matches = sorted(set(n for k, n in names.items() if k.startswith(key))) if key else []
                if len(matches) > 1:
                    raise binding_error(cmdlet_name, "AmbiguousParameter", "Parameter cannot be processed because the parameter name "
                                        "'%s' is ambiguous. Possible matches include: %s." % (given, " ".join("-" + m for m in matches)),
                                        str(given))
                if not matches:
                    raise binding_error(cmdlet_name, "NamedParameterNotFound", "A parameter cannot be found that matches parameter "
                                        "name '%s'." % given, str(given))
                name = matches[0]
            if name in bound:
                raise binding_error(cmdlet_name, "ParameterAlreadyBound", "Cannot bind parameter because parameter '%s' is specified "
                                    "more than once. To provide multiple values to parameters that can accept multiple values, use the "
                                    "array syntax. For example, \"-parameter value1,value2,value3\"." % name, name)
        kind = cmdlet.params[name].type
        try:
            bound[name] = convert(kind, value)
        except _Unconvertible as exc:
            raise _conversion_error(cmdlet_name, name, kind, value, exc.reason)
    missing = [n for n, p in cmdlet.params.items() if p.mandatory and n not in bound]
    if missing:
        raise binding_error(cmdlet_name, "MissingMandatoryParameter", "Cannot process command because of one or more missing mandatory "
                            "parameters: %s." % " ".join(missing))
    return bound


def _conversion_error(cmdlet_name, name, kind, value, reason):
    net = NET_TYPES[kind]
    if kind == "PSCredential":
        # the Credential attribute transforms arguments first, so its failure is a transformation error
        message = ("Cannot process argument transformation on parameter '%s'. A command that prompts the user failed because the host "
                   "program or the command type does not support user interaction." % name)
        return binding_error(cmdlet_name, "ParameterArgumentTransformationError", message, _display(value))
    if reason is None:
        message = ("Cannot bind parameter '%s'. Cannot convert the \"%s\" value of type \"%s\" to type \"%s\"."
                   % (name, _display(value), net_type_of(value), net))
    else:
        message = "Cannot bind parameter '%s'. Cannot convert value \"%s\" to type \"%s\". Error: \"%s\"" % (name, _display(value), net, reason)
    return binding_error(cmdlet_name, "CannotConvertArgumentNoMessage", message, _display(value))
