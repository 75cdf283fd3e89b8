"""What a hosting unit's resources are: read from the cloud stand-ins each time (never invented).

  azure  the Azure plane's managed disks -> image.folder\\<rg>.resourcegroup\\<disk>.manageddisk
  aws    moto's AMIs owned by the account -> <name> (ami-...).template
  gcp    the GCE plane's images -> images.folder\\<name>.image, instance templates ->
         instanceTemplates.folder\\<name>.template

A look-up without noCache may be answered from the resource cache (cache.py) so a fresh artifact stays
invisible until a noCache look-up refreshes it, as on the real service.
"""

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request

from ..common.errors import ApiError
from . import rules

ARM_API = "2024-03-02"


def _http(method, url, headers=None, body=None, context=None, form=False):
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = urllib.parse.urlencode(body).encode() if form else json.dumps(body).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded" if form else "application/json"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=30) as answer:
            raw, status = answer.read(), answer.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    except (OSError, ValueError) as exc:
        raise ApiError(503, "The hypervisor could not be reached: %s" % exc)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def azure_disks(cfg):
    """[(resource group, disk name)] of every managed disk in the lab's subscription."""
    context = ssl.create_default_context(cafile=cfg["ca_path"])
    base = cfg["url"].rstrip("/")
    status, token = _http("POST", "%s/%s/oauth2/v2.0/token" % (base, cfg["tenant_id"]), body={
        "grant_type": "client_credentials", "client_id": cfg["client_id"], "client_secret": cfg["client_secret"],
        "scope": "https://management.azure.com/.default"}, context=context, form=True)
    if status != 200:
        raise ApiError(503, "The Azure hosting connection cannot sign in (HTTP %s)." % status)
    status, answer = _http("GET", "%s/subscriptions/%s/providers/Microsoft.Compute/disks?api-version=%s" % (base, cfg["subscription_id"], ARM_API),
                           {"Authorization": "Bearer " + token["access_token"]}, context=context)
    if status != 200:
        raise ApiError(503, "The Azure hosting connection cannot list disks (HTTP %s)." % status)
    out = []
    for disk in answer.get("value", []):
        parts = disk["id"].split("/")
        out.append((parts[4], disk["name"]))
    return sorted(out)


def aws_images(moto_url, region):
    """[(name, image id)] of the AMIs the account owns in `region`."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    ec2 = boto3.client("ec2", endpoint_url=moto_url, region_name=region, aws_access_key_id="ipslab", aws_secret_access_key="ipslab",
                       config=Config(retries={"max_attempts": 2}, connect_timeout=10, read_timeout=30))
    try:
        images = ec2.describe_images(Owners=["self"])["Images"]
    except (BotoCoreError, ClientError) as exc:
        raise ApiError(503, "The AWS hosting connection cannot list images: %s" % exc)
    return sorted((i.get("Name") or i["ImageId"], i["ImageId"]) for i in images if i.get("State", "available") == "available")


def gce_items(cfg, collection):
    """Names of the READY images (collection "images") or of the instance templates ("instanceTemplates")."""
    url = "%s/compute/v1/projects/%s/global/%s" % (cfg["url"].rstrip("/"), urllib.parse.quote(cfg["project"]), collection)
    status, answer = _http("GET", url, {"Authorization": "Bearer " + cfg["token"]})
    if status == 404 and collection != "images":
        return []  # a plane without that collection has none
    if status != 200:
        raise ApiError(503, "The GCP hosting connection cannot list %s (HTTP %s)." % (collection, status))
    return sorted(i["name"] for i in (answer or {}).get("items", []) if i.get("status", "READY") == "READY")


def _resource(pool, relative, name, resource_type, container):
    xdpath = rules.HOSTING_UNITS + pool["Name"] + ("\\" + relative if relative else "")
    return {"Id": xdpath.lower(), "Name": name, "XDPath": xdpath, "RelativePath": relative, "FullRelativePath": relative,
            "ResourceType": resource_type, "ObjectTypeName": resource_type.lower(), "IsContainer": container,
            "ResourcePoolXDPath": rules.HOSTING_UNITS + pool["Name"]}


def listing(pool, connection, clouds, path):
    """The children of `path` (relative, backslash-separated, '' = the hosting unit) in the cloud right now."""
    kind = connection["Kind"]
    path = path.strip("\\")
    parts = [p for p in path.split("\\") if p] if path else []
    children = []
    if kind == "azure":
        disks = azure_disks(clouds["azure"]) if clouds.get("azure") else []
        if not parts:
            children.append((rules.AZURE_FOLDER, "Folder", True))
        elif parts == [rules.AZURE_FOLDER]:
            for group in sorted(set(g for g, _n in disks)):
                children.append((group + rules.AZURE_GROUP_SUFFIX, "ResourceGroup", True))
        elif len(parts) == 2 and parts[0] == rules.AZURE_FOLDER and parts[1].endswith(rules.AZURE_GROUP_SUFFIX):
            group = parts[1][:-len(rules.AZURE_GROUP_SUFFIX)]
            for disk_group, name in disks:
                if disk_group.lower() == group.lower():
                    children.append((name + rules.AZURE_DISK_SUFFIX, "ManagedDisk", False))
        else:
            raise ApiError(404, "The path '%s' was not found in hosting unit '%s'." % (path, pool["Name"]), field="path")
    elif kind == "aws":
        if parts:
            raise ApiError(404, "The path '%s' was not found in hosting unit '%s'." % (path, pool["Name"]), field="path")
        if clouds.get("moto_url"):
            for name, image_id in aws_images(clouds["moto_url"], connection["Region"]):
                children.append(("%s (%s)%s" % (name, image_id, rules.AWS_TEMPLATE_SUFFIX), "Template", False))
    elif kind == "gcp":
        if not parts:
            children += [(rules.GCP_IMAGES_FOLDER, "Folder", True), (rules.GCP_TEMPLATES_FOLDER, "Folder", True)]
        elif parts == [rules.GCP_IMAGES_FOLDER]:
            for name in gce_items(clouds["gce"], "images") if clouds.get("gce") else []:
                children.append((name + rules.GCP_IMAGE_SUFFIX, "Image", False))
        elif parts == [rules.GCP_TEMPLATES_FOLDER]:
            for name in gce_items(clouds["gce"], "instanceTemplates") if clouds.get("gce") else []:
                children.append((name + rules.GCP_TEMPLATE_SUFFIX, "Template", False))
        else:
            raise ApiError(404, "The path '%s' was not found in hosting unit '%s'." % (path, pool["Name"]), field="path")
    prefix = path + "\\" if path else ""
    return [_resource(pool, prefix + name, name, rtype, container) for name, rtype, container in children]


def container(pool, path):
    return _resource(pool, path.strip("\\"), path.strip("\\").split("\\")[-1] if path.strip("\\") else pool["Name"], "Folder", True)
