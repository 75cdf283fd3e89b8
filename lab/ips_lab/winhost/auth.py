"""HTTP authentication of the Windows host: Basic, and NTLM (raw or inside Negotiate) with pyspnego as the
acceptor, one context per TCP connection as a Windows WinRM listener does.

pyspnego's NTLM acceptor reads the accounts from the file named by NTLM_USER_FILE (`DOMAIN:USER:PASSWORD`
lines); the host writes it with the one local account under its state dir.
"""

import base64
import hmac
import os

import spnego

DOMAIN = "WINHOST"
CHALLENGES = ("Negotiate", "Basic realm=\"WSMAN\"")


class AuthFailed(Exception):
    """Answer 401: the credentials were wrong (the connection closes)."""


class Accounts(object):
    """The host's local account(s) and the NTLM user file pyspnego reads."""

    def __init__(self, state_dir, user, password):
        self.user = user
        self._password = password
        self.user_file = os.path.join(str(state_dir), "ntlm-users")
        fd = os.open(self.user_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            # with no domain, with the host's name and with "." (local machine), as Windows accepts them
            for domain in ("", DOMAIN, "."):
                out.write("%s:%s:%s\n" % (domain, user, password))
        os.environ["NTLM_USER_FILE"] = self.user_file

    def check_basic(self, header_value):
        try:
            user, _sep, password = base64.b64decode(header_value).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        name = user.split("\\", 1)[-1].split("@", 1)[0]
        if name.lower() == self.user.lower() and hmac.compare_digest(password.encode(), self._password.encode()):
            return name
        return None


class ConnectionAuth(object):
    """The authentication state of one TCP connection."""

    def __init__(self, accounts):
        self._accounts = accounts
        self._context = None
        self.user = None

    def check(self, header):
        """(authenticated user or None, token to send back or None, scheme) for one request's Authorization header.

        None user with a token means "continue the handshake" (answer 401 with the token); AuthFailed means
        the credentials are wrong.
        """
        if not header:
            return self.user, None, None
        scheme, _sep, value = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            user = self._accounts.check_basic(value.strip())
            if user is None:
                raise AuthFailed("Basic")
            self.user = user
            return user, None, "Basic"
        if scheme in ("negotiate", "ntlm"):
            token = base64.b64decode(value.strip())
            if self._context is None or self._context.complete:
                protocol = "ntlm" if token.startswith(b"NTLMSSP\x00") else "negotiate"
                self._context = spnego.server(protocol=protocol)
            try:
                out = self._context.step(token)
            except Exception:  # a wrong password fails the last leg; Windows answers 401
                self._context = None
                raise AuthFailed(scheme)
            header_scheme = "Negotiate" if scheme == "negotiate" else "NTLM"
            if not self._context.complete:
                return None, out, header_scheme
            self.user = (self._context.client_principal or "").split("\\")[-1] or self._accounts.user
            return self.user, out, header_scheme
        raise AuthFailed(scheme)
