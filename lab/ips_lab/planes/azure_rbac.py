"""Role-based access control of the lab's Azure plane: role definitions, role assignments and the
`Microsoft.Authorization/permissions` answer ARM gives for a scope.

The lab keeps its OWN copy of the roles Citrix documents for Image Portability ("Permissions required by
Image Portability Service": the compositing-engine resource group, the subscription, the target disk
resource group) and of the upload role (docs/permissions.md); it never reads the collection's lists.
By default the lab's app registration holds every documented role: the subscription role at the
subscription, the other ones on every resource group. A scope inherits what is assigned above it,
as in Azure.

Runtime setting `rbac_removed_actions` (PUT /_lab/config): actions taken out of every role definition the
lab holds, so a test can withdraw exactly one permission; POST /_lab/reset restores them.

Routes (GET, api-version required like any ARM call):
    {scope}/providers/Microsoft.Authorization/permissions       {"value": [{actions, notActions, dataActions, notDataActions}]}
    {scope}/providers/Microsoft.Authorization/roleAssignments   {"value": [assignment]}
    {scope}/providers/Microsoft.Authorization/roleDefinitions   {"value": [definition]}
where {scope} is /subscriptions/{id} or /subscriptions/{id}/resourceGroups/{rg}.
"""

import uuid

CE_RESOURCE_GROUP = (
    "Microsoft.Compute/disks/beginGetAccess/action", "Microsoft.Compute/disks/endGetAccess/action", "Microsoft.Compute/disks/delete",
    "Microsoft.Compute/disks/read", "Microsoft.Compute/disks/write", "Microsoft.Compute/virtualMachines/delete",
    "Microsoft.Compute/virtualMachines/powerOff/action", "Microsoft.Compute/virtualMachines/read", "Microsoft.Compute/virtualMachines/write",
    "Microsoft.Network/networkInterfaces/delete", "Microsoft.Network/networkInterfaces/join/action", "Microsoft.Network/networkInterfaces/read",
    "Microsoft.Network/networkInterfaces/write", "Microsoft.Network/networkSecurityGroups/delete",
    "Microsoft.Network/networkSecurityGroups/join/action", "Microsoft.Network/networkSecurityGroups/read",
    "Microsoft.Network/networkSecurityGroups/write", "Microsoft.Resources/deployments/operationStatuses/read",
    "Microsoft.Resources/deployments/read", "Microsoft.Resources/deployments/write", "Microsoft.Resources/subscriptions/resourcegroups/read",
)
SUBSCRIPTION = (
    "Microsoft.Compute/disks/beginGetAccess/action", "Microsoft.Compute/disks/endGetAccess/action", "Microsoft.Compute/disks/read",
    "Microsoft.Compute/disks/write", "Microsoft.Compute/virtualMachines/powerOff/action", "Microsoft.Compute/virtualMachines/read",
    "Microsoft.Compute/virtualMachines/write", "Microsoft.Network/networkInterfaces/join/action", "Microsoft.Network/networkInterfaces/read",
    "Microsoft.Network/networkInterfaces/write", "Microsoft.Network/networkSecurityGroups/join/action",
    "Microsoft.Network/networkSecurityGroups/read", "Microsoft.Network/networkSecurityGroups/write",
    "Microsoft.Network/networkSecurityGroups/delete", "Microsoft.Resources/deployments/operationStatuses/read",
    "Microsoft.Resources/deployments/read", "Microsoft.Resources/deployments/write", "Microsoft.Resources/subscriptions/resourceGroups/delete",
    "Microsoft.Resources/subscriptions/resourceGroups/write", "Microsoft.Authorization/roleAssignments/read",
    "Microsoft.Authorization/roleDefinitions/read",
)
TARGET_DISKS = (
    "Microsoft.Compute/disks/beginGetAccess/action", "Microsoft.Compute/disks/delete", "Microsoft.Compute/disks/read",
    "Microsoft.Compute/disks/write", "Microsoft.Compute/snapshots/delete", "Microsoft.Compute/snapshots/read",
)
UPLOADER = (
    "Microsoft.Compute/disks/read", "Microsoft.Compute/disks/write", "Microsoft.Compute/disks/delete",
    "Microsoft.Compute/disks/beginGetAccess/action", "Microsoft.Compute/disks/endGetAccess/action",
)
# name -> (actions, assigned at: "subscription" or "resource_groups")
ROLES = {
    "IPS compositing engine (subscription)": (SUBSCRIPTION, "subscription"),
    "IPS compositing engine (resource group)": (CE_RESOURCE_GROUP, "resource_groups"),
    "IPS target disks": (TARGET_DISKS, "resource_groups"),
    "Citrix IPS image uploader": (UPLOADER, "resource_groups"),
}
ROLE_ID_NAMESPACE = uuid.UUID("5f0c3a52-8e0b-4f55-9a55-1b1ea1ab1ea1")


def valid_removed(value):
    return isinstance(value, list) and all(isinstance(v, str) and v.count("/") >= 2 for v in value)


class Rbac(object):
    """The roles of one subscription, its resource groups and the lab's one principal."""

    def __init__(self, subscription, resource_groups, principal_id, removed):
        self.subscription = subscription
        self.resource_groups = list(resource_groups)
        self.principal_id = principal_id
        self._removed = removed  # callable: the current rbac_removed_actions

    def _sub_scope(self):
        return "/subscriptions/%s" % self.subscription

    def _definition(self, name):
        actions, _where = ROLES[name]
        removed = set(a.lower() for a in self._removed())
        role_id = str(uuid.uuid5(ROLE_ID_NAMESPACE, name))
        return {"id": "%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (self._sub_scope(), role_id), "name": role_id,
                "type": "Microsoft.Authorization/roleDefinitions",
                "properties": {"roleName": name, "type": "CustomRole", "description": "The lab's copy of a documented role.",
                               "assignableScopes": [self._sub_scope()],
                               "permissions": [{"actions": [a for a in actions if a.lower() not in removed], "notActions": [],
                                                "dataActions": [], "notDataActions": []}]}}

    def _assignments(self):
        """Every assignment: (scope, role name)."""
        out = []
        for name, (_actions, where) in sorted(ROLES.items()):
            if where == "subscription":
                out.append((self._sub_scope(), name))
            else:
                out.extend(("%s/resourceGroups/%s" % (self._sub_scope(), rg), name) for rg in self.resource_groups)
        return out

    @staticmethod
    def _covers(assigned_scope, scope):
        """An assignment at `assigned_scope` applies at `scope` (the same scope or one below it)."""
        a, s = assigned_scope.lower().rstrip("/"), scope.lower().rstrip("/")
        return s == a or s.startswith(a + "/")

    def role_assignments(self, scope):
        value = []
        for assigned, name in self._assignments():
            if not (self._covers(assigned, scope) or self._covers(scope, assigned)):
                continue
            ident = str(uuid.uuid5(ROLE_ID_NAMESPACE, assigned.lower() + "|" + name))
            value.append({"id": "%s/providers/Microsoft.Authorization/roleAssignments/%s" % (assigned, ident), "name": ident,
                          "type": "Microsoft.Authorization/roleAssignments",
                          "properties": {"roleDefinitionId": self._definition(name)["id"], "principalId": self.principal_id,
                                         "principalType": "ServicePrincipal", "scope": assigned}})
        return {"value": value}

    def role_definitions(self):
        return {"value": [self._definition(name) for name in sorted(ROLES)]}

    def permissions(self, scope):
        """What ARM's permissions API answers the principal for `scope`: one entry per role that applies there."""
        value = []
        for assigned, name in self._assignments():
            if self._covers(assigned, scope):
                value.append(self._definition(name)["properties"]["permissions"][0])
        return {"value": value}
