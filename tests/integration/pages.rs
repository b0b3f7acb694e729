//! The public event page (`GET /e/{slug}`, its `.ics`) and its registration form
//! (`POST /e/{slug}`), in both modes: what the page shows (times in the event's time zone,
//! seats from the read model), its caching and security headers, HTML escaping of every
//! organizer- and attendee-controlled field, the form's one code path with the JSON route,
//! its double-submit and CSRF protection, and the form shown again on refusal; and the
//! attendee's page (`GET /registrations/{id}` as a browser asks for it).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use evreg::domain::{EventId, RegistrationId};
use evreg_tests::api::{create_event, new_organizer, Api, ApiRequest, Reply};
use evreg_tests::apps::{TestApp, TEST_PUBLIC_URL};
use evreg_tests::qr::scan_qr;
use http::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

evreg_tests::both_modes!("pages":
    event_page => [
        the_page_shows_the_event_in_its_time_zone_with_a_form,
        the_page_says_sold_out_waitlist_or_cancelled,
        the_calendar_file_is_rfc_5545,
        every_field_comes_out_escaped,
    ],
    event_page_register => [
        the_form_registers_once_and_sees_the_attendee_page,
        a_refused_form_comes_back_with_messages_and_input,
        a_cross_site_or_tokenless_post_registers_nobody,
        a_paid_registration_continues_to_the_checkout,
    ],
    registrations_get => [
        a_browser_gets_the_attendee_page_with_its_ticket,
        the_attendee_page_says_waitlisted_or_pending_payment,
        the_attendee_page_escapes_every_field,
    ],
    registrations_form => [
        the_cancel_form_cancels_once_confirmed,
        a_cross_site_forged_or_unconfirmed_cancel_cancels_nothing,
        the_details_form_changes_name_and_phone,
    ],
);

/// The event `fields` make (see [`create_event`]), with its slug.
async fn event_with(api: &dyn Api, token: &str, fields: Value) -> (EventId, String) {
    let id = create_event(api, token, fields).await;
    let event = api.get(&format!("/events/{id}"), Some(token)).await;
    let slug = event.body["slug"].as_str().expect("a slug").to_owned();
    (id, slug)
}

fn html(reply: &Reply) -> &str {
    reply.body.as_str().unwrap_or_default()
}

/// The value of the hidden `name` field of the page's form.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    page[start..].split('"').next().expect("a value").to_owned()
}

/// A post of the form on `page` (its hidden fields) with `fields`, from the page's origin.
fn form_post(slug: &str, page: &str, fields: &[(&str, &str)]) -> ApiRequest {
    let (token, key) = (hidden(page, "csrf_token"), hidden(page, "idempotency_key"));
    let mut all = vec![
        ("csrf_token", token.as_str()),
        ("idempotency_key", key.as_str()),
    ];
    all.extend_from_slice(fields);
    ApiRequest::new(Method::POST, format!("/e/{slug}"))
        .header("origin", TEST_PUBLIC_URL)
        .header("sec-fetch-site", "same-origin")
        .form(&all)
}

async fn page(api: &dyn Api, slug: &str) -> String {
    let reply = api.get(&format!("/e/{slug}"), None).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    html(&reply).to_owned()
}

/// Every HTML answer's headers: no script may run, nothing may frame it, no sniffing.
fn assert_secure_html(reply: &Reply) {
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        reply.headers
    );
    let policy = reply.header("content-security-policy").expect("a CSP");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("script-src") && !policy.contains("unsafe-inline"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert!(reply.header("referrer-policy").is_some());
    // The inline stylesheet is admitted by the hash of exactly what the page holds.
    let page = html(reply);
    let css = page
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map(|(css, _)| css)
        .expect("a stylesheet");
    let hash = STANDARD.encode(Sha256::digest(css.as_bytes()));
    assert!(policy.contains(&format!("'sha256-{hash}'")), "{policy}");
    assert!(!page.contains("<script"), "no script on any page");
}

async fn the_page_shows_the_event_in_its_time_zone_with_a_form(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let refused = api
        .post(
            "/events",
            Some(&organizer),
            json!({ "name": "N", "date": "2027-03-01T18:00:00Z", "venue": "V",
                    "max_capacity": 5, "timezone": "Mars/Olympus_Mons" }),
        )
        .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "timezone");
    let (utc_id, _) = event_with(api, &organizer, json!({ "max_capacity": 5 })).await;
    let utc = api.get(&format!("/events/{utc_id}"), None).await;
    assert_eq!(utc.body["timezone"], "UTC", "the default");

    let (id, slug) = event_with(
        api,
        &organizer,
        json!({ "name": "Rust Meetup Berlin", "timezone": "Europe/Berlin",
                "end_date": "2027-03-01T21:00:00Z", "max_capacity": 5,
                "description": "Talks.\nThen pizza.", "price_cents": 1250 }),
    )
    .await;
    assert_eq!(
        api.get(&format!("/events/{id}"), None).await.body["timezone"],
        "Europe/Berlin"
    );
    register(api, id, "ann@example.org", "Ann Lee").await;
    app.settle().await;

    let reply = api.get(&format!("/e/{slug}"), None).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_secure_html(&reply);
    let cache_control = reply.header("cache-control").unwrap_or_default();
    assert!(
        cache_control.contains("s-maxage=") && cache_control.contains("stale-while-revalidate="),
        "the public JSON's caching: {cache_control}"
    );
    let page = html(&reply);
    for shown in [
        "<h1>Rust Meetup Berlin</h1>",
        "Monday 1 March 2027, 19:00 CET",
        "22:00 CET",
        "Times in Europe/Berlin",
        "Hall A",
        "12.50 EUR",
        // Five seats, one held while Ann pays: the read model's counters.
        "4 seats left",
        "Talks.\nThen pizza.",
        "<meta property=\"og:title\" content=\"Rust Meetup Berlin\">",
        "<meta property=\"og:description\" content=\"Monday 1 March 2027, 19:00 CET · Hall A · Talks. Then pizza.\">",
        format!("<meta property=\"og:url\" content=\"{TEST_PUBLIC_URL}/e/{slug}\">").as_str(),
        format!("href=\"{slug}.ics\"").as_str(),
        "name=\"email\" type=\"email\"",
        "name=\"full_name\"",
        "name=\"phone\" type=\"tel\"",
        "<button type=\"submit\">Register</button>",
    ] {
        assert!(page.contains(shown), "{shown:?} in\n{page}");
    }
    assert!(hidden(page, "csrf_token").contains('.'));
    assert_eq!(hidden(page, "idempotency_key").len(), 36);

    let unknown = api.get("/e/no-such-event", None).await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    // A browser following a mistyped link reads the same 404 as a page, secured like the
    // others, with the problem's detail escaped into it.
    let browser = api
        .send(ApiRequest::new(Method::GET, "/e/no-such-event").header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ))
        .await;
    assert_eq!(browser.status, 404);
    assert_secure_html(&browser);
    assert!(html(&browser).contains("<h1>Not Found</h1>\n<p>no such event</p>"));
    let refused = api
        .send(
            ApiRequest::new(Method::GET, "/events/not-an-id/report").header("accept", "text/html"),
        )
        .await;
    assert_eq!(
        refused.status, 401,
        "an API route errs as a page for browsers too"
    );
    assert_secure_html(&refused);
    let (_, draft) = event_with(
        api,
        &organizer,
        json!({ "status": "DRAFT", "max_capacity": 5 }),
    )
    .await;
    assert_eq!(api.get(&format!("/e/{draft}"), None).await.status, 404);
}

async fn the_page_says_sold_out_waitlist_or_cancelled(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let (full, full_slug) = event_with(api, &organizer, json!({ "max_capacity": 1 })).await;
    let (queue, queue_slug) = event_with(
        api,
        &organizer,
        json!({ "max_capacity": 1, "waitlist_enabled": true }),
    )
    .await;
    for id in [full, queue] {
        register(api, id, "ann@example.org", "Ann Lee").await;
    }
    app.settle().await;

    let sold_out = page(api, &full_slug).await;
    assert!(sold_out.contains(">Sold out<"), "{sold_out}");
    assert!(
        !sold_out.contains("<form"),
        "no form without a seat or a queue"
    );
    let waitlist = page(api, &queue_slug).await;
    assert!(waitlist.contains("Sold out: waitlist open"), "{waitlist}");
    assert!(waitlist.contains("<button type=\"submit\">Join the waitlist</button>"));

    let (_, admin) = evreg_tests::api::new_admin(&app.ctx).await;
    let cancelled = api
        .send(ApiRequest::new(Method::DELETE, format!("/events/{queue}")).bearer(&admin))
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    let gone = page(api, &queue_slug).await;
    assert!(gone.contains("This event was cancelled"), "{gone}");
    assert!(!gone.contains("<form"));
}

async fn the_calendar_file_is_rfc_5545(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let (id, slug) = event_with(
        api,
        &organizer,
        json!({ "name": "Rust; Meetup, Berlin", "timezone": "Europe/Berlin",
                "end_date": "2027-03-01T21:00:00Z", "description": "Talks\nand pizza",
                "max_capacity": 5 }),
    )
    .await;
    let reply = api.get(&format!("/e/{slug}.ics"), None).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    assert_eq!(
        reply.header("content-disposition"),
        Some(format!("attachment; filename=\"{slug}.ics\"").as_str())
    );
    assert!(reply
        .header("cache-control")
        .is_some_and(|c| c.contains("s-maxage=")));
    assert!(
        reply.header("content-security-policy").is_none(),
        "not a page"
    );
    let text = String::from_utf8(reply.bytes.clone()).expect("UTF-8");
    assert!(text.lines().all(|line| line.len() <= 75), "folded: {text}");
    assert!(text.contains("\r\n"), "CRLF line ends");
    let unfolded = text.replace("\r\n ", "");
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "BEGIN:VEVENT",
        format!("UID:{id}@evreg").as_str(),
        "SUMMARY:Rust\\; Meetup\\, Berlin",
        "DESCRIPTION:Talks\\nand pizza",
        "LOCATION:Hall A",
        "DTSTART:20270301T180000Z",
        "DTEND:20270301T210000Z",
        format!("URL:{TEST_PUBLIC_URL}/e/{slug}").as_str(),
        "END:VEVENT",
        "END:VCALENDAR",
    ] {
        assert!(
            unfolded.lines().any(|l| l == line),
            "{line:?} in\n{unfolded}"
        );
    }
    let unknown = api.get("/e/no-such-event.ics", None).await;
    assert_eq!(unknown.status, 404);
}

/// Markup and quotes in every field an organizer or an attendee controls, in text and in
/// attribute values: none comes out as markup.
const HOSTILE: &str = "<script>alert(\"x\")</script>'\"><img src=x onerror=alert(1)>";

async fn every_field_comes_out_escaped(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let (_, slug) = event_with(
        api,
        &organizer,
        json!({ "name": format!("Name {HOSTILE}"), "venue": format!("Venue {HOSTILE}"),
                "description": format!("Description {HOSTILE}"), "max_capacity": 5 }),
    )
    .await;
    let fresh = page(api, &slug).await;
    let (email, full_name, phone) = (
        format!("{HOSTILE}@example.org"),
        format!("Full {HOSTILE}"),
        format!("Phone {HOSTILE}"),
    );
    let refused = api
        .send(form_post(
            &slug,
            &fresh,
            &[
                ("email", email.as_str()),
                ("full_name", full_name.as_str()),
                ("phone", phone.as_str()),
            ],
        ))
        .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_secure_html(&refused);
    for reply_page in [fresh.as_str(), html(&refused)] {
        for raw in ["<script", "<img", "\"><img", "'\">"] {
            assert!(
                !reply_page.contains(raw),
                "{raw:?} came out unescaped:\n{reply_page}"
            );
        }
    }
    // askama's HTML escaper: numeric references for < > & " '.
    let escaped = "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#39;&#34;&#62;&#60;img src=x onerror=alert(1)&#62;";
    for field in ["<h1>Name ", "<dd>Venue ", "Description ", "content=\"Name "] {
        assert!(
            fresh.contains(&format!("{field}{escaped}")),
            "{field} escaped in\n{fresh}"
        );
    }
    for field in ["value=\"Full ", "value=\"Phone ", "value=\""] {
        assert!(
            html(&refused).contains(&format!("{field}{escaped}")),
            "{field} escaped in\n{}",
            html(&refused)
        );
    }
}

async fn the_form_registers_once_and_sees_the_attendee_page(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let (id, slug) = event_with(api, &organizer, json!({ "max_capacity": 5 })).await;
    let shown = page(api, &slug).await;
    let post = form_post(
        &slug,
        &shown,
        &[
            ("email", "Cleo@Example.org"),
            ("full_name", "Cleo Park"),
            ("phone", "+44 20 7946 0958"),
        ],
    );
    let first = api.send(post.clone()).await;
    assert_eq!(first.status, 303, "{:?}", first.body);
    let location = first.header("location").expect("a Location").to_owned();
    let attendee_page = location
        .strip_prefix(TEST_PUBLIC_URL)
        .expect("the attendee's page under the public URL");
    assert!(attendee_page.starts_with("/registrations/") && attendee_page.contains("?token="));
    let registration = api.get(attendee_page, None).await;
    assert_eq!(registration.status, 200, "{:?}", registration.body);
    assert_eq!(
        (
            &registration.body["email"],
            &registration.body["full_name"],
            &registration.body["status"],
            &registration.body["event_id"]
        ),
        (
            &json!("cleo@example.org"),
            &json!("Cleo Park"),
            &json!("CONFIRMED"),
            &json!(id.to_string())
        ),
        "the JSON route's registration: the email canonical, the seat taken"
    );

    // A second click sends the same form again: the same answer, nothing more registered.
    let again = api.send(post).await;
    assert_eq!(
        (again.status, again.header("location")),
        (303, Some(location.as_str()))
    );
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // Another visitor of the same cached page (the same hidden key) registers too.
    let other = api
        .send(form_post(
            &slug,
            &shown,
            &[("email", "dan@example.org"), ("full_name", "Dan Moe")],
        ))
        .await;
    assert_eq!(other.status, 303, "{:?}", other.body);
    assert_ne!(other.header("location"), Some(location.as_str()));
    app.settle().await;
    let stats = api.get(&format!("/events/{id}"), None).await;
    assert_eq!(stats.body["registered"], 2, "{:?}", stats.body);
}

async fn a_refused_form_comes_back_with_messages_and_input(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let (_, slug) = event_with(api, &organizer, json!({ "max_capacity": 5 })).await;
    let shown = page(api, &slug).await;

    let invalid = api
        .send(form_post(
            &slug,
            &shown,
            &[
                ("email", "not-an-address"),
                ("full_name", " "),
                ("phone", "12"),
            ],
        ))
        .await;
    assert_eq!(invalid.status, 422, "{:?}", invalid.body);
    assert_secure_html(&invalid);
    assert_eq!(invalid.header("cache-control"), Some("private, no-store"));
    let again = html(&invalid);
    for (field, kept) in [("email", "not-an-address"), ("phone", "12")] {
        assert!(
            again.contains(&format!(
                "value=\"{kept}\" aria-invalid=\"true\" aria-describedby=\"{field}-error\">\n<p class=\"field-error\" id=\"{field}-error\">"
            )),
            "{field}: the input kept, the message beside it:\n{again}"
        );
    }
    assert!(again.contains("id=\"full_name-error\""), "{again}");
    assert_ne!(
        hidden(again, "idempotency_key"),
        hidden(&shown, "idempotency_key"),
        "a corrected form is a new request"
    );

    let registered = api
        .send(form_post(
            &slug,
            again,
            &[("email", "ann@example.org"), ("full_name", "Ann Lee")],
        ))
        .await;
    assert_eq!(registered.status, 303, "{:?}", registered.body);
    let duplicate = api
        .send(form_post(
            &slug,
            &page(api, &slug).await,
            &[("email", "ann@example.org"), ("full_name", "Ann Again")],
        ))
        .await;
    assert_eq!(duplicate.status, 409, "{:?}", duplicate.body);
    assert!(
        html(&duplicate).contains("is already registered for this event"),
        "{}",
        html(&duplicate)
    );
    assert!(html(&duplicate).contains("value=\"Ann Again\""));
}

async fn a_cross_site_or_tokenless_post_registers_nobody(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let (id, slug) = event_with(api, &organizer, json!({ "max_capacity": 5 })).await;
    let shown = page(api, &slug).await;
    let fields = [("email", "eve@example.org"), ("full_name", "Eve Doe")];

    let from_elsewhere = |header: &str, value: &str| {
        let mut post = form_post(&slug, &shown, &fields);
        post.headers.retain(|(name, _)| name != header);
        post.header(header, value)
    };
    for post in [
        from_elsewhere("origin", "https://evil.example"),
        from_elsewhere("origin", "null"),
        from_elsewhere("sec-fetch-site", "cross-site"),
        from_elsewhere("sec-fetch-site", "same-site"),
    ] {
        let refused = api.send(post).await;
        assert_eq!(
            (refused.status, refused.code()),
            (403, "cross_site_request")
        );
    }

    let (_, other_slug) = event_with(api, &organizer, json!({ "max_capacity": 5 })).await;
    let other_token = hidden(&page(api, &other_slug).await, "csrf_token");
    let forged = [
        String::new(),
        "1795370400.AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        other_token,
    ];
    for token in &forged {
        let post = ApiRequest::new(Method::POST, format!("/e/{slug}"))
            .header("origin", TEST_PUBLIC_URL)
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", "eve@example.org"),
                ("full_name", "Eve Doe"),
            ]);
        let refused = api.send(post).await;
        assert_eq!(refused.status, 403, "{token:?}: {:?}", refused.body);
        assert_secure_html(&refused);
        let again = html(&refused);
        assert!(again.contains("This form has expired"), "{again}");
        assert!(again.contains("value=\"eve@example.org\""), "input kept");
        assert_ne!(hidden(again, "csrf_token"), *token, "a fresh token");
    }
    app.settle().await;
    let stats = api.get(&format!("/events/{id}"), None).await;
    assert_eq!(stats.body["registered"], 0, "{:?}", stats.body);
}

async fn a_paid_registration_continues_to_the_checkout(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let (id, slug) = event_with(
        api,
        &organizer,
        json!({ "max_capacity": 5, "price_cents": 1500 }),
    )
    .await;
    let held = api
        .send(form_post(
            &slug,
            &page(api, &slug).await,
            &[("email", "pat@example.org"), ("full_name", "Pat Kim")],
        ))
        .await;
    assert_eq!(held.status, 303, "{:?}", held.body);
    let listed = api
        .get(&format!("/events/{id}/registrations"), Some(&organizer))
        .await;
    let registration = &listed.body["items"][0];
    assert_eq!(
        registration["status"], "PENDING_PAYMENT",
        "{:?}",
        listed.body
    );
    assert_eq!(
        held.header("location"),
        registration["hold"]["checkout_url"].as_str(),
        "on to the checkout, which returns to the attendee's page"
    );
}

/// What a browser sends when it follows a link (Chromium's and Firefox's navigation
/// `Accept`): HTML first, anything else at a lower quality.
const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// `full_name` registers for the event `id` by the JSON route: the registration's id and
/// its manage token.
async fn register(
    api: &dyn Api,
    id: EventId,
    email: &str,
    full_name: &str,
) -> (RegistrationId, String) {
    let registered = api
        .post(
            &format!("/events/{id}/registrations"),
            None,
            json!({ "email": email, "full_name": full_name }),
        )
        .await;
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    let registration = registered.body["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("an id");
    let token = registered.body["manage_token"].as_str().expect("a token");
    (registration, token.to_owned())
}

/// The attendee's page of `registration` as a browser opens the emailed link.
async fn attendee_page(api: &dyn Api, registration: RegistrationId, token: &str) -> Reply {
    api.send(
        ApiRequest::new(
            Method::GET,
            format!("/registrations/{registration}?token={token}"),
        )
        .header("accept", BROWSER_ACCEPT),
    )
    .await
}

/// The page's inline ticket: the PNG of its `data:` URL.
fn inline_ticket(page: &str) -> Option<Vec<u8>> {
    let (_, rest) = page.split_once("src=\"data:image/png;base64,")?;
    let encoded = rest.split('"').next()?;
    Some(STANDARD.decode(encoded).expect("base64"))
}

async fn a_browser_gets_the_attendee_page_with_its_ticket(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let (id, slug) = event_with(
        api,
        &organizer,
        json!({ "name": "Rust Meetup Berlin", "timezone": "Europe/Berlin", "max_capacity": 5,
                "end_date": "2027-03-01T21:00:00Z" }),
    )
    .await;
    let (registration, token) = register(api, id, "ann@example.org", "Ann Lee").await;
    app.settle().await;

    let reply = attendee_page(api, registration, &token).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_secure_html(&reply);
    assert_eq!(reply.header("cache-control"), Some("private, no-store"));
    assert_eq!(
        reply.header("referrer-policy"),
        Some("no-referrer"),
        "the manage token in the URL never leaves in a Referer"
    );
    assert_eq!(reply.header("vary"), Some("accept"));
    let page = html(&reply);
    for shown in [
        "<h1>Rust Meetup Berlin</h1>",
        "<dd>Ann Lee</dd>",
        "<dd class=\"status\" id=\"status\">Confirmed</dd>",
        "Monday 1 March 2027, 19:00 CET",
        "22:00 CET",
        "Times in Europe/Berlin",
        "Hall A",
        format!("href=\"{TEST_PUBLIC_URL}/e/{slug}.ics\"").as_str(),
    ] {
        assert!(page.contains(shown), "{shown:?} in\n{page}");
    }
    assert!(
        !page.contains(&token),
        "the token is in no link of the page"
    );
    // The inline QR is the ticket the door verifies.
    let png = inline_ticket(page).expect("the ticket inline");
    let ticket = app.ctx.attendee_keys.issue_ticket(id, registration);
    assert_eq!(scan_qr(&png), ticket);

    // API clients keep their JSON: no Accept, JSON preferred, or HTML at a lower quality.
    for accept in [
        None,
        Some("application/json"),
        Some("text/html;q=0.5, application/json"),
    ] {
        let mut request = ApiRequest::new(
            Method::GET,
            format!("/registrations/{registration}?token={token}"),
        );
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let reply = api.send(request).await;
        assert_eq!(
            (reply.status, &reply.body["status"]),
            (200, &json!("CONFIRMED")),
            "{accept:?}: {:?}",
            reply.body
        );
    }
    // The same access as the JSON: no token, another registration's token, a forged one.
    let other = app.ctx.attendee_keys.manage_token(RegistrationId::now_v7());
    for (token, status) in [("", 401), (other.as_str(), 403), ("forged", 403)] {
        let path = if token.is_empty() {
            format!("/registrations/{registration}")
        } else {
            format!("/registrations/{registration}?token={token}")
        };
        let refused = api
            .send(ApiRequest::new(Method::GET, path).header("accept", BROWSER_ACCEPT))
            .await;
        assert_eq!(refused.status, status, "{token:?}: {:?}", refused.body);
        assert!(!html(&refused).contains("Ann Lee"));
    }
    // The organizer sees the page too.
    let owner = api
        .send(
            ApiRequest::new(Method::GET, format!("/registrations/{registration}"))
                .header("accept", BROWSER_ACCEPT)
                .bearer(&organizer),
        )
        .await;
    assert!(
        html(&owner).contains("<dd>Ann Lee</dd>"),
        "{:?}",
        owner.body
    );

    // Scanned at the door (19:00 in Berlin is 18:00 UTC; the test clock's now is earlier,
    // so only the label is checked).
    let scanned = api
        .send(
            ApiRequest::new(Method::POST, "/checkins")
                .json(json!({ "ticket": ticket }))
                .bearer(&organizer),
        )
        .await;
    assert!(scanned.status < 300, "{:?}", scanned.body);
    let page = attendee_page(api, registration, &token).await;
    assert!(
        html(&page).contains("id=\"status\">Checked in ("),
        "{}",
        html(&page)
    );
    assert!(inline_ticket(html(&page)).is_some(), "still a ticket");

    // Cancelled: the page says so and shows no ticket any more.
    let (bob, bobs_token) = register(api, id, "bob@example.org", "Bob Roe").await;
    app.settle().await;
    assert!(inline_ticket(html(&attendee_page(api, bob, &bobs_token).await)).is_some());
    let cancelled = api
        .send(
            ApiRequest::new(Method::DELETE, format!("/registrations/{bob}"))
                .header("x-manage-token", &bobs_token),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    let page = attendee_page(api, bob, &bobs_token).await;
    assert!(html(&page).contains("id=\"status\">Cancelled</dd>"));
    assert!(
        inline_ticket(html(&page)).is_none(),
        "no ticket once cancelled"
    );
}

async fn the_attendee_page_says_waitlisted_or_pending_payment(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let (full, _) = event_with(
        api,
        &organizer,
        json!({ "max_capacity": 1, "waitlist_enabled": true }),
    )
    .await;
    register(api, full, "ann@example.org", "Ann Lee").await;
    let (queued, token) = register(api, full, "bob@example.org", "Bob Roe").await;
    app.settle().await;
    let page = attendee_page(api, queued, &token).await;
    assert!(html(&page).contains("id=\"status\">On the waitlist</dd>"));
    assert!(inline_ticket(html(&page)).is_none(), "no seat, no ticket");

    let (paid, _) = event_with(
        api,
        &organizer,
        json!({ "max_capacity": 5, "price_cents": 1500 }),
    )
    .await;
    let (held, token) = register(api, paid, "pat@example.org", "Pat Kim").await;
    let json = api
        .get(&format!("/registrations/{held}?token={token}"), None)
        .await;
    let checkout = json.body["hold"]["checkout_url"]
        .as_str()
        .expect("a checkout");
    let page = attendee_page(api, held, &token).await;
    let page = html(&page);
    assert!(
        page.contains("id=\"status\">Pending payment</dd>"),
        "{page}"
    );
    // The checkout URL as an attribute value: `&` is escaped.
    let link = format!(
        "<a href=\"{}\">Pay to confirm it</a>",
        checkout.replace('&', "&#38;")
    );
    assert!(page.contains(&link), "{link} in\n{page}");
}

async fn the_attendee_page_escapes_every_field(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let (id, _) = event_with(
        api,
        &organizer,
        json!({ "name": format!("Name {HOSTILE}"), "venue": format!("Venue {HOSTILE}"),
                "max_capacity": 5 }),
    )
    .await;
    let (registration, token) =
        register(api, id, "eve@example.org", &format!("Full {HOSTILE}")).await;
    app.settle().await;
    let reply = attendee_page(api, registration, &token).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_secure_html(&reply);
    let page = html(&reply);
    // The page's own one image is the ticket.
    assert_eq!(page.matches("<img").count(), 1, "{page}");
    for raw in ["<script", "<img src=x", "\"><img", "'\">"] {
        assert!(!page.contains(raw), "{raw:?} came out unescaped:\n{page}");
    }
    let escaped = "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#39;&#34;&#62;&#60;img src=x onerror=alert(1)&#62;";
    for field in [
        "<h1>Name ",
        "<title>Your registration: Name ",
        "<dd>Venue ",
        "<dd>Full ",
        "alt=\"Ticket QR code for Full ",
    ] {
        assert!(
            page.contains(&format!("{field}{escaped}")),
            "{field} escaped in\n{page}"
        );
    }
}

/// A post of a form on the attendee's `page` with `fields` besides its token, as a
/// browser sends it from the page: `Origin: null` (the page's `no-referrer` policy).
fn attendee_post(
    registration: RegistrationId,
    token: &str,
    page: &str,
    fields: &[(&str, &str)],
) -> ApiRequest {
    let csrf_token = hidden(page, "csrf_token");
    let mut all = vec![("csrf_token", csrf_token.as_str())];
    all.extend_from_slice(fields);
    ApiRequest::new(
        Method::POST,
        format!("/registrations/{registration}?token={token}"),
    )
    .header("origin", "null")
    .header("sec-fetch-site", "same-origin")
    .header("accept", BROWSER_ACCEPT)
    .form(&all)
}

async fn the_cancel_form_cancels_once_confirmed(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let (id, _) = event_with(
        api,
        &organizer,
        json!({ "max_capacity": 1, "waitlist_enabled": true }),
    )
    .await;
    let (ann, token) = register(api, id, "ann@example.org", "Ann Lee").await;
    let (bob, bobs_token) = register(api, id, "bob@example.org", "Bob Roe").await;
    app.settle().await;
    let page = html(&attendee_page(api, ann, &token).await).to_owned();
    for shown in [
        "<summary>Cancel my registration</summary>",
        // No action: the form posts to the page's own URL, token included.
        "<form method=\"post\">",
        "<button type=\"submit\" name=\"action\" value=\"cancel\">",
    ] {
        assert!(page.contains(shown), "{shown:?} in\n{page}");
    }

    let cancelled = api
        .send(attendee_post(ann, &token, &page, &[("action", "cancel")]))
        .await;
    assert_eq!(cancelled.status, 303, "{:?}", cancelled.body);
    assert_eq!(
        cancelled.header("location"),
        Some(format!("{TEST_PUBLIC_URL}/registrations/{ann}?token={token}").as_str()),
        "back to the page"
    );
    let after = attendee_page(api, ann, &token).await;
    assert!(html(&after).contains("id=\"status\">Cancelled</dd>"));
    assert!(!html(&after).contains("<form"), "nothing left to cancel");
    // The same cancellation as DELETE: the released seat went to the waitlist.
    let promoted = attendee_page(api, bob, &bobs_token).await;
    assert!(
        html(&promoted).contains("id=\"status\">Confirmed</dd>"),
        "{}",
        html(&promoted)
    );

    // A second click: the page again with the reason, nothing else happens.
    let again = api
        .send(attendee_post(ann, &token, &page, &[("action", "cancel")]))
        .await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    assert_secure_html(&again);
    assert_eq!(again.header("referrer-policy"), Some("no-referrer"));
    assert!(html(&again).contains("class=\"notice error\""));
}

async fn a_cross_site_forged_or_unconfirmed_cancel_cancels_nothing(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let (id, slug) = event_with(api, &organizer, json!({ "max_capacity": 5 })).await;
    // The event page's token is for its own form only.
    let event_page_token = hidden(&page(api, &slug).await, "csrf_token");
    let (ann, token) = register(api, id, "ann@example.org", "Ann Lee").await;
    let page = html(&attendee_page(api, ann, &token).await).to_owned();
    let confirmed = [("action", "cancel")];

    for (origin, site) in [
        ("https://evil.example", "cross-site"),
        ("null", "cross-site"),
        ("https://evil.example", "same-origin"),
    ] {
        let mut post = attendee_post(ann, &token, &page, &confirmed);
        post.headers
            .retain(|(name, _)| name != "origin" && name != "sec-fetch-site");
        let refused = api
            .send(post.header("origin", origin).header("sec-fetch-site", site))
            .await;
        // The browser that was tricked into posting reads why, as a page.
        assert_eq!(refused.status, 403, "{origin} {site}");
        assert_secure_html(&refused);
        assert!(html(&refused).contains("<p>this form may only be sent from its own page</p>"));
    }
    let foreign = format!("name=\"csrf_token\" value=\"{event_page_token}\"");
    for (case, page, fields, status) in [
        ("no token", String::new(), &confirmed[..], 403),
        ("the event page's token", foreign, &confirmed[..], 403),
        ("not confirmed", page.clone(), &[][..], 422),
    ] {
        let post = if page.is_empty() {
            ApiRequest::new(Method::POST, format!("/registrations/{ann}?token={token}"))
                .header("sec-fetch-site", "same-origin")
                .form(fields)
        } else {
            attendee_post(ann, &token, &page, fields)
        };
        let refused = api.send(post).await;
        assert_eq!(refused.status, status, "{case}: {:?}", refused.body);
        assert_secure_html(&refused);
        assert!(
            html(&refused).contains("id=\"status\">Confirmed</dd>"),
            "{case}: the page again, nothing cancelled"
        );
    }
    // Someone else's page: their token does not reach Ann's registration.
    let (_, other_token) = register(api, id, "eve@example.org", "Eve Moe").await;
    let stranger = api
        .send(attendee_post(ann, &other_token, &page, &confirmed))
        .await;
    assert_eq!(stranger.status, 403, "{:?}", stranger.body);
    let anonymous = api
        .send(ApiRequest::new(Method::POST, format!("/registrations/{ann}")).form(&confirmed))
        .await;
    assert_eq!(anonymous.status, 401, "{:?}", anonymous.body);
    let json = api
        .get(&format!("/registrations/{ann}?token={token}"), None)
        .await;
    assert_eq!(json.body["status"], "CONFIRMED", "{:?}", json.body);
}

async fn the_details_form_changes_name_and_phone(app: TestApp) {
    let api = app.api.as_ref();
    let organizer = new_organizer(api).await;
    let (id, _) = event_with(api, &organizer, json!({ "max_capacity": 5 })).await;
    let (ann, token) = register(api, id, "ann@example.org", "Ann Lee").await;
    let page = html(&attendee_page(api, ann, &token).await).to_owned();
    assert!(
        page.contains(
            "name=\"full_name\" type=\"text\" autocomplete=\"name\" required value=\"Ann Lee\""
        ),
        "{page}"
    );
    assert!(page.contains("<button type=\"submit\" name=\"action\" value=\"update\">Save</button>"));

    let refused = api
        .send(attendee_post(
            ann,
            &token,
            &page,
            &[
                ("action", "update"),
                ("full_name", " "),
                ("phone", "call <b>me</b>"),
            ],
        ))
        .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_secure_html(&refused);
    let shown = html(&refused);
    for expected in [
        "<details open>",
        "aria-describedby=\"full_name-error\"",
        "aria-describedby=\"phone-error\"",
        // The input kept, escaped.
        "value=\"call &#60;b&#62;me&#60;/b&#62;\"",
        // The stored details unchanged above the form.
        "<dd>Ann Lee</dd>",
    ] {
        assert!(shown.contains(expected), "{expected:?} in\n{shown}");
    }

    let changed = api
        .send(attendee_post(
            ann,
            &token,
            &page,
            &[
                ("action", "update"),
                ("full_name", "Ann Lee-Chen"),
                ("phone", "+44 20 7946 0958"),
            ],
        ))
        .await;
    assert_eq!(changed.status, 303, "{:?}", changed.body);
    let json = api
        .get(&format!("/registrations/{ann}?token={token}"), None)
        .await;
    assert_eq!(
        (
            &json.body["full_name"],
            &json.body["phone"],
            &json.body["status"]
        ),
        (
            &json!("Ann Lee-Chen"),
            &json!("+44 20 7946 0958"),
            &json!("CONFIRMED")
        ),
        "the PUT route's change"
    );
    let after = attendee_page(api, ann, &token).await;
    assert!(html(&after).contains("<dd>Ann Lee-Chen</dd>"));
}
