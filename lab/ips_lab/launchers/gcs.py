"""gcp-storage-emulator: the Cloud Storage JSON API on loopback, stored on disk (-d) under the run dir.

On disk rather than in memory: the in-memory store grows to several GB after a few GiB of uploads.
"""

from ips_lab.runstate import HOST, http_answers
from ips_lab.launchers import Launch, StandIn, python


BUCKET = "ips-lab"


class Gcs(StandIn):
    name = "gcs"
    port_key = "GCS"
    ready_timeout = 60.0

    def prepare(self, port, deps, previous):
        data = self.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        # a bucket ready for a Google Cloud upload by hand (tests and molecule make their own)
        argv = [python(), "-m", "gcp_storage_emulator", "-d", str(data), "start", "--host", HOST, "--port", str(port),
                "--default-bucket", BUCKET]
        return Launch(argv, self.python_env(), {"IPS_LAB_GCS_URL": "http://%s:%d" % (HOST, port), "IPS_LAB_GCS_BUCKET": BUCKET})

    def answers(self, record):
        return http_answers("http://%s:%d/storage/v1/b" % (HOST, record["port"]))
