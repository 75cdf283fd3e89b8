"""A private Samba server on a free loopback port for the SMB source tests, from the lab's own helper."""

from collections import namedtuple

import pytest

from smb_helpers import free_port

Smb = namedtuple("Smb", ["host", "port", "share", "share_dir", "user", "password"])


@pytest.fixture(scope="session")
def smb(tmp_path_factory):
    samba = pytest.importorskip("ips_lab.launchers.samba", reason="the lab package (make setup installs it) starts Samba")
    if not samba.find_program("smbd"):
        pytest.skip("Samba is not installed (apt-get install samba)")
    pytest.importorskip("smbclient")
    base = tmp_path_factory.mktemp("samba")
    with samba.private_samba(base, {"images": base / "share"}, free_port(), read_only=True) as info:
        yield Smb(info.host, info.port, "images", base / "share", info.user, info.password)
