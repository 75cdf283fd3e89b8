"""AWS sign-in (_aws_auth.session) with real boto3 sessions and real shared config files in a temporary HOME: the
region is never guessed, a profile's region counts, profile and keys exclude each other, an unknown profile is named."""

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils._aws_auth import AwsAuthError, session

pytest.importorskip("boto3")


@pytest.fixture(autouse=True)
def aws_home(tmp_path, monkeypatch):
    """No AWS variable from the caller; shared files with one profile that has a region and one that has none."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text("[profile images]\nregion = eu-west-1\n\n[profile bare]\noutput = json\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[images]\naws_access_key_id = AKIAPROFILE000000000\naws_secret_access_key = s\n"
                           "[bare]\naws_access_key_id = AKIAPROFILE000000001\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


NAMES = {"region": "aws.region (or aws_region)", "profile": "aws.profile (or aws_profile)"}


def test_no_region_is_an_error_naming_the_option_and_variables():
    with pytest.raises(AwsAuthError) as err:
        session("AKIA0000000000000000", "s", names=NAMES)
    assert "no AWS region" in str(err.value) and "aws.region (or aws_region)" in str(err.value) and "AWS_REGION" in str(err.value)


def test_a_profile_gives_keys_and_region():
    sess, region = session(profile="images", names=NAMES)
    assert region == "eu-west-1" and sess.get_credentials().access_key == "AKIAPROFILE000000000"
    assert session(profile="images", region="us-west-2")[1] == "us-west-2"  # the option wins over the profile
    with pytest.raises(AwsAuthError) as err:
        session(profile="bare", names=NAMES)
    assert "or a region in the profile's config" in str(err.value)


def test_profile_and_keys_exclude_each_other_and_keys_go_in_pairs():
    with pytest.raises(AwsAuthError) as err:
        session("AKIA0000000000000000", "s", profile="images", region="eu-west-1", names=NAMES)
    assert "exclude each other" in str(err.value)
    with pytest.raises(AwsAuthError) as err:
        session("AKIA0000000000000000", None, region="eu-west-1")
    assert "go together" in str(err.value)


def test_an_unknown_profile_is_named():
    with pytest.raises(AwsAuthError) as err:
        session(profile="nope", region="eu-west-1", names=NAMES)
    assert "'nope'" in str(err.value) and "aws.profile (or aws_profile)" in str(err.value)


def test_a_session_token_travels_with_the_keys():
    sess, _region = session("ASIA0000000000000000", "s", "the-token", region="eu-west-1")
    assert sess.get_credentials().token == "the-token"
