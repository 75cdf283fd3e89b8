# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of an SMB share: reachable with the credential, the folder writable, enough free space.

Writable is proven the only sure way: a probe file is created in the folder (or, when the folder does
not exist yet, in its nearest existing parent: the export makes the folder) and removed at once. Nothing
else is written; the folder is never created. smbprotocol is imported only here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import uuid

from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import MISSING, OK, could_not_check, item, size_text

PROBE_PREFIX = ".ips-preflight-probe-"


def _status(exc):
    """The NT status name inside an smbprotocol error, else ''."""
    text = str(exc)
    for name in ("STATUS_LOGON_FAILURE", "STATUS_ACCESS_DENIED", "STATUS_BAD_NETWORK_NAME", "STATUS_OBJECT_NAME_NOT_FOUND",
                 "STATUS_OBJECT_PATH_NOT_FOUND", "STATUS_MEDIA_WRITE_PROTECTED", "STATUS_ACCOUNT_DISABLED", "STATUS_DISK_FULL"):
        if name in text or name.replace("STATUS_", "").replace("_", " ").lower() in text.lower():
            return name
    if type(exc).__name__ in ("SMBAuthenticationError", "SpnegoError", "BadCredentials"):
        return "STATUS_LOGON_FAILURE"
    return ""


def check(label, location, username, password, domain=None, port=445, needed_bytes=None, credential_option="", timeout=30):
    """Items for one share folder: `label` names it ("export share" ...), `location` is smb://host[:port]/share/folder/."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._sources import parse_smb_location

    secrets = [password] if password else []
    reach = "%s reachable" % label
    try:
        host, port, share, folder = parse_smb_location(location.rstrip("/") + "/x", port)
    except Exception as exc:  # pylint: disable=broad-except
        return [could_not_check(reach, exc, "write the location as smb://host[:port]/share/folder/", location)]
    folder = folder[:-1].rstrip("\\")  # drop the "x" added so a share root parses
    if not username:
        return [item(reach, MISSING, "no user name to sign in to %s with" % location, "set the smb username and password (vaulted) that "
                     "the wallet credential %s holds" % credential_option, location)]
    try:
        import smbclient
    except ImportError as exc:
        return [could_not_check(reach, exc, "install smbprotocol (pip install smbprotocol) where the task runs", location)]
    cache = {}
    kw = dict(port=port, connection_cache=cache)
    unc = "\\\\%s\\%s" % (host, share)
    user = "%s\\%s" % (domain, username) if domain else username
    items = []
    try:
        try:
            smbclient.register_session(host, username=user, password=password, port=port, connection_timeout=timeout,
                                       connection_cache=cache)
            smbclient.stat(unc, **kw)
        except Exception as exc:  # pylint: disable=broad-except
            status = _status(exc)
            if status == "STATUS_LOGON_FAILURE":
                return [item(reach, MISSING, "%s:%d refused the sign-in of %s (wrong user name or password)" % (host, port, user),
                             "fix the smb username/password, and the wallet credential %s the job uses (ips_credential with "
                             "update_secret: always)" % credential_option, location)]
            if status in ("STATUS_BAD_NETWORK_NAME", "STATUS_ACCESS_DENIED"):
                return [item(reach, MISSING, "%s:%d has no share %s that %s may open (%s)" % (host, port, share, user, status),
                             "check the share name in the location and the share's permissions for %s" % user, location)]
            return [could_not_check(reach, exc, "check that %s answers on port %d (TCP) from here and from the connector" % (host, port),
                                    location, secrets)]
        items.append(item(reach, OK, "signed in to \\\\%s\\%s as %s" % (host, share, user), scope=location))
        probe_dir = _existing(smbclient, unc, folder, kw)
        where = unc + ("\\" + probe_dir if probe_dir else "")
        probe = where + "\\" + PROBE_PREFIX + uuid.uuid4().hex[:12]
        writable = "%s folder writable" % label
        try:
            with smbclient.open_file(probe, mode="xb", **kw) as fh:
                fh.write(b"ips_preflight probe; removed at once\n")
        except Exception as exc:  # pylint: disable=broad-except
            if _status(exc) in ("STATUS_ACCESS_DENIED", "STATUS_MEDIA_WRITE_PROTECTED") or isinstance(exc, PermissionError):
                items.append(item(writable, MISSING, "%s may not write in %s (%s)" % (user, where, _status(exc) or "access denied"),
                                  "give %s change (write) permission on the share and the folder, or choose another location" % user,
                                  location))
            else:
                items.append(could_not_check(writable, exc, "check the share's permissions for %s" % user, location, secrets))
        else:
            try:
                smbclient.remove(probe, **kw)
            except Exception as exc:  # pylint: disable=broad-except
                items.append(item(writable, MISSING, "wrote the probe %s but may not delete it (%s)" % (probe, _status(exc) or exc),
                                  "give %s delete permission too (the export replaces files); remove the probe file by hand" % user,
                                  location))
            else:
                made = "" if probe_dir == folder else " (the folder does not exist yet; the export makes it)"
                items.append(item(writable, OK, "wrote and removed a probe file in %s%s" % (where, made), scope=location))
        items.append(_space(smbclient, label, where, needed_bytes, kw, location))
    finally:
        try:
            smbclient.reset_connection_cache(fail_on_error=False, connection_cache=cache)
        except Exception:  # pylint: disable=broad-except
            pass
    return items


def _existing(smbclient, unc, folder, kw):
    """The folder, or its nearest parent that exists ('' = the share root)."""
    parts = [p for p in folder.split("\\") if p]
    while parts:
        try:
            if smbclient.path.isdir(unc + "\\" + "\\".join(parts), **kw):
                return "\\".join(parts)
        except Exception:  # pylint: disable=broad-except
            pass
        parts.pop()
    return ""


def _space(smbclient, label, where, needed_bytes, kw, location):
    name = "%s free space" % label
    try:
        free = smbclient.stat_volume(where, **kw).caller_available_size
    except Exception as exc:  # pylint: disable=broad-except
        return could_not_check(name, exc, "check the free space on the share by hand", location)
    if needed_bytes is None:
        return item(name, OK, "%s free (the image's size is not known before the export, so not compared)" % size_text(free),
                    scope=location)
    if free < needed_bytes:
        return item(name, MISSING, "%s free, the image needs up to %s (its virtual size)" % (size_text(free), size_text(needed_bytes)),
                    "free space on the share or choose another location", location)
    return item(name, OK, "%s free >= %s (the image's virtual size)" % (size_text(free), size_text(needed_bytes)), scope=location)
