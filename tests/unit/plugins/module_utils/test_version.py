"""The version sent in the User-Agent is the collection's version."""

from pathlib import Path

import yaml

from ansible_collections.citrix_community.ips.plugins.module_utils import _version

GALAXY = Path(__file__).resolve().parents[4] / "galaxy.yml"


def test_collection_version_matches_galaxy_yml():
    galaxy = yaml.safe_load(GALAXY.read_text())
    assert _version.COLLECTION_VERSION == galaxy["version"]
    assert _version.COLLECTION_NAME == "%s.%s" % (galaxy["namespace"], galaxy["name"])
