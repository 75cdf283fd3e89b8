"""smb://host/share/path/ locations, as IPS job bodies carry them."""

from collections import namedtuple
from urllib.parse import unquote, urlsplit

SmbLocation = namedtuple("SmbLocation", ["host", "share", "folders"])


def parse_smb_location(url):
    """Split an smb:// URL into host, share and folder names; ValueError says what is wrong."""
    if not isinstance(url, str) or not url:
        raise ValueError("must be an smb://host/share/path/ URL")
    parts = urlsplit(url)
    if parts.scheme.lower() != "smb":
        raise ValueError("must start with smb:// (got '%s')" % url)
    if not parts.hostname:
        raise ValueError("has no host (expected smb://host/share/path/)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("must not carry user info, a query or a fragment; the credential goes in credentialId")
    names = [unquote(p) for p in parts.path.split("/") if p]
    if not names:
        raise ValueError("has no share name (expected smb://host/share/path/)")
    if any(n in (".", "..") or "\\" in n for n in names):
        raise ValueError("must not contain '.', '..' or backslashes in its path")
    return SmbLocation(parts.hostname, names[0], tuple(names[1:]))


def smb_url(location, filename):
    """The smb:// URL of a file in a location (what artifacts report)."""
    return "smb://%s/%s/" % (location.host, "/".join((location.share,) + location.folders)) + filename


def unc_path(server, location, filename=None):
    """The UNC path smbclient opens, on `server` (the lab's Samba address)."""
    names = (location.share,) + location.folders + ((filename,) if filename else ())
    return "\\\\%s\\%s" % (server, "\\".join(names))
