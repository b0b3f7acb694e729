"""Says which LocalStack the tests are about to use, and stops early if it lacks a service.

    localstack_health.py ENDPOINT
    localstack_health.py --answers ENDPOINT

The second form only asks, silently, whether a LocalStack answers at ENDPOINT (exit 0) or
not (exit 1), for scripts/test-localstack.sh to decide whether to start one.

Reads LocalStack's health document (GET ENDPOINT/_localstack/health), prints its version,
edition and the state of the services evreg's AWS-mode tests call, and exits non-zero when
LocalStack does not answer or one of them is neither "available" (loaded on first use) nor
"running". DynamoDB counts only when AWS_ENDPOINT_URL_DYNAMODB does not send it elsewhere.
"""

import json
import os
import sys
import urllib.request

SERVICES = ["sns", "sqs", "s3", "ses", "ssm"]
USABLE = {"available", "running"}


def health(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def main() -> None:
    answers_only = sys.argv[1] == "--answers"
    endpoint = sys.argv[-1].rstrip("/")
    url = f"{endpoint}/_localstack/health"
    try:
        document = health(url)
    except Exception as e:  # any failure means the same thing here
        if answers_only:
            sys.exit(1)
        sys.exit(f"LocalStack does not answer at {url}: {e}")
    if answers_only:
        return
    services = SERVICES + ([] if os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") else ["dynamodb"])
    states = document.get("services", {})
    print(
        f"LocalStack {document.get('version', '?')} ({document.get('edition', '?')} edition) at "
        f"{endpoint}: " + ", ".join(f"{s} {states.get(s, 'absent')}" for s in services)
    )
    missing = [s for s in services if states.get(s) not in USABLE]
    if missing:
        sys.exit(f"LocalStack at {endpoint} cannot serve: {', '.join(missing)}")


if __name__ == "__main__":
    main()
