"""Azurite (npm, pinned in lab/package.json): the Azure blob service, data on disk under the run dir.

Always started with --disableTelemetry: Azurite collects telemetry by default, which would be
traffic to a non-loopback address.
"""

from ips_lab.runstate import HOST, LAB_DIR, http_answers
from ips_lab.launchers import Launch, MissingProgram, StandIn

ACCOUNT = "devstoreaccount1"
# Azurite's well-known development account key (public, documented by Microsoft); not a secret.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class Azurite(StandIn):
    name = "azurite"
    port_key = "AZURITE"
    ready_timeout = 60.0

    def prepare(self, port, deps, previous):
        program = LAB_DIR / "node_modules" / ".bin" / "azurite-blob"
        if not program.exists():
            raise MissingProgram("Azurite is not installed in lab/node_modules; run `make setup`")
        data = self.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        argv = [str(program), "--blobHost", HOST, "--blobPort", str(port), "--location", str(data),
                "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent"]
        values = {
            "IPS_LAB_AZURITE_BLOB_URL": "http://%s:%d/%s" % (HOST, port, ACCOUNT),
            "IPS_LAB_AZURITE_ACCOUNT": ACCOUNT,
            "IPS_LAB_AZURITE_KEY": ACCOUNT_KEY,
        }
        return Launch(argv, {}, values)

    def answers(self, record):
        return http_answers("http://%s:%d/%s?comp=list" % (HOST, record["port"], ACCOUNT))
