# The two commands of the README. Both set up what they need themselves.
.PHONY: dev test test-browser screenshots test-localstack build sam-build sam-local lambda-build

# The API and its workers on http://127.0.0.1:$${PORT:-3000}, state in $${EVREG_DATA_DIR:-.local}.
dev:
	cargo run -p evreg-dev

# Everything: fmt, clippy, cfn-lint, sam validate, unit, conformance, handler and end-to-end
# tests (moto), then the AWS-mode tests again with DynamoDB on DynamoDB Local.
test:
	scripts/test.sh

# Only the browser tests (a step of `make test`): the event and attendee pages in headless
# Chromium (Debian's package, installed when missing) against the dev server built here.
test-browser:
	cargo build -p evreg-dev --locked
	scripts/test-browser.sh

# docs/event-page.png and docs/attendee-page.png (the README's), at a phone's width.
screenshots:
	cargo build -p evreg-dev --locked
	scripts/browser_setup.sh
	node scripts/screenshots.mjs

# The AWS-mode tests against LocalStack at $${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}
# (started in host mode there when none answers). Not part of `make test`.
test-localstack:
	scripts/test-localstack.sh


# `sam build` of every function, as a deployer runs it, into .aws-sam/build (one bootstrap
# per function); installs its own tools (cargo-lambda and zig into .venv, the rustup target).
build sam-build:
	scripts/sam-build.sh

# sam build, then `sam local invoke` of every function against moto (needs Docker; as root
# here it starts dockerd and builds the Lambda base image itself). See scripts/sam-local.sh.
sam-local:
	scripts/sam-local.sh

# Release arm64 bootstraps for Lambda without SAM, in target/lambda/<binary>/bootstrap.
lambda-build:
	scripts/venv.sh .venv scripts/requirements-build.txt
	PATH="$(CURDIR)/.venv/bin:$$PATH" $(CARGO_LAMBDA_BUILD)

# ---------------------------------------------------------------- sam build's targets
# template.yaml builds every function with `BuildMethod: makefile`: `sam build` runs
# `make build-<LogicalId>` here with ARTIFACTS_DIR set. Each target runs ONE cargo-lambda
# build of all the binaries (the first does the work, with both cores and every link in
# parallel; the others find it fresh in seconds) and puts its function's bootstrap in
# ARTIFACTS_DIR, hard-linked where it can be (no second copy of every binary on disk). The
# binary is the logical id without `Function`, in kebab case (EventsCreateFunction →
# events-create; tests/integration/template.rs holds the template to that).
# samconfig.toml sets build_in_source: SAM would otherwise copy the tree, target/ included.
# LAMBDA_PROFILE=lambda-check (make test) builds the same way without optimisation.
ROOT := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
LAMBDA_PROFILE ?= release
LAMBDA_DIR = $(ROOT)target/lambda$(if $(filter-out release,$(LAMBDA_PROFILE)),-$(LAMBDA_PROFILE))
CARGO_LAMBDA_BUILD = cargo lambda build --profile $(LAMBDA_PROFILE) --arm64 --locked \
	-p evreg-functions --lambda-dir "$(LAMBDA_DIR)"
binary = $(shell printf '%s' '$(1)' | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr '[:upper:]' '[:lower:]')

build-%Function:
	cd "$(ROOT)" && PATH="$(ROOT).venv/bin:$$PATH" $(CARGO_LAMBDA_BUILD)
	ln -f "$(LAMBDA_DIR)/$(call binary,$*)/bootstrap" "$(ARTIFACTS_DIR)/bootstrap" 2>/dev/null || \
	  cp "$(LAMBDA_DIR)/$(call binary,$*)/bootstrap" "$(ARTIFACTS_DIR)/bootstrap"
