"""The Citrix Cloud API stand-in: tokens, IPS jobs and credentials over HTTPS, plus the /_lab/ admin API."""
