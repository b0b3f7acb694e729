"""moto server that accepts connections concurrently but runs one request at a time,
for `make test`.

moto's stock server answers each request on its own thread, but its DynamoDB
TransactWriteItems deep-copies tables for rollback while other threads write to them:
under concurrent registrations it fails with "dictionary changed size during
iteration" and answers 500 with an HTML page. DynamoDB itself serializes
transactions, so running requests one at a time is the faithful choice.

Connections, though, must not queue in the kernel: a single-threaded server speaks
HTTP/1.0 (a new connection per request) and, with hundreds of concurrent clients,
overflows its listen backlog; dropped SYNs become multi-second connect timeouts and
SDK dispatch failures. So every connection gets its thread (and keep-alive), and a
lock serializes the work.

It also answers GET /_evreg/ses/raw-messages with the raw mail SES accepted (all
accounts and regions): moto's own /moto-api/data.json serializes every model of the
run, which takes tens of seconds once the tests have filled DynamoDB and SQS.

Usage: moto_server.py PORT   (binds 127.0.0.1 only)
"""

import json
import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple


SENT_MAIL_PATH = "/_evreg/ses/raw-messages"


def sent_raw_messages():
    from moto.ses.models import RawMessage, ses_backends

    messages = []
    for account in ses_backends.values():
        for backend in account.values():
            for message in backend.sent_messages:
                if isinstance(message, RawMessage):
                    messages.append(
                        {
                            "id": message.id,
                            "source": message.source,
                            "destinations": message.destinations,
                            "raw_data": message.raw_data,
                        }
                    )
    return messages


class OneAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            if environ.get("PATH_INFO") == SENT_MAIL_PATH:
                body = json.dumps(sent_raw_messages()).encode()
                start_response("200 OK", [("Content-Type", "application/json")])
                return [body]
            # The body is produced inside the lock: moto may build it lazily.
            return list(self.app(environ, start_response))


port = int(sys.argv[1])
os.environ.setdefault("MOTO_PORT", str(port))
run_simple(
    "127.0.0.1",
    port,
    OneAtATime(DomainDispatcherApplication(create_backend_app)),
    threaded=True,
    request_handler=MotoRequestHandler,
)
