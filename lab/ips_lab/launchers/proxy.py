"""The real-host proxy (lab/ips_lab/realhosts/proxy.py): an HTTPS CONNECT proxy on loopback that plays the
clouds' own host names with certificates from its own CA, in front of the other stand-ins. Started last:
it needs every part's URL. Clients set HTTPS_PROXY=$IPS_LAB_PROXY_URL and trust $IPS_LAB_PROXY_CA_PATH."""

import json

from ips_lab.runstate import HOST, port_listening, write_private
from ips_lab.launchers import Launch, StandIn, python
from ips_lab.realhosts.hosts import UPSTREAMS


class Proxy(StandIn):
    name = "proxy"
    port_key = "PROXY"
    ready_timeout = 30.0
    # every part it forwards to, and theirs (`ips-lab up --parts proxy` adds dependencies one level deep)
    depends = tuple(sorted(set(UPSTREAMS) | {"azurite", "samba"}))

    def prepare(self, port, deps, previous):
        from ips_lab.common.tls import ensure_ca

        state = self.folder
        upstreams = {}
        for part, (url_key, ca_key) in UPSTREAMS.items():
            values = (deps.get(part) or {}).get("values", {})
            if values.get(url_key):
                upstreams[part] = {"url": values[url_key], "ca": values.get(ca_key) if ca_key else None}
        config = {"host": HOST, "port": port, "upstreams": upstreams}
        config_path = state / "config.json"
        write_private(config_path, json.dumps(config, indent=2) + "\n")
        ca_path = ensure_ca(str(state))[0]
        argv = [python(), "-m", "ips_lab.realhosts.proxy", "--state-dir", str(state), "--config", str(config_path)]
        return Launch(argv, self.python_env(), {"IPS_LAB_PROXY_URL": "http://%s:%d" % (HOST, port),
                                                "IPS_LAB_PROXY_CA_PATH": str(ca_path)})

    def answers(self, record):
        return port_listening(record["port"])
