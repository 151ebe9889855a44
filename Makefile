# The README's two commands are `make demo` and `make test`; the rest are their parts,
# `make docs` (the roles' variable tables) and `make benchmark` (docs/design.md).
.PHONY: demo test setup images lint unit docs molecule demo-clean benchmark

demo: ## set up the control node and run site.yml against a local container
	scripts/demo.sh

test: ## the whole test suite (what CI runs)
	scripts/test.sh

setup: ## the control node's virtualenv with the pinned tools
	scripts/setup-control-node.sh

images: ## the local Debian 12 and 13 systemd test images
	scripts/docker-engine.sh ensure
	scripts/build-test-images.sh

lint: setup
	.venv/bin/yamllint --strict .
	.venv/bin/ansible-lint --profile production

unit: setup
	cd django_app && ../.venv/bin/python -m pytest -q
	.venv/bin/python -m pytest -q tests/unit

docs: ## rewrite the variable tables in roles/*/README.md from meta/argument_specs.yml
	.venv/bin/python scripts/role_docs.py

molecule: ## one scenario: make molecule SCENARIO=postgresql
	scripts/test.sh $(SCENARIO)

benchmark: ## the whole stack's runs against Ansible's floor: make benchmark ARGS="--engines postgresql --runs 1"
	scripts/setup-control-node.sh
	scripts/docker-engine.sh ensure
	scripts/build-test-images.sh 12
	.venv/bin/python scripts/benchmark.py $(ARGS)

demo-clean: ## remove the demo container, its network and its generated credentials
	-docker rm -f django-stack-demo
	-docker network rm django-stack-demo
	rm -rf inventory/local/.credentials
