"""The lab's DaaS site: /me, the site, hosting connections and units whose resources are what the
cloud stand-ins really hold (inventory.py, behind a resource cache), machine catalogs, image
definitions and versions, and the jobs that change them (jobs.py)."""

import os
import uuid

from ..common.errors import ApiError
from . import inventory, rules
from .jobs import DaasJobs
from .store import DaasStore

AWS_REGION = "us-east-1"


def _uid(site, *names):
    return str(uuid.uuid5(uuid.UUID(site), "/".join(names)))


def error(status, detail, kind="BadRequest"):
    """The orchestration service's error body (ErrorResponse: type, detail, parameters; names seen)."""
    exc = ApiError(status, detail)
    exc.body = lambda: {"type": "https://errors-api.cloud.com/cvad/%s" % kind, "detail": detail, "parameters": []}
    return exc


def _fields(body, allowed, what):
    if not isinstance(body, dict):
        raise error(400, "The %s must be a JSON object." % what)
    unknown = sorted(k for k in body if k not in allowed)
    if unknown:
        raise error(400, "The field '%s' is not a member of %s." % (unknown[0], what), "InvalidField")


def _choice(body, name, choices):
    if body.get(name) is not None and body[name] not in choices:
        raise error(400, "The field '%s' must be one of %s (got '%s')." % (name, ", ".join(choices), body[name]), "InvalidField")


class DaasSite(object):
    def __init__(self, state_dir, config, clock, runtime):
        self.store = DaasStore(os.path.join(state_dir, "daas.sqlite"))
        self.clock = clock
        self.runtime = runtime
        self.customer = config["customer_id"]
        self.site_id = config["daas_site_id"]
        self.admin = (config.get("daas_admin_user"), config.get("daas_admin_password"))  # the on-premises sign-in (onprem.py)
        self.clouds = {"azure": config.get("azure"), "moto_url": config.get("moto_url"), "gce": config.get("gce")}
        self.jobs = DaasJobs(self.store, clock, runtime)
        for kind, func in (("scheme", self._apply_scheme), ("rollback", self._apply_rollback), ("catalog", self._apply_catalog),
                           ("definition", self._apply_definition), ("version", self._apply_version),
                           ("version_failed", self._fail_version), ("share", self._apply_share)):
            self.jobs.on(kind, func)
        self.connections = self._connections()
        if self.store.one("SELECT COUNT(*) AS n FROM catalogs")["n"] == 0:
            self.seed()

    # --- the site and its hosting connections --------------------------------------------------

    def _connections(self):
        out = []
        for kind, name in (("azure", "lab-azure"), ("aws", "lab-aws"), ("gcp", "lab-gcp")):
            pool = {"Id": _uid(self.site_id, name, "pool"), "Name": name + "-pool"}
            pool["XDPath"] = rules.HOSTING_UNITS + pool["Name"]
            conn = {"Id": _uid(self.site_id, name), "Name": name, "ConnectionType": rules.CONNECTION_TYPES[kind], "Kind": kind,
                    "Region": AWS_REGION if kind == "aws" else None, "Pools": [pool]}
            pool["HypervisorConnection"] = {"Id": conn["Id"], "Name": name}
            out.append(conn)
        return out

    def seed(self):
        """One MCS catalog per hosting connection on an old image, and one PVS-streamed catalog."""
        olds = {"azure": rules.AZURE_FOLDER + "\\ips-lab-rg" + rules.AZURE_GROUP_SUFFIX + "\\old-master" + rules.AZURE_DISK_SUFFIX,
                "aws": "old-master (ami-0123456789abcdef0)" + rules.AWS_TEMPLATE_SUFFIX,
                "gcp": rules.GCP_IMAGES_FOLDER + "\\old-master" + rules.GCP_IMAGE_SUFFIX}
        for conn in self.connections:
            pool = conn["Pools"][0]
            name = "lab-mcs-catalog" if conn["Kind"] == "azure" else "lab-mcs-catalog-" + conn["Kind"]
            relative = olds[conn["Kind"]]
            self._insert_catalog(self._catalog(name, "MCS", conn, pool, self._image(pool, relative), "Seeded by the lab."))
        conn = self.connections[0]
        self._insert_catalog(self._catalog("lab-pvs-catalog", "PVSStreaming", conn, None, None, None))

    def _catalog(self, name, provisioning, conn, pool, image, note, session="SingleSession", allocation="Random", persist="Discard"):
        scheme = None
        if provisioning == "MCS":
            scheme = {"ResourcePool": {"Id": pool["Id"], "Name": pool["Name"], "XDPath": pool["XDPath"]}, "MasterImage": image,
                      "MasterImageNote": note, "CurrentImageVersion": None, "MachineProfile": None, "MachineCount": 0}
        return {"Id": str(uuid.uuid4()), "Name": name, "ProvisioningType": provisioning, "SessionSupport": session,
                "AllocationType": allocation, "PersistUserChanges": persist, "MinimumFunctionalLevel": "L7_34",
                "HypervisorConnection": {"Id": conn["Id"], "Name": conn["Name"]}, "ProvisioningScheme": scheme,
                "MasterImageHistory": []}

    @staticmethod
    def _image(pool, relative):
        return {"Name": relative.split("\\")[-1], "XDPath": pool["XDPath"] + "\\" + relative, "RelativePath": relative}

    def _insert_catalog(self, cat):
        self.store.insert("catalogs", {"id": cat["Id"], "name": cat["Name"], "data": cat})

    def reset(self):
        self.store.reset()
        self.seed()

    def close(self):
        self.store.close()

    def check_instance(self, headers):
        instance = headers.get("Citrix-InstanceId")
        if not instance:
            raise error(400, "The Citrix-InstanceId header (the site id) is required.", "MissingHeader")
        if instance != self.site_id:
            raise error(404, "The site '%s' (Citrix-InstanceId) was not found for this customer." % instance, "SiteNotFound")

    def me(self, customer=None):
        """/me of the cloud customer, or of `customer` (CitrixOnPremises on a Delivery Controller, always activated)."""
        if customer is None and not self.runtime.get("daas_activated"):
            raise error(530, "DaaS is not activated for customer '%s'." % self.customer, "ServiceNotActivated")
        user = "lab-api-client" if customer is None else self.admin[0]
        return {"UserId": user, "DisplayName": "ips-lab " + ("API client" if customer is None else "administrator"), "VerifiedEmail": "",
                "IsCspCustomer": False, "Customers": [{"Id": customer or self.customer, "Name": "ips-lab",
                                                       "Sites": [{"Id": self.site_id, "Name": "ips-lab-site"}]}]}

    def site(self, ident=None):
        if ident is not None and ident.lower() not in (self.site_id, "ips-lab-site"):
            raise error(404, "The site '%s' was not found." % ident, "SiteNotFound")
        return {"Id": self.site_id, "Name": "ips-lab-site", "ProductVersion": rules.PRODUCT_VERSION,
                "OrchestationApiVersion": rules.ORCHESTRATION_API_VERSION}

    @staticmethod
    def _public_conn(conn):
        return {k: conn[k] for k in ("Id", "Name", "ConnectionType")}

    def hypervisors(self):
        return {"Items": [self._public_conn(c) for c in self.connections]}

    def hypervisor(self, ident):
        for conn in self.connections:
            if ident.lower() in (conn["Id"], conn["Name"].lower()):
                return conn
        raise error(404, "The hypervisor connection '%s' was not found." % ident, "HypervisorNotFound")

    def pool(self, conn, ident):
        for pool in conn["Pools"]:
            if ident.lower() in (pool["Id"], pool["Name"].lower()):
                return pool
        raise error(404, "The resource pool '%s' was not found in hosting connection '%s'." % (ident, conn["Name"]), "ResourcePoolNotFound")

    def any_pool(self, ident):
        for conn in self.connections:
            for pool in conn["Pools"]:
                if ident.lower() in (pool["Id"], pool["Name"].lower()):
                    return conn, pool
        raise error(404, "The resource pool '%s' was not found." % ident, "ResourcePoolNotFound")

    # --- resources, behind the cache -----------------------------------------------------------

    def children(self, conn, pool, path, no_cache=False):
        """The children of `path`; without no_cache a cached listing younger than daas_cache_seconds answers."""
        key = "%s|%s" % (pool["Id"], path.strip("\\").lower())
        ttl = self.runtime.get("daas_cache_seconds")
        now = self.clock.now()
        if not no_cache and ttl > 0:
            row = self.store.one("SELECT items, cached_at FROM resource_cache WHERE key = ?", (key,))
            if row and now - row["cached_at"] < ttl:
                return row["items"]
        items = inventory.listing(pool, conn, self.clouds, path)
        self.store.execute("INSERT OR REPLACE INTO resource_cache (key, items, cached_at) VALUES (?, ?, ?)", (key, items, now))
        return items

    def resources(self, conn, pool, path, children, no_cache):
        found = inventory.container(pool, path)
        if children:
            found["Children"] = self.children(conn, pool, path, no_cache)
        return found

    def resolve_image(self, path, pool=None, field="MasterImagePath", what="master image"):
        """(pool, resource) of an XDPath, seen through the resource cache (a fresh artifact needs a noCache look-up first)."""
        if not isinstance(path, str) or not path.lower().startswith(rules.HOSTING_UNITS.lower()):
            raise error(400, "The field '%s' must be an XDPath starting with %s (got '%s')." % (field, rules.HOSTING_UNITS, path), "InvalidField")
        unit, _sep, relative = path[len(rules.HOSTING_UNITS):].partition("\\")
        conn, found_pool = self.any_pool(unit)
        if pool is not None and found_pool["Id"] != pool["Id"]:
            raise error(400, "The %s '%s' is not in the catalog's hosting unit '%s'." % (what, path, pool["Name"]), "InvalidField")
        parent, _sep, name = relative.rpartition("\\")
        try:
            listed = self.children(conn, found_pool, parent)
        except ApiError:
            listed = []
        for item in listed:
            if item["Name"].lower() == name.lower() and not item["IsContainer"]:
                return found_pool, item
        raise error(400, "Failed to locate the %s '%s': could not find the resource in hosting unit '%s'."
                    % (what, path, found_pool["Name"]), "ResourceNotFound")

    # --- catalogs ------------------------------------------------------------------------------

    def catalogs(self):
        return {"Items": [self.public_catalog(r["data"]) for r in self.store.all("SELECT data FROM catalogs ORDER BY seq")]}

    def _catalog_row(self, ident):
        name = ident.split("|")[-1].lower()
        for row in self.store.all("SELECT * FROM catalogs"):
            if row["id"] == ident.lower() or row["name"].lower() == name:
                return row
        raise error(404, "The machine catalog '%s' was not found." % ident, "MachineCatalogNotFound")

    @staticmethod
    def public_catalog(cat):
        return {k: v for k, v in cat.items() if k != "MasterImageHistory"}

    def catalog(self, ident):
        return self.public_catalog(self._catalog_row(ident)["data"])

    def history(self, ident):
        return {"Items": self._catalog_row(ident)["data"]["MasterImageHistory"]}

    def _mcs_catalog(self, ident, what):
        cat = self._catalog_row(ident)["data"]
        if cat["ProvisioningType"] != "MCS":
            raise error(400, "The machine catalog '%s' is provisioned by %s; %s applies to MCS catalogs only."
                        % (cat["Name"], cat["ProvisioningType"], what), "InvalidProvisioningType")
        busy = self.jobs.busy(cat["Id"])
        if busy:
            raise error(409, "The machine catalog '%s' has a provisioning task in progress (job %s); another cannot start until it ends."
                        % (cat["Name"], busy), "ProvisioningTaskInProgress")
        return cat

    def _version_for(self, spec, pool):
        _fields(spec, rules.ASSIGN_VERSION_FIELDS, "AssignImageVersionToProvisioningScheme")
        if not spec.get("ImageDefinition") or spec.get("ImageVersion") in (None, ""):
            raise error(400, "AssignImageVersionToProvisioningScheme needs ImageDefinition and ImageVersion.", "InvalidField")
        definition = self._definition_row(str(spec["ImageDefinition"]))["data"]
        version = self._version_row(definition["Id"], str(spec["ImageVersion"]))["data"]
        if version["ImageVersionStatus"] != "Success":
            raise error(400, "Image version in state `%s` cannot be used." % version["ImageVersionStatus"], "ImageVersionNotReady")
        pools = [p["Id"] for p in version["ImageVersionSpecs"][0]["ResourcePools"]]
        if pool["Id"] not in pools:
            raise error(400, "The image version %s of '%s' is not shared to the resource pool '%s'."
                        % (version["Number"], definition["Name"], pool["Name"]), "ImageVersionNotShared")
        image = dict(version["ImageVersionSpecs"][0]["MasterImage"])
        return image, {"ImageDefinition": {"Id": definition["Id"], "Name": definition["Name"]},
                       "ImageVersion": {"Id": version["Id"], "Number": version["Number"]}}

    def _image_choice(self, body, pool):
        has_path, has_version = body.get("MasterImagePath") is not None, body.get("AssignImageVersionToProvisioningScheme") is not None
        if has_path == has_version:
            raise error(400, "Give exactly one of MasterImagePath and AssignImageVersionToProvisioningScheme.", "InvalidField")
        if has_path:
            item = self.master_image(body["MasterImagePath"], pool)
            return {"Name": item["Name"], "XDPath": item["XDPath"], "RelativePath": item["RelativePath"]}, None
        return self._version_for(body["AssignImageVersionToProvisioningScheme"], pool)

    def master_image(self, path, pool):
        """The resource of a MasterImagePath; on GCP an instance template is refused (it is a machine profile)."""
        found_pool, item = self.resolve_image(path, pool)
        conn = self.any_pool(found_pool["Id"])[0]
        if conn["Kind"] == "gcp" and item["RelativePath"].lower().startswith(rules.GCP_TEMPLATES_FOLDER.lower() + "\\"):
            # seen: on GCP MCS takes a VM, its snapshot or a disk image as master image; the wording and error type are inferred
            raise error(400, "The master image '%s' is an instance template; on Google Cloud an instance template is a machine "
                        "profile (MachineProfilePath), not a master image. Use a VM, a snapshot or a disk image." % path,
                        "InvalidMasterImage")
        return item

    def _profile(self, body, pool):
        """The machine profile a scheme body names (None when it names none); it must be listed in the pool's resources."""
        path = body.get("MachineProfilePath")
        if path is None:
            return None
        _pool, item = self.resolve_image(path, pool, "MachineProfilePath", "machine profile")
        return {"Name": item["Name"], "XDPath": item["XDPath"], "RelativePath": item["RelativePath"]}

    def update_scheme(self, ident, body):
        _fields(body, rules.UPDATE_SCHEME_FIELDS, "UpdateMachineCatalogProvisioningSchemeRequestModel")
        cat = self._mcs_catalog(ident, "$UpdateProvisioningScheme")
        _choice(body, "MinimumFunctionalLevel", rules.FUNCTIONAL_LEVELS)
        if body.get("StoreOldImage") is not None and not isinstance(body["StoreOldImage"], bool):
            raise error(400, "The field 'StoreOldImage' must be true or false.", "InvalidField")
        reboot = body.get("RebootOptions")
        if reboot is not None:
            _fields(reboot, rules.REBOOT_FIELDS, "RebootOptions")
            for key in ("RebootDuration", "WarningDuration", "WarningRepeatInterval"):
                if key in reboot and (isinstance(reboot[key], bool) or not isinstance(reboot[key], int) or reboot[key] < -1):
                    raise error(400, "The field 'RebootOptions.%s' must be a whole number >= -1." % key, "InvalidField")
        image, version = self._image_choice(body, self._pool_of(cat))
        profile = self._profile(body, self._pool_of(cat))
        effect = {"kind": "scheme", "catalog": cat["Id"], "image": image, "version": version, "profile": profile, "note": body.get("MasterImageNote"),
                  "store_old": bool(body.get("StoreOldImage")), "reboot": reboot, "result": "MachineCatalogs/" + cat["Id"]}
        parameters = [{"Name": "Id", "Value": cat["Id"]}, {"Name": "Name", "Value": cat["Name"]},
                      {"Name": "MasterImageXDPath", "Value": image["XDPath"]}, {"Name": "MasterImageRelativePath", "Value": image["RelativePath"]}]
        return self.jobs.submit(rules.JOB_UPDATE_SCHEME, parameters, effect, catalog=cat["Id"])

    def _pool_of(self, cat):
        return self.any_pool(cat["ProvisioningScheme"]["ResourcePool"]["Id"])[1]

    def _update_catalog(self, cat):
        self.store.update("catalogs", "id", cat["Id"], {"data": cat, "name": cat["Name"]})

    def _apply_scheme(self, effect):
        cat = self._catalog_row(effect["catalog"])["data"]
        scheme = cat["ProvisioningScheme"]
        if effect["store_old"] and scheme["MasterImage"]:
            cat["MasterImageHistory"].insert(0, {"MasterImage": scheme["MasterImage"], "MasterImageNote": scheme["MasterImageNote"],
                                                 "CurrentImageVersion": scheme["CurrentImageVersion"]})
        scheme.update({"MasterImage": effect["image"], "MasterImageNote": effect["note"], "CurrentImageVersion": effect["version"]})
        if effect.get("profile"):
            scheme["MachineProfile"] = effect["profile"]
        self._update_catalog(cat)

    def rollback(self, ident, body):
        _fields(body or {}, {"RebootOptions"}, "RollbackMachineCatalogProvisioningSchemeRequestModel")
        cat = self._mcs_catalog(ident, "$RollbackProvisioningScheme")
        if not cat["MasterImageHistory"]:
            raise error(400, "The machine catalog '%s' has no stored previous image to roll back to (StoreOldImage was not set)."
                        % cat["Name"], "NoPreviousImage")
        previous = cat["MasterImageHistory"][0]
        parameters = [{"Name": "Id", "Value": cat["Id"]}, {"Name": "Name", "Value": cat["Name"]},
                      {"Name": "MasterImageXDPath", "Value": previous["MasterImage"]["XDPath"]}]
        return self.jobs.submit(rules.JOB_ROLLBACK_SCHEME, parameters, {"kind": "rollback", "catalog": cat["Id"],
                                                                        "result": "MachineCatalogs/" + cat["Id"]}, catalog=cat["Id"])

    def _apply_rollback(self, effect):
        cat = self._catalog_row(effect["catalog"])["data"]
        previous = cat["MasterImageHistory"].pop(0)
        cat["ProvisioningScheme"].update(previous)
        self._update_catalog(cat)

    def create_catalog(self, body):
        _fields(body, rules.CREATE_CATALOG_FIELDS, "CreateMachineCatalogRequestModel")
        missing = [k for k in rules.CREATE_CATALOG_REQUIRED if body.get(k) in (None, "")]
        if missing:
            raise error(400, "The field '%s' is required." % missing[0], "MissingField")
        _choice(body, "AllocationType", rules.ALLOCATION_TYPES)
        _choice(body, "SessionSupport", rules.SESSION_SUPPORT)
        _choice(body, "PersistUserChanges", rules.PERSIST_USER_CHANGES)
        _choice(body, "MinimumFunctionalLevel", rules.FUNCTIONAL_LEVELS)
        if body["ProvisioningType"] != "MCS":
            raise error(400, "The lab creates MCS catalogs only (ProvisioningType MCS; got '%s')." % body["ProvisioningType"], "InvalidField")
        scheme = body["ProvisioningScheme"]
        _fields(scheme, rules.CREATE_SCHEME_FIELDS, "CreateMachineCatalogProvisioningSchemeRequestModel")
        if not scheme.get("ResourcePool"):
            raise error(400, "The field 'ProvisioningScheme.ResourcePool' is required.", "MissingField")
        conn, pool = self.any_pool(str(scheme["ResourcePool"]))
        if body.get("HypervisorConnection") and self.hypervisor(str(body["HypervisorConnection"]))["Id"] != conn["Id"]:
            raise error(400, "The resource pool '%s' does not belong to the hosting connection '%s'." % (pool["Name"], body["HypervisorConnection"]),
                        "InvalidField")
        name = body["Name"]
        if any(r["name"].lower() == name.lower() for r in self.store.all("SELECT name FROM catalogs")) or self.jobs.running_create(name):
            raise error(409, "A machine catalog named '%s' already exists." % name, "MachineCatalogNameExists")
        image, version = self._image_choice(scheme, pool)
        profile = self._profile(scheme, pool)
        cat = self._catalog(name, "MCS", conn, pool, image, scheme.get("MasterImageNote"), body["SessionSupport"], body["AllocationType"],
                            body.get("PersistUserChanges") or "Discard")
        cat["ProvisioningScheme"]["CurrentImageVersion"] = version
        cat["ProvisioningScheme"]["MachineProfile"] = profile
        cat["ProvisioningScheme"]["MachineCount"] = int(scheme.get("NumTotalMachines") or 0)
        cat["Description"] = body.get("Description")
        if body.get("MinimumFunctionalLevel"):
            cat["MinimumFunctionalLevel"] = body["MinimumFunctionalLevel"]
        return self.jobs.submit(rules.JOB_CREATE_CATALOG, [{"Name": "Name", "Value": name}],
                                {"kind": "catalog", "catalog": cat, "result": "MachineCatalogs/" + cat["Id"]})

    def _apply_catalog(self, effect):
        if any(r["name"].lower() == effect["catalog"]["Name"].lower() for r in self.store.all("SELECT name FROM catalogs")):
            raise error(409, "A machine catalog named '%s' already exists." % effect["catalog"]["Name"])
        self._insert_catalog(effect["catalog"])

    # --- image definitions and versions --------------------------------------------------------

    def _definition_row(self, ident):
        for row in self.store.all("SELECT * FROM definitions"):
            if row["id"] == ident.lower() or row["name"].lower() == ident.lower():
                return row
        raise error(404, "The image definition '%s' was not found." % ident, "ImageDefinitionNotFound")

    def definitions(self):
        return {"Items": [r["data"] for r in self.store.all("SELECT data FROM definitions ORDER BY seq")]}

    def definition(self, ident):
        return self._definition_row(ident)["data"]

    def create_definition(self, body, run_async):
        _fields(body, rules.DEFINITION_FIELDS, "CreateImageDefinitionRequestModel")
        missing = [k for k in rules.DEFINITION_REQUIRED if not body.get(k)]
        if missing:
            raise error(400, "The field '%s' is required." % missing[0], "MissingField")
        _choice(body, "OsType", rules.OS_TYPES)
        _choice(body, "VDASessionSupport", rules.SESSION_SUPPORT)
        if any(r["name"].lower() == body["Name"].lower() for r in self.store.all("SELECT name FROM definitions")):
            raise error(409, "An image definition named '%s' already exists." % body["Name"], "ImageDefinitionNameExists")
        conn = None
        assigned = body.get("AssignedHypervisorConnection")
        if assigned is not None:
            _fields(assigned, {"HypervisorConnection", "CustomProperties"}, "AssignedHypervisorConnection")
            conn = self.hypervisor(str(assigned.get("HypervisorConnection") or ""))
        definition = {"Id": str(uuid.uuid4()), "Name": body["Name"], "Description": body.get("Description") or "", "OsType": body["OsType"],
                      "VDASessionSupport": body["VDASessionSupport"], "LatestVersion": 0, "VersionCount": 0,
                      "HypervisorConnections": [self._public_conn(conn)] if conn else []}
        if not run_async:
            self._apply_definition({"definition": definition})
            return None, definition
        return self.jobs.submit(rules.JOB_CREATE_DEFINITION, [{"Name": "Name", "Value": body["Name"]}],
                                {"kind": "definition", "definition": definition, "result": "ImageDefinitions/" + definition["Id"]}), None

    def _apply_definition(self, effect):
        definition = effect["definition"]
        self.store.insert("definitions", {"id": definition["Id"], "name": definition["Name"], "data": definition})

    def _version_row(self, definition_id, ident):
        for row in self.store.all("SELECT * FROM versions WHERE definition = ?", (definition_id,)):
            if row["id"] == ident.lower() or str(row["number"]) == ident:
                return row
        raise error(404, "The image version '%s' was not found." % ident, "ImageVersionNotFound")

    def versions(self, definition_ident):
        definition = self.definition(definition_ident)
        return {"Items": [r["data"] for r in self.store.all("SELECT data FROM versions WHERE definition = ? ORDER BY seq", (definition["Id"],))]}

    def version(self, definition_ident, ident):
        return self._version_row(self.definition(definition_ident)["Id"], ident)["data"]

    def create_version(self, definition_ident, body):
        _fields(body, rules.VERSION_FIELDS, "CreateImageVersionRequestModel")
        missing = [k for k in rules.VERSION_REQUIRED if body.get(k) in (None, "")]
        if missing:
            raise error(400, "The field '%s' is required." % missing[0], "MissingField")
        if not isinstance(body["ImageScheme"], dict):
            raise error(400, "The field 'ImageScheme' must be an object.", "InvalidField")
        definition = self.definition(definition_ident)
        conn, pool = self.any_pool(str(body["ResourcePool"]))
        if definition["HypervisorConnections"] and definition["HypervisorConnections"][0]["Id"] != conn["Id"]:
            raise error(400, "The resource pool '%s' is not in the image definition's hosting connection." % pool["Name"], "InvalidField")
        item = self.master_image(body["MasterImagePath"], pool)
        with self.store.lock:
            number = 1 + max([r["number"] for r in self.store.all("SELECT number FROM versions WHERE definition = ?", (definition["Id"],))] or [0])
            version = {"Id": str(uuid.uuid4()), "Number": number, "Description": body.get("Description") or "",
                       "ImageVersionStatus": "InProgress", "CreationTime": None,
                       "ImageDefinition": {"Id": definition["Id"], "Name": definition["Name"]}, "ProvisioningSchemeCount": 0,
                       "ImageVersionSpecs": [{"Id": str(uuid.uuid4()), "ImageVersionSpecStatus": "InProgress", "PreparationType": "Mcs",
                                              "MasterImage": {"Name": item["Name"], "XDPath": item["XDPath"], "RelativePath": item["RelativePath"]},
                                              "ResourcePools": [{"Id": pool["Id"], "Name": pool["Name"]}],
                                              "ImageRuntimeEnvironment": {"VDASessionSupport": definition["VDASessionSupport"],
                                                                          "OperatingSystem": definition["OsType"]},
                                              "Context": {"ImageScheme": body["ImageScheme"]}, "Errors": [], "Warnings": []}]}
            self.store.insert("versions", {"id": version["Id"], "definition": definition["Id"], "number": number, "data": version})
        return self.jobs.submit(rules.JOB_CREATE_VERSION, [{"Name": "ImageDefinition", "Value": definition["Name"]},
                                                           {"Name": "ImageVersion", "Value": str(number)}],
                                {"kind": "version", "on_failure": "version_failed", "version": version["Id"], "definition": definition["Id"],
                                 "result": "ImageDefinitions/%s/ImageVersions/%s" % (definition["Id"], version["Id"])})

    def _set_version(self, effect, status):
        row = self._version_row(effect["definition"], effect["version"])
        version = row["data"]
        version["ImageVersionStatus"] = version["ImageVersionSpecs"][0]["ImageVersionSpecStatus"] = status
        version["CreationTime"] = version["CreationTime"] or self.clock.now()
        self.store.update("versions", "id", version["Id"], {"data": version})
        if status == "Success":
            definition = self._definition_row(effect["definition"])["data"]
            definition["LatestVersion"] = max(definition["LatestVersion"], version["Number"])
            definition["VersionCount"] += 1
            self.store.update("definitions", "id", definition["Id"], {"data": definition})

    def _apply_version(self, effect):
        self._set_version(effect, "Success")

    def _fail_version(self, effect):
        self._set_version(effect, "Failed")

    def share_version(self, definition_ident, ident, body):
        _fields(body, rules.SHARE_FIELDS, "UpdateImageVersionResourcePoolsRequestModel")
        definition = self.definition(definition_ident)
        version = self._version_row(definition["Id"], ident)["data"]
        if version["ImageVersionStatus"] != "Success":
            raise error(400, "Image version in state `%s` cannot be shared." % version["ImageVersionStatus"], "ImageVersionNotReady")
        wanted = [p.get("ResourcePool") if isinstance(p, dict) else None for p in body.get("ImageVersionResourcePools") or []]
        wanted += list(body.get("ResourcePools") or [])
        if not wanted or any(not isinstance(w, str) or not w for w in wanted):
            raise error(400, "ImageVersionResourcePools must list objects with a ResourcePool (name or id).", "InvalidField")
        pools = [self.any_pool(w)[1] for w in wanted]
        return self.jobs.submit(rules.JOB_SHARE_VERSION, [{"Name": "ImageVersion", "Value": version["Id"]}],
                                {"kind": "share", "definition": definition["Id"], "version": version["Id"],
                                 "pools": [{"Id": p["Id"], "Name": p["Name"]} for p in pools]})

    def _apply_share(self, effect):
        version = self._version_row(effect["definition"], effect["version"])["data"]
        version["ImageVersionSpecs"][0]["ResourcePools"] = effect["pools"]
        self.store.update("versions", "id", version["Id"], {"data": version})
