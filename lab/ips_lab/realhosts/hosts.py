"""Which stand-in plays which real host name: the one table of the proxy (realhosts/proxy.py).

Each row: a pattern of host names (matched whole, lower case), the lab part that answers them, and the keys
of that part's env values naming its URL and, for an HTTPS stand-in, the CA it presents. Host shapes are
those the clouds' SDKs build from a region or a cloud name (botocore's endpoint rules, azure-core's defaults,
google-cloud-storage's defaults, the Citrix Cloud regions); a name that matches no row is refused, so
nothing ever leaves the machine through the proxy.
"""

import re

# A region the way AWS spells them (us-east-1, eu-central-2, ap-southeast-4, us-gov-west-1, ...).
_AWS_REGION = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d"

ROWS = (
    # Azure: ARM, Entra, and a managed disk's import/export SAS host (AzCopy keys on the md- prefix)
    (r"management\.azure\.com", "azure"),
    (r"login\.microsoftonline\.com", "azure"),
    (r"md-[a-z0-9-]+\.z\d+\.blob\.storage\.azure\.net", "azure"),
    (r"md-[a-z0-9-]+\.blob\.core\.windows\.net", "azure"),
    # AWS: EBS direct and EC2 through the EBS front (EC2 forwarded to moto, a snapshot's state as EBS sets it); IAM and STS
    # through the IAM front (moto's, plus the policy simulator). Both fronts take only the lab's own AWS keys.
    (r"ebs\.%s\.amazonaws\.com" % _AWS_REGION, "ebs"),
    (r"ec2\.%s\.amazonaws\.com" % _AWS_REGION, "ebs"),
    (r"iam\.amazonaws\.com", "iam"),
    (r"sts(?:\.%s)?\.amazonaws\.com" % _AWS_REGION, "iam"),
    # Google Cloud
    (r"storage\.googleapis\.com", "gce"),  # the Cloud Storage front lives in the GCE plane (planes/gcs_front.py)
    (r"compute\.googleapis\.com", "gce"),
    (r"oauth2\.googleapis\.com", "gce"),
    # Citrix Cloud (the API's regional hosts and the global one)
    (r"api(?:-us|-eu|-ap-s)?\.cloud\.com", "cloud"),
    (r"api\.citrixcloud\.jp", "cloud"),
)

# part -> (env key of its URL, env key of its CA or None for plain HTTP)
UPSTREAMS = {
    "azure": ("IPS_LAB_AZURE_URL", "IPS_LAB_AZURE_CA_PATH"),
    "ebs": ("IPS_LAB_EBS_URL", None),
    "moto": ("IPS_LAB_MOTO_URL", None),
    "iam": ("IPS_LAB_IAM_URL", None),
    "gce": ("IPS_LAB_GCE_URL", None),
    "cloud": ("CITRIX_CLOUD_API_URL", "CITRIX_CLOUD_CA_PATH"),
}

_COMPILED = [(re.compile(r"\A%s\Z" % pattern), part) for pattern, part in ROWS]


def part_for(host):
    """The lab part that plays `host` (a DNS name, any case), or None."""
    host = (host or "").lower().rstrip(".")
    for pattern, part in _COMPILED:
        if pattern.match(host):
            return part
    return None
