"""The lab's strict cloud control planes: thin fronts over Azurite, moto and the GCS emulator.

azure_plane  Entra token endpoint, ARM managed disks (createOption Upload) and the managed-disk
             blob front (HTTPS); bytes land in an Azurite page blob.
ebs_front    the EBS direct API with the real block, checksum and completion rules, over moto.
gce_plane    compute/v1 images and disks; images.insert checks the tar.gz in the GCS emulator.

Each runs as its own process: `python -m ips_lab.planes.<module> --state-dir DIR --config FILE`.
"""
