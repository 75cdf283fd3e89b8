# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PowerShell Remoting (PSRP over WS-Management) to a Windows host: run one cmdlet with typed parameters.

The appliance backend (and later the PVS last mile) reaches Windows PowerShell through `pypsrp`:
one RunspacePool per task, so module state set by one cmdlet (the appliance session of
Connect-AlAppliance) is there for the next. Commands are always a cmdlet name plus named
parameters (`add_cmdlet`/`add_parameter`): no script text is ever built, so a value such as a disk
name reaches the cmdlet as a literal string whatever it contains.

Failures become one clear line naming the option to fix (`windows_host.password was refused by
...`, `the certificate of ... is not trusted: set windows_host.ca_path ...`), with every secret the
session knows masked. Only opening the pool and read-only cmdlets are retried (`_retries.Retrier`):
a start cmdlet may have started a task on the appliance before the connection dropped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils import _retries
from ansible_collections.citrix_community.ips.plugins.module_utils._deferred_import import Deferred
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError, redact
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import Status, Waiter, WaitTimeout


def _pypsrp_names():
    from pypsrp.complex_objects import GenericComplexObject, PSCredential, PSInvocationState
    from pypsrp.exceptions import AuthenticationError, WinRMError, WinRMTransportError, WSManFaultError
    from pypsrp.powershell import PowerShell, RunspacePool
    from pypsrp.serializer import TaggedValue
    from pypsrp.wsman import WSMan
    from requests.exceptions import ConnectionError as RequestsConnectionError, SSLError, Timeout
    return locals()


# imported when the first Session is made: a task that never reaches a Windows host does not pay for it
pypsrp = Deferred("pypsrp", _pypsrp_names)

AUTHS = ("negotiate", "ntlm", "kerberos", "credssp", "basic")
TRANSPORTS = ("https", "http")
DEFAULT_PORTS = {"https": 5986, "http": 5985}


def windows_host_spec():
    """The windows_host dict, documented by the citrix_community.ips.appliance doc fragment."""
    return dict(type="dict", options=dict(
        host=dict(type="str", required=True),
        port=dict(type="int"),
        username=dict(type="str", required=True),
        password=dict(type="str", no_log=True),
        transport=dict(type="str", default="https", choices=list(TRANSPORTS)),
        auth=dict(type="str", default="negotiate", choices=list(AUTHS)),
        ca_path=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        connection_timeout=dict(type="int", default=30),
        operation_timeout=dict(type="int", default=20),
    ))


# ERROR_WSMAN_INVALID_SELECTORS: the shell (our runspace pool) named in the request does not exist on the host
SHELL_GONE = 2150858843


class PSRPError(IPSError):
    """The Windows host could not be reached, refused us, or a cmdlet failed there."""

    def __init__(self, message, option=None, records=None):
        self.option = option
        self.records = records or []
        super(PSRPError, self).__init__(message)


class CommandFailed(PSRPError):
    """A cmdlet wrote ErrorRecords or its pipeline failed; `records` holds (fully qualified id, message)."""


class _Dropped(Exception):
    """The connection broke under a call: retried only where the call is read-only."""

    throttled = False


class _ShellGone(_Dropped):
    """The host no longer knows our runspace pool (WS-Management fault ERROR_WSMAN_INVALID_SELECTORS: WinRM restarted,
    or dropped an idle shell). The pipeline never started there; a new pool is opened for the retry. A new pool holds
    none of the old one's state: the caller's appliance connection is gone too (it sees "not connected" and connects
    again)."""


class _Busy(_Dropped):
    """The host answered 429 or 503 (HTTP.sys while WinRM's queue is full): the request was not carried out, so it is
    retried where a dropped connection is. pypsrp keeps no headers of the answer: no Retry-After, the policy's backoff."""

    def __init__(self, text, status):
        super(_Busy, self).__init__(text)
        self.throttled = status == 429


def plain(value):
    """A value pypsrp deserialised -> plain Python (dicts of the object's properties, lists), for results."""
    if isinstance(value, pypsrp.GenericComplexObject):
        out = {}
        for props in (value.adapted_properties, value.extended_properties):
            for key, item in (props or {}).items():
                out[str(key)] = plain(item)
        if not out and value.to_string is not None:
            return value.to_string
        return out
    if isinstance(value, dict):
        return dict((str(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def typed(kind, value):
    """Our value -> what pypsrp sends for a parameter of that type (see _appliance_wire's types)."""
    if kind == "int64":
        return pypsrp.TaggedValue("I64", int(value))
    if kind == "timespan":
        return pypsrp.TaggedValue("TS", "PT%dS" % int(value))  # xs:duration, what PowerShell deserialises as TimeSpan
    if kind == "switch":
        return bool(value)
    if kind == "hashtable":
        return dict((str(k), v) for k, v in (value or {}).items())
    if kind == "list":
        return list(value)
    return str(value)  # string, enum member name


class Session(object):
    """One RunspacePool on the Windows host, opened on first use; `run` invokes one cmdlet."""

    def __init__(self, host, username, password=None, port=None, transport="https", auth="negotiate", ca_path=None,
                 validate_certs=True, connection_timeout=30, operation_timeout=20, secrets=(), retry_policy=None,
                 option="windows_host", sleep=None):
        missing = pypsrp.missing()
        if missing:
            raise PSRPError("The pypsrp Python library is needed to reach the Windows host (%s): pip install pypsrp (%s)." % (host, missing))
        if transport == "http" and auth == "basic":
            raise PSRPError("%s.auth basic over %s.transport http would send the password in clear text: use transport https "
                            "(or auth ntlm/negotiate/kerberos, which encrypt the messages)." % (option, option), option + ".transport")
        self.host = host
        self.port = port or DEFAULT_PORTS[transport]
        self.option = option
        self.secrets = [s for s in (password,) + tuple(secrets) if s]
        self._pool = None
        cert = (ca_path or True) if validate_certs else False
        self._wsman_args = dict(server=host, port=self.port, username=username, password=password, ssl=transport == "https",
                                auth=auth, cert_validation=cert, connection_timeout=connection_timeout,
                                operation_timeout=operation_timeout, read_timeout=operation_timeout + 10)
        # a read-only call's whole answer: pypsrp re-sends a Receive that timed out, and when the first one's output was
        # lost on the way it polls for ever; past this the call counts as dropped (and is retried)
        self.read_deadline = 3 * (operation_timeout + 10)
        kwargs = {} if sleep is None else {"sleep": sleep}
        self.retrier = _retries.Retrier(retry_policy or _retries.policy(max_retries=3, max_delay=10), **kwargs)

    def add_secret(self, value):
        if value:
            self.secrets.append(value)

    # --- opening and closing ---------------------------------------------------------------------

    def _open(self):
        wsman = pypsrp.WSMan(**self._wsman_args)
        pool = pypsrp.RunspacePool(wsman)
        try:
            pool.open()
        except Exception:
            try:
                wsman.close()
            except Exception:  # pylint: disable=broad-except
                pass
            raise
        return pool

    @property
    def pool(self):
        if self._pool is None:
            # Opening changes nothing on the host: a dropped or refused connection is retried.
            try:
                self._pool = self.retrier.call(self._classify_open, self._guarded, self._open)
            except _Dropped as exc:
                raise self.final(exc)
        return self._pool

    def close(self):
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                pool.close()
            except Exception:  # pylint: disable=broad-except
                pass  # the host drops an idle pool itself; closing is courtesy

    def exchange_keys(self):
        """Needed before a PSCredential (its password travels as a SecureString)."""
        self._guarded(self.pool.exchange_keys)

    def credential(self, username, password):
        self.add_secret(password)
        self.exchange_keys()
        return pypsrp.PSCredential(username=username, password=password)

    # --- running a cmdlet --------------------------------------------------------------------------

    def run(self, cmdlet, parameters, read_only=False):
        """Invoke `cmdlet` with `parameters` ([(name, value)], values already typed); -> list of output objects.

        Raises CommandFailed with the ErrorRecords' messages. `read_only` cmdlets are retried after a
        dropped connection; the others never are (the appliance may have acted).
        """
        def invoke():
            ps = pypsrp.PowerShell(self.pool)
            ps.add_cmdlet(cmdlet)
            for name, value in parameters:
                ps.add_parameter(name, value)
            output = self._bounded(ps, cmdlet) if read_only else ps.invoke()
            errors = list(ps.streams.error)
            if ps.had_errors or errors:
                records = [self._record(e) for e in errors] or [("", "the pipeline failed without an error record")]
                raise CommandFailed("%s on %s failed: %s" % (cmdlet, self.host, "; ".join(
                    "%s (%s)" % (m, i) if i else m for i, m in records)), records=records)
            return output

        classify = self._classify_read if read_only else (lambda exc: _retries.FINAL)
        try:
            return self.retrier.call(classify, self._guarded, invoke)
        except _Dropped as exc:
            if read_only:
                raise self.final(exc)
            raise PSRPError("the call to %s:%s failed while %s ran: %s. The appliance may have started the task; "
                            "run the task again: it looks for the task before starting another." % (self.host, self.port, cmdlet, exc),
                            self.option)

    def _bounded(self, ps, cmdlet):
        """ps.invoke() within `read_deadline`; a longer one raises _Dropped."""
        ps.begin_invoke()
        waiter = Waiter(self.read_deadline, 0.2, option=self.option + ".operation_timeout")
        try:
            waiter.until(cmdlet, lambda: ps.poll_invoke() or ps.state, lambda state: state != pypsrp.PSInvocationState.RUNNING,
                         lambda state: Status(cmdlet, "running", None, None), first=ps.state)
        except WaitTimeout:
            raise _Dropped("%s got no complete answer within %d s" % (cmdlet, self.read_deadline))
        return ps.output

    def _record(self, error):
        fq = str(getattr(error, "fq_error", "") or "")
        message = None
        exc = getattr(error, "exception", None)
        if isinstance(exc, pypsrp.GenericComplexObject):
            message = (exc.adapted_properties or {}).get("Message") or (exc.extended_properties or {}).get("Message")
        message = message or getattr(error, "details_message", None) or getattr(error, "message", None) or str(error)
        return fq, redact(message, self.secrets)

    # --- error mapping -------------------------------------------------------------------------------

    @staticmethod
    def _classify_open(exc):
        return _retries.Verdict(True, exc.throttled) if isinstance(exc, _Dropped) else _retries.FINAL

    _classify_read = _classify_open  # a read-only cmdlet is retried as opening the pool is

    def _guarded(self, func, *args):
        """func(*args) with pypsrp's and requests' failures turned into PSRPError (or _Dropped, to retry)."""
        where = "%s:%s" % (self.host, self.port)
        opt = self.option
        try:
            return func(*args)
        except PSRPError:
            raise
        except pypsrp.AuthenticationError as err:
            raise PSRPError("%s.password (or %s.username) was refused by %s: %s. Check the account and %s.auth."
                            % (opt, opt, where, self._safe(err), opt), opt + ".password")
        except pypsrp.WinRMTransportError as err:
            if err.code == 401:
                raise PSRPError("%s.password (or %s.username) was refused by %s (HTTP 401). Check the account and %s.auth."
                                % (opt, opt, where, opt), opt + ".password")
            text = "%s answered HTTP %s: %s" % (where, err.code, self._safe(err.response_text)[:300])
            if err.code in _retries.RETRY_ANY_METHOD:
                raise _Busy(text.rstrip(": "), err.code)
            raise PSRPError(text, opt)
        except pypsrp.SSLError as err:
            raise PSRPError("the certificate of %s is not trusted (%s): set %s.ca_path to the CA bundle (PEM) that signed it, "
                            "or %s.validate_certs: false (labs only)." % (where, self._safe(err)[:200], opt, opt), opt + ".ca_path")
        except pypsrp.RequestsConnectionError as err:
            text = self._safe(err)
            if "refused" in text.lower() and self._pool is None:
                raise PSRPError("could not connect to %s: the connection was refused. Check %s.host and %s.port, and that "
                                "WinRM listens there (%s.transport)." % (where, opt, opt, opt), opt + ".host")
            raise _Dropped(text)
        except pypsrp.Timeout as err:
            raise _Dropped(self._safe(err))
        except pypsrp.WSManFaultError as err:
            if err.code == SHELL_GONE and self._pool is not None:
                self._pool = None  # gone on the host: nothing to close; the retry opens a new one
                raise _ShellGone("%s no longer knows this session's runspace pool (WS-Management fault %s): %s"
                                 % (where, err.code, self._safe(err.reason)))
            raise PSRPError("%s refused the request (WS-Management fault %s): %s" % (where, err.code, self._safe(err.reason)), opt)
        except pypsrp.WinRMError as err:
            raise PSRPError("PowerShell Remoting with %s failed: %s" % (where, self._safe(err)), opt)

    def _safe(self, value):
        return redact(str(value), self.secrets)

    def final(self, exc):
        """A _Dropped that outlived its retries, as the error a user reads."""
        return PSRPError("the call to %s:%s failed again after %d retries: %s"
                         % (self.host, self.port, self.retrier.retries, exc), self.option)
