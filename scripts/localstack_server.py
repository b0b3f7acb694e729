"""LocalStack in host mode (no Docker) on 127.0.0.1, for `make test-localstack`.

    localstack_server.py PORT STATE_DIR [DYNAMODB_LOCAL_LIB]

Runs the LocalStack runtime from the `localstack-core` package in this Python, the way the
LocalStack Docker image runs it inside its container, with the services evreg's AWS-mode
tests use: SNS, SQS, S3, SES, SSM, and DynamoDB when DYNAMODB_LOCAL_LIB (the directory of
DynamoDBLocal.jar, as scripts/dynamodb_local_setup.sh prints it) is given. What this adds to
a bare `python -m localstack.runtime.main`:

- Host mode on a machine that looks like a container: LocalStack takes any container for
  its Docker image and would then write under /var/lib/localstack; OVERRIDE_IN_DOCKER=0 and
  FILESYSTEM_ROOT keep every file under STATE_DIR.
- Loopback only: LocalStack's Twisted gateway ignores the host of GATEWAY_LISTEN for IPv4
  (it listens on every interface); the endpoint factory is wrapped so it binds 127.0.0.1,
  with a listen backlog that holds the suite's 200 concurrent clients (Twisted's default of
  50 overflows into multi-second connect retries, as scripts/moto_server.py explains).
- Every file under STATE_DIR: S3 keeps object bodies in a directory its provider module fixes
  (/tmp/localstack-s3-storage, left behind after a run) rather than one of FILESYSTEM_ROOT's.
- DynamoDB offline: LocalStack's DynamoDB is DynamoDB Local behind LocalStack's own API layer
  (accounts, regions, streams), and on first use it downloads DynamoDB Local, a Java runtime
  and a patch agent. Here it runs the DynamoDB Local it is given, with the Java on the PATH,
  without the agent (it only lifts the limit of 20 GSIs per table; evreg has fewer), and
  through scripts/DynamoDBLocalLoopback.java, since DynamoDB Local's own main binds every
  interface.
- Offline: no DNS server of its own (it would bind port 53 on every interface), no download
  of LocalStack's TLS certificate (a self-signed one is made), no analytics events.

Everything else is LocalStack's own configuration: a variable already set in the
environment (DEBUG=1, SERVICES=...) wins over these defaults.
"""

import os
import sys

LOOPBACK = "127.0.0.1"
LISTEN_BACKLOG = 1024


def configure(port: int, state_dir: str, dynamodb: bool) -> None:
    """LocalStack reads its configuration from the environment when first imported."""
    defaults = {
        "GATEWAY_LISTEN": f"{LOOPBACK}:{port}",
        "SERVICES": "sns,sqs,s3,ses,ssm" + (",dynamodb" if dynamodb else ""),
        "DYNAMODB_IN_MEMORY": "1",
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": os.path.abspath(state_dir),
        "DNS_ADDRESS": "0",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DISABLE_EVENTS": "1",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)


def listen_on_loopback_only() -> None:
    from twisted.internet import endpoints

    tcp4 = endpoints.TCP4ServerEndpoint

    def loopback_endpoint(reactor, port, backlog=LISTEN_BACKLOG, interface=""):
        return tcp4(reactor, port, backlog=backlog, interface=interface or LOOPBACK)

    # localstack.runtime.server.twisted looks the factory up on the module at each listen.
    endpoints.TCP4ServerEndpoint = loopback_endpoint


def keep_s3_objects_in(state_dir: str) -> None:
    from localstack.services.s3 import provider

    # Read when LocalStack creates the provider, on S3's first request.
    provider.DEFAULT_S3_TMP_DIR = os.path.join(os.path.abspath(state_dir), "tmp", "s3-storage")


def run_dynamodb_local_from(lib: str) -> None:
    """LocalStack's DynamoDB on the DynamoDB Local in `lib`, started on 127.0.0.1."""
    from localstack.services.dynamodb import packages, server

    # Installed already: nothing to download, and the Java on the PATH runs it.
    packages.DynamoDBLocalPackageInstaller.install = lambda self, target=None: None
    packages.DynamoDBLocalPackageInstaller.get_java_env_vars = lambda self: {}
    loopback_main = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                 "DynamoDBLocalLoopback.java")

    def command(dynamodb: server.DynamodbServer) -> list[str]:
        # LocalStack's own command, less its patch agent (20+ GSIs per table; evreg has
        # fewer), with the main that binds 127.0.0.1.
        return [
            "java",
            f"-Xmx{dynamodb.heap_size}",
            f"-Djava.library.path={lib}/DynamoDBLocal_lib",
            "-cp",
            f"{lib}/DynamoDBLocal.jar",
            loopback_main,
            "-port",
            str(dynamodb.port),
            "-inMemory",
            *(["-sharedDb"] if dynamodb.share_db else []),
        ]

    server.DynamodbServer._create_shell_command = command


def main() -> None:
    port, state_dir = int(sys.argv[1]), sys.argv[2]
    dynamodb_local_lib = sys.argv[3] if len(sys.argv) > 3 else None
    configure(port, state_dir, dynamodb=dynamodb_local_lib is not None)
    listen_on_loopback_only()
    keep_s3_objects_in(state_dir)
    if dynamodb_local_lib:
        run_dynamodb_local_from(dynamodb_local_lib)
    from localstack.runtime.main import main as run_localstack

    run_localstack()


if __name__ == "__main__":
    main()
