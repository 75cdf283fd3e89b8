"""The appliance's wire table: every name has a flag and a source, and the seen ones are the reference's."""

from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance_wire as wire

FLAGS = {wire.SEEN, wire.INFERRED, wire.UNCONFIRMED}
TYPES = {"string", "switch", "int64", "enum", "hashtable", "timespan", "credential", "list"}


def test_every_cmdlet_and_parameter_has_a_flag_a_source_and_a_known_type():
    for key, cmdlet in wire.CMDLETS.items():
        assert cmdlet.flag in FLAGS and cmdlet.source, key
        assert cmdlet.name.split("-")[1].startswith("Al"), cmdlet.name  # the module's noun prefix
    assert set(wire.PARAMS) <= set(wire.CMDLETS)
    for key, params in wire.PARAMS.items():
        for name, param in params.items():
            assert param.flag in FLAGS and param.source, (key, name)
            assert param.type in TYPES, (key, name, param.type)
    for table in (wire.TASK_FIELDS, wire.CONNECTOR_FIELDS, wire.WORK_ITEM_FIELDS, wire.INSTALLER_PARAMETER):
        for name, field in table.items():
            assert field.flag in FLAGS and field.source, name


def test_start_alipsprepare_sends_exactly_the_documented_parameters_and_types():
    # developer-docs 25.11 start-alipsprepare (reference applayering-daas.md 1.2), minus -ConnectionId (one session per task)
    documented = {
        "ConnectorConfigId": "string", "ProvisioningType": "enum", "SourceDisk": "string", "OutputDiskName": "string",
        "DomainUnjoin": "switch", "PvsInstallVersion": "string", "InstallUpl": "switch", "UpdateLayerRepo": "string",
        "Chkdsk": "switch", "Defrag": "switch", "EnableRdp": "switch", "Misa": "enum", "Mcsio": "enum", "Tags": "hashtable",
        "XdReconfigure": "list", "Timeout": "timespan", "DebugSettings": "hashtable",
    }
    sent = dict((p.name, p.type) for p in wire.PARAMS["prepare"].values())
    assert sent == documented
    assert all(p.flag == wire.SEEN for p in wire.PARAMS["prepare"].values())


def test_names_no_public_source_shows_are_not_flagged_seen():
    for key in ("publish", "diagnostics", "task", "stop"):
        assert wire.CMDLETS[key].flag == wire.UNCONFIRMED
    assert wire.TASK_FIELDS["progress"].flag == wire.UNCONFIRMED
    assert wire.TASK_FIELDS["id"].name == "WorkTicketId" and wire.TASK_FIELDS["id"].flag == wire.SEEN


def test_terminal_states_of_wait_altask_map_to_the_collections_states():
    assert wire.TASK_STATES["completed"] == "complete"
    assert wire.TASK_STATES["failed"] == "failed"
    assert wire.TASK_STATES["canceled"] == "cancelled"
