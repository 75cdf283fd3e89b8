"""ips_lab: the local lab that stands in for Citrix Cloud and the cloud platforms (see docs/lab.md)."""
