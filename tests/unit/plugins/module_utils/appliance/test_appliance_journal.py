"""The task journal: private folder and files, atomic entries, foreign or damaged files ignored."""

import os
import stat

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils._appliance_journal import Journal, JournalError, default_dir


def test_an_entry_is_written_private_and_read_back(tmp_path):
    folder = tmp_path / "j"
    journal = Journal(str(folder))
    journal.write("k1", task_id=42, kind="prepare", request={"cmdlet": "Start-AlIpsPrepare"})
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(folder / "k1.json").st_mode) == 0o600
    entry = journal.read("k1")
    assert entry["task_id"] == 42 and entry["kind"] == "prepare"
    assert journal.read("other") is None
    assert [p.name for p in folder.iterdir()] == ["k1.json"]  # no temporary file left


def test_a_file_others_can_read_or_a_damaged_one_is_ignored(tmp_path):
    journal = Journal(str(tmp_path / "j"))
    journal.write("k1", task_id=1)
    os.chmod(tmp_path / "j" / "k1.json", 0o644)
    assert journal.read("k1") is None
    journal.write("k2", task_id=2)
    (tmp_path / "j" / "k2.json").write_text("{not json")
    assert journal.read("k2") is None


def test_a_folder_others_can_read_is_refused_naming_the_option(tmp_path):
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    with pytest.raises(JournalError, match="appliance.journal_dir .* must be a folder of your own"):
        Journal(str(folder)).write("k", task_id=1)
    assert Journal(str(folder)).read("k") is None


def test_the_default_folder_is_under_the_users_state_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_dir() == str(tmp_path / "citrix_community.ips" / "appliance-tasks")
