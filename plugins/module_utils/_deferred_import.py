# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An optional library's names, imported the first time one is used.

pypsrp (with requests, spnego and cryptography) and pyvmomi take 0.1-0.2 s each to import. Every task of the
modules that may need them paid that, although most never do: a task on the Citrix Cloud backend never reaches a
Windows host, and an export from anything but vSphere runs no vSphere pre-flight.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback


class Deferred(object):
    """`Deferred("pypsrp", loader)`: `loader()` imports the library and returns {name: object}, on first use.

    `lib.Name` loads (once) and returns the name; `lib.missing()` says why the library cannot be imported, for the
    caller's own clear message, before anything needs it.
    """

    def __init__(self, library, loader):
        self.library = library
        self._loader = loader
        self._names = None

    def missing(self):
        """None when the library imports, else the ImportError's last line."""
        try:
            self._load()
        except ImportError:
            return traceback.format_exc().strip().splitlines()[-1]
        return None

    def _load(self):
        if self._names is None:
            self._names = dict(self._loader())
        return self._names

    def __getattr__(self, name):
        if name.startswith("_"):  # copy/pickle probes, and this object's own attributes before __init__ set them
            raise AttributeError(name)
        try:
            return self._load()[name]
        except KeyError:
            raise AttributeError("%s has no %s here (add it to its loader)" % (self.library, name))
