"""ips_preflight against the lab: a fully permitted MCS -> MCS migration passes every item (vSphere -> Azure, -> AWS,
-> GCP), each broken input is reported with its fix, a principal missing one documented permission is reported with that
exact permission and scope on each cloud, check mode answers the same, and no stand-in is changed (the tests compare
their state before and after).

Every scenario of one lab state runs as one task of one playbook (two playbooks in all), so the file stays fast.
"""

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lab_api import LabApi

BIN = Path(sys.executable).parent
# One documented permission per cloud that the lab takes away, and the scope it must be reported at.
AZURE_REMOVED = "Microsoft.Compute/snapshots/read"  # documented for the target disk's resource group only
AWS_REMOVED = "ec2:RunInstances"
UNKNOWN_LOCATION = "00000000-0000-4000-8000-000000000000"
GCP_REMOVED = "compute.instances.create"
GCP_KEY = {"type": "service_account", "project_id": "ips-lab-project", "private_key": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n",
           "client_email": "ips@ips-lab-project.iam.gserviceaccount.com"}


def sha1_of(host, port):
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=10) as sock, ctx.wrap_socket(sock) as tls:
        digest = __import__("hashlib").sha1(tls.getpeercert(binary_form=True)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, 40, 2))


def args_for(env, target="azure", fingerprint=None, ca=None, **changes):
    """The module's arguments for a full MCS -> MCS migration from the lab's vSphere to `target`."""
    host, port = env["IPS_LAB_SMB_HOST"], env["IPS_LAB_SMB_PORT"]
    share = changes.pop("share", env["IPS_LAB_SMB_EXPORT_SHARE"])
    connection = {"host": env["IPS_LAB_VCSIM_HOST"], "port": int(env["IPS_LAB_VCSIM_PORT"]), "credential_id": "pf-vc"}
    if fingerprint:
        connection["ssl_fingerprint"] = fingerprint
    if ca:
        connection["ssl_ca_certificate"] = ca
    connection.update(changes.pop("vsphere", {}))
    targets = {
        "azure": {"platform": "azure",
                  "connection": {"credential_id": "pf-az", "subscription_id": env["IPS_LAB_AZURE_SUBSCRIPTION_ID"],
                                 "resource_group": env["IPS_LAB_AZURE_RESOURCE_GROUP"], "location": env["IPS_LAB_AZURE_LOCATION"]},
                  "upload": {"tenant_id": env["IPS_LAB_AZURE_TENANT_ID"], "client_id": env["IPS_LAB_AZURE_CLIENT_ID"],
                             "client_secret": env["IPS_LAB_AZURE_CLIENT_SECRET"], "authority": env["IPS_LAB_AZURE_AUTHORITY"],
                             "arm_endpoint": env["IPS_LAB_AZURE_URL"], "ca_path": env["IPS_LAB_AZURE_CA_PATH"]}},
        "aws": {"platform": "aws", "principal_arn": env["IPS_LAB_AWS_PRINCIPAL_ARN"],
                "connection": {"credential_id": "pf-aws", "region": "us-east-1"},
                "upload": {"access_key_id": env["IPS_LAB_AWS_ACCESS_KEY_ID"], "secret_access_key": env["IPS_LAB_AWS_SECRET_ACCESS_KEY"],
                           "iam_endpoint_url": env["IPS_LAB_IAM_URL"], "sts_endpoint_url": env["IPS_LAB_IAM_URL"]}},
        "gcp": {"platform": "gcp", "connection": {"credential_id": "pf-gcp", "zone": "us-central1-a"},
                "upload": {"project": env["IPS_LAB_GCP_PROJECT"], "token": env["IPS_LAB_GCP_TOKEN"],
                           "resource_manager_endpoint": env["IPS_LAB_GCE_URL"]}},
    }
    args = {
        "customer_id": env["CITRIX_CLOUD_CUSTOMER_ID"], "client_id": env["CITRIX_CLOUD_CLIENT_ID"],
        "client_secret": env["CITRIX_CLOUD_CLIENT_SECRET"], "api_url": env["CITRIX_CLOUD_API_URL"], "ca_path": env["CITRIX_CLOUD_CA_PATH"],
        "workflow": "mcs_to_mcs", "resource_location_id": env["IPS_LAB_RESOURCE_LOCATION_ID"],
        "source": {"platform": "vsphere", "disk": "DC0_H0_VM0/disk1.vmdk", "connection": connection,
                   "preflight": {"username": env["IPS_LAB_VCSIM_USER"], "password": env["IPS_LAB_VCSIM_PASSWORD"]}},
        "smb": {"location": "smb://%s/%s/pf/" % (host, share), "upload_location": "smb://%s:%s/%s/pf/" % (host, port, share),
                "credential_id": "pf-smb", "username": env["IPS_LAB_SMB_USER"], "password": env["IPS_LAB_SMB_PASSWORD"]},
        "target": targets[target],
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(args.get(key), dict):
            args[key] = dict(args[key], **value)
        else:
            args[key] = value
    return args


def run_preflights(env, tmp_path, scenarios, check_mode=(), verbose=False):
    """Run each scenario (name -> module args) as a task of one playbook; returns ({name: result}, output, seconds)."""
    tasks = []
    for name, args in scenarios.items():
        tasks.append({"name": name, "citrix_community.ips.ips_preflight": args, "register": "r_" + name,
                      "check_mode": name in check_mode})
    out = tmp_path / "results.json"
    tasks.append({"name": "write", "ansible.builtin.copy": {
        "dest": str(out), "content": "{{ {%s} | to_json }}" % ", ".join("'%s': r_%s" % (n, n) for n in scenarios)}})
    play = tmp_path / "preflight.yml"
    play.write_text(json.dumps([{"name": "preflight", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    run_env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_RETRY_FILES_ENABLED="False", XDG_CACHE_HOME=str(tmp_path / "cache"))
    started = time.monotonic()
    done = subprocess.run([str(BIN / "ansible-playbook")] + (["-vvvv"] if verbose else []) + ["-i", "localhost,", "-c", "local", str(play)], env=run_env,
                          cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    seconds = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-5000:]
    results = json.loads(out.read_text())
    print("playbook of %d preflights: %.1f s; the module's own elapsed: %s" % (
        len(scenarios), seconds, ", ".join("%s %.2f s" % (n, r["elapsed"]) for n, r in results.items())))
    return results, output, seconds


def by_name(result):
    return dict((i["name"], i) for i in result["items"])


def one(result, prefix):
    found = [i for i in result["items"] if i["name"].startswith(prefix)]
    assert len(found) == 1, (prefix, result["summary"])
    return found[0]


def tree(root):
    """Every file with its size and mtime, every folder by name (writing and removing the probe touches its folder's mtime)."""
    return sorted((str(p.relative_to(root)),) + ((p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else ())
                  for p in Path(root).rglob("*"))


def stand_in_state(env, api):
    """What a preflight must not change: the shares' files, the wallet and jobs, vCenter's VMs, EC2's and IAM's objects."""
    import boto3
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim

    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    si = SmartConnect(host=env["IPS_LAB_VCSIM_HOST"], port=int(env["IPS_LAB_VCSIM_PORT"]), user=env["IPS_LAB_VCSIM_USER"],
                      pwd=env["IPS_LAB_VCSIM_PASSWORD"], sslContext=ctx)
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        vms = sorted((vm.name, str(vm.runtime.powerState), len(vm.config.hardware.device)) for vm in view.view)
    finally:
        Disconnect(si)
    kw = dict(region_name="us-east-1", aws_access_key_id="AKIASTATE00000000000", aws_secret_access_key="state")
    ec2 = boto3.client("ec2", endpoint_url=env["IPS_LAB_MOTO_URL"], **kw)
    iam = boto3.client("iam", endpoint_url=env["IPS_LAB_MOTO_URL"], **kw)
    return {
        "shares": tree(Path(env["IPS_LAB_SMB_EXPORT_DIR"]).parent),
        "wallet": sorted((c["id"], c.get("type"), c.get("updatedAt")) for c in (api.call("GET", "credentials") or {}).get("items", [])),
        "jobs": sorted(j["id"] for j in (api.call("GET", "jobs") or {}).get("items", [])),
        "vms": vms,
        "ec2": (ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"], ec2.describe_volumes()["Volumes"],
                ec2.describe_images(Owners=["self"])["Images"]),
        "iam_users": sorted(u["UserName"] for u in iam.list_users()["Users"]),
    }


def writes(admin, allowed):
    """Recorded requests of a stand-in that are not reads, leaving out the paths in `allowed` (token, simulator ...)."""
    return [(r["method"], r["path"]) for r in admin.requests() if r["method"] not in ("GET", "HEAD")
            and not any(a in r["path"] for a in allowed)]


@pytest.fixture(scope="module")
def planes(lab_env):
    from ips_lab.common.admin import LabAdmin

    return dict((part, LabAdmin.from_env(lab_env, part)) for part in ("citrix", "azure", "gce", "iam"))


@pytest.fixture(scope="module")
def wallet(lab_env, planes):
    """The lab reset, with the wallet credentials the jobs of the scenarios name."""
    for admin in planes.values():
        admin.reset()
    api = LabApi(lab_env)
    for body in ({"id": "pf-vc", "type": "UsernamePassword", "username": lab_env["IPS_LAB_VCSIM_USER"], "password": "pf-vc-secret"},
                 {"id": "pf-smb", "type": "UsernamePassword", "username": lab_env["IPS_LAB_SMB_USER"], "password": "pf-smb-secret"},
                 {"id": "pf-az", "type": "Azure", "tenantId": lab_env["IPS_LAB_AZURE_TENANT_ID"], "clientId": lab_env["IPS_LAB_AZURE_CLIENT_ID"],
                  "clientSecret": "pf-az-secret"},
                 {"id": "pf-aws", "type": "Aws", "accessKeyId": "AKIAPREFLIGHT0000000", "secretAccessKey": "pf-aws-secret"},
                 {"id": "pf-gcp", "type": "Gcp", "serviceAccountKey": GCP_KEY}):
        api.call("POST", "credentials", body)
    return api


@pytest.fixture(scope="module")
def default_lab_run(lab_env, planes, wallet, tmp_path_factory):
    """Every scenario of the fully permitted lab, in one playbook, with the stand-ins' state before and after."""
    env = lab_env
    fingerprint = env["IPS_LAB_VCSIM_SSL_FINGERPRINT"]
    with open(env["CITRIX_CLOUD_CA_PATH"]) as src:
        other_ca = src.read()  # the Citrix Cloud stand-in's CA: it did not issue vcsim's certificate
    with open(env["IPS_LAB_VCSIM_CA_PATH"]) as src:
        vcsim_ca = src.read()
    scenarios = {
        "full_azure": args_for(env, "azure", ca=vcsim_ca),
        "full_azure_check": args_for(env, "azure", ca=vcsim_ca),
        "full_aws": args_for(env, "aws", fingerprint),
        "full_gcp": args_for(env, "gcp", fingerprint),
        # Independent broken inputs share one run (each is its own item): an MCS -> PVS migration whose share password is
        # wrong, whose PVS store is the read-only share, whose vCenter credential id is unknown, whose VM is missing,
        # whose vCenter certificate is not from the CA given, and whose resource location is unknown.
        "broken": args_for(env, "azure", workflow="mcs_to_pvs", resource_location_id=UNKNOWN_LOCATION,
                           smb={"password": "not-the-password"},
                           pvs_store={"location": "smb://%s:%s/%s/pf/" % (env["IPS_LAB_SMB_HOST"], env["IPS_LAB_SMB_PORT"],
                                                                          env["IPS_LAB_SMB_READONLY_SHARE"]),
                                      "credential_id": "pf-smb", "username": env["IPS_LAB_SMB_USER"], "password": env["IPS_LAB_SMB_PASSWORD"]},
                           vsphere={"credential_id": "pf-no-such-credential", "ssl_ca_certificate": other_ca},
                           source={"preflight": {"username": env["IPS_LAB_VCSIM_USER"], "password": env["IPS_LAB_VCSIM_PASSWORD"],
                                                 "vm_name": "no-such-vm"}}),
        "wrong_type_credential": args_for(env, "azure", fingerprint, smb={"credential_id": "pf-az"}),
    }
    for admin in planes.values():
        admin.clear_requests()
    before = stand_in_state(env, wallet)
    results, output, seconds = run_preflights(env, tmp_path_factory.mktemp("preflight"), scenarios,
                                              check_mode=("full_azure_check",), verbose=True)
    after = stand_in_state(env, wallet)
    served = sha1_of(env["IPS_LAB_VCSIM_HOST"], int(env["IPS_LAB_VCSIM_PORT"]))
    return dict(results=results, output=output, seconds=seconds, before=before, after=after, fingerprint=served)


@pytest.mark.parametrize("name", ["full_azure", "full_aws", "full_gcp"])
def test_a_fully_permitted_setup_passes_every_item(default_lab_run, name):
    result = default_lab_run["results"][name]
    assert result["ok"] is True, "\n".join(result["summary"])
    assert result["changed"] is False
    assert result["missing"] == []
    names = set(by_name(result))
    for expected in ("citrix cloud api client", "resource location", "wallet credential pf-vc (source.connection.credential_id)",
                     "wallet credential pf-smb (smb.credential_id)",
                     "vsphere tls certificate", "vcenter login", "source vm and disk", "export share reachable",
                     "export share folder writable", "export share free space", "target size allowed"):
        assert expected in names, (expected, sorted(names))
    cloud = [n for n in names if n.startswith("%s permissions" % name.split("_")[1])]
    assert len(cloud) >= 2, sorted(names)


def test_check_mode_answers_the_same(default_lab_run):
    results = default_lab_run["results"]

    def strip(result):
        return [(i["name"], i["status"], i["scope"]) for i in result["items"]]

    assert strip(results["full_azure_check"]) == strip(results["full_azure"])
    assert results["full_azure_check"]["changed"] is False


def test_the_preflight_of_a_full_migration_takes_seconds(default_lab_run):
    elapsed = default_lab_run["results"]["full_azure"]["elapsed"]
    print("preflight of a full MCS -> MCS migration (vSphere -> Azure) against the lab: %.2f s (module's own elapsed); "
          "the whole playbook of %d scenarios: %.1f s" % (elapsed, len(default_lab_run["results"]), default_lab_run["seconds"]))
    assert elapsed < 10  # a generous bound on the module's own measure; bench/ has the figure


@pytest.mark.parametrize("scenario, item, words, fix_words", [
    ("broken", "export share reachable", ["refused the sign-in", "wrong user name or password"], ["password", "pf-smb"]),
    ("broken", "pvs store folder writable", ["may not write"], ["write"]),
    ("broken", "wallet credential pf-no-such-credential (source.connection.credential_id)", ["no credential pf-no-such-credential"], ["ips_credential"]),
    ("broken", "source vm and disk", ["no VM named no-such-vm"], ["vm_name"]),
    ("broken", "resource location", ["no resource location " + UNKNOWN_LOCATION], ["resource_location_id"]),
    ("wrong_type_credential", "wallet credential pf-az (smb.credential_id)", ["of type Azure", "smb.credential_id needs UsernamePassword"],
     ["username_password"]),
])
def test_a_broken_input_is_reported_with_its_fix(default_lab_run, scenario, item, words, fix_words):
    result = default_lab_run["results"][scenario]
    assert result["ok"] is False
    found = by_name(result).get(item)
    assert found is not None, (item, result["summary"])
    assert found["status"] == "missing", found
    for word in words:
        assert word in found["detail"], found
    for word in fix_words:
        assert word in found["fix"], found
    assert item in result["missing"]
    # the summary's first item line is a missing one, with its fix
    assert result["summary"][1].startswith("missing") and "fix:" in result["summary"][1]


def test_an_untrusted_hypervisor_certificate_is_reported_with_the_fingerprint_to_paste(default_lab_run, lab_env):
    result = default_lab_run["results"]["broken"]
    assert default_lab_run["fingerprint"] == lab_env["IPS_LAB_VCSIM_SSL_FINGERPRINT"]  # the lab names the certificate it serves
    tls = by_name(result)["vsphere tls certificate"]
    assert tls["status"] == "missing"
    assert "not trusted by vsphere.ssl_ca_certificate" in tls["detail"]
    assert default_lab_run["fingerprint"] in tls["detail"]
    assert "vsphere.ssl_fingerprint: %s" % default_lab_run["fingerprint"] in tls["fix"]
    assert default_lab_run["fingerprint"] in "\n".join(result["summary"])


def test_nothing_is_created_or_changed_in_any_stand_in(default_lab_run, planes, lab_env):
    before, after = default_lab_run["before"], default_lab_run["after"]
    for key in before:
        assert before[key] == after[key], key
    assert writes(planes["citrix"], ["/tokens/clients"]) == []
    assert writes(planes["azure"], ["/oauth2/v2.0/token"]) == []
    assert writes(planes["gce"], [":testIamPermissions"]) == []
    # the probe file is gone from both shares it was written to
    shares = Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]).parent
    assert not list(shares.rglob(".ips-preflight-probe-*"))


def test_no_secret_reaches_the_output(default_lab_run, lab_env):
    output = default_lab_run["output"]
    for key in ("CITRIX_CLOUD_CLIENT_SECRET", "IPS_LAB_SMB_PASSWORD", "IPS_LAB_VCSIM_PASSWORD", "IPS_LAB_AZURE_CLIENT_SECRET",
                "IPS_LAB_GCP_TOKEN"):
        assert lab_env[key] not in output, key
    assert lab_env["IPS_LAB_AWS_SECRET_ACCESS_KEY"] not in output


def test_a_principal_missing_one_documented_permission_is_named_with_its_scope(lab_env, planes, wallet, tmp_path):
    env = lab_env
    fingerprint = env["IPS_LAB_VCSIM_SSL_FINGERPRINT"]
    planes["azure"].set_config(rbac_removed_actions=[AZURE_REMOVED])
    planes["iam"].set_config(removed_actions=[AWS_REMOVED])
    planes["gce"].set_config(iam_removed_permissions=[GCP_REMOVED])
    try:
        results, _output, _seconds = run_preflights(env, tmp_path, {t: args_for(env, t, fingerprint) for t in ("azure", "aws", "gcp")})
    finally:
        for part in ("azure", "iam", "gce"):
            planes[part].reset()
    rg_scope = "/subscriptions/%s/resourceGroups/%s" % (env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], env["IPS_LAB_AZURE_RESOURCE_GROUP"])
    azure = results["azure"]
    missing = [i for i in azure["items"] if i["status"] == "missing"]
    assert [(i["name"], i["scope"]) for i in missing] == [("azure permissions: the target disk's resource group (resource_group)", rg_scope)]
    assert missing[0]["detail"] == "missing at %s: %s" % (rg_scope, AZURE_REMOVED)
    assert AZURE_REMOVED in missing[0]["fix"] and rg_scope in missing[0]["fix"]

    aws = results["aws"]
    missing = [i for i in aws["items"] if i["status"] == "missing"]
    assert [i["name"] for i in missing] == ["aws permissions: the Image Portability jobs (the wallet's AWS credential)"]
    assert missing[0]["detail"] == "not allowed for %s: %s" % (env["IPS_LAB_AWS_PRINCIPAL_ARN"], AWS_REMOVED)
    assert missing[0]["scope"].startswith(env["IPS_LAB_AWS_PRINCIPAL_ARN"])

    gcp = results["gcp"]
    missing = [i for i in gcp["items"] if i["status"] == "missing"]
    scope = "projects/%s" % env["IPS_LAB_GCP_PROJECT"]
    assert [(i["name"], i["scope"]) for i in missing] == [("gcp permissions: the Image Portability jobs (the wallet's GCP service account)", scope)]
    assert missing[0]["detail"] == "missing on %s: %s" % (scope, GCP_REMOVED)
