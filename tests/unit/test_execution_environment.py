"""The execution environment definition (extensions/awx/execution-environment.yml) builds a context with
ansible-builder, and that context installs exactly the collection's runtime requirements.

`ansible-builder create` only writes the build context (no container runtime is needed), so CI checks the
Containerfile and the requirement files it copies; meta/execution-environment.yml (what ansible-builder reads
when the collection is installed into another EE) must point at the same files, relative to the collection root.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BUILDER = Path(sys.executable).with_name("ansible-builder")


def requirement_names(text):
    names = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            for sep in ("[", ">", "<", "=", "!", "~", ";", " "):
                line = line.split(sep, 1)[0]
            names.add(line.lower())
    return names


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    if not BUILDER.exists() and not shutil.which("ansible-builder"):
        pytest.fail("ansible-builder is missing: run make setup (requirements-dev.txt lists it)")
    out = tmp_path_factory.mktemp("ee") / "context"
    cmd = [str(BUILDER if BUILDER.exists() else shutil.which("ansible-builder")), "create", "-f",
           str(REPO / "extensions" / "awx" / "execution-environment.yml"), "-c", str(out), "--output-filename", "Containerfile"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_containerfile_installs_the_collection_requirements(context):
    containerfile = (context / "Containerfile").read_text()
    assert 'EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert "ansible-core>=2.19,<2.20" in containerfile
    assert "requirements.txt" in containerfile and "bindep.txt" in containerfile and "requirements.yml" in containerfile
    listed = requirement_names((context / "_build" / "requirements.txt").read_text())
    assert listed == requirement_names((REPO / "requirements.txt").read_text())
    for sdk in ("smbprotocol", "boto3", "azure-mgmt-compute", "azure-storage-blob", "azure-identity", "google-cloud-storage", "pyvmomi"):
        assert sdk in listed, "%s is not installed into the EE" % sdk
    assert not listed & {"molecule", "ansible-lint", "pytest", "moto"}, "test tools leaked into the EE"
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    sources = [c["name"] for c in galaxy["collections"]]
    assert sources == [yaml.safe_load((REPO / "galaxy.yml").read_text())["repository"] + ".git", "awx.awx"]
    assert galaxy["collections"][0]["type"] == "git", "the EE installs citrix_community.ips itself"


def test_collection_meta_points_at_the_same_files():
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    assert meta["version"] == 3
    for key, path in (("python", "requirements.txt"), ("system", "meta/ee-bindep.txt")):
        assert meta["dependencies"][key] == path  # relative to the collection root, as ansible-builder's introspection reads it
        assert (REPO / path).is_file()


def test_credential_type_injects_every_auth_variable():
    ctype = yaml.safe_load((REPO / "extensions" / "awx" / "credential_type.yml").read_text())
    ids = {f["id"] for f in ctype["inputs"]["fields"]}
    secret = {f["id"] for f in ctype["inputs"]["fields"] if f.get("secret")}
    assert secret == {"client_secret"}
    env = ctype["injectors"]["env"]
    assert set(env) == {"CITRIX_CLOUD_CUSTOMER_ID", "CITRIX_CLOUD_CLIENT_ID", "CITRIX_CLOUD_CLIENT_SECRET", "CITRIX_CLOUD_REGION",
                        "CITRIX_CLOUD_API_URL", "CITRIX_CLOUD_RESOURCE_LOCATION_ID"}
    assert all(not k.startswith("ANSIBLE_") for k in env)
    assert {v.strip("{} ") for v in env.values()} <= ids
