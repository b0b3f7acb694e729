"""moto server serving one request at a time, for `make test`.

moto's stock server answers each request on its own thread, but its DynamoDB
TransactWriteItems deep-copies tables for rollback while other threads write to them:
under concurrent registrations it fails with "dictionary changed size during
iteration" and answers 500 with an HTML page. DynamoDB itself serializes
transactions, so serving requests one at a time is the faithful choice.

Usage: moto_server.py PORT   (binds 127.0.0.1 only)
"""

import os
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple

port = int(sys.argv[1])
os.environ.setdefault("MOTO_PORT", str(port))
run_simple(
    "127.0.0.1",
    port,
    DomainDispatcherApplication(create_backend_app),
    threaded=False,
    request_handler=MotoRequestHandler,
)
