"""A minimal Citrix Cloud API caller for seeding the lab in tests (not the collection's client).

Kept separate from the code under test on purpose: seeding through the module_utils client
would let one bug hide another.
"""

import json
import ssl
import urllib.parse
import urllib.request


class LabApi(object):
    def __init__(self, env):
        self.url = env["CITRIX_CLOUD_API_URL"].rstrip("/")
        self.customer = env["CITRIX_CLOUD_CUSTOMER_ID"]
        self.site = env.get("IPS_LAB_DAAS_SITE_ID")
        self.ctx = ssl.create_default_context(cafile=env["CITRIX_CLOUD_CA_PATH"])
        form = urllib.parse.urlencode(dict(grant_type="client_credentials", client_id=env["CITRIX_CLOUD_CLIENT_ID"],
                                           client_secret=env["CITRIX_CLOUD_CLIENT_SECRET"])).encode()
        req = urllib.request.Request("%s/cctrustoauth2/%s/tokens/clients" % (self.url, self.customer), data=form,
                                     headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
        with urllib.request.urlopen(req, context=self.ctx, timeout=30) as resp:
            self.token = json.load(resp)["access_token"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": "CwsAuth Bearer=%s" % self.token, "Citrix-CustomerId": self.customer, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request("%s/ips/%s" % (self.url, path), data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, context=self.ctx, timeout=60) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def daas(self, path):
        """GET /cvad/manage/<path> of the lab's DaaS stand-in, for the site in the env file."""
        headers = {"Authorization": "CwsAuth Bearer=%s" % self.token, "Citrix-CustomerId": self.customer, "Accept": "application/json",
                   "Citrix-InstanceId": self.site}
        req = urllib.request.Request("%s/cvad/manage/%s" % (self.url, path), headers=headers)
        with urllib.request.urlopen(req, context=self.ctx, timeout=60) as resp:
            return json.load(resp)
