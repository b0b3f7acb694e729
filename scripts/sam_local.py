"""Invokes every function of the built template with `sam local invoke`, in the order of a
user's journey, against an AWS emulator, and checks every answer. Run by scripts/sam-local.sh,
which builds, starts the emulator and Docker, and provisions (tests/examples/sam_local_env.rs).

    python scripts/sam_local.py RESOURCES_JSON HOST_ENDPOINT CONTAINER_ENDPOINT \
        CONTAINER_STRIPE OUT_DIR

RESOURCES_JSON  what sam_local_env printed (table, topic, bucket and queue names, SSM
                parameter names, the ADMIN it created, the payment provider's secrets)
HOST_ENDPOINT   the emulator as this process reaches it (http://127.0.0.1:PORT)
CONTAINER_ENDPOINT  the emulator as a function's container reaches it
CONTAINER_STRIPE    the Stripe stand-in (sam_local_env stripe) as a container reaches it
OUT_DIR         gets env-vars.json, template.yaml (the built template, see below), the
                events as sent (events/NN-<function>.json), each invoke's log, and
                results.md / results.json
SAM_BUILD_DIR (environment, default .aws-sam/build) is the `sam build` output invoked.

Each route function gets its own events/<binary>.json with the placeholders replaced by
what earlier answers returned (the access token of a real login, the created event's id,
the registration's id and manage token…); worker functions get SQS batches made from the
messages SNS actually delivered to their queues in the emulator (as Lambda's event source
mapping would), and worker-projection also events/sqs-projection.json as it is. Paid
events go through the Stripe stand-in: a paid registration opens its checkout there, the
payments webhook gets events/payments-webhook.json made into that session's
`checkout.session.completed` and signed with the stage's webhook secret, as Stripe signs.
Route answers are checked by status code (and a few by a field of the body), worker answers
by `batchItemFailures` being empty, scheduled functions by the shape of their answer.

The built template is copied with two local-only changes: `AWS_ENDPOINT_URL` and
`STRIPE_API_BASE` are declared in Globals (SAM passes a variable from --env-vars only if
the template declares it) and the timeout is 60 s (the arm64 functions run under qemu user emulation on an x86_64 host: a cold
start that takes a fraction of a second on Lambda takes seconds here).
"""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time

import boto3
from samcli.yamlhelper import yaml_dump, yaml_parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILT_TEMPLATE = os.path.join(ROOT, os.environ.get("SAM_BUILD_DIR", ".aws-sam/build"),
                              "template.yaml")
# The stack's parameters, as scripts/sam-local.sh sets them.
STAGE = os.environ.get("SAM_LOCAL_STAGE", "dev")
MAIL_FROM = os.environ.get("SAM_LOCAL_MAIL_FROM", "tickets@evreg-dev.example.org")
PUBLIC_URL = os.environ.get("SAM_LOCAL_PUBLIC_URL", "http://127.0.0.1:3000")
PARAMETERS = f"Stage={STAGE} PublicUrl={PUBLIC_URL} MailFrom={MAIL_FROM}"
REGION = "us-east-1"
# The sample events' placeholder ids and secrets (events/README.md).
SAMPLE_EVENT_ID = "0190d3a4-0000-7000-8000-000000000001"
SAMPLE_REGISTRATION_ID = "0190d3a4-0000-7000-8000-0000000000a1"
SAMPLE_USER_ID = "0193a1f0-0000-7000-8000-000000000001"
SAMPLE_REFRESH_TOKEN = "q1Zk3m9yXb5vN2cR7tL0pW4sH8jD6fG1aE3uY5iO9nM"
SAMPLE_RESET_TOKEN = "Zr8Kx2Lw5Nq7Pv1Ts4Ym6Hb9Dc3Fg0Jk2Ma5Ue8Wi1Oy"
INVOKE_TIMEOUT_S = 300


def logical_id(binary):
    return "".join(word.capitalize() for word in binary.split("-")) + "Function"


class Run:
    def __init__(self, resources, host_endpoint, container_endpoint, container_stripe, out_dir):
        self.resources = resources
        self.out = out_dir
        os.makedirs(os.path.join(out_dir, "events"), exist_ok=True)
        os.makedirs(os.path.join(out_dir, "logs"), exist_ok=True)
        self.sqs = boto3.client("sqs", endpoint_url=host_endpoint, region_name=REGION)
        self.results = []
        self.step = 0
        self.template = os.path.join(out_dir, "template.yaml")
        self.env_vars = os.path.join(out_dir, "env-vars.json")
        self._write_template()
        self._write_env_vars(container_endpoint, container_stripe)

    def _write_template(self):
        with open(BUILT_TEMPLATE, encoding="utf-8") as f:
            template = yaml_parse(f.read())
        function = template.setdefault("Globals", {}).setdefault("Function", {})
        function["Timeout"] = 60
        variables = function.setdefault("Environment", {}).setdefault("Variables", {})
        variables["AWS_ENDPOINT_URL"] = ""
        variables["STRIPE_API_BASE"] = ""
        # CodeUri stays relative to the built template's folder.
        build_dir = os.path.dirname(BUILT_TEMPLATE)
        for resource in template.get("Resources", {}).values():
            props = resource.get("Properties", {})
            if resource.get("Type") == "AWS::Serverless::Function" and "CodeUri" in props:
                props["CodeUri"] = os.path.join(build_dir, props["CodeUri"])
        with open(self.template, "w", encoding="utf-8") as f:
            f.write(yaml_dump(template))

    def _write_env_vars(self, container_endpoint, container_stripe):
        env = dict(self.resources["env"])
        env.update(
            AWS_ENDPOINT_URL=container_endpoint,
            STRIPE_API_BASE=container_stripe,
            MAIL_FROM=MAIL_FROM,
            PUBLIC_URL=PUBLIC_URL,
            RUST_LOG="info",
        )
        document = {
            "Parameters": env,
            "WorkerCdnFunction": {**env, "DISTRIBUTION_ID": self.resources["distribution_id"]},
        }
        with open(self.env_vars, "w", encoding="utf-8") as f:
            json.dump(document, f, indent=1)

    # ------------------------------------------------------------ invoking

    def invoke(self, binary, event):
        """sam local invoke of the function of BINARY with EVENT (a dict); returns
        (answer dict or None, seconds, the step's name)."""
        self.step += 1
        name = f"{self.step:02d}-{binary}"
        event_path = os.path.join(self.out, "events", name + ".json")
        with open(event_path, "w", encoding="utf-8") as f:
            json.dump(event, f, indent=1)
        command = [
            os.path.join(ROOT, ".venv", "bin", "sam"), "local", "invoke", logical_id(binary),
            "-t", self.template, "-e", event_path, "--env-vars", self.env_vars,
            "--skip-pull-image", "--parameter-overrides", PARAMETERS, "--region", REGION,
        ]
        started = time.monotonic()
        try:
            done = subprocess.run(
                command, cwd=ROOT, capture_output=True, text=True, timeout=INVOKE_TIMEOUT_S
            )
            stdout, stderr = done.stdout, done.stderr
        except subprocess.TimeoutExpired as e:
            stdout, stderr = e.stdout or "", (e.stderr or "") + "\n(timed out)"
        seconds = time.monotonic() - started
        with open(os.path.join(self.out, "logs", name + ".log"), "w", encoding="utf-8") as f:
            f.write(f"$ {' '.join(command)}\n\n-- stdout\n{stdout}\n-- stderr\n{stderr}")
        answer = None
        for line in reversed((stdout or "").strip().splitlines()):
            try:
                answer = json.loads(line)
                break
            except ValueError:
                continue
        return answer, seconds, name

    def route(self, binary, expected, replace=None, body=None, label="", headers=None,
              expect=None):
        """Invokes a route function with events/<binary>.json (placeholders replaced; BODY,
        a dict or the raw text, and HEADERS in place of the file's) and checks the status
        and the fields EXPECT names in the JSON answer; returns that answer's body parsed
        (or None)."""
        with open(os.path.join(ROOT, "events", binary + ".json"), encoding="utf-8") as f:
            text = f.read()
        for old, new in (replace or {}).items():
            text = text.replace(old, new)
        event = json.loads(text)
        if body is not None:
            event["body"] = body if isinstance(body, str) else json.dumps(body)
            event["isBase64Encoded"] = False
            # Keep the sample's content-length true to the body it now carries.
            if "content-length" in event.get("headers", {}):
                event["headers"]["content-length"] = str(len(event["body"].encode()))
        event.setdefault("headers", {}).update(headers or {})
        answer, seconds, name = self.invoke(binary, event)
        status = answer.get("statusCode") if isinstance(answer, dict) else None
        payload = None
        if isinstance(answer, dict) and answer.get("body"):
            raw = answer["body"]
            if answer.get("isBase64Encoded"):
                data = base64.b64decode(raw)
                payload = {"bytes": len(data), "base64": True, "png": data}
            else:
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = raw
        note = ""
        if isinstance(payload, dict) and "code" in payload:
            note = f"code {payload['code']}"
        elif isinstance(payload, dict) and payload.get("base64"):
            note = f"{payload['bytes']} bytes, base64 ({answer.get('headers', {}).get('content-type', '')})"
        wanted = f"{expected}"
        got = f"{status}"
        ok = status == expected
        for field, value in (expect or {}).items():
            actual = payload.get(field) if isinstance(payload, dict) else None
            wanted += f", {field} {value}"
            got += f", {field} {actual}"
            ok = ok and actual == value
        self.record(name, binary, label or f"events/{binary}.json", wanted, got, ok, seconds,
                    note, answer)
        return payload

    def worker(self, binary, event, label):
        answer, seconds, name = self.invoke(binary, event)
        failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
        records = len(event.get("Records", []))
        self.record(name, binary, label, "batchItemFailures []",
                    "no answer" if failures is None else f"batchItemFailures {json.dumps(failures)}",
                    failures == [], seconds, f"{records} records", answer)
        return failures

    def record(self, name, binary, event, expected, got, ok, seconds, note, answer):
        self.results.append(dict(step=name, function=logical_id(binary), event=event,
                                 expected=expected, got=got, ok=ok, seconds=round(seconds, 1),
                                 note=note))
        mark = "ok  " if ok else "FAIL"
        print(f"{mark} {name:34} {event:46} expected {expected:22} got {got:26} "
              f"{seconds:5.1f} s {note}", flush=True)
        if not ok:
            print(f"     answer: {json.dumps(answer)[:400]}  (log: logs/{name}.log)", flush=True)

    # ------------------------------------------------------------ SQS, as the ESM does

    def batch_from_queue(self, logical_queue, deadline_s=20, want=None):
        """Receives every message SNS delivered to the queue (until it has been empty for a
        second, or WANT message types arrived) and returns them as Lambda's SQS event."""
        url = self.resources["queues"][logical_queue]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        messages, deadline = [], time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            got = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                AttributeNames=["All"], MessageAttributeNames=["All"], VisibilityTimeout=120,
            ).get("Messages", [])
            messages.extend(got)
            types = {m.get("MessageAttributes", {}).get("type", {}).get("StringValue") for m in messages}
            if not got and messages and (want is None or want <= types):
                break
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    key: {
                        "stringValue": value.get("StringValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for key, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
        return {"Records": records}, url

    def worker_from_queue(self, binary, logical_queue, want=None):
        event, url = self.batch_from_queue(logical_queue, want=want)
        types = sorted({r["messageAttributes"].get("type", {}).get("stringValue") or "?"
                        for r in event["Records"]})
        failures = self.worker(binary, event, f"{logical_queue}: {', '.join(types) or 'empty'}")
        failed = {f.get("itemIdentifier") for f in failures or []}
        entries = [
            {"Id": str(i), "ReceiptHandle": r["receiptHandle"]}
            for i, r in enumerate(event["Records"])
            if failures is not None and r["messageId"] not in failed
        ]
        for start in range(0, len(entries), 10):
            self.sqs.delete_message_batch(QueueUrl=url, Entries=entries[start:start + 10])
        return event


def stripe_signature(secret, body):
    """The `Stripe-Signature` header for BODY signed now with SECRET, as Stripe signs
    (HMAC-SHA256 of "<t>.<body>", hex)."""
    timestamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def scheduled(run, binary, field, expected, label):
    """Invokes a scheduled function with an EventBridge scheduled event; its answer must be
    {FIELD: EXPECTED}."""
    event = {
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
        "time": "2026-11-30T00:00:00Z", "region": REGION, "resources": [], "detail": {},
    }
    answer, seconds, name = run.invoke(binary, event)
    ok = isinstance(answer, dict) and answer.get(field) == expected
    run.record(name, binary, f"a scheduled event ({label})", f"{{{field}: {expected}}}",
               json.dumps(answer), ok, seconds, "", answer)


def paid_journey(run, token):
    """A paid event through the Stripe stand-in: a held seat paid through the signed
    webhook, a second one cancelled (the payments worker expires its checkout)."""
    bearer = {"REPLACE_WITH_ACCESS_TOKEN": token}
    with open(os.path.join(ROOT, "events", "events-create.json"), encoding="utf-8") as f:
        paid_event = {**json.loads(json.load(f)["body"]), "name": "Rust Workshop",
                      "slug": "rust-workshop", "price_cents": 4900, "currency": "EUR"}
    created = run.route("events-create", 201, bearer, body=paid_event,
                        label="events/events-create.json (a paid event)") or {}
    ids = {**bearer, SAMPLE_EVENT_ID: created.get("id", SAMPLE_EVENT_ID)}

    held = run.route("registrations-create", 201, ids,
                     body={"email": "bo@example.org", "full_name": "Bo Chen"},
                     expect={"status": "PENDING_PAYMENT"},
                     label="events/registrations-create.json (paid: Stripe checkout)") or {}
    session_id = str(held.get("checkout_url", "")).rstrip("/").rsplit("/", 1)[-1]
    with open(os.path.join(ROOT, "events", "payments-webhook.json"), encoding="utf-8") as f:
        completed = json.loads(json.load(f)["body"])
    completed["id"] = f"evt_samlocal_{int(time.time())}"
    completed["data"]["object"].update(
        id=session_id, client_reference_id=held.get("id", SAMPLE_REGISTRATION_ID),
        payment_intent=f"pi_samlocal_{session_id}", amount_total=4900, currency="eur")
    body = json.dumps(completed)
    secret = run.resources["stripe"]["webhook_secret"].split(",")[0]
    run.route("payments-webhook", 200, body=body,
              headers={"stripe-signature": stripe_signature(secret, body)},
              expect={"outcome": "confirmed"},
              label="events/payments-webhook.json (that checkout, signed)")

    second = run.route("registrations-create", 201, ids,
                       body={"email": "cy@example.org", "full_name": "Cy Diaz"},
                       expect={"status": "PENDING_PAYMENT"},
                       label="events/registrations-create.json (paid, a second seat)") or {}
    run.route("registrations-cancel", 200, {
        **ids, SAMPLE_REGISTRATION_ID: second.get("id", SAMPLE_REGISTRATION_ID),
        "REPLACE_WITH_MANAGE_TOKEN": second.get("manage_token", "no-token")},
        label="events/registrations-cancel.json (the unpaid seat)")
    run.worker_from_queue("worker-payments", "PaymentsQueue", want={"RegistrationCancelled"})


def page_form(page, sample="event-page-register"):
    """A page's form as events/<SAMPLE>.json posts it (the event page's registration form
    by default), with the hidden csrf_token of PAGE (the page's HTML; a placeholder when the
    page did not come)."""
    with open(os.path.join(ROOT, "events", sample + ".json"), encoding="utf-8") as f:
        form = base64.b64decode(json.load(f)["body"]).decode()
    marker = 'name="csrf_token" value="'
    html = page if isinstance(page, str) else ""
    token = html.split(marker, 1)[1].split('"', 1)[0] if marker in html else "none"
    return form.replace("REPLACE_WITH_CSRF_TOKEN", token)


def journey(run):
    admin = run.resources["admin"]

    run.route("health", 200)
    run.route("auth-signup", 201)
    login = run.route("auth-login", 200) or {}
    token = login.get("access_token", "no-token")
    bearer = {"REPLACE_WITH_ACCESS_TOKEN": token}
    run.route("me", 200, bearer)
    created = run.route("events-create", 201, bearer) or {}
    event_id = created.get("id", SAMPLE_EVENT_ID)
    ids = {**bearer, SAMPLE_EVENT_ID: event_id}
    run.route("events-get", 200, ids)
    page = run.route("event-page", 200)
    run.route("event-page-register", 303, body=page_form(page), headers={"origin": PUBLIC_URL},
              label="events/event-page-register.json (the page's own token)")
    run.route("events-ticket-key", 200, ids)
    registration = run.route("registrations-create", 201, ids) or {}
    registration_id = registration.get("id", SAMPLE_REGISTRATION_ID)
    manage = {**ids, SAMPLE_REGISTRATION_ID: registration_id,
              "REPLACE_WITH_MANAGE_TOKEN": registration.get("manage_token", "no-token")}
    run.route("registrations-get", 200, manage)
    run.route("registrations-update", 200, manage)
    run.route("registrations-ticket", 404, manage, label="events/registrations-ticket.json (before the tickets worker)")

    with open(os.path.join(ROOT, "events", "sqs-projection.json"), encoding="utf-8") as f:
        run.worker("worker-projection", json.load(f), "events/sqs-projection.json")
    run.worker_from_queue("worker-tickets", "TicketsQueue", want={"RegistrationConfirmed"})
    ticket = run.route("registrations-ticket", 200, manage, label="events/registrations-ticket.json (ticket issued)")
    qr_payload = "REPLACE_WITH_QR_PAYLOAD"
    if isinstance(ticket, dict) and "png" in ticket:
        png_path = os.path.join(run.out, "ticket.png")
        with open(png_path, "wb") as f:
            f.write(ticket["png"])
        scanned = subprocess.run([os.environ["SAM_LOCAL_ENV_BIN"], "scan", png_path],
                                 capture_output=True, text=True)
        qr_payload = scanned.stdout.strip() or qr_payload
    run.worker_from_queue("worker-email", "EmailQueue", want={"TicketIssued"})
    run.worker_from_queue("worker-projection", "ProjectionQueue", want={"EventCreated", "RegistrationConfirmed"})
    run.route("events-list", 200)
    run.route("events-update", 200, ids)
    run.worker_from_queue("worker-cdn", "CdnQueue", want={"EventCreated", "EventUpdated"})
    run.route("events-registrations", 200, ids)
    run.route("events-report", 200, ids)
    scan = {**ids, "REPLACE_WITH_QR_PAYLOAD": qr_payload}
    run.route("checkins-create", 200, scan, label="events/checkins-create.json (the scanned ticket)")
    run.route("checkins-create", 409, scan, label="events/checkins-create.json (scanned again)")
    run.route("registrations-cancel", 409, manage, label="events/registrations-cancel.json (checked in)")
    second = run.route("registrations-create", 201, ids,
                       body={"email": "bob@example.org", "full_name": "Bob Lee"},
                       label="events/registrations-create.json (a second attendee)") or {}
    run.route("registrations-cancel", 200, {
        **ids, SAMPLE_REGISTRATION_ID: second.get("id", SAMPLE_REGISTRATION_ID),
        "REPLACE_WITH_MANAGE_TOKEN": second.get("manage_token", "no-token")},
        label="events/registrations-cancel.json (the second attendee)")
    third = run.route("registrations-create", 201, ids,
                      body={"email": "cleo@example.org", "full_name": "Cleo Park"},
                      label="events/registrations-create.json (a third attendee)") or {}
    third_manage = {**ids, SAMPLE_REGISTRATION_ID: third.get("id", SAMPLE_REGISTRATION_ID),
                    "REPLACE_WITH_MANAGE_TOKEN": third.get("manage_token", "no-token")}
    attendee_page = run.route("registrations-get", 200, third_manage, headers={"accept": "text/html"},
                              label="events/registrations-get.json (a browser: the attendee's page)")
    run.route("registrations-form", 303, third_manage,
              body=page_form(attendee_page, "registrations-form"),
              label="events/registrations-form.json (the page's own token)")

    # A fresh access token (the first may have lapsed: invocations under emulation are slow).
    refreshed = run.route("auth-refresh", 200, {SAMPLE_REFRESH_TOKEN: login.get("refresh_token", "none")}) or {}
    paid_journey(run, refreshed.get("access_token", "no-token"))
    run.route("auth-logout", 204, {SAMPLE_REFRESH_TOKEN: refreshed.get("refresh_token", "none")})

    admin_login = run.route("auth-login", 200, body=admin, label="events/auth-login.json (the ADMIN)") or {}
    as_admin = {**ids, "REPLACE_WITH_ACCESS_TOKEN": admin_login.get("access_token", "no-token"),
                "REPLACE_WITH_PASSWORD": "staff correct horse"}
    staff = run.route("users-create", 201, as_admin) or {}
    run.route("users-list", 200, as_admin)
    run.route("users-update", 200, {**as_admin, SAMPLE_USER_ID: staff.get("id", SAMPLE_USER_ID)})
    run.route("events-cancel", 200, as_admin)

    run.route("auth-password-reset", 202)
    reset_batch = run.worker_from_queue("worker-email", "EmailQueue", want={"PasswordResetRequested"})
    reset_token = SAMPLE_RESET_TOKEN
    for record in reset_batch["Records"]:
        envelope = json.loads(record["body"])
        if envelope.get("event", {}).get("type") == "PasswordResetRequested":
            reset_token = envelope["event"]["data"]["token"]
    run.route("auth-password-reset-confirm", 204, {SAMPLE_RESET_TOKEN: reset_token})
    run.route("auth-login", 401, label="events/auth-login.json (old password, after the reset)")

    scheduled(run, "outbox-sweeper", "republished", 1,
              "the ADMIN's UserSignedUp, which create-admin leaves to it")
    scheduled(run, "holds-expirer", "released", 0, "every hold paid or cancelled")


def main():
    resources_path, host_endpoint, container_endpoint, container_stripe, out_dir = sys.argv[1:6]
    with open(resources_path, encoding="utf-8") as f:
        resources = json.load(f)
    run = Run(resources, host_endpoint, container_endpoint, container_stripe, out_dir)
    started = time.monotonic()
    journey(run)
    total = time.monotonic() - started

    invoked = sorted({r["function"] for r in run.results})
    failed = [r for r in run.results if not r["ok"]]
    with open(os.path.join(out_dir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(run.results, f, indent=1)
    with open(os.path.join(out_dir, "results.md"), "w", encoding="utf-8") as f:
        f.write("| # | function | event | expected | answer | s | note |\n|---|---|---|---|---|---:|---|\n")
        for r in run.results:
            mark = "" if r["ok"] else " **FAILED**"
            f.write(f"| {r['step'][:2]} | {r['function']} | {r['event']} | {r['expected']} | "
                    f"{r['got']}{mark} | {r['seconds']} | {r['note']} |\n")
        f.write(f"\n{len(run.results)} invocations of {len(invoked)} functions in {total:.0f} s: "
                f"{len(run.results) - len(failed)} as expected, {len(failed)} not.\n")
    print(f"\n{len(run.results)} invocations of {len(invoked)} functions in {total:.0f} s "
          f"(results: {out_dir}/results.md)")
    print(f"{len(run.results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
