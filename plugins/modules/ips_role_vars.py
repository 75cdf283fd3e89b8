# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented as an action plugin (plugins/action/ips_role_vars.py) and runs on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_role_vars
short_description: Name a misspelt key of a role's dict variable with the closest valid one
version_added: 0.3.0
description:
  - Reads the C(meta/argument_specs.yml) of a role of this collection and fails when a dict variable of the role holds
    a key its spec does not declare, naming it with the closest valid key (C(migrate_upload.concurency), did you
    mean C(concurrency)?), then every valid one.
  - Warns about a variable with the role's prefix that the role neither declares nor sets and that looks like a
    declared one (C(migrate_uplaod), did you mean C(migrate_upload)?).
  - Each role of the collection runs it first (the C(role_vars) role is its dependency), before ansible-core's own
    argument validation, which names an unknown key but suggests nothing.
author:
  - citrix_community.ips maintainers (@citrix-community)
options:
  role:
    description: The role's name in this collection (for example C(migrate)).
    type: str
    required: true
attributes:
  check_mode:
    support: full
    description: It only reads variables.
  diff_mode:
    support: none
    description: Nothing to compare.
  action:
    support: full
    description: Implemented by an action plugin that runs on the controller.
"""

EXAMPLES = r"""
- name: Check the migrate role's variables
  citrix_community.ips.ips_role_vars:
    role: migrate
"""

RETURN = r"""
unknown:
  description: The unknown keys, dotted (C(migrate_upload.concurency)).
  returned: failure
  type: list
  elements: str
"""
