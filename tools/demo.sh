#!/usr/bin/env bash
# The fallback demo (`make demo` when lab/ips_lab/demo.py does not exist): show the lab is up, push
# a credential into the lab's IPS wallet and list the jobs, with the collection's own modules.
# Secrets come from the lab's env file through lookups; none is put on a command line or printed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv

echo "== the lab"
"$VENV/bin/ips-lab" status
env_file=$("$VENV/bin/ips-lab" env)
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a
export PATH="$VENV/bin:$PATH" ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

echo
echo "== push the SMB account of the export share into the IPS credential wallet (ips_credential)"
ansible localhost -m citrix_community.ips.ips_credential -a \
  "name=lab-smb type=username_password username={{ lookup('ansible.builtin.env', 'IPS_LAB_SMB_USER') }}
   password={{ lookup('ansible.builtin.env', 'IPS_LAB_SMB_PASSWORD') }}
   domain={{ lookup('ansible.builtin.env', 'IPS_LAB_SMB_DOMAIN') }}"

echo
echo "== list the jobs the service knows (ips_job_info)"
ansible localhost -m citrix_community.ips.ips_job_info

echo
echo "The lab keeps running. Stop it with: make lab-down"
