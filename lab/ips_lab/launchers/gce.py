"""The GCE images/disks plane (lab/ips_lab/planes/gce_plane.py): a compute/v1 subset whose
images.insert checks the tar.gz object in the GCS emulator. Plain HTTP on loopback; every call
needs `Authorization: Bearer $IPS_LAB_GCP_TOKEN`; its /_lab/ admin API takes IPS_LAB_GCE_ADMIN_TOKEN."""

import json
import secrets

from ips_lab.runstate import HOST, http_answers, write_private
from ips_lab.launchers import Launch, StandIn, python

PROJECT = "ips-lab-project"
OPERATION_SECONDS = 1.0


class Gce(StandIn):
    name = "gce"
    port_key = "GCE"
    ready_timeout = 30.0
    depends = ("gcs",)

    def prepare(self, port, deps, previous):
        state = self.folder
        config_path = state / "config.json"
        old = {}
        if previous:
            try:
                old = json.loads(config_path.read_text())
            except (OSError, ValueError):
                old = {}
        gcs = (deps.get("gcs") or {}).get("values", {})
        config = {"host": HOST, "port": port, "project": PROJECT, "token": old.get("token") or secrets.token_urlsafe(30),
                  "gcs_url": gcs.get("IPS_LAB_GCS_URL"), "operation_seconds": OPERATION_SECONDS,
                  "admin_token": old.get("admin_token") or secrets.token_urlsafe(30)}
        write_private(config_path, json.dumps(config, indent=2) + "\n")
        argv = [python(), "-m", "ips_lab.planes.gce_plane", "--state-dir", str(state), "--config", str(config_path)]
        values = {"IPS_LAB_GCE_URL": "http://%s:%d" % (HOST, port), "IPS_LAB_GCP_PROJECT": PROJECT, "IPS_LAB_GCP_TOKEN": config["token"],
                  "IPS_LAB_GCE_ADMIN_TOKEN": config["admin_token"]}
        return Launch(argv, self.python_env(), values)

    def answers(self, record):
        return http_answers("http://%s:%d/" % (HOST, record["port"]))
