"""Unknown keys and variables named with the closest valid one (plugin_utils/role_vars.py), on the migrate role's own
argument specs."""

from pathlib import Path

import yaml

from ansible_collections.citrix_community.ips.plugins.plugin_utils.role_vars import message, unknown_keys, unknown_variables

SPEC = yaml.safe_load((Path(__file__).resolve().parents[4] / "roles" / "migrate" / "meta" / "argument_specs.yml").read_text())
OPTIONS = SPEC["argument_specs"]["main"]["options"]


def test_a_typo_in_a_dict_key_is_named_with_the_closest_key():
    problems = unknown_keys(OPTIONS, {"migrate_upload": {"concurency": 4, "verify": True}})
    assert [(p[0], p[1]) for p in problems] == [("migrate_upload.concurency", "concurrency")]
    assert message("migrate", problems).startswith("migrate role: migrate_upload.concurency is not a key it knows: did you mean concurrency?")


def test_nested_dicts_and_lists_of_dicts_are_checked():
    problems = unknown_keys(OPTIONS, {"migrate_prepare": {"vda": {"xd_reconfigure": [{"name": "a", "valeu": "b"}]}}})
    assert [(p[0], p[1]) for p in problems] == [("migrate_prepare.vda.xd_reconfigure[0].valeu", "value")]


def test_a_key_like_nothing_gets_no_suggestion_but_the_valid_list():
    problems = unknown_keys(OPTIONS, {"migrate_publish": {"zzz": 1}})
    assert problems == [("migrate_publish.zzz", None, ["output_format", "output_name"])]
    assert "is not a key it knows." in message("migrate", problems)


def test_dicts_without_declared_keys_and_known_keys_pass():
    assert unknown_keys(OPTIONS, {"migrate_tags": {"anything": 1}, "migrate_upload": {"verify": True}}) == []


def test_a_misspelt_variable_is_suggested_and_the_users_own_left_alone():
    found = unknown_variables("migrate_", ["migrate_uplaod", "migrate_my_own_note", "other_var", "migrate_upload"], set(OPTIONS))
    assert found == [("migrate_uplaod", "migrate_upload")]
