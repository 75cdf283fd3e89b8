"""What the lab gives the preflight outside the cloud planes: Citrix Cloud's resource locations (authenticated, the
configured ids only, not under /ips/), a Samba share that is read-only while the others stay writable, and vcsim's
certificate from a CA of its own with its fingerprint in the env file."""

import hashlib
import ssl
from pathlib import Path

from ipslab_helpers import RESOURCE_LOCATION

from ips_lab.launchers.samba import write_config
from ips_lab.launchers.vcsim import sha1_fingerprint


def test_resource_locations_lists_the_configured_ones(api):
    listed = api.send("GET", "/resourcelocations", headers=api.auth_headers())
    assert listed.status == 200, listed.raw
    assert [item["id"] for item in listed.json["items"]] == [RESOURCE_LOCATION]
    assert api.send("GET", "/resourcelocations", headers={"Accept": "application/json"}).status == 401
    assert api.ips("GET", "resourcelocations").status == 404  # the platform API, not the service's


def test_only_the_named_share_is_read_only(tmp_path):
    conf = write_config(tmp_path, 4445, "someone", {"rw": tmp_path / "rw", "ro": tmp_path / "ro"}, read_only_shares=("ro",))
    sections = dict((block.split("]", 1)[0], block) for block in conf.read_text().split("\n[")[1:])
    assert "read only = yes" in sections["ro"] and "read only = no" in sections["rw"]


def test_vcsim_fingerprint_is_the_sha1_of_its_certificate(tmp_path):
    from ips_lab.common.tls import ensure_ca

    ca, cert, _key = ensure_ca(str(tmp_path))
    der = ssl.PEM_cert_to_DER_cert(Path(cert).read_text())
    want = hashlib.sha1(der).hexdigest().upper()
    assert sha1_fingerprint(cert).replace(":", "") == want and len(sha1_fingerprint(cert)) == 59
    assert Path(ca).read_text() != Path(cert).read_text()
