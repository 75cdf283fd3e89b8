# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of the source hypervisor: reachable, its TLS certificate trusted the way the job will trust
it (the given CA, the given SHA-1 fingerprint, or the system store), and the source VM and disk exist
(vSphere: through vsphere.py, the same code ips_export's pre-flight runs).

When the certificate is not trusted, the detail carries the server certificate's SHA-1 fingerprint, ready
to paste into ssl_fingerprint once it has been compared with the one the hypervisor's console shows.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import socket
import ssl

from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import COULD_NOT_CHECK, MISSING, OK, could_not_check, item, size_text

DEFAULT_PORTS = {"vsphere": 443, "xenserver": 443, "nutanix": 9440}


def fingerprint_of(der):
    """The SHA-1 fingerprint of a DER certificate as vCenter and the job options write it (AA:BB:...)."""
    digest = hashlib.sha1(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _normalise(fingerprint):
    return fingerprint.replace(":", "").replace(" ", "").upper()


def _server_certificate(host, port, timeout):
    """The server's certificate (DER), fetched without trusting it."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=timeout) as sock:
        with ctx.wrap_socket(sock, server_hostname=host) as tls:
            return tls.getpeercert(binary_form=True)


def tls(platform, host, port, ca_certificate=None, fingerprint=None, no_check_hostname=False, timeout=15):
    """(item, trusted) for the hypervisor's TLS certificate."""
    name = "%s tls certificate" % platform
    scope = "%s:%s" % (host, port)
    try:
        der = _server_certificate(host, port, timeout)
    except (OSError, ssl.SSLError) as exc:
        # From the controller only: the connector, which runs the job, may sit in another network.
        return item("%s reachable" % platform, COULD_NOT_CHECK, "could not open a TLS connection to %s from this host: %s" % (scope, exc),
                    "check %s.host/port, and that the connector reaches the hypervisor on that port (run the preflight from a host in "
                    "its network to check the certificate and the VM)" % platform, scope), False
    seen = fingerprint_of(der)
    paste = "%s.ssl_fingerprint: %s" % (platform, seen)
    if fingerprint:
        if _normalise(fingerprint) == _normalise(seen):
            return item(name, OK, "matches %s.ssl_fingerprint %s" % (platform, seen), scope=scope), True
        return item(name, MISSING, "the certificate's SHA-1 fingerprint is %s, not the given %s" % (seen, fingerprint),
                    "compare %s with the fingerprint the hypervisor's console shows, then set %s" % (seen, paste), scope), False
    ctx = ssl.create_default_context(cadata=ca_certificate) if ca_certificate else ssl.create_default_context()
    ctx.check_hostname = not no_check_hostname
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            with ctx.wrap_socket(sock, server_hostname=host):
                pass
    except ssl.SSLCertVerificationError as exc:
        given = "%s.ssl_ca_certificate" % platform if ca_certificate else "the system's trusted CAs"
        return item(name, MISSING, "the certificate of %s is not trusted by %s (%s); its SHA-1 fingerprint is %s"
                    % (scope, given, exc.verify_message or exc, seen),
                    "set %s.ssl_ca_certificate to the CA that issued it, or (after comparing it with the console) %s"
                    % (platform, paste), scope), False
    except (OSError, ssl.SSLError) as exc:
        return could_not_check(name, exc, "check the TLS set-up of %s" % scope, scope), False
    how = "%s.ssl_ca_certificate" % platform if ca_certificate else "the system's trusted CAs"
    return item(name, OK, "trusted by %s (SHA-1 %s)%s" % (how, seen, ", host name not checked" if no_check_hostname else ""),
                scope=scope), True


def check(platform, connection, disk, login=None):
    """Items for the source hypervisor. `connection` is the platform dict; `login` the vCenter user for the
    VM look-up (source.preflight: username, password, vm_name, validate_certs, timeout). Returns (items, found)."""
    host = connection.get("host")
    if not host:
        return [item("%s reachable" % platform, MISSING, "no %s.host given" % platform, "set %s.host" % platform)], None
    port = connection.get("port") or DEFAULT_PORTS.get(platform, 443)
    tls_item, trusted = tls(platform, host, port, connection.get("ssl_ca_certificate"), connection.get("ssl_fingerprint"),
                            bool(connection.get("ssl_no_check_hostname")))
    items = [tls_item]
    vm_name = "source vm and disk"
    scope = "%s:%s" % (host, port)
    if platform != "vsphere":
        items.append(item(vm_name, COULD_NOT_CHECK, "the preflight looks up source disks on vSphere only",
                          "check that %s exists on %s by hand" % (disk, host), scope))
        return items, None
    if not trusted and tls_item["name"].endswith("reachable"):
        items.append(item(vm_name, COULD_NOT_CHECK, "not checked: vCenter did not answer", "fix the connection first", scope))
        return items, None
    if not login or not login.get("username"):
        items.append(item(vm_name, COULD_NOT_CHECK, "no vCenter user to look the VM up with",
                          "set source.preflight.username and password (the account the wallet credential %s holds)"
                          % connection.get("credential_id"), scope))
        return items, None
    if not disk:
        items.append(item(vm_name, MISSING, "no source disk named", "set source.disk", scope))
        return items, None
    from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import vsphere

    # The VM look-up trusts the certificate as the TLS item found it (or not at all when it is not trusted yet:
    # the TLS item reports that, and the VM is still worth knowing about).
    login = dict(dict(validate_certs=True, timeout=30, vm_name=None), **login)
    if not trusted:
        login["validate_certs"] = False
    try:
        found = vsphere.check(host, port, login, disk, ca_certificate=connection.get("ssl_ca_certificate"),
                              fingerprint=connection.get("ssl_fingerprint"))
    except vsphere.PreflightFailed as exc:
        fixes = {"login": "fix source.preflight.username/password and the wallet credential %s" % connection.get("credential_id"),
                 "no_vm": "set source.preflight.vm_name to the VM that holds the disk (vCenter's inventory name)",
                 "no_disk": "set source.disk to the disk's datastore path, file name or label",
                 "ambiguous": "set source.preflight.vm_name", "changing": "power the VM off or take a snapshot",
                 "tls": "see the TLS item", "unreachable": "check the network path to vCenter"}
        items.append(item("vcenter login" if exc.kind == "login" else vm_name, MISSING, str(exc).replace("vsphere pre-flight: ", ""),
                          fixes.get(exc.kind, ""), scope))
        return items, None
    except Exception as exc:  # pylint: disable=broad-except
        items.append(could_not_check(vm_name, exc, "check the VM on vCenter by hand", scope, [login.get("password")]))
        return items, None
    items.append(item("vcenter login", OK, "signed in as %s" % login["username"], scope=scope))
    items.append(item(vm_name, OK, "VM %s (%s%s) has disk %s (%s)" % (
        found["vm_name"], found["power_state"], ", with a snapshot" if found["has_snapshot"] else "", found["disk_file"],
        size_text(found.get("disk_bytes") or 0)), scope=scope))
    return items, found
