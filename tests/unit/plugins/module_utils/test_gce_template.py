"""The instance template ips_gcp_instance_template wants: the insert body from the options, and the comparison of an existing
template (as GCE returns it: full URLs, strings for sizes) with the wanted one."""

from ansible_collections.citrix_community.ips.plugins.module_utils import _gce_template as T

PARAMS = {"name": "win11", "source_image": "win11", "source_disk": None, "machine_type": "n2-standard-4", "disk_type": "pd-balanced",
          "disk_size_gb": 64, "network": "default", "subnetwork": None, "labels": {"ips": "mcs"}, "description": None}


def test_body_from_an_image():
    body = T.body(PARAMS)
    disk = body["properties"]["disks"][0]
    assert disk["boot"] and disk["initializeParams"] == {"sourceImage": "global/images/win11", "diskType": "pd-balanced", "diskSizeGb": "64"}
    assert body["properties"]["machineType"] == "n2-standard-4" and body["properties"]["networkInterfaces"] == [{"network": "default"}]
    assert "description" not in body and body["properties"]["labels"] == {"ips": "mcs"}
    assert T.body(dict(PARAMS, source_image="family/win11"))["properties"]["disks"][0]["initializeParams"]["sourceImage"] == "global/images/family/win11"
    on_disk = T.body(dict(PARAMS, source_image=None, source_disk="win11-disk", disk_type=None, disk_size_gb=None))["properties"]["disks"][0]
    assert on_disk["source"] == "win11-disk" and "initializeParams" not in on_disk


def test_a_template_as_gce_returns_it_is_the_same_one():
    url = "https://compute.googleapis.com/compute/v1/projects/p/"
    existing = {"name": "win11", "id": "1", "selfLink": url + "global/instanceTemplates/win11", "properties": {
        "machineType": "n2-standard-4", "labels": {"ips": "mcs"},
        "disks": [{"boot": True, "initializeParams": {"sourceImage": url + "global/images/win11", "diskType": "pd-balanced", "diskSizeGb": "64"}}],
        "networkInterfaces": [{"network": url + "global/networks/default"}]}}
    assert T.differences(T.summary(existing), T.wanted(PARAMS)) == []
    other = T.differences(T.summary(existing), T.wanted(dict(PARAMS, machine_type="n2-standard-8", disk_size_gb=None)))
    assert other == [("machine_type", "n2-standard-4", "n2-standard-8"), ("disk_size_gb", 64, None)]
    assert T.summary(None) is None
