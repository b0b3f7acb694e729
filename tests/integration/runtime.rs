//! Every Lambda function through the real runtime: each bootstrap `cargo build --workspace`
//! made (`target/debug/<binary>`) runs as its own process against a Lambda Runtime API served
//! by the test (`evreg_tests::runtime_api`), with the environment `template.yaml` gives it
//! and its secrets in SSM (emulator), and is invoked with its `events/` payloads. This covers
//! what calling handlers in-process never does: `main`, the environment and secrets read at
//! init, `lambda_http`'s translation of API Gateway v2 events (base64 bodies, cookies,
//! repeated query keys, percent-encoding, a stage prefix, multi-value headers) and of the
//! responses (binary bodies), SQS batches with partial batch failures, the scheduled
//! sweeper, and a start that fails reporting `/runtime/init/error`.
//!
//! All bootstraps start at once; readiness is each one's first `/next` (no sleeping).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use evreg::domain::{DomainEvent, NewRegistration};
use evreg::handlers::common::attendee_page::form_subject;
use evreg::handlers::routes::ROUTES;
use evreg::handlers::schedules::SCHEDULES;
use evreg::handlers::workers::WORKERS;
use evreg::http::form::FormTokens;
use evreg::secrets::Secrets;
use evreg::tickets::{verify_ticket, TicketPublicKey};
use evreg::AppContext;
use evreg_tests::api::Reply;
use evreg_tests::clock::LaterClock;
use evreg_tests::esm::{batch_of, delete, queue_attribute, receive};
use evreg_tests::mailbox::sent_to;
use evreg_tests::provision::{self, Provisioned};
use evreg_tests::qr::scan_qr;
use evreg_tests::runtime_api::{Bootstrap, FunctionStack};
use evreg_tests::samples::{replaced, sample, with_id, SAMPLE_ORIGIN};
use serde_json::{json, Value};

/// How long a start or an invocation may take before the test gives up on it (debug
/// binaries on a busy 2-core machine start in well under a second).
const PATIENCE: Duration = Duration::from_secs(60);
const PASSWORD: &str = "correct horse battery";

/// Where the bootstraps are: `EVREG_BIN_DIR` (the test command sets it), else the
/// workspace's `target/debug`. `None` (after saying so) when they have not been built,
/// outside CI; in CI a missing bootstrap fails the test.
fn bin_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EVREG_BIN_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/debug")),
        PathBuf::from,
    );
    let missing: Vec<String> = provision::function_binaries()
        .into_iter()
        .filter(|binary| !dir.join(binary).is_file())
        .collect();
    if missing.is_empty() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "bootstraps missing from {}: {missing:?} (the test command builds them first)",
        dir.display()
    );
    eprintln!(
        "skipped: bootstraps missing from {} (run `cargo build --workspace` first): {missing:?}",
        dir.display()
    );
    None
}

/// A sample event, with every placeholder and fixture address replaced as given.
fn fixture(name: &str, replacements: &[(&str, &str)]) -> Value {
    replaced(&sample(name), replacements)
}

fn with_body(mut event: Value, body: &Value) -> Value {
    event["body"] = Value::String(body.to_string());
    event
}

/// Every byte percent-encoded, as the strictest client would send it.
fn percent_encoded(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// The template's stack in the emulator with every function running.
struct Stack {
    deployed: FunctionStack,
    sdk: aws_config::SdkConfig,
    provisioned: Provisioned,
    /// Test-side access to the same tables and secrets (seeding and checking).
    ctx: Arc<AppContext>,
    secrets: Secrets,
    functions: HashMap<String, Bootstrap>,
    /// Unique to this run: fixture addresses are rewritten with it (one emulator serves
    /// every test, and mail is found by recipient).
    tag: String,
}

impl Stack {
    async fn deploy(label: &str) -> Option<(Self, PathBuf)> {
        let deployed = FunctionStack::deploy(label).await?;
        let bin_dir = bin_dir()?;
        let stack = Self {
            sdk: deployed.app.sdk.clone(),
            provisioned: deployed.app.resources.clone(),
            ctx: deployed.app.ctx.clone(),
            secrets: deployed.secrets.clone(),
            deployed,
            functions: HashMap::new(),
            tag: uuid::Uuid::new_v4().simple().to_string()[..10].to_owned(),
        };
        Some((stack, bin_dir))
    }

    /// The environment the template gives `binary`, with evreg's own debug lines on (each
    /// request's `served` line, each message's `processed`: [`Stack::check_telemetry`]
    /// holds them to their spans).
    fn environment(&self, binary: &str) -> Vec<(String, String)> {
        let mut env = self.deployed.environment(binary);
        env.push(("RUST_LOG".to_owned(), "info,evreg=debug".to_owned()));
        env
    }

    /// Starts every function at once and waits for each one's first `/next`.
    async fn start_all(&mut self, bin_dir: &std::path::Path) {
        let mut starting = tokio::task::JoinSet::new();
        for binary in provision::function_binaries() {
            let path = bin_dir.join(&binary);
            let env = self.environment(&binary);
            starting.spawn(async move {
                let mut function = Bootstrap::start(&path, &binary, &env).await;
                let init = function.ready(PATIENCE).await;
                (function, init)
            });
        }
        let mut failures = Vec::new();
        let mut inits = Vec::new();
        while let Some(started) = starting.join_next().await {
            let (function, init) = started.expect("a start task");
            match init {
                Ok(init) => inits.push((function.name.clone(), init)),
                Err(error) => failures.push(error),
            }
            self.functions.insert(function.name.clone(), function);
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
        inits.sort();
        for (name, init) in inits {
            eprintln!("init {name}: {:.1} ms", init.as_secs_f64() * 1e3);
        }
    }

    fn function(&mut self, binary: &str) -> &mut Bootstrap {
        self.functions
            .get_mut(binary)
            .unwrap_or_else(|| panic!("no function {binary}"))
    }

    /// Invokes a route function with an API Gateway v2 event; the client's view of the
    /// answer.
    async fn http(&mut self, binary: &str, event: &Value) -> Reply {
        self.function(binary).call(event).await.http()
    }

    /// Invokes a worker with an SQS batch; the ids its partial batch response names.
    async fn sqs(&mut self, binary: &str, batch: &Value) -> Vec<String> {
        let response = self.function(binary).call(batch).await.json();
        response["batchItemFailures"]
            .as_array()
            .unwrap_or_else(|| panic!("{binary}: not a partial batch response: {response}"))
            .iter()
            .map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Lambda's SQS event source mapping over the worker bootstraps: every worker's queue
    /// is received in batches and handed to its bootstrap, with one poisoned record added
    /// to each batch, until a whole round finds nothing. Each batch's response must name
    /// exactly the poisoned record; the rest are deleted. Returns the messages handled per
    /// worker binary.
    async fn settle(&mut self) -> BTreeMap<&'static str, usize> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        let mut handled = BTreeMap::new();
        loop {
            let mut round = 0;
            for spec in WORKERS {
                let url = self
                    .provisioned
                    .worker_queue(spec.binary)
                    .expect("a queue per worker")
                    .to_owned();
                let arn =
                    queue_attribute(&sqs, &url, aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                        .await
                        .unwrap_or_default();
                loop {
                    let messages = receive(&sqs, &url).await;
                    if messages.is_empty() {
                        break;
                    }
                    let mut batch = serde_json::to_value(batch_of(&messages, &arn)).unwrap();
                    let poison = format!("poison-{}", uuid::Uuid::new_v4());
                    let mut poisoned = batch["Records"][0].clone();
                    poisoned["messageId"] = json!(poison);
                    poisoned["body"] = json!("not an envelope");
                    batch["Records"].as_array_mut().unwrap().push(poisoned);
                    let failed = self.sqs(spec.binary, &batch).await;
                    assert_eq!(
                        failed,
                        vec![poison],
                        "{}: only the poisoned record fails",
                        spec.binary
                    );
                    delete(&sqs, &url, &messages).await;
                    *handled.entry(spec.binary).or_default() += messages.len();
                    round += messages.len();
                }
            }
            if round == 0 {
                return handled;
            }
        }
    }

    /// A fixture address made unique to this run.
    fn email(&self, fixture_address: &str) -> String {
        let (user, domain) = fixture_address.split_once('@').unwrap();
        format!("{}-{}@{domain}", user.to_lowercase(), self.tag)
    }

    /// A sample event with this run's addresses in place of the fixture's.
    fn event(&self, name: &str, replacements: &[(&str, &str)]) -> Value {
        let mut all: Vec<(String, String)> = [
            "organizer@example.com",
            "Ann@Example.org",
            "ann@example.org",
            "bob@example.org",
            "cleo@example.org",
            "staff@example.org",
        ]
        .iter()
        .map(|a| (a.to_string(), self.email(a)))
        .collect();
        // The form posts percent-encode their `@` (base64 of it, so decode, replace, encode).
        for address in ["organizer@example.com", "fay@example.org"] {
            all.push((
                address.replace('@', "%40"),
                self.email(address).replace('@', "%40"),
            ));
        }
        let pairs: Vec<(&str, &str)> = all
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .chain(replacements.iter().copied())
            .collect();
        let mut event = fixture(name, &pairs);
        if event["isBase64Encoded"] == true {
            use base64::Engine;
            let engine = base64::engine::general_purpose::STANDARD;
            let body = engine
                .decode(event["body"].as_str().unwrap_or_default())
                .expect("base64 body");
            let mut body = String::from_utf8(body).expect("a text body");
            for (from, to) in &pairs {
                body = body.replace(from, to);
            }
            event["body"] = json!(engine.encode(&body));
        }
        event
    }

    /// The `name` spans (with their fields) on the JSON lines `binary` logged.
    fn spans(&self, binary: &str, name: &str) -> Vec<Value> {
        self.functions[binary]
            .output()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|line| line["spans"].as_array().cloned())
            .flatten()
            .filter(|span| span["name"] == name)
            .collect()
    }

    /// One trace across processes: each registration's request continues Lambda's X-Ray
    /// trace, its domain events carry it through SNS and SQS (`traceparent`), and the
    /// tickets worker and then the email worker continue it.
    fn check_traces(&self) {
        let registrations: Vec<Value> = self.spans("registrations-create", "request");
        assert!(!registrations.is_empty());
        let traces: Vec<&str> = registrations
            .iter()
            .filter_map(|span| span["trace_id"].as_str())
            .collect();
        for (worker, event_type) in [
            ("worker-tickets", "RegistrationConfirmed"),
            ("worker-email", "TicketIssued"),
        ] {
            let continued = self
                .spans(worker, "message")
                .iter()
                .filter(|span| span["event_type"] == event_type)
                .any(|span| {
                    span["trace_id"]
                        .as_str()
                        .is_some_and(|t| traces.contains(&t))
                });
            assert!(
                continued,
                "{worker}: a {event_type} in a registration's trace {traces:?}"
            );
        }
    }

    /// What every function wrote while the test ran, as CloudWatch reads it: EMF documents
    /// (metrics in the `evreg` namespace, labels as dimensions, flushed per invocation with
    /// its request and trace ids) and JSON log lines; and none of the run's personal data.
    fn check_telemetry(&self) {
        let personal: Vec<String> = [
            "ann@example.org",
            "bob@example.org",
            "cleo@example.org",
            "fay@example.org",
        ]
        .iter()
        .map(|a| self.email(a))
        .chain(["Ann Lee", "Cleo Park", "Fay Lin", "7946 0958"].map(str::to_owned))
        .collect();
        for (binary, function) in &self.functions {
            let output = function.output();
            for item in &personal {
                assert!(
                    !output.contains(item.as_str()),
                    "{binary} logged {item}:\n{output}"
                );
            }
            let lines: Vec<Value> = output
                .lines()
                .filter_map(|line| serde_json::from_str(line).ok())
                .collect();
            let documents: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
            let metric = |name: &str| -> Vec<&Value> {
                documents
                    .iter()
                    .copied()
                    .filter(|d| d.get(name).is_some())
                    .collect()
            };
            for document in &documents {
                let directive = &document["_aws"]["CloudWatchMetrics"][0];
                assert_eq!(directive["Namespace"], "evreg", "{binary}: {document}");
                for dimension in directive["Dimensions"][0].as_array().unwrap() {
                    let key = dimension.as_str().unwrap();
                    assert!(
                        document[key].is_string(),
                        "{binary}: dimension {key} in {document}"
                    );
                }
                assert!(
                    document["requestId"]
                        .as_str()
                        .is_some_and(|id| id.len() == 36),
                    "{binary}: the invocation's request id in {document}"
                );
                assert!(
                    document["traceId"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("Root=1-")),
                    "{binary}: X-Ray's trace id in {document}"
                );
            }
            let cold = metric("evreg_cold_starts");
            if lines.iter().all(|l| l.get("_aws").is_none()) && cold.is_empty() {
                continue; // never invoked
            }
            assert_eq!(cold.len(), 1, "{binary}: one cold start\n{output}");
            assert_eq!(
                (&cold[0]["function"], &cold[0]["evreg_cold_starts"]),
                (&json!(binary), &json!(1))
            );
            assert!(
                lines.iter().any(|l| l["fields"]["message"] == "cold start"
                    && l["fields"]["init_ms"].is_u64()
                    && l["fields"]["function"] == json!(binary)),
                "{binary}: the cold start is logged\n{output}"
            );
            if ROUTES.iter().any(|spec| spec.binary == binary.as_str()) {
                let requests = metric("evreg_http_requests");
                assert!(!requests.is_empty(), "{binary}: request counts\n{output}");
                for document in requests {
                    assert_eq!(document["route"], json!(binary));
                    assert!(
                        ["2xx", "3xx", "4xx"].contains(&document["status"].as_str().unwrap()),
                        "{document}"
                    );
                    assert!(
                        document["evreg_http_request_duration_seconds"].is_array(),
                        "{document}"
                    );
                }
                // Every line logged while serving sits in its request's span.
                for line in lines
                    .iter()
                    .filter(|l| l.get("_aws").is_none() && l["fields"]["message"] != "cold start")
                {
                    let request = line["spans"]
                        .as_array()
                        .and_then(|spans| spans.iter().find(|s| s["name"] == "request"));
                    assert!(
                        request.is_some_and(|span| span["route"] == json!(binary)
                            && span["aws_request_id"]
                                .as_str()
                                .is_some_and(|id| id.len() == 36)),
                        "{binary}: a line outside its request's span: {line}"
                    );
                }
            }
            if WORKERS.iter().any(|spec| spec.binary == binary.as_str()) {
                let messages = metric("evreg_worker_messages");
                assert!(
                    messages
                        .iter()
                        .any(|d| d["worker"] == json!(binary) && d["result"] == "failed"),
                    "{binary}: the poisoned records counted as failed\n{output}"
                );
                assert!(
                    !metric("evreg_worker_batch_size").is_empty(),
                    "{binary}: batch sizes"
                );
                assert!(
                    !metric("evreg_worker_message_age_seconds").is_empty(),
                    "{binary}: the oldest message's age (SQS's SentTimestamp)"
                );
            }
        }
    }

    async fn stop(self) {
        for (_, function) in self.functions {
            function.stop().await;
        }
    }
}

fn bearer(event: Value, token: &str) -> Value {
    serde_json::from_str(
        &event
            .to_string()
            .replace("REPLACE_WITH_ACCESS_TOKEN", token),
    )
    .unwrap()
}

/// The value of `name=` in a mail's link.
fn link_parameter(text: &str, name: &str) -> String {
    let marker = format!("{name}=");
    let start = text.find(&marker).expect("a link") + marker.len();
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '&' || c == '"' || c == '<')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL is set in AWS mode")
}

#[tokio::test]
async fn every_function_answers_its_events_through_the_lambda_runtime() {
    let Some((mut stack, bin_dir)) = Stack::deploy("runtime").await else {
        return;
    };
    stack.start_all(&bin_dir).await;
    assert_eq!(
        stack.functions.len(),
        ROUTES.len() + WORKERS.len() + 2,
        "a function per route and worker, the sweeper and the holds expirer"
    );

    // ---- identity
    let health = stack.http("health", &stack.event("health", &[])).await;
    assert_eq!((health.status, &health.body["status"]), (200, &json!("ok")));

    let signup = stack
        .http("auth-signup", &stack.event("auth-signup", &[]))
        .await;
    assert_eq!(signup.status, 201, "{:?}", signup.body);
    let again = stack
        .http("auth-signup", &stack.event("auth-signup", &[]))
        .await;
    assert_eq!((again.status, again.code()), (409, "email_taken"));

    let login = stack
        .http("auth-login", &stack.event("auth-login", &[]))
        .await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    let token = login.body["access_token"].as_str().unwrap().to_owned();
    let refresh_token = login.body["refresh_token"].as_str().unwrap().to_owned();

    // A real HTML form post: API Gateway base64-encodes it, lambda_http decodes it; the
    // API takes JSON only, and says so.
    let form = stack
        .http("auth-login", &stack.event("auth-login.form-post", &[]))
        .await;
    assert_eq!(
        (form.status, form.code()),
        (400, "malformed_body"),
        "{:?}",
        form.body
    );
    assert!(
        form.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("application/x-www-form-urlencoded")),
        "{:?}",
        form.body
    );

    // A public route that reads no secret at init still checks a bearer token, fetching
    // the key ring for the first one: a good token passes, a forged one is refused.
    let mut health_with_token = stack.event("health", &[]);
    health_with_token["headers"]["authorization"] = json!(format!("Bearer {token}"));
    let checked = stack.http("health", &health_with_token).await;
    assert_eq!(checked.status, 200, "{:?}", checked.body);
    health_with_token["headers"]["authorization"] = json!("Bearer not.a.token");
    let forged = stack.http("health", &health_with_token).await;
    assert_eq!((forged.status, forged.code()), (401, "unauthenticated"));

    let anonymous = stack.http("me", &stack.event("me", &[])).await;
    assert_eq!(
        (anonymous.status, anonymous.code()),
        (401, "unauthenticated")
    );
    let me = stack
        .http("me", &bearer(stack.event("me", &[]), &token))
        .await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["email"], signup.body["email"]);

    // ---- events
    let created = stack
        .http(
            "events-create",
            &bearer(stack.event("events-create", &[]), &token),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let event_id = created.body["id"].as_str().unwrap().to_owned();

    let got = stack
        .http(
            "events-get",
            &with_id(stack.event("events-get", &[]), &event_id),
        )
        .await;
    assert_eq!(
        (got.status, &got.body["slug"]),
        (200, &json!("rust-meetup"))
    );
    assert!(got
        .header("cache-control")
        .is_some_and(|c| c.starts_with("public")));
    // Cookies (the v2 `cookies` array) change nothing: the API authenticates by bearer
    // token only, so the answer is still the public, cacheable one.
    let with_cookies = stack
        .http(
            "events-get",
            &with_id(stack.event("events-get.cookies", &[]), &event_id),
        )
        .await;
    assert_eq!((with_cookies.status, &with_cookies.body), (200, &got.body));
    assert_eq!(
        with_cookies.header("cache-control"),
        got.header("cache-control")
    );
    // A named stage puts its name in rawPath; the route still answers.
    let staged = stack
        .http(
            "events-get",
            &with_id(stack.event("events-get.stage-prefix", &[]), &event_id),
        )
        .await;
    assert_eq!((staged.status, &staged.body), (200, &got.body));
    // The owner's token: the answer is private (events-get loads the key ring on demand).
    let owned = stack
        .http(
            "events-get",
            &bearer(
                {
                    let mut event = with_id(stack.event("events-get", &[]), &event_id);
                    event["headers"]["authorization"] = json!("Bearer REPLACE_WITH_ACCESS_TOKEN");
                    event
                },
                &token,
            ),
        )
        .await;
    assert_eq!((owned.status, &owned.body), (200, &got.body));
    assert_eq!(owned.header("cache-control"), Some("private, no-store"));
    let etag = got.header("etag").unwrap().to_owned();
    let mut revalidate = with_id(stack.event("events-get", &[]), &event_id);
    // Two If-None-Match headers, joined by API Gateway.
    revalidate["headers"]["if-none-match"] = json!(format!("\"stale\",{etag}"));
    let unchanged = stack.http("events-get", &revalidate).await;
    assert_eq!(unchanged.status, 304);

    // The sample update also sets a price; this event stays free (the paid journey has its
    // own event below), so that its registrations confirm at once.
    let update = with_id(stack.event("events-update", &[]), &event_id);
    let mut update_body: Value = serde_json::from_str(update["body"].as_str().unwrap()).unwrap();
    update_body["price_cents"] = json!(0);
    let updated = stack
        .http(
            "events-update",
            &bearer(with_body(update, &update_body), &token),
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);

    // ---- the event page, its calendar file and its form, as a browser sends them (of an
    // event of its own: the counts below are the sample event's)
    let page_slug = [("rust-meetup", "rust-meetup-page")];
    let page_event = stack
        .http(
            "events-create",
            &bearer(stack.event("events-create", &page_slug), &token),
        )
        .await;
    assert_eq!(page_event.status, 201, "{:?}", page_event.body);
    let page = stack
        .http("event-page", &stack.event("event-page", &page_slug))
        .await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let html = page.body.as_str().unwrap_or_default();
    assert!(
        html.contains("<h1>Rust Meetup</h1>") && html.contains("19:00 CET"),
        "{html}"
    );
    assert!(page
        .header("cache-control")
        .is_some_and(|c| c.starts_with("public")));
    assert!(page
        .header("content-security-policy")
        .is_some_and(|csp| csp.contains("frame-ancestors 'none'")));
    // The door app: its page with its own policy, and a file of it.
    let door = stack.http("door", &stack.event("door", &[])).await;
    assert_eq!(door.status, 200, "{:?}", door.body);
    assert!(door
        .header("content-security-policy")
        .is_some_and(|csp| csp.contains("script-src 'self'")));
    assert_eq!(door.header("permissions-policy"), Some("camera=(self)"));
    let script = stack
        .http("door-file", &stack.event("door-file", &[]))
        .await;
    assert_eq!(script.status, 200, "{:?}", script.body);
    assert!(script
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/javascript")));
    let calendar_event = stack.event("event-page", &[("rust-meetup", "rust-meetup-page.ics")]);
    let calendar = stack.http("event-page", &calendar_event).await;
    assert_eq!(calendar.status, 200, "{:?}", calendar.body);
    assert!(calendar
        .body
        .as_str()
        .is_some_and(|ics| ics.starts_with("BEGIN:VCALENDAR\r\n")));
    let form_token = FormTokens::new(&stack.secrets.attendee)
        .issue("rust-meetup-page", time::OffsetDateTime::now_utc());
    let public_url = evreg_tests::apps::TEST_PUBLIC_URL;
    let form = stack.event(
        "event-page-register",
        &[
            page_slug[0],
            (SAMPLE_ORIGIN, public_url),
            ("REPLACE_WITH_CSRF_TOKEN", form_token.as_str()),
        ],
    );
    let posted = stack.http("event-page-register", &form).await;
    assert_eq!(posted.status, 303, "{:?}", posted.body);
    assert!(posted
        .header("location")
        .is_some_and(|to| to.starts_with(&format!("{public_url}/registrations/"))));
    let again = stack.http("event-page-register", &form).await;
    assert_eq!(
        (again.status, again.header("location")),
        (303, posted.header("location")),
        "the double submit answers as the first"
    );

    // ---- attendees
    let registered = stack
        .http(
            "registrations-create",
            &with_id(stack.event("registrations-create", &[]), &event_id),
        )
        .await;
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    assert_eq!(registered.body["status"], "CONFIRMED");
    let registration_id = registered.body["id"].as_str().unwrap().to_owned();
    let manage_token = registered.body["manage_token"].as_str().unwrap().to_owned();
    assert!(stack
        .secrets
        .attendee
        .verify_manage_token(registration_id.parse().unwrap(), &manage_token));

    // A JSON body sent the way `curl -d` sends it (form content type), which API Gateway
    // base64-encodes.
    let base64_body = stack
        .http(
            "registrations-create",
            &with_id(
                stack.event("registrations-create.base64-body", &[]),
                &event_id,
            ),
        )
        .await;
    assert_eq!(base64_body.status, 201, "{:?}", base64_body.body);
    assert_eq!(base64_body.body["email"], stack.email("bob@example.org"));

    // Under a stage prefix, with a UTF-8 Idempotency-Key: the retry replays the answer.
    let staged_registration = with_id(
        stack.event("registrations-create.stage-prefix", &[]),
        &event_id,
    );
    let first = stack
        .http("registrations-create", &staged_registration)
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let retry = stack
        .http("registrations-create", &staged_registration)
        .await;
    assert_eq!(
        (retry.status, retry.header("idempotent-replayed")),
        (201, Some("true")),
        "the Idempotency-Key was honoured: {:?}",
        retry.body
    );
    assert_eq!(retry.body["id"], first.body["id"]);

    let manage = [
        ("REPLACE_WITH_MANAGE_TOKEN", manage_token.as_str()),
        (
            "REPLACE_WITH_PERCENT_ENCODED_MANAGE_TOKEN",
            &percent_encoded(&manage_token),
        ),
    ];
    for name in ["registrations-get", "registrations-get.percent-encoded"] {
        let reply = stack
            .http(
                "registrations-get",
                &with_id(stack.event(name, &manage), &registration_id),
            )
            .await;
        assert_eq!(
            (reply.status, &reply.body["id"]),
            (200, &json!(registration_id)),
            "{name}: {:?}",
            reply.body
        );
    }
    // A browser opening the emailed link gets the attendee's page.
    let mut browser = with_id(stack.event("registrations-get", &manage), &registration_id);
    browser["headers"]["accept"] = json!("text/html,*/*;q=0.8");
    let page = stack.http("registrations-get", &browser).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    assert!(page
        .body
        .as_str()
        .is_some_and(|html| html.contains("id=\"status\">")));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));

    let listed = stack
        .http(
            "events-registrations",
            &bearer(
                with_id(stack.event("events-registrations", &[]), &event_id),
                &token,
            ),
        )
        .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(3));
    // Accept: application/json and text/csv;q=0.5 on two lines, joined: JSON is preferred.
    let negotiated = stack
        .http(
            "events-registrations",
            &bearer(
                with_id(
                    stack.event("events-registrations.multi-value-headers", &[]),
                    &event_id,
                ),
                &token,
            ),
        )
        .await;
    assert_eq!(negotiated.status, 200, "{:?}", negotiated.body);
    assert_eq!(negotiated.header("content-type"), Some("application/json"));
    let mut csv = bearer(
        with_id(stack.event("events-registrations", &[]), &event_id),
        &token,
    );
    csv["headers"]["accept"] = json!("text/csv");
    let exported = stack.http("events-registrations", &csv).await;
    assert!(exported
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/csv")));
    assert_eq!(exported.bytes.iter().filter(|b| **b == b'\n').count(), 4);
    // ?status=CONFIRMED&status=WAITLISTED: a single-valued parameter given twice is refused.
    let repeated = stack
        .http(
            "events-registrations",
            &bearer(
                with_id(
                    stack.event("events-registrations.repeated-query", &[]),
                    &event_id,
                ),
                &token,
            ),
        )
        .await;
    assert_eq!(
        (repeated.status, repeated.code()),
        (400, "invalid_query"),
        "{:?}",
        repeated.body
    );

    let key = stack
        .http(
            "events-ticket-key",
            &with_id(stack.event("events-ticket-key", &[]), &event_id),
        )
        .await;
    assert_eq!(key.status, 200, "{:?}", key.body);
    let public_key =
        TicketPublicKey::from_base64url(key.body["public_key"].as_str().unwrap()).unwrap();

    // ---- a paid event: a hold whose checkout is opened at Stripe (the stand-in), one
    // that lapsed, the expirer passing its seat to the waitlist, the signed webhook
    let paid_event = stack
        .http(
            "events-create",
            &with_body(
                bearer(stack.event("events-create", &[]), &token),
                &json!({
                    "name": "Paid Workshop", "slug": "paid-workshop",
                    "date": "2027-03-02T18:00:00Z", "venue": "Hall B", "max_capacity": 2,
                    "price_cents": 1500, "currency": "EUR", "status": "PUBLISHED",
                    "waitlist_enabled": true,
                }),
            ),
        )
        .await;
    assert_eq!(paid_event.status, 201, "{:?}", paid_event.body);
    let paid_event_id = paid_event.body["id"].as_str().unwrap().to_owned();
    // A hold taken two hours ago (test-side, with its clock turned back): lapsed by now.
    let two_hours_ago = AppContext {
        clock: Arc::new(LaterClock(-time::Duration::hours(2))),
        ..(*stack.ctx).clone()
    };
    let lapsed = evreg::services::registrations::register(
        &two_hours_ago,
        paid_event_id.parse().unwrap(),
        NewRegistration {
            email: stack.email("cleo@example.org"),
            full_name: "Cleo Park".to_owned(),
            phone: None,
        },
    )
    .await
    .expect("a hold");
    let lapsed_checkout = lapsed
        .hold
        .and_then(|hold| hold.checkout_id)
        .expect("a checkout");
    let register = |stack: &Stack, attendee: &str| {
        with_body(
            with_id(stack.event("registrations-create", &[]), &paid_event_id),
            &json!({ "email": stack.email(attendee), "full_name": "A. Attendee" }),
        )
    };
    let held = stack
        .http("registrations-create", &register(&stack, "eve@example.org"))
        .await;
    assert_eq!(
        (held.status, &held.body["status"]),
        (201, &json!("PENDING_PAYMENT")),
        "{:?}",
        held.body
    );
    let held_id = held.body["id"].as_str().unwrap().to_owned();
    let held_token = held.body["manage_token"].as_str().unwrap().to_owned();
    let stripe = stack.deployed.app.stripe.clone();
    let checkout = stripe
        .session_of(&held_id)
        .expect("registrations-create opened a checkout with the secret key from SSM");
    assert_eq!(
        held.body["checkout_url"],
        json!(format!(
            "https://checkout.stripe.test/c/pay/{}",
            checkout.id
        ))
    );
    let waiting = stack
        .http("registrations-create", &register(&stack, "dan@example.org"))
        .await;
    assert_eq!(
        (waiting.status, &waiting.body["status"]),
        (201, &json!("WAITLISTED")),
        "{:?}",
        waiting.body
    );
    let waiting_id = waiting.body["id"].as_str().unwrap().to_owned();

    let expired = stack
        .function("holds-expirer")
        .call(&fixture("schedule-holds-expirer", &[]))
        .await
        .json();
    assert_eq!(expired["released"], 1, "{expired}");

    let body = stripe.complete(&checkout.id);
    let signed_at = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut webhook = stack.event("payments-webhook", &[]);
    webhook["body"] = json!(body);
    webhook["headers"]["stripe-signature"] = json!(evreg::payments::signature::sign(
        &stack.secrets.payments.webhook_secrets[0],
        signed_at,
        body.as_bytes(),
    ));
    let confirmed_by_webhook = stack.http("payments-webhook", &webhook).await;
    assert_eq!(
        confirmed_by_webhook.status, 200,
        "{:?}",
        confirmed_by_webhook.body
    );
    webhook["headers"]["stripe-signature"] = json!(format!("t={signed_at},v1={}", "0".repeat(64)));
    let forged_webhook = stack.http("payments-webhook", &webhook).await;
    assert_eq!(
        (forged_webhook.status, forged_webhook.code()),
        (400, "invalid_webhook")
    );
    let edited = stack
        .http(
            "registrations-update",
            &with_id(
                stack.event(
                    "registrations-update",
                    &[("REPLACE_WITH_MANAGE_TOKEN", held_token.as_str())],
                ),
                &held_id,
            ),
        )
        .await;
    assert_eq!(
        (
            edited.status,
            &edited.body["status"],
            &edited.body["full_name"]
        ),
        (200, &json!("CONFIRMED"), &json!("Ann Lee-Chen")),
        "{:?}",
        edited.body
    );

    // ---- the workers, through their bootstraps: ticket, mail, read model, CDN, payments
    let handled = stack.settle().await;
    for spec in WORKERS {
        assert!(
            handled.get(spec.binary).copied().unwrap_or(0) > 0,
            "{} handled nothing: {handled:?}",
            spec.binary
        );
    }
    let ticket = stack
        .http(
            "registrations-ticket",
            &with_id(
                stack.event("registrations-ticket", &manage),
                &registration_id,
            ),
        )
        .await;
    assert_eq!(ticket.status, 200, "{:?}", ticket.body);
    assert_eq!(ticket.header("content-type"), Some("image/png"));
    let payload = scan_qr(&ticket.bytes);
    let claims = verify_ticket(&payload, &public_key).expect("the ticket verifies offline");
    assert_eq!(claims.registration_id.to_string(), registration_id);

    // The payments worker closed the lapsed checkout and opened the offer's, returning to
    // the attendee's manage link (its attendee secret is the stack's).
    assert!(
        stripe
            .sessions()
            .iter()
            .any(|s| s.id == lapsed_checkout && s.status == "expired"),
        "the lapsed checkout is closed: {:?}",
        stripe.sessions()
    );
    let offer = stripe
        .session_of(&waiting_id)
        .expect("the offer's checkout");
    assert!(stack.secrets.attendee.verify_manage_token(
        waiting_id.parse().unwrap(),
        &link_parameter(&offer.return_url, "token")
    ));
    let offer_mail = sent_to(&endpoint(), &stack.email("dan@example.org")).await;
    assert!(
        offer_mail.iter().any(|m| m
            .text()
            .is_some_and(|t| t.contains(&format!("/c/pay/{}", offer.id)))),
        "dan was mailed the offer's link"
    );

    let ann = stack.email("ann@example.org");
    let mail = sent_to(&endpoint(), &ann).await;
    assert_eq!(mail.len(), 1, "one confirmation for {ann}");
    let text = mail[0].text().expect("a text part");
    assert_eq!(link_parameter(&text, "token"), manage_token);

    // LocalStack's community edition has no CloudFront: the stack then has no distribution.
    if let Some(distribution) = stack.provisioned.api_distribution() {
        let invalidations = aws_sdk_cloudfront::Client::new(&stack.sdk)
            .list_invalidations()
            .distribution_id(distribution)
            .send()
            .await
            .expect("list invalidations");
        assert!(
            invalidations
                .invalidation_list()
                .is_some_and(|l| l.quantity() >= 2),
            "the CDN worker invalidated on create and update"
        );
    }

    let listing = stack
        .http("events-list", &stack.event("events-list", &[]))
        .await;
    assert_eq!(listing.status, 200, "{:?}", listing.body);
    let listed_event = listing.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|item| item["id"] == json!(event_id)))
        .unwrap_or_else(|| panic!("{event_id} is listed: {:?}", listing.body));
    assert_eq!(listed_event["registered"], 3);
    let filtered = stack
        .http(
            "events-list",
            &stack.event("events-list.percent-encoded", &[]),
        )
        .await;
    assert_eq!(filtered.status, 200, "{:?}", filtered.body);
    assert_eq!(filtered.body["items"][0]["id"], json!(event_id));

    // ---- the door
    let checkin = bearer(
        stack.event("checkins-create", &[("REPLACE_WITH_QR_PAYLOAD", &payload)]),
        &token,
    );
    let admitted = stack.http("checkins-create", &checkin).await;
    assert_eq!(admitted.status, 200, "{:?}", admitted.body);
    let twice = stack.http("checkins-create", &checkin).await;
    assert_eq!((twice.status, twice.code()), (409, "already_checked_in"));
    let cancel = stack
        .http(
            "registrations-cancel",
            &with_id(
                stack.event("registrations-cancel", &manage),
                &registration_id,
            ),
        )
        .await;
    assert_eq!((cancel.status, cancel.code()), (409, "already_checked_in"));
    // The attendee page's cancel button, with the page's token: the same refusal, on the page.
    let cancel_token = FormTokens::new(&stack.secrets.attendee).issue(
        &form_subject(registration_id.parse().expect("uuid")),
        time::OffsetDateTime::now_utc(),
    );
    let mut cancel_form = manage.to_vec();
    cancel_form.push(("REPLACE_WITH_CSRF_TOKEN", cancel_token.as_str()));
    let refused = stack
        .http(
            "registrations-form",
            &with_id(
                stack.event("registrations-form", &cancel_form),
                &registration_id,
            ),
        )
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(refused.header("referrer-policy"), Some("no-referrer"));
    // The door's revocation list: nothing of this event was cancelled; the cursor it hands
    // out reads back through the same function.
    let revocations = bearer(
        with_id(stack.event("events-revocations", &[]), &event_id),
        &token,
    );
    let listed = stack.http("events-revocations", &revocations).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(
        (&listed.body["revocations"], &listed.body["has_more"]),
        (&json!([]), &json!(false))
    );
    let mut again = revocations.clone();
    let cursor = listed.body["next_cursor"].as_str().expect("a cursor");
    again["queryStringParameters"]["since"] = json!(cursor);
    again["rawQueryString"] = json!(format!("limit=500&since={cursor}"));
    let resumed = stack.http("events-revocations", &again).await;
    assert_eq!(resumed.status, 200, "{:?}", resumed.body);
    stack.settle().await;
    let report = stack
        .http(
            "events-report",
            &bearer(
                with_id(stack.event("events-report", &[]), &event_id),
                &token,
            ),
        )
        .await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    assert_eq!(
        (&report.body["registered"], &report.body["checked_in"]),
        (&json!(3), &json!(1))
    );

    // ---- sessions and password reset
    let refresh = json!({ "refresh_token": refresh_token });
    let refreshed = stack
        .http(
            "auth-refresh",
            &with_body(stack.event("auth-refresh", &[]), &refresh),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    let newest = json!({ "refresh_token": refreshed.body["refresh_token"] });
    let logout = stack
        .http(
            "auth-logout",
            &with_body(stack.event("auth-logout", &[]), &newest),
        )
        .await;
    assert_eq!(logout.status, 204, "{:?}", logout.body);

    let reset = stack
        .http(
            "auth-password-reset",
            &stack.event("auth-password-reset", &[]),
        )
        .await;
    assert_eq!(reset.status, 202, "{:?}", reset.body);
    stack.settle().await;
    let organizer = stack.email("organizer@example.com");
    let reset_mail = sent_to(&endpoint(), &organizer).await;
    assert_eq!(reset_mail.len(), 1, "one reset mail for {organizer}");
    let reset_token = link_parameter(&reset_mail[0].text().unwrap(), "token");
    let confirm = json!({ "token": reset_token, "password": "a new correct horse" });
    let confirmed = stack
        .http(
            "auth-password-reset-confirm",
            &with_body(stack.event("auth-password-reset-confirm", &[]), &confirm),
        )
        .await;
    assert_eq!(confirmed.status, 204, "{:?}", confirmed.body);

    // ---- ADMIN: users and cancelling the event
    let admin_email = stack.email("admin@example.org");
    evreg::runtime::admin::create_admin(stack.ctx.users.as_ref(), &admin_email, PASSWORD.into())
        .await
        .expect("the first ADMIN");
    let admin_login = stack
        .http(
            "auth-login",
            &with_body(
                stack.event("auth-login", &[]),
                &json!({ "email": admin_email, "password": PASSWORD }),
            ),
        )
        .await;
    assert_eq!(admin_login.status, 200, "{:?}", admin_login.body);
    let admin = admin_login.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let staff = stack
        .http(
            "users-create",
            &bearer(
                stack.event("users-create", &[("REPLACE_WITH_PASSWORD", PASSWORD)]),
                &admin,
            ),
        )
        .await;
    assert_eq!(staff.status, 201, "{:?}", staff.body);
    let users = stack
        .http(
            "users-list",
            &bearer(stack.event("users-list", &[]), &admin),
        )
        .await;
    assert_eq!(users.status, 200, "{:?}", users.body);
    assert_eq!(users.body["items"].as_array().map(Vec::len), Some(3));
    let deactivated = stack
        .http(
            "users-update",
            &bearer(
                with_id(
                    stack.event("users-update", &[]),
                    staff.body["id"].as_str().unwrap(),
                ),
                &admin,
            ),
        )
        .await;
    assert_eq!(
        (deactivated.status, &deactivated.body["active"]),
        (200, &json!(false))
    );
    let cancelled = stack
        .http(
            "events-cancel",
            &bearer(
                with_id(stack.event("events-cancel", &[]), &event_id),
                &admin,
            ),
        )
        .await;
    assert!(
        (200..300).contains(&cancelled.status),
        "{}: {:?}",
        cancelled.status,
        cancelled.body
    );
    stack.settle().await;
    assert_eq!(
        sent_to(&endpoint(), &stack.email("bob@example.org"))
            .await
            .len(),
        2,
        "bob's confirmation and the cancellation notice"
    );

    // ---- the sweeper: a write whose publish failed, older than the grace period
    let stale = AppContext {
        clock: Arc::new(LaterClock(
            -(evreg::handlers::schedules::outbox_sweeper::SWEEP_GRACE + time::Duration::seconds(5)),
        )),
        ..(*stack.ctx).clone()
    };
    let envelope = evreg::domain::Envelope::new(
        DomainEvent::UserSignedUp {
            user_id: evreg::domain::UserId::now_v7(),
        },
        stale.clock.now(),
    );
    stale
        .users
        .create_user(
            &evreg_tests::fixtures::user(&stack.email("dora@example.org")),
            std::slice::from_ref(&envelope),
        )
        .await
        .expect("a write whose publish never happened")
        .unpublished();
    let swept = stack
        .function("outbox-sweeper")
        .call(&fixture("schedule-outbox-sweeper", &[]))
        .await
        .json();
    assert!(swept["republished"].as_u64() >= Some(1), "{swept}");
    let unpublished = stack.ctx.outbox.unpublished(100).await.unwrap();
    assert!(
        unpublished.iter().all(|e| e.id != envelope.id),
        "the sweeper published the stale entry"
    );

    // ---- the sample batches as they are
    let sample = fixture("sqs-projection", &[]);
    assert!(stack.sqs("worker-projection", &sample).await.is_empty());
    assert!(stack
        .sqs("worker-cdn", &fixture("sqs-cdn", &[]))
        .await
        .is_empty());
    // A lapsed hold whose checkout the provider does not know (or closed already): closed.
    assert!(stack
        .sqs("worker-payments", &fixture("sqs-payments", &[]))
        .await
        .is_empty());

    stack.check_telemetry();
    stack.check_traces();
    stack.stop().await;
}

/// A start whose secrets cannot be read fails the init phase the way Lambda expects: the
/// error posted to `/runtime/init/error` (not a process that just exits).
#[tokio::test]
async fn a_start_without_its_secrets_reports_an_init_error() {
    let Some((stack, bin_dir)) = Stack::deploy("initerror").await else {
        return;
    };
    let mut env = stack.environment("me");
    for (name, value) in &mut env {
        if name == "JWT_KEYS_PARAMETER" {
            *value = format!("/evreg/{}/missing", stack.provisioned.prefix);
        }
    }
    let mut function = Bootstrap::start(&bin_dir.join("me"), "me", &env).await;
    let error = function
        .ready(PATIENCE)
        .await
        .expect_err("init must fail without the JWT key ring");
    assert!(error.contains("/runtime/init/error"), "{error}");
    assert!(error.contains("missing"), "{error}");
    function.stop().await;
}

/// What each function's init reads (the `needs` column of its table), by binary.
fn needs_of(binary: &str) -> evreg::handlers::declare::Needs {
    let routes = ROUTES.iter().map(|r| (r.binary, r.needs));
    let workers = WORKERS.iter().map(|w| (w.binary, w.needs));
    let schedules = SCHEDULES.iter().map(|s| (s.binary, s.needs));
    routes
        .chain(workers)
        .chain(schedules)
        .find_map(|(name, needs)| (name == binary).then_some(needs))
        .unwrap_or_else(|| panic!("{binary}: a function that is no route, worker or schedule"))
}

/// `(policy name, the `!Ref` it names, if any)` for each of a function's policy templates.
fn policies_of(function: &serde_yaml_ng::Value) -> Vec<(String, Option<String>)> {
    use serde_yaml_ng::Value;
    let policies = function
        .get("Properties")
        .and_then(|p| p.get("Policies"))
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    policies
        .iter()
        .filter_map(Value::as_mapping)
        .flat_map(|mapping| mapping.iter())
        .filter_map(|(name, arguments)| {
            let name = name.as_str()?.to_owned();
            let reference = arguments
                .as_mapping()
                .into_iter()
                .flat_map(|m| m.values())
                .find_map(|value| match value {
                    Value::Tagged(tagged) if tagged.tag == "Ref" => {
                        tagged.value.as_str().map(str::to_owned)
                    }
                    _ => None,
                });
            Some((name, reference))
        })
        .collect()
}

/// Every function's init calls what its template policies allow: `GetItem` on its
/// warm-up table (DynamoDBReadPolicy and DynamoDBCrudPolicy grant it), and SSM where it
/// reads a secret (route functions may fetch the key ring for a bearer token).
#[test]
fn every_functions_init_is_allowed_by_its_template_policies() {
    use evreg::handlers::declare::Warm;
    let template = provision::template();
    let resources = template["Resources"].as_mapping().expect("Resources");
    let mut checked = 0;
    for (id, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("a binary");
        let needs = needs_of(binary);
        let policies = policies_of(resource);
        let can_read = |table: &str| {
            policies.iter().any(|(name, reference)| {
                matches!(name.as_str(), "DynamoDBReadPolicy" | "DynamoDBCrudPolicy")
                    && reference.as_deref() == Some(table)
            })
        };
        match needs.warm {
            Warm::WriteTable => assert!(can_read("WriteTable"), "{id:?}: {policies:?}"),
            Warm::ReadTable => assert!(can_read("ReadTable"), "{id:?}: {policies:?}"),
            Warm::Nothing => {}
        }
        let is_route = ROUTES.iter().any(|r| r.binary == binary);
        let reads_ssm = policies
            .iter()
            .any(|(name, _)| name == "SSMParameterReadPolicy");
        if needs.reads_secrets() || is_route {
            assert!(reads_ssm, "{id:?} reads SSM: {policies:?}");
        } else if reads_ssm {
            eprintln!("{id:?}: granted SSM it never reads");
        }
        checked += 1;
    }
    assert_eq!(checked, ROUTES.len() + WORKERS.len() + SCHEDULES.len());
}
