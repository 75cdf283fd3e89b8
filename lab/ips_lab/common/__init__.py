"""What the Citrix Cloud stand-in (citrix/), the cloud planes (planes/) and the jobs' work (jobwork/)
share: the one HTTP(S) server and process main (server.py), the lab CA (tls.py), the one admin
client (admin.py), the sqlite store with runtime settings and fault rules (store.py, config.py,
faults.py), the lab clock (clock.py), the error answer (errors.py) and the lab's own copy of the
IPS wire rules (rules.py)."""
