"""The clouds' own host names in the lab: a loopback HTTPS forward proxy (CONNECT) that answers each real
host (management.azure.com, ebs.<region>.amazonaws.com, storage.googleapis.com, api.cloud.com, ...) with a
certificate of that name from its own CA, and carries the tunnel to the stand-in that plays the host."""
