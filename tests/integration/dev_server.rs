//! The dev-server binary itself (`make dev`): it prints its URL, serves the API, and keeps
//! its state in the data directory across a restart.

use evreg_tests::api::{create_event, new_organizer, Api, HttpApi};
use evreg_tests::dev_server::{binary_and_data_dir, DevServer};
use serde_json::json;

/// Its commands explain themselves: `--help` is an answer (status 0, on standard output),
/// a wrong command line an error naming what is wrong (status 2) — never a server started
/// by mistake, nothing written.
#[test]
fn the_binary_answers_help_and_refuses_a_wrong_command_line() {
    let Some((binary, data_dir)) = binary_and_data_dir() else {
        return;
    };
    let run = |args: &[&str]| {
        std::process::Command::new(&binary)
            .args(args)
            .env("EVREG_DATA_DIR", &data_dir)
            .output()
            .expect("evreg-dev runs")
    };
    let help = run(&["--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert_eq!(help.status.code(), Some(0), "{text}");
    assert!(
        text.contains("create-admin") && text.contains("dead-letters"),
        "{text}"
    );
    for (args, says) in [
        (&["bogus"][..], "unrecognized subcommand 'bogus'"),
        (&["create-admin"][..], "--email <EMAIL>"),
        (
            &["dead-letters", "list", "--queue", "q", "--aws"][..],
            "cannot be used with",
        ),
        (
            &["dead-letters", "redrive", "--prefix", "evreg"][..],
            "--aws",
        ),
    ] {
        let refused = run(args);
        let error = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{args:?}: {error}");
        assert!(error.contains(says), "{args:?}: {error}");
    }
    assert!(
        !data_dir.join("evreg.sqlite3").exists(),
        "a refused command line opens no database"
    );
}

#[tokio::test]
async fn the_binary_serves_the_api_and_keeps_state_across_restarts() {
    let Some((binary, data_dir)) = binary_and_data_dir() else {
        return;
    };
    let credentials = json!({ "email": "dev@example.org", "password": "correct horse battery" });

    let first = DevServer::start(&binary, &data_dir);
    let api = HttpApi::new(first.url.clone());
    assert_eq!(api.get("/health", None).await.status, 200);
    assert_eq!(
        api.post("/auth/signup", None, credentials.clone())
            .await
            .status,
        201
    );
    drop(first);

    let second = DevServer::start(&binary, &data_dir);
    let api = HttpApi::new(second.url.clone());
    let login = api.post("/auth/login", None, credentials).await;
    assert_eq!(
        login.status, 200,
        "the account survived the restart: {:?}",
        login.body
    );
    assert!(
        data_dir.join("secrets/jwt-keys.json").exists(),
        "dev secrets were generated"
    );
    drop(second);
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// The README's paid journey: a hold with a checkout link, the dev checkout page, "Pay"
/// (a signed webhook into the same server) and "Fail".
#[tokio::test]
async fn the_binary_takes_payments_through_its_checkout_page() {
    let Some((binary, data_dir)) = binary_and_data_dir() else {
        return;
    };
    let server = DevServer::start(&binary, &data_dir);
    let api = HttpApi::new(server.url.clone());
    let owner = new_organizer(&api).await;
    let event_id = create_event(
        &api,
        &owner,
        json!({ "max_capacity": 5, "price_cents": 4900, "currency": "EUR" }),
    )
    .await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    for (button, outcome, page_says) in [
        ("pay", "CONFIRMED", "closed (paid)"),
        ("fail", "PENDING_PAYMENT", "closed (expired)"),
    ] {
        let held = api
            .post(
                &format!("/events/{event_id}/registrations"),
                None,
                json!({ "email": format!("{button}@example.org"), "full_name": "Bo Chen" }),
            )
            .await;
        assert_eq!(held.body["status"], "PENDING_PAYMENT", "{:?}", held.body);
        let checkout = held.body["checkout_url"].as_str().expect("a checkout link");
        assert!(checkout.starts_with(&format!("{}/_dev/checkout/", server.url)));
        let page = browser.get(checkout).send().await.expect("the page");
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("html");
        assert!(
            html.contains("49.00 EUR") && html.contains(">Pay<"),
            "{html}"
        );

        let pressed = browser
            .post(format!("{checkout}/{button}"))
            .send()
            .await
            .expect("the button");
        assert_eq!(pressed.status(), 303, "back to the registration");
        let (id, token) = (
            held.body["id"].as_str().expect("id"),
            held.body["manage_token"].as_str().expect("token"),
        );
        let registration = api
            .get(&format!("/registrations/{id}?token={token}"), None)
            .await;
        assert_eq!(registration.body["status"], outcome, "{button}");
        let closed = browser.get(checkout).send().await.expect("the page");
        assert!(closed.text().await.expect("html").contains(page_says));
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// The stage's throttling, per source address: a crowd of refreshes (an auth route: a
/// burst of 20) from one client meets 429 `rate_limited` with `Retry-After` once its
/// bucket is empty, while the same client's other routes still pass.
#[tokio::test]
async fn the_binary_sheds_load_per_route_as_the_deployed_stage_does() {
    let Some((binary, data_dir)) = binary_and_data_dir() else {
        return;
    };
    let server = DevServer::start(&binary, &data_dir);
    let api = HttpApi::new(server.url.clone());
    let crowd = (0..60).map(|_| {
        api.post(
            "/auth/refresh",
            None,
            json!({ "refresh_token": "not-a-token" }),
        )
    });
    let replies = futures_util::future::join_all(crowd).await;
    let refused = replies.iter().filter(|r| r.status == 401).count();
    let limited: Vec<_> = replies.iter().filter(|r| r.status == 429).collect();
    assert_eq!(refused + limited.len(), 60, "401 or 429 only");
    assert!(refused >= 20, "the burst passes: {refused}");
    assert!(!limited.is_empty(), "then the bucket is empty");
    for reply in limited {
        assert_eq!(reply.code(), "rate_limited");
        let retry_after: u64 = reply
            .header("retry-after")
            .and_then(|s| s.parse().ok())
            .expect("Retry-After in seconds");
        assert!(retry_after >= 1);
    }
    assert_eq!(api.get("/health", None).await.status, 200, "another class");
    drop(server);
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// Observability, as a deployer reads it: after a journey (sign-up, login, an event, a
/// registration, its ticket and mail, a check-in, a duplicate, a password reset),
/// `GET /metrics` counts the requests per route and status class, the registrations and
/// check-ins by outcome and the workers' messages; every log line of a request carries
/// its route and request id, every worker line its message and event ids; and no line
/// holds an attendee's email, name, phone, password or token.
#[tokio::test]
async fn the_binary_measures_and_logs_a_journey_without_personal_data() {
    let Some((binary, data_dir)) = binary_and_data_dir() else {
        return;
    };
    let server = DevServer::start(&binary, &data_dir);
    let api = HttpApi::new(server.url.clone());
    let owner = new_organizer(&api).await;
    let event_id = create_event(&api, &owner, json!({ "max_capacity": 5 })).await;
    let (email, name, phone) = (
        "zed.quill@example.org",
        "Zed Quillfeather",
        "+44 20 7946 0958",
    );
    let path = format!("/events/{event_id}/registrations");
    let body = json!({ "email": email, "full_name": name, "phone": phone });
    let registered = api.post(&path, None, body.clone()).await;
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    assert_eq!(api.post(&path, None, body).await.status, 409);
    let manage_token = registered.body["manage_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let id = registered.body["id"].as_str().expect("an id").to_owned();
    // The ticket worker has issued the ticket once the PNG is served.
    let mut ticket = None;
    for _ in 0..200 {
        let png = api
            .send(
                evreg_tests::api::ApiRequest::new(
                    http::Method::GET,
                    format!("/registrations/{id}/ticket"),
                )
                .header("x-manage-token", manage_token.as_str()),
            )
            .await;
        if png.status == 200 {
            ticket = Some(png.bytes);
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let png = ticket.expect("the ticket was issued");
    let image = image::load_from_memory(&png).expect("a PNG").to_luma8();
    let mut grid = rqrr::PreparedImage::prepare(image);
    let (_, payload) = grid.detect_grids()[0].decode().expect("a QR code");
    let admitted = api
        .send(
            evreg_tests::api::ApiRequest::new(http::Method::POST, "/checkins")
                .bearer(&owner)
                .json(json!({ "ticket": payload })),
        )
        .await;
    assert_eq!(admitted.status, 200, "{:?}", admitted.body);
    let reset = api
        .post("/auth/password-reset", None, json!({ "email": email }))
        .await;
    assert_eq!(reset.status, 202);

    let metrics = reqwest::get(format!("{}/metrics", server.url))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("text");
    for line in [
        r#"evreg_registrations{outcome="confirmed"} 1"#,
        r#"evreg_registrations{outcome="duplicate"} 1"#,
        r#"evreg_checkins{outcome="admitted"} 1"#,
        r#"evreg_http_requests{route="registrations-create",status="2xx"} 1"#,
        r#"evreg_http_requests{route="registrations-create",status="4xx"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    for name in [
        "evreg_http_request_duration_seconds_count{route=\"checkins-create\",status=\"2xx\"}",
        "evreg_worker_messages{worker=\"worker-tickets\",result=\"processed\"}",
        "evreg_worker_batch_size_count{worker=\"worker-projection\"}",
        // The embedded queues keep SQS's SentTimestamp.
        "evreg_worker_message_age_seconds_count{worker=\"worker-email\"}",
    ] {
        assert!(metrics.contains(name), "{name} in\n{metrics}");
    }

    let logs = server.output();
    let request_lines: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("\"route\":\"checkins-create\""))
        .collect();
    assert!(
        !request_lines.is_empty(),
        "a check-in's lines name their route:\n{logs}"
    );
    assert!(request_lines
        .iter()
        .all(|line| line.contains("aws_request_id")));
    assert!(
        logs.lines().any(|line| line.contains("\"message_id\"")
            && line.contains("\"event_type\":\"RegistrationConfirmed\"")
            && line.contains("\"envelope_id\"")),
        "a worker's lines name their message:\n{logs}"
    );
    // One trace from the registration to its mail: the registering request's trace id is
    // on the lines of the messages it caused, down to the email worker's.
    let spans_of = |line: &str| -> Vec<serde_json::Value> {
        serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|l| l["spans"].as_array().cloned())
            .unwrap_or_default()
    };
    let registration_traces: Vec<String> = logs
        .lines()
        .flat_map(spans_of)
        .filter(|span| span["name"] == "request" && span["route"] == "registrations-create")
        .filter_map(|span| span["trace_id"].as_str().map(str::to_owned))
        .collect();
    assert!(
        !registration_traces.is_empty(),
        "registering logs its trace:\n{logs}"
    );
    let mailed_in_trace = logs.lines().map(spans_of).any(|spans| {
        spans
            .iter()
            .any(|s| s["name"] == "batch" && s["worker"] == "worker-email")
            && spans.iter().any(|s| {
                s["name"] == "message"
                    && s["event_type"] == "TicketIssued"
                    && s["trace_id"]
                        .as_str()
                        .is_some_and(|t| registration_traces.iter().any(|r| r == t))
            })
    });
    assert!(
        mailed_in_trace,
        "the ticket's mail is in the registration's trace ({registration_traces:?}):\n{logs}"
    );
    for secret in [
        email,
        name,
        phone,
        "correct horse battery",
        manage_token.as_str(),
        owner.as_str(),
    ] {
        assert!(!logs.contains(secret), "{secret:?} was logged:\n{logs}");
    }
    assert!(!logs.contains("+442079460958") && !logs.contains("Quillfeather"));
    drop(server);
    let _ = std::fs::remove_dir_all(&data_dir);
}
