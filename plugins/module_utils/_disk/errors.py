# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error the disk-image readers raise."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError


class DiskFormatError(IPSError):
    """The file is not a VHD/VHDX this collection can read, or it is damaged.

    str() is one line: which file, what is wrong with it, and what to do about it.
    """

    def __init__(self, name, problem, action=None):
        message = "%s: %s" % (name, problem)
        if action:
            message = "%s; %s" % (message, action)
        super(DiskFormatError, self).__init__(message)
        self.name = name
        self.problem = problem
        self.action = action


# Shared advice, so the same problem reads the same way in every format.
RECOPY = "copy the image again from its origin (the file is damaged or was cut short)"
