"""The DaaS REST stand-in (/cvad/manage on the Citrix Cloud stand-in): its own rules, against a real
moto server holding real AMIs (the hosting unit's resources are read from it, never invented); and the
same site on premises (/citrix/orchestration/api) with the Delivery Controller's own sign-in."""

import base64
import json
import re
import urllib.request
import uuid

import pytest
from ipslab_helpers import Api, lab_config

from ips_lab.citrix.server import start_in_thread

BASE = "/cvad/manage"


@pytest.fixture(scope="module")
def moto():
    boto3 = pytest.importorskip("boto3")
    server_mod = pytest.importorskip("moto.server")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = "http://%s:%d" % (host, port)
    ec2 = boto3.client("ec2", endpoint_url=url, region_name="us-east-1", aws_access_key_id="lab", aws_secret_access_key="lab")

    def make_ami(name):
        volume = ec2.create_volume(Size=1, AvailabilityZone="us-east-1a")["VolumeId"]
        snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
        return ec2.register_image(Name=name, RootDeviceName="/dev/sda1",
                                  BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": snapshot}}])["ImageId"]

    yield url, make_ami
    server.stop()


@pytest.fixture()
def daas(tmp_path, moto):
    config = lab_config(moto_url=moto[0], daas_job_seconds=10)
    server = start_in_thread(str(tmp_path / "state"), config)
    api = Api(server, config)
    me = api.send("GET", BASE + "/me", headers=api.auth_headers())
    assert me.status == 200, me.raw
    headers = dict(api.auth_headers(), **{"Citrix-InstanceId": me.json["Customers"][0]["Sites"][0]["Id"]})

    def call(method, path, body=None, **extra):
        return api.send(method, BASE + path, body, headers={k: v for k, v in dict(headers, **extra).items() if v is not None})

    call.server, call.admin, call.make_ami = server, server.admin, moto[1]
    yield call
    server.stop()


def template_path(name, ami):
    return "XDHyp:\\HostingUnits\\lab-aws-pool\\%s (%s).template" % (name, ami)


def update(daas, catalog, path, **body):
    return daas("POST", "/MachineCatalogs/%s/$UpdateProvisioningScheme?async=true" % catalog, dict(body, MasterImagePath=path))


def job_of(daas, resp):
    assert resp.status == 202, resp.raw
    location = resp.headers["Location"]
    assert location.startswith(BASE + "/Jobs/")
    return location.rsplit("/", 1)[1]


def finish(daas, job_id):
    daas.admin.advance_clock(11)
    resp = daas("GET", "/Jobs/" + job_id)
    assert resp.status == 200, resp.raw
    return resp.json


def refresh(daas, path=""):
    return daas("GET", "/hypervisors/lab-aws/resourcePools/lab-aws-pool/resources?path=%s&children=true&noCache=true" % path)


def test_me_site_and_headers(daas):
    assert daas("GET", "/Sites/" + daas.server.lab.daas.site_id).json["OrchestationApiVersion"] >= 121
    assert daas("GET", "/MachineCatalogs", **{"Citrix-InstanceId": None}).status == 400
    assert daas("GET", "/MachineCatalogs", **{"Citrix-InstanceId": "0f0f0f0f-0000-0000-0000-000000000000"}).status == 404
    assert daas("GET", "/MachineCatalogs", Authorization=None).status == 401
    daas.admin.set_config(daas_activated=False)
    resp = daas("GET", "/me")
    assert resp.status == 530 and "not activated" in resp.json["detail"]
    names = {c["Name"]: c["ProvisioningType"] for c in daas("GET", "/MachineCatalogs").json["Items"]}
    assert names["lab-mcs-catalog"] == "MCS" and names["lab-pvs-catalog"] == "PVSStreaming"


def test_resources_come_from_moto_behind_a_stale_cache(daas):
    first = daas.make_ami("daas-first")
    listed = daas("GET", "/hypervisors/lab-aws/resourcePools/lab-aws-pool/resources?path=&children=true").json["Children"]
    assert "daas-first (%s).template" % first in [c["Name"] for c in listed]
    fresh = daas.make_ami("daas-fresh")
    cached = daas("GET", "/hypervisors/lab-aws/resourcePools/lab-aws-pool/resources?path=&children=true").json["Children"]
    assert "daas-fresh (%s).template" % fresh not in [c["Name"] for c in cached]
    # the image-not-found-right-after-it-appears case: refused until a noCache look-up refreshes the cache
    refused = update(daas, "lab-mcs-catalog-aws", template_path("daas-fresh", fresh))
    assert refused.status == 400 and "Failed to locate" in refused.json["detail"]
    names = [c["Name"] for c in refresh(daas).json["Children"]]
    assert "daas-fresh (%s).template" % fresh in names
    assert update(daas, "lab-mcs-catalog-aws", template_path("daas-fresh", fresh)).status == 202


def test_update_busy_complete_history_and_rollback(daas):
    ami = daas.make_ami("daas-update")
    refresh(daas)
    path = template_path("daas-update", ami)
    job_id = job_of(daas, update(daas, "lab-mcs-catalog-aws", path, StoreOldImage=True, MasterImageNote="from lab test",
                                 RebootOptions={"RebootDuration": 60, "WarningDuration": 15, "WarningMessage": "in %m% minutes"}))
    running = daas("GET", "/Jobs/" + job_id).json
    assert running["Status"] in ("NotStarted", "InProgress") and running["Type"] == "UpdateMachineCatalogProvisioningScheme"
    busy = update(daas, "lab-mcs-catalog-aws", path)
    assert busy.status == 409 and job_id in busy.json["detail"]
    assert daas("GET", "/MachineCatalogs/lab-mcs-catalog-aws").json["ProvisioningScheme"]["MasterImage"]["XDPath"] != path
    assert finish(daas, job_id)["Status"] == "Complete"
    scheme = daas("GET", "/MachineCatalogs/lab-mcs-catalog-aws").json["ProvisioningScheme"]
    assert scheme["MasterImage"]["XDPath"] == path and scheme["MasterImageNote"] == "from lab test"
    history = daas("GET", "/MachineCatalogs/lab-mcs-catalog-aws/MasterImageHistory").json["Items"]
    assert history[0]["MasterImage"]["Name"].startswith("old-master")
    back = job_of(daas, daas("POST", "/MachineCatalogs/lab-mcs-catalog-aws/$RollbackProvisioningScheme?async=true"))
    assert finish(daas, back)["Status"] == "Complete"
    assert daas("GET", "/MachineCatalogs/lab-mcs-catalog-aws").json["ProvisioningScheme"]["MasterImage"]["Name"].startswith("old-master")


def test_refusals_name_the_problem(daas):
    ami = daas.make_ami("daas-refuse")
    refresh(daas)
    path = template_path("daas-refuse", ami)
    pvs = update(daas, "lab-pvs-catalog", path)
    assert pvs.status == 400 and "MCS catalogs only" in pvs.json["detail"]
    typo = update(daas, "lab-mcs-catalog-aws", path, StoreOldImages=True)
    assert typo.status == 400 and "StoreOldImages" in typo.json["detail"]
    other_unit = update(daas, "lab-mcs-catalog", path)
    assert other_unit.status == 400 and "hosting unit" in other_unit.json["detail"]
    assert update(daas, "no-such-catalog", path).status == 404


@pytest.mark.parametrize("outcome", ["Failed", "CompleteWithWarning"])
def test_injected_job_outcomes(daas, outcome):
    ami = daas.make_ami("daas-outcome")
    refresh(daas)
    path = template_path("daas-outcome", ami)
    daas.admin.daas_job_outcome(outcome, "The hypervisor said no (lab).", type="UpdateMachineCatalogProvisioningScheme")
    job = finish(daas, job_of(daas, update(daas, "lab-mcs-catalog-aws", path)))
    assert job["Status"] == outcome and job["ErrorString"] == "The hypervisor said no (lab)."
    assert job["ErrorParameters"][0]["Value"].startswith("ErrorMessage : ")
    image = daas("GET", "/MachineCatalogs/lab-mcs-catalog-aws").json["ProvisioningScheme"]["MasterImage"]["XDPath"]
    assert (image == path) == (outcome == "CompleteWithWarning")


def test_cancel_and_faults(daas):
    ami = daas.make_ami("daas-cancel")
    refresh(daas)
    job_id = job_of(daas, update(daas, "lab-mcs-catalog-aws", template_path("daas-cancel", ami)))
    assert daas("POST", "/Jobs/%s/$cancel" % job_id).json["Status"] == "Canceled"
    assert finish(daas, job_id)["Status"] == "Canceled"
    daas.admin.add_fault(r"^/cvad/manage/MachineCatalogs", status=429, retry_after=2)
    throttled = daas("GET", "/MachineCatalogs")
    assert throttled.status == 429 and throttled.headers["Retry-After"] == "2"
    assert daas("GET", "/MachineCatalogs").status == 200
    seen = [r for r in daas.admin.requests() if r["path"].startswith(BASE + "/MachineCatalogs")]
    assert seen[-1]["headers"]["Citrix-InstanceId"] == daas.server.lab.daas.site_id


def test_create_catalog(daas):
    ami = daas.make_ami("daas-create")
    refresh(daas)
    body = {"Name": "daas-new", "AllocationType": "Random", "ProvisioningType": "MCS", "SessionSupport": "MultiSession",
            "PersistUserChanges": "Discard", "ProvisioningScheme": {"ResourcePool": "lab-aws-pool", "NumTotalMachines": 0,
                                                                    "MasterImagePath": template_path("daas-create", ami)}}
    job_id = job_of(daas, daas("POST", "/MachineCatalogs?async=true", body))
    assert daas("POST", "/MachineCatalogs?async=true", body).status == 409
    assert daas("GET", "/MachineCatalogs/daas-new").status == 404
    assert finish(daas, job_id)["Status"] == "Complete"
    made = daas("GET", "/MachineCatalogs/daas-new").json
    assert made["SessionSupport"] == "MultiSession" and made["ProvisioningScheme"]["MasterImage"]["Name"].startswith("daas-create")
    missing = daas("POST", "/MachineCatalogs?async=true", {k: v for k, v in body.items() if k != "SessionSupport"})
    assert missing.status == 400 and "SessionSupport" in missing.json["detail"]


def test_image_definition_version_share_and_assign(daas):
    ami = daas.make_ami("daas-version")
    refresh(daas)
    made = daas("POST", "/ImageDefinitions", {"Name": "win11", "OsType": "Windows", "VDASessionSupport": "SingleSession",
                                              "AssignedHypervisorConnection": {"HypervisorConnection": "lab-aws"}})
    assert made.status == 201 and made.json["Name"] == "win11"
    job_id = job_of(daas, daas("POST", "/ImageDefinitions/win11/ImageVersions?async=true", {
        "MasterImagePath": template_path("daas-version", ami), "ResourcePool": "lab-aws-pool", "ImageScheme": {}}))
    assert daas("GET", "/ImageDefinitions/win11/ImageVersions/1").json["ImageVersionStatus"] == "InProgress"
    early = daas("POST", "/MachineCatalogs/lab-mcs-catalog-aws/$UpdateProvisioningScheme?async=true",
                 {"AssignImageVersionToProvisioningScheme": {"ImageDefinition": "win11", "ImageVersion": 1}})
    assert early.status == 400 and "InProgress" in early.json["detail"]
    assert finish(daas, job_id)["Status"] == "Complete"
    assert daas("GET", "/ImageDefinitions/win11/ImageVersions/1").json["ImageVersionStatus"] == "Success"
    share = job_of(daas, daas("PUT", "/ImageDefinitions/win11/ImageVersions/1/$UpdateResourcePools?async=true",
                              {"ImageVersionResourcePools": [{"ResourcePool": "lab-aws-pool"}]}))
    assert finish(daas, share)["Status"] == "Complete"
    assign = job_of(daas, daas("POST", "/MachineCatalogs/lab-mcs-catalog-aws/$UpdateProvisioningScheme?async=true",
                               {"AssignImageVersionToProvisioningScheme": {"ImageDefinition": "win11", "ImageVersion": 1}}))
    assert finish(daas, assign)["Status"] == "Complete"
    scheme = daas("GET", "/MachineCatalogs/lab-mcs-catalog-aws").json["ProvisioningScheme"]
    assert scheme["CurrentImageVersion"]["ImageVersion"]["Number"] == 1
    assert scheme["MasterImage"]["Name"] == "daas-version (%s).template" % ami


ONPREM = "/citrix/orchestration/api"


@pytest.fixture()
def onprem(tmp_path):
    """The stand-in's on-premises Orchestration API (no cloud plane needed for these rules)."""
    config = lab_config(daas_job_seconds=0, daas_admin_user="LAB\\ctxadmin", daas_admin_password="pw-" + uuid.uuid4().hex, token_ttl=600)
    server = start_in_thread(str(tmp_path / "state"), config)
    api = Api(server, config)
    api.server = server
    yield api
    server.stop()


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def test_onprem_sign_in_routes_and_tokens(onprem):
    cfg = onprem.config
    nobody = onprem.send("POST", ONPREM + "/tokens")
    assert nobody.status == 401 and nobody.headers["WWW-Authenticate"].startswith("Basic")
    wrong = onprem.send("POST", ONPREM + "/tokens", headers={"Authorization": basic(cfg["daas_admin_user"], "nope")})
    assert wrong.status == 401 and cfg["daas_admin_password"] not in wrong.raw.decode()
    assert onprem.send("GET", ONPREM + "/tokens", headers={"Authorization": basic(cfg["daas_admin_user"], "x")}).status == 405
    signed = onprem.send("POST", ONPREM + "/tokens", headers={"Authorization": basic("lab\\CTXADMIN", cfg["daas_admin_password"])})
    assert signed.status == 200, signed.raw
    assert signed.json["CustomerId"] == "CitrixOnPremises" and signed.json["Principal"] == cfg["daas_admin_user"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", signed.json["ExpiresAt"]), signed.json
    headers = {"Authorization": "CWSAuth bearer=%s" % signed.json["Token"], "Citrix-CustomerId": "CitrixOnPremises"}
    me = onprem.send("GET", ONPREM + "/me", headers=headers)
    assert me.status == 200 and me.json["Customers"][0]["Id"] == "CitrixOnPremises"
    site = me.json["Customers"][0]["Sites"][0]["Id"]
    assert onprem.send("GET", ONPREM + "/CitrixOnPremises/Sites/" + site, headers=headers).json["Id"] == site
    scoped = dict(headers, **{"Citrix-InstanceId": site})
    catalogs = onprem.send("GET", "%s/CitrixOnPremises/%s/MachineCatalogs" % (ONPREM, site), headers=scoped)
    assert catalogs.status == 200 and "lab-mcs-catalog" in [c["Name"] for c in catalogs.json["Items"]]
    # a long-running call answers with the job on the on-premises base
    made = onprem.send("POST", "%s/CitrixOnPremises/%s/ImageDefinitions?async=true" % (ONPREM, site), headers=scoped,
                       body={"Name": "onprem-def", "OsType": "Windows", "VDASessionSupport": "MultiSession"})
    assert made.status == 202 and made.headers["Location"].startswith("%s/CitrixOnPremises/%s/Jobs/" % (ONPREM, site)), made.raw
    job = onprem.send("GET", made.headers["Location"], headers=scoped)
    assert job.status == 200 and job.json["Type"] == "CreateImageDefinition"
    # what a Delivery Controller does not serve, or not to this caller
    assert onprem.send("GET", "%s/CitrixOnPremises/%s/MachineCatalogs" % (ONPREM, uuid.uuid4()), headers=scoped).status == 404
    assert onprem.send("GET", "%s/OtherCustomer/%s/MachineCatalogs" % (ONPREM, site), headers=scoped).status == 404
    assert onprem.send("GET", "%s/CitrixOnPremises/%s/me" % (ONPREM, site), headers=scoped).status == 404
    anonymous = {k: v for k, v in scoped.items() if k != "Authorization"}
    assert onprem.send("GET", "%s/CitrixOnPremises/%s/MachineCatalogs" % (ONPREM, site), headers=anonymous).status == 401
    cloud = dict(onprem.auth_headers(), **{"Citrix-InstanceId": site})
    assert onprem.send("GET", "%s/CitrixOnPremises/%s/MachineCatalogs" % (ONPREM, site), headers=cloud).status == 401
    assert onprem.send("GET", BASE + "/MachineCatalogs", headers=scoped).status == 401
    # the token expires on the lab clock like a cloud one
    onprem.server.admin.advance_clock(601)
    assert onprem.send("GET", "%s/CitrixOnPremises/%s/MachineCatalogs" % (ONPREM, site), headers=scoped).status == 401


@pytest.fixture()
def gcp_daas(tmp_path):
    """The DaaS stand-in on the lab's GCE plane (run in-process). The plane makes images only from a GCS object, and
    this file runs without the GCS emulator, so one READY image is put into the plane's own state as images.insert
    leaves it; the instance templates are made through the plane's API and its rules."""
    from ips_lab.planes import gce_plane

    token = "gce-" + uuid.uuid4().hex
    (tmp_path / "gce").mkdir()
    plane = gce_plane.start(str(tmp_path / "gce"), {"project": "ips-lab", "token": token, "gcs_url": "http://127.0.0.1:9",
                                                    "operation_seconds": 0})
    base = "%s/compute/v1/projects/ips-lab/global" % plane.url
    plane.plane.store.put("image", "gcp-master", {
        "kind": "compute#image", "id": "1", "name": "gcp-master", "status": "READY", "diskSizeGb": "10", "sourceType": "RAW",
        "selfLink": base + "/images/gcp-master", "archiveSizeBytes": "1"})
    config = lab_config(gce={"url": plane.url, "project": "ips-lab", "token": token}, daas_job_seconds=10)
    server = start_in_thread(str(tmp_path / "state"), config)
    api = Api(server, config)
    site = api.send("GET", BASE + "/me", headers=api.auth_headers()).json["Customers"][0]["Sites"][0]["Id"]

    def call(method, path, body=None):
        return api.send(method, BASE + path, body, headers=dict(api.auth_headers(), **{"Citrix-InstanceId": site}))

    def make_template(name):
        body = {"name": name, "properties": {"machineType": "n2-standard-4", "disks": [
            {"boot": True, "initializeParams": {"sourceImage": "global/images/gcp-master", "diskSizeGb": "10"}}]}}
        req = urllib.request.Request(base + "/instanceTemplates", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200

    call.admin, call.make_template = server.admin, make_template
    yield call
    server.stop()
    plane.stop()


GCP_UNIT = "XDHyp:\\HostingUnits\\lab-gcp-pool\\"


def test_gcp_template_is_a_machine_profile_not_a_master_image(gcp_daas):
    image, template = GCP_UNIT + "images.folder\\gcp-master.image", GCP_UNIT + "instanceTemplates.folder\\gcp-tpl.template"
    catalog = "/MachineCatalogs/lab-mcs-catalog-gcp/$UpdateProvisioningScheme?async=true"
    listing = "/hypervisors/lab-gcp/resourcePools/lab-gcp-pool/resources?path=instanceTemplates.folder&children=true"
    assert gcp_daas("GET", listing).json["Children"] == []  # cached now, before the template exists
    gcp_daas.make_template("gcp-tpl")
    # the profile must be among the pool's resources, seen through the same cache as images
    stale = gcp_daas("POST", catalog, {"MasterImagePath": image, "MachineProfilePath": template})
    assert stale.status == 400 and "machine profile" in stale.json["detail"] and "could not find" in stale.json["detail"], stale.raw
    assert gcp_daas("GET", listing + "&noCache=true").json["Children"][0]["XDPath"] == template
    # a template as the master image is refused on GCP
    refused = gcp_daas("POST", catalog, {"MasterImagePath": template})
    assert refused.status == 400 and "machine profile" in refused.json["detail"] and "instance template" in refused.json["detail"], refused.raw
    definition = {"Name": "gcp-def", "OsType": "Windows", "VDASessionSupport": "SingleSession",
                  "AssignedHypervisorConnection": {"HypervisorConnection": "lab-gcp"}}
    version = gcp_daas("POST", "/ImageDefinitions?async=false", definition)
    assert version.status in (200, 201), version.raw
    as_version = gcp_daas("POST", "/ImageDefinitions/gcp-def/ImageVersions?async=true",
                          {"MasterImagePath": template, "ResourcePool": "lab-gcp-pool", "ImageScheme": {}})
    assert as_version.status == 400 and "instance template" in as_version.json["detail"], as_version.raw
    missing = gcp_daas("POST", catalog, {"MasterImagePath": image, "MachineProfilePath": GCP_UNIT + "instanceTemplates.folder\\nope.template"})
    assert missing.status == 400 and "machine profile" in missing.json["detail"] and "nope.template" in missing.json["detail"], missing.raw
    # the image as master, the template as profile: kept on the scheme and returned in the catalog
    job = job_of(gcp_daas, gcp_daas("POST", catalog, {"MasterImagePath": image, "MachineProfilePath": template}))
    assert finish(gcp_daas, job)["Status"] == "Complete"
    scheme = gcp_daas("GET", "/MachineCatalogs/lab-mcs-catalog-gcp").json["ProvisioningScheme"]
    assert scheme["MasterImage"]["XDPath"] == image and scheme["MachineProfile"]["XDPath"] == template
    body = {"Name": "gcp-new", "AllocationType": "Random", "ProvisioningType": "MCS", "SessionSupport": "SingleSession",
            "ProvisioningScheme": {"ResourcePool": "lab-gcp-pool", "MasterImagePath": image, "MachineProfilePath": template}}
    job = job_of(gcp_daas, gcp_daas("POST", "/MachineCatalogs?async=true", body))
    assert finish(gcp_daas, job)["Status"] == "Complete"
    assert gcp_daas("GET", "/MachineCatalogs/gcp-new").json["ProvisioningScheme"]["MachineProfile"]["XDPath"] == template
