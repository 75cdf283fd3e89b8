# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upload engine: plan (allocation map -> target units), a read-once pipeline with zero skip,
bounded memory and concurrent senders, a local journal for resume, progress, and the Azure, AWS
and GCP targets. docs/upload.md tells the whole story; each file's docstring its own part.

Cloud SDKs are imported inside the target classes only, so importing this package needs nothing
beyond the Python standard library and ansible-core.
"""
