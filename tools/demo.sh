#!/usr/bin/env bash
# `make demo`: show the lab is up, then run the collection's demo playbook against it (push a
# credential into the lab's IPS wallet, list the wallet and the jobs).
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
export PATH="$VENV/bin:$PATH" ANSIBLE_PYTHON_INTERPRETER="$VENV/bin/python" ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

echo
echo "== push a credential into the IPS wallet and list what the service holds (playbooks/demo.yml)"
ansible-playbook -i localhost, -c local citrix_community.ips.demo

echo
echo "The lab keeps running. Stop it with: make lab-down"
