# citrix_community.ips: one entry point for developers and CI. Every tool runs from .venv/bin
# explicitly; nothing needs activating. See docs/lab.md for the lab.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
IPS_LAB := $(VENV)/bin/ips-lab

.PHONY: help setup setup-apt setup-venv setup-node lab-up lab-down lab-status test test-long demo bench sanity lint clean distclean

help:
	@echo "make setup      install what is missing: Debian packages, .venv, Azurite, vcsim, ansible-test shim"
	@echo "make lab-up     start the local lab (docs/lab.md); writes lab/run/env"
	@echo "make lab-down   stop exactly the processes lab-up started"
	@echo "make test       setup, lab-up, unit + lab + integration tests, sanity, lint, lab-down"
	@echo "make test-long  the fault matrix's long variants (tests/reliability, one fault per run, planes restarted), own lab"
	@echo "make demo       setup, lab-up, run the demo against the lab (BACKEND=appliance: through the App Layering appliance)"
	@echo "make sanity     ansible-test sanity on a copy of the tracked files"
	@echo "make lint       ansible-lint --offline --profile production"
	@echo "make bench      run the benchmarks (bench/run.sh)"
	@echo "make clean      remove caches and build outputs (keeps .venv, lab/node_modules, lab/run)"

# The Debian packages first; then the venv, the node packages and vcsim side by side (on a fresh machine each
# mostly waits on a download or a compiler of its own).
setup: setup-apt
	@$(MAKE) --no-print-directory -j3 setup-venv setup-node lab/bin/vcsim

setup-apt:
	@tools/setup-apt.sh

setup-venv:
	@tools/setup-venv.sh

setup-node:
	@tools/setup-node.sh

lab/bin/vcsim: lab/vcsim/main.go | setup-apt
	@tools/build-vcsim.sh

lab-up: setup
	@$(IPS_LAB) up

lab-down:
	@if [ -x $(IPS_LAB) ]; then $(IPS_LAB) down; else echo "lab-down: $(IPS_LAB) is missing; nothing was started by it"; fi

lab-status:
	@$(IPS_LAB) status

test: setup
	@tools/test.sh

test-long: setup
	@IPS_TEST_LONG=1 IPS_LAB_PER_WORKER=1 IPS_LAB_RUN_DIR="$(CURDIR)/lab/run-long" $(VENV)/bin/pytest -q -p no:cacheprovider -n 1 tests/reliability

demo: setup lab-up
	@BACKEND="$(BACKEND)" tools/demo.sh

bench:
	@if [ -f bench/run.sh ]; then bash bench/run.sh; else echo "bench: no benchmarks yet (bench/run.sh does not exist)"; fi

sanity: setup-venv
	@tools/sanity.sh

lint: setup-venv
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/ansible-lint --offline --profile production

clean:
	rm -rf .cache tests/output .pytest_cache lab/bin
	find . -path ./.venv -prune -o -path ./.venv-core-newest -prune -o -path ./lab/node_modules -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: lab-down clean
	rm -rf $(VENV) .venv-core-newest lab/.venv-awscli lab/node_modules .ansible
