# The two commands of the README. Both set up what they need themselves.
.PHONY: dev test test-localstack lambda-build

# The API and its workers on http://127.0.0.1:$${PORT:-3000}, state in $${EVREG_DATA_DIR:-.local}.
dev:
	cargo run -p evreg-dev

# Everything: fmt, clippy, cfn-lint, sam validate, unit, conformance, handler and end-to-end
# tests (moto), then the AWS-mode tests again with DynamoDB on DynamoDB Local.
test:
	scripts/test.sh

# The AWS-mode tests against LocalStack at $${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}
# (started in host mode there when none answers). Not part of `make test`.
test-localstack:
	scripts/test-localstack.sh

# Release arm64 bootstraps for Lambda (needs cargo-lambda: pip install cargo-lambda).
lambda-build:
	cargo lambda build --release --arm64 -p evreg-functions
