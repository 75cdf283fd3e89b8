# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Byte sources the disk readers and the upload engine read from: a local file or a file on SMB.

Every source has `name`, `size`, `read_at(offset, length) -> bytes`, `readinto_at(offset, buffer)`
and `close()`, opens its file read-only (a source is never modified) and may be read from several
threads at once. `parallel_reads` says how many reads in flight pay off (1 for a local file).
A local file also has `data_ranges(offset, length)`, the parts of that range that are not holes.

    source = open_source("smb://fs01/images/base.vhdx", smb_user="svc", smb_password=pw)
    source = open_source("/mnt/images/base.vhdx")

smbprotocol is imported only when an smb:// location is opened. Every failure raises SourceError
with one line naming the problem and the fix; passwords never appear in it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import re
import stat
import threading

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError, redact

SMB_SCHEME = "smb://"
# a DNS name (labels of letters, digits, '-' and '_'), an IPv4 address or an IPv6 address (urlsplit strips its brackets)
_HOST_NAME = re.compile(r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?)+$|^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.%A-Za-z]*$")
SMB_READ_CHUNK = 4 * 1024 * 1024
READ_TIMEOUT = 120  # seconds one read (local or SMB) may take before the source gives up on it
SMB_READ_TIMEOUT = READ_TIMEOUT  # and one SMB call of any kind
SMB_PARALLEL_READS = 2  # default connections per SMB source (each its own session and handle): a read waits on the
# network and the server's disk, so a second one in flight keeps the link busy (reference 3.2); docs/performance.md


class SourceError(IPSError):
    """The image file cannot be opened or read: names the problem and what to do."""


def call_with_deadline(func, seconds, late, name="source-call"):
    """func() in a helper thread, waited for at most `seconds` (None: no deadline); its value, or its exception raised.

    A read blocked in the kernel (a hung network mount, a failing device) or an SMB call with no answer cannot be
    interrupted from Python: after the deadline the call is abandoned (the daemon thread may finish later) and
    SourceError(`late`) is raised, so the task fails with a clear message instead of hanging. Every reader stops
    on that error, so nothing read into a buffer by an abandoned call is ever sent."""
    result = {}

    def run():
        try:
            result["value"] = func()
        except BaseException as e:  # pylint: disable=broad-except
            result["error"] = e

    worker = threading.Thread(target=run, name=name)
    worker.daemon = True
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise SourceError(late)
    if "error" in result:
        raise result["error"]
    return result.get("value")


# -- local files ----------------------------------------------------------------------------------


class LocalFileSource(object):
    """A local file (or block device) opened read-only, read with os.pread (thread safe); each read has a deadline
    (`read_timeout` seconds, as an SMB source's), so a hung mount or device fails the task instead of hanging it."""

    parallel_reads = 1

    def __init__(self, path, read_timeout=READ_TIMEOUT):
        self.name = path
        self.read_timeout = read_timeout
        try:
            # O_NONBLOCK: opening a named pipe for reading would otherwise wait for a writer, forever
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            try:  # a socket cannot be opened at all (ENXIO): name what it is rather than the errno
                kind = os.stat(path).st_mode
            except OSError:
                kind = None
            if kind is not None and not (stat.S_ISREG(kind) or stat.S_ISDIR(kind) or stat.S_ISBLK(kind)):
                raise SourceError("%s is %s, not a disk image file; give the path of a regular VHD or VHDX file (or a block device)"
                                  % (path, _file_kind(kind)))
            raise SourceError(_local_problem(path, e))
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise SourceError("%s is a directory, not a disk image file; check the path" % path)
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISBLK(st.st_mode)):
                raise SourceError("%s is %s, not a disk image file; give the path of a regular VHD or VHDX file (or a block device)"
                                  % (path, _file_kind(st.st_mode)))
            os.set_blocking(fd, True)
            self.size = st.st_size if stat.S_ISREG(st.st_mode) else os.lseek(fd, 0, os.SEEK_END)
        except OSError as e:
            os.close(fd)
            raise SourceError(_local_problem(path, e))
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._can_seek_data = hasattr(os, "SEEK_DATA") and stat.S_ISREG(st.st_mode)

    def read_at(self, offset, length):
        """Up to `length` bytes at `offset` (fewer only at the end of the file)."""
        buf = bytearray(length)
        got = self.readinto_at(offset, buf)
        return bytes(buf) if got == length else bytes(buf[:got])

    def readinto_at(self, offset, buffer):
        """Fill `buffer` (writable bytes-like) from `offset`; the number of bytes read (short only at EOF)."""
        view = memoryview(buffer).cast("B")
        late = ("%s: reading %d bytes at offset %d took more than %d seconds (a hung network mount or a failing disk); check "
                "the disk or mount holding the file, then run the task again" % (self.name, len(view), offset, self.read_timeout or 0))
        return call_with_deadline(lambda: self._pread(offset, view), self.read_timeout, late, name="local-read")

    def _pread(self, offset, view):
        total = 0
        while total < len(view):
            try:
                n = os.preadv(self._fd, [view[total:]], offset + total)
            except OSError as e:
                raise SourceError("%s: reading %d bytes at offset %d failed: %s; check the disk or share holding the file"
                                  % (self.name, len(view) - total, offset + total, e.strerror or e))
            if n == 0:
                break
            total += n
        return total

    def data_ranges(self, offset, length):
        """(offset, length) of the parts of [offset, offset + length) that are not file-system holes."""
        end = min(offset + length, self.size)
        if not self._can_seek_data:
            return [(offset, end - offset)] if end > offset else []
        ranges = []
        pos = offset
        try:
            while pos < end:
                try:
                    data = os.lseek(self._fd, pos, os.SEEK_DATA)
                except OSError as e:
                    if e.errno == errno.ENXIO:  # no data after pos
                        break
                    raise
                if data >= end:
                    break
                hole = min(os.lseek(self._fd, data, os.SEEK_HOLE), end)
                ranges.append((data, hole - data))
                pos = hole
        except OSError:  # the file system cannot tell: treat it all as data
            return [(offset, end - offset)] if end > offset else []
        return ranges

    def close(self):
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _file_kind(mode):
    for test, kind in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device")):
        if test(mode):
            return kind
    return "not a regular file"


def _local_problem(path, e):
    if e.errno == errno.ENOENT:
        return "%s does not exist; check the path (it is read on the host that runs the task)" % path
    if e.errno in (errno.EACCES, errno.EPERM):
        return "%s cannot be read: permission denied; give the user that runs the task read access to it" % path
    if e.errno == errno.EISDIR:
        return "%s is a directory, not a disk image file; check the path" % path
    return "%s cannot be opened: %s" % (path, e.strerror or e)


# -- SMB ------------------------------------------------------------------------------------------


def parse_smb_location(location, default_port=445):
    """(host, port, share, path inside the share) of smb://host[:port]/share/dir/file (or \\\\host\\share\\...)."""
    from urllib.parse import unquote, urlsplit

    text = location.strip()
    if text.startswith("\\\\"):
        text = SMB_SCHEME + text[2:].replace("\\", "/")
    if not text.lower().startswith(SMB_SCHEME):
        raise SourceError("%s is not an smb:// location" % location)
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
    except ValueError as e:  # an unclosed IPv6 bracket, for one
        raise SourceError("%s is not a valid smb:// location (%s); write smb://host[:port]/share/path/file, an IPv6 address in "
                          "brackets: smb://[fd00::1]/share/path/file" % (location, e))
    try:
        port = parts.port
    except ValueError:
        raise SourceError("%s has an invalid port; write smb://host[:port]/share/path/file with a port from 1 to 65535" % location)
    if port is None:
        port = default_port
    elif not 1 <= port <= 65535:
        raise SourceError("%s has the port %d; write smb://host[:port]/share/path/file with a port from 1 to 65535" % (location, port))
    if parts.username or parts.password or "@" in parts.netloc:
        raise SourceError("the location must not hold credentials; pass them in the username and password options instead")
    if hostname and not _HOST_NAME.match(hostname):
        raise SourceError("%s: '%s' is not a valid host name or IP address; check the host part of the location" % (location, hostname))
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if not hostname or len(segments) < 2:
        raise SourceError("%s is not a file on a share; write smb://host[:port]/share/path/file" % location)
    return hostname, port, segments[0], "\\".join(segments[1:])


class _Lane(object):
    """One SMB connection with its own session and one read-only handle, used by one thread at a time.

    smbprotocol checks SMB credits outside its send lock, so threads sharing one connection can
    fail with "Request requires N credits but only M credits are available". A connection per
    lane keeps each credit window private, and Samba serves each connection in its own process.
    """

    def __init__(self, cache, handle):
        self.cache = cache
        self.handle = handle
        self.buffer = None  # the lane's private read buffer (made on first use, dropped with the lane)


class SmbFileSource(object):
    """A file on an SMB share, read through smbprotocol's smbclient by a small pool of lanes.

    Each read borrows a lane (its own signed session and handle opened read-only with share access
    "r", so other readers are not locked out); up to `max_connections` reads run at once, further
    readers wait for a free lane.
    """

    def __init__(self, location, smb_user=None, smb_password=None, smb_domain=None, smb_port=445, connection_timeout=30,
                 max_connections=SMB_PARALLEL_READS, read_timeout=SMB_READ_TIMEOUT, option="source"):
        self.host, self.port, self.share, self.path = parse_smb_location(location, smb_port)
        self.name = "smb://%s:%d/%s/%s" % (self.host, self.port, self.share, self.path.replace("\\", "/"))
        self.unc = "\\\\%s\\%s\\%s" % (self.host, self.share, self.path)
        self.parallel_reads = max(1, int(max_connections))
        self._password = smb_password
        self._option = option  # the task's dict that holds username/password/domain, for error messages
        self._secrets = [smb_password] if smb_password else []
        self._timeout = connection_timeout
        self._read_timeout = read_timeout
        self._user = smb_user
        if smb_user and smb_domain and "\\" not in smb_user and "@" not in smb_user:
            self._user = "%s\\%s" % (smb_domain, smb_user)
        try:
            import smbclient
            from smbprotocol import exceptions as smb_exceptions
        except ImportError:
            raise SourceError("reading %s needs the Python package smbprotocol on the host that runs the task; install it "
                              "(pip install smbprotocol) or mount the share and give a local path" % self.name)
        self._smbclient = smbclient
        self._exc = smb_exceptions
        self._lanes = []
        self._free = []
        self._opening = 0
        self._cond = threading.Condition()
        self._closed = False
        cache = {}
        try:
            self._session(cache)
            # The share first: with a DFS-capable server a missing share comes back as "path not found",
            # so only this order tells a wrong share name from a wrong path.
            self._call(smbclient.stat, "\\\\%s\\%s" % (self.host, self.share), port=self.port, connection_cache=cache, _stage="share")
            st = self._call(smbclient.stat, self.unc, port=self.port, connection_cache=cache)
            if stat.S_ISDIR(st.st_mode):
                raise SourceError("%s is a directory, not a disk image file; check the path" % self.name)
            self.size = st.st_size
            lane = _Lane(cache, self._open_handle(cache))
        except BaseException:
            self._reset(cache)
            raise
        self._lanes.append(lane)
        self._free.append(lane)

    def _session(self, cache):
        self._call(self._smbclient.register_session, self.host, username=self._user, password=self._password, port=self.port,
                   connection_timeout=self._timeout, connection_cache=cache)

    def _open_handle(self, cache):
        return self._call(self._smbclient.open_file, self.unc, mode="rb", buffering=0, share_access="r",
                          port=self.port, connection_cache=cache)

    # -- errors --

    def _call(self, func, *args, **kwargs):
        """func(*args, **kwargs) with smbprotocol errors mapped to SourceError and a deadline.

        smbprotocol waits for answers without any timeout, and a server that drops a connection at
        the wrong moment (seen with Samba: "client used more credits than granted") leaves the
        caller waiting forever. So the call runs in a helper thread and is abandoned after the
        deadline: the task fails with a clear message instead of hanging; its lane is discarded.
        """
        stage = kwargs.pop("_stage", "file")
        deadline = max(self._timeout or 0, self._read_timeout or 0) or None
        late = ("the SMB server %s:%d did not answer within %d seconds while reading %s; check the server and the network, then retry"
                % (self.host, self.port, deadline or 0, self.name))
        try:
            return call_with_deadline(lambda: func(*args, **kwargs), deadline, late, name="smb-call")
        except SourceError:
            raise
        except Exception as error:  # pylint: disable=broad-except
            raise SourceError(redact(self._problem(error, stage), self._secrets))

    def _problem(self, e, stage="file"):
        ex = self._exc
        status = getattr(e, "ntstatus", None)
        if status is None:
            status = getattr(e, "status", None)
        user = self._user or "(no user)"
        where = "%s:%d" % (self.host, self.port)
        logon = (0xC000006D, 0xC000006A, 0xC0000064, 0xC0000071, 0xC0000072, 0xC0000234, 0xC000006E, 0xC0000070)
        not_found = (0xC0000034, 0xC000003A, 0xC0000033, 0xC000003B, 0xC0000225)
        if isinstance(e, ex.SMBAuthenticationError) or status in logon:
            return ("SMB logon to %s as %s failed (%s); check %s.username, %s.password and %s.domain"
                    % (where, user, _status_name(ex, status) if status else "authentication error", self._option, self._option, self._option))
        if status == 0xC00000CC or stage == "share" and status in not_found:
            return "the share '%s' does not exist on %s; check the share name in %s" % (self.share, where, self.name)
        if status in not_found:
            return "%s does not exist on the share; check the path after the share name" % self.name
        if status == 0xC0000022:
            return ("access to %s is denied for %s; give that user read access to the share and the file, "
                    "or check %s.username" % (self.name, user, self._option))
        if status == 0xC0000043:
            return "%s is opened exclusively by another program (sharing violation); detach or close it there and retry" % self.name
        if status == 0xC00000BA:
            return "%s is a directory, not a disk image file; check the path" % self.name
        if isinstance(e, ValueError) and "connect" in str(e).lower() or isinstance(e, (OSError, ex.SMBConnectionClosed)) and not status:
            return ("cannot connect to the SMB server %s (%s); check the host name and port, that the server runs and "
                    "that no firewall blocks it" % (where, _first_line(e)))
        if "timeout" in str(e).lower() or "timed out" in str(e).lower():
            return ("the SMB server %s did not answer in time (%s); check the host name and port, and that it is an SMB server "
                    "that is up" % (where, _first_line(e)))
        return "reading %s over SMB failed: %s" % (self.name, _first_line(e))

    # -- lanes --

    def _acquire(self):
        with self._cond:
            while True:
                if self._closed:
                    raise SourceError("%s is closed" % self.name)
                if self._free:
                    return self._free.pop()
                if len(self._lanes) + self._opening < self.parallel_reads:
                    self._opening += 1
                    break
                self._cond.wait()
        cache = {}
        try:
            self._session(cache)
            lane = _Lane(cache, self._open_handle(cache))
        except BaseException:
            self._reset(cache)
            with self._cond:
                self._opening -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._opening -= 1
            self._lanes.append(lane)
        return lane

    def _release(self, lane):
        with self._cond:
            if self._closed:
                self._close_lane(lane)
                return
            self._free.append(lane)
            self._cond.notify()

    def _discard(self, lane):
        with self._cond:
            if lane in self._lanes:
                self._lanes.remove(lane)
            self._cond.notify()
        self._close_lane(lane)

    def _close_lane(self, lane):
        try:
            lane.handle.close()
        except Exception:  # pylint: disable=broad-except
            pass
        self._reset(lane.cache)

    def _reset(self, cache):
        try:
            self._smbclient.reset_connection_cache(fail_on_error=False, connection_cache=cache)
        except Exception:  # pylint: disable=broad-except
            pass

    # -- reading --

    def readinto_at(self, offset, buffer):
        """Fill `buffer` from `offset`; the number of bytes read (short only at EOF)."""
        view = memoryview(buffer).cast("B")
        lane = self._acquire()
        total = 0
        try:
            while total < len(view):
                # read into the lane's private buffer: a call abandoned at its deadline must not write into the caller's later
                want = min(SMB_READ_CHUNK, len(view) - total)
                if lane.buffer is None:
                    lane.buffer = bytearray(SMB_READ_CHUNK)
                got = self._call(self._read_chunk, lane.handle, offset + total, memoryview(lane.buffer)[:want])
                if not got:
                    break
                view[total:total + got] = memoryview(lane.buffer)[:got]
                total += got
        except BaseException:
            self._discard(lane)  # a lane in an unknown state is not reused
            raise
        self._release(lane)
        return total

    @staticmethod
    def _read_chunk(handle, offset, view):
        """Fill `view` (a slice of the lane's own buffer) from `offset`; the count read.

        The lane's buffer, not the caller's: a call abandoned at its deadline may still write into
        it later, and an abandoned lane is discarded with its buffer, so the caller's memory is never
        written after readinto_at returned. One buffer per lane, made once, instead of a new one per
        call, keeps the allocator out of the read path."""
        got = 0
        handle.seek(offset)
        length = len(view)
        while got < length:
            n = handle.readinto(view[got:])
            if not n:
                break
            got += n
        return got

    def read_at(self, offset, length):
        """Up to `length` bytes at `offset` (fewer only at the end of the file)."""
        buf = bytearray(length)
        got = self.readinto_at(offset, buf)
        return bytes(buf) if got == length else bytes(buf[:got])

    def close(self):
        with self._cond:
            self._closed = True
            idle, self._free = self._free, []
            self._lanes = [lane for lane in self._lanes if lane not in idle]
            self._cond.notify_all()
        for lane in idle:
            self._close_lane(lane)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _status_name(ex, status):
    for name, value in vars(ex.NtStatus).items():
        if value == status and name.startswith("STATUS_"):
            return name
    return "NTSTATUS 0x%08x" % status


def _first_line(e):
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def open_source(location, smb_user=None, smb_password=None, smb_domain=None, smb_port=445, smb_connections=SMB_PARALLEL_READS):
    """A byte source for a local path or an smb://host[:port]/share/path location (port in the URL wins)."""
    if not location:
        raise SourceError("no image location given")
    text = str(location)
    if text.lower().startswith(SMB_SCHEME) or text.startswith("\\\\"):
        return SmbFileSource(text, smb_user=smb_user, smb_password=smb_password, smb_domain=smb_domain, smb_port=smb_port,
                             max_connections=smb_connections)
    if text.lower().startswith("file://"):
        from urllib.parse import unquote
        text = unquote(text[len("file://"):])
    return LocalFileSource(text)
