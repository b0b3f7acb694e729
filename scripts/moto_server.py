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

And it adds SQS's message-move API, which moto lacks (`evreg-dev dead-letters redrive
--aws` uses it): StartMessageMoveTask moves every message of a dead-letter queue back to
its source queue (the DestinationArn, or the one queue whose redrive policy names it), as
new, never-received messages, at once rather than at a rate.

Usage: moto_server.py PORT   (binds 127.0.0.1 only)
"""

import json
import os
import sys
import threading
import uuid

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


def _queue_by_arn(arn):
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, name = arn.split(":", 5)
    backend = sqs_backends[account][region]
    return backend, backend.get_queue(name)


def _sqs_error(code, message):
    body = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": message})
    return "400 Bad Request", body


def start_message_move_task(request):
    source_arn = request.get("SourceArn", "")
    try:
        backend, dlq = _queue_by_arn(source_arn)
    except Exception:
        return _sqs_error("ResourceNotFoundException", f"no queue {source_arn}")
    if "DestinationArn" in request:
        _, destination = _queue_by_arn(request["DestinationArn"])
    else:
        sources = backend.list_dead_letter_source_queues(dlq.name)
        if len(sources) != 1:
            return _sqs_error(
                "InvalidParameterValue",
                "this emulator moves back only to a dead-letter queue's one source",
            )
        destination = sources[0]
    moved = 0
    for message in list(dlq._messages):
        dlq._messages.remove(message)
        dlq.pending_messages.discard(message)
        message.approximate_receive_count = 0
        message.approximate_first_receive_timestamp = None
        message.visible_at = 0
        message.receipt_handle = None
        destination.add_message(message)
        moved += 1
    return "200 OK", json.dumps({"TaskHandle": f"task-{uuid.uuid4()}-moved-{moved}"})


SQS_EXTENSIONS = {
    "AmazonSQS.StartMessageMoveTask": start_message_move_task,
}


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
            extension = SQS_EXTENSIONS.get(environ.get("HTTP_X_AMZ_TARGET", ""))
            if extension is not None:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                request = json.loads(environ["wsgi.input"].read(length) or b"{}")
                status, body = extension(request)
                start_response(status, [("Content-Type", "application/x-amz-json-1.0")])
                return [body.encode()]
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
