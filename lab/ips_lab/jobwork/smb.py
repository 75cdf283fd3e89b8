"""The one SMB client of the lab's jobs: exports and publishes write through it, PVS jobs read their input
and write their output through it, diagnostics write their bundle through it.

Whatever host a job's smb:// location names, the bytes go to the lab's own Samba (loopback, the
configured port): the lab never dials out. Each job gets a private connection cache, so a bad
password never rides on a good session. Every smbprotocol failure becomes WorkFailed naming the
file and the cause.
"""

import errno
import time

import smbclient
from smbprotocol.exceptions import (AccessDenied, BadNetworkName, LogonFailure, SMBAuthenticationError, SMBConnectionClosed, SMBException,
                                    SMBOSError)

from ..common import rules
from .errors import WorkFailed
from .smb_location import parse_smb_location, smb_url, unc_path

CHUNK = 4 * 1024 * 1024
# A session Samba closed under the job (a busy machine, Samba restarted) is opened again and the operation done
# again from its start, as Windows' SMB redirector reconnects for the compositing engine: a job fails on it only when
# it stays closed.
RECONNECTS = 2
RECONNECT_PAUSE = 1.0


class SmbShare(object):
    """A job's view of one smb:// location: `with SmbShare(storage, credential_of, smb) as share: ...`.

    storage: the job body's {location, credentialId}; credential_of(id) -> (type, secrets) from the
    wallet; smb: {"host", "port"} of the lab's Samba.
    """

    def __init__(self, storage, credential_of, smb):
        self.location = parse_smb_location(storage["location"])
        cred_type, login = credential_of(storage["credentialId"])
        if cred_type != rules.SMB_CREDENTIAL_TYPE:
            raise WorkFailed("CredentialNotFound", "The SMB credential '%s' is no longer in the wallet." % storage["credentialId"])
        self.username = login["username"] if not login.get("domain") else "%s\\%s" % (login["domain"], login["username"])
        self._password = login["password"]
        self.server, self.port = smb["host"], int(smb["port"])
        self._cache = {}
        self._connected = False

    def url(self, filename):
        return smb_url(self.location, filename)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        smbclient.reset_connection_cache(fail_on_error=False, connection_cache=self._cache)

    def _kw(self):
        # the login with every call: smbclient opens a session again with it when the cached one was closed
        return {"port": self.port, "connection_cache": self._cache, "username": self.username, "password": self._password}

    def _connect(self):
        if not self._connected:
            smbclient.register_session(self.server, username=self.username, password=self._password, port=self.port,
                                       connection_timeout=15, connection_cache=self._cache)
            self._connected = True

    def _share_exists(self):
        try:
            smbclient.stat(unc_path(self.server, self.location._replace(folders=())), **self._kw())
        except SMBOSError as exc:
            if exc.errno == errno.ENOENT:
                raise BadNetworkName()
            raise

    def _ensure_folders(self):
        """Check the share exists, then create the location's folders one by one.

        smbclient.makedirs() is not used: on a missing share it walks up and retries without end.
        """
        self._share_exists()
        folders = self.location.folders
        for depth in range(1, len(folders) + 1):
            try:
                smbclient.mkdir(unc_path(self.server, self.location._replace(folders=folders[:depth])), **self._kw())
            except SMBOSError as exc:
                if exc.errno != errno.EEXIST:
                    raise

    def _reconnecting(self, func):
        for attempt in range(RECONNECTS + 1):
            try:
                self._connect()
                return func()
            except (SMBConnectionClosed, ConnectionError):  # closed by the peer, or broken under a send
                if attempt == RECONNECTS:
                    raise
                smbclient.reset_connection_cache(fail_on_error=False, connection_cache=self._cache)
                self._connected = False
                time.sleep(RECONNECT_PAUSE)

    def _guard(self, what, filename, func):
        url = self.url(filename)
        try:
            return self._reconnecting(func)
        except WorkFailed:
            raise
        except (LogonFailure, SMBAuthenticationError):
            raise WorkFailed("SmbAccessDenied", "Access denied %s %s: the SMB server rejected the user '%s' (logon failure)."
                             % (what, url, self.username))
        except BadNetworkName:
            raise WorkFailed("SmbShareNotFound", "The SMB share '%s' does not exist on %s, so %s could not be %s."
                             % (self.location.share, self.location.host, url, "read" if what == "reading" else "written"))
        except AccessDenied:
            raise WorkFailed("SmbAccessDenied", "Access denied %s %s: the user '%s' may not do that there." % (what, url, self.username))
        except (SMBException, OSError, ValueError) as exc:
            raise WorkFailed("SmbError", "%s %s failed: %s" % (what.capitalize(), url, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))

    def size_of(self, filename):
        """The size of a file in the location, or None when there is none."""
        def run():
            self._share_exists()
            try:
                return smbclient.stat(unc_path(self.server, self.location, filename), **self._kw()).st_size
            except SMBOSError as exc:
                if exc.errno == errno.ENOENT:
                    return None
                raise
        return self._guard("reading", filename, run)

    def refuse_existing(self, filename, overwrite, flag):
        """WorkFailed OutputExists when the file is there and the job's overwrite flag is not set."""
        if not overwrite and self.size_of(filename) is not None:
            raise WorkFailed("OutputExists", "The file %s already exists; the job does not replace it unless '%s' is true."
                             % (self.url(filename), flag))

    def write_file(self, local_path, filename):
        """Copy a local file to the location (folders made as needed); returns the bytes written."""
        def run():
            self._ensure_folders()
            written = 0
            with open(local_path, "rb") as src, smbclient.open_file(unc_path(self.server, self.location, filename), "wb", **self._kw()) as dst:
                for block in iter(lambda: src.read(CHUNK), b""):
                    dst.write(block)
                    written += len(block)
            return written
        return self._guard("writing", filename, run)

    def read_file(self, filename, local_path):
        """Copy a file of the location to local_path; WorkFailed InputNotFound naming it when it is missing."""
        def run():
            if self.size_of(filename) is None:
                raise WorkFailed("InputNotFound", "The input file %s does not exist." % self.url(filename))
            read = 0
            with smbclient.open_file(unc_path(self.server, self.location, filename), "rb", **self._kw()) as src, open(local_path, "wb") as dst:
                for block in iter(lambda: src.read(CHUNK), b""):
                    dst.write(block)
                    read += len(block)
            return read
        return self._guard("reading", filename, run)


def write_over_smb(local_path, location, filename, login, smb):
    """Copy local_path to an SmbLocation with a login dict (older callers); returns the bytes written."""
    storage = {"location": smb_url(location, ""), "credentialId": "-"}
    with SmbShare(storage, lambda _id: (rules.SMB_CREDENTIAL_TYPE, login), smb) as share:
        return share.write_file(local_path, filename)
