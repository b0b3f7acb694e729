//! Crash test of the embedded mode: the dev-server binary is driven with registrations
//! and cancellations by concurrent clients and SIGKILLed at random moments (after a
//! random number of answers, so mid-request), 20 times, restarting on the same data
//! directory each time; clients resend what got no answer (registrations with their
//! Idempotency-Key). At the end the store, the read model, the tickets and the mail
//! agree: seats equal confirmed registrations, every confirmed registration has its
//! ticket and exactly one ticket mail, every mail went out once, and nothing is left in
//! the outbox, the queues or the dead letters.
//!
//! `EVREG_CRASH_SEED` replays a run's choices; `--nocapture` prints its figures.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use evreg::adapters::embedded::{mailbox, SqliteStore};
use evreg::domain::{EventId, Registration, RegistrationStatus};
use evreg::ports::{EventStore, Outbox, ReadModel, RegistrationStore};
use evreg_tests::api::{ApiRequest, HttpApi, Reply};
use evreg_tests::dev_server::{binary_and_data_dir, DevServer};
use evreg_tests::mailbox::{decode_words, header};
use http::Method;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use tokio::sync::watch;

const KILLS: usize = 20;
/// Six clients on one address would meet the per-address rate limits, which are not what
/// this test is about.
const UNLIMITED: &[(&str, &str)] = &[("EVREG_RATE_LIMITS", "off")];
const EVENTS: usize = 3;
const SEATS: usize = 6;
const CLIENTS: usize = 6;
/// A kill lands after this many answers (uniformly drawn) since the last restart.
const ANSWERS_BEFORE_KILL: std::ops::Range<usize> = 3..30;

/// What the clients know, shared.
#[derive(Default)]
struct Ledger {
    /// Registrations answered 201: (id, manage token), to cancel some later.
    registered: Vec<(String, String)>,
    /// Answers by status.
    answers: BTreeMap<u16, usize>,
    /// Requests that got no answer (the server died), resent after the restart.
    unanswered: usize,
}

/// One client action, resent as is until answered.
#[derive(Clone)]
struct Action {
    request: ApiRequest,
    registers: bool,
}

struct Run {
    ledger: Mutex<Ledger>,
    /// Answers since the last restart.
    answered: AtomicUsize,
    /// Told of every answer.
    progress: tokio::sync::Notify,
    rng: Mutex<StdRng>,
    emails: AtomicUsize,
    events: Vec<EventId>,
}

impl Run {
    /// The next thing a client does: mostly register a new attendee, sometimes cancel one.
    fn next_action(&self) -> Action {
        let mut rng = self.rng.lock().unwrap();
        let ledger = self.ledger.lock().unwrap();
        if !ledger.registered.is_empty() && rng.random_bool(0.25) {
            let (id, token) = &ledger.registered[rng.random_range(0..ledger.registered.len())];
            return Action {
                request: ApiRequest::new(Method::DELETE, format!("/registrations/{id}"))
                    .header("x-manage-token", token.as_str()),
                registers: false,
            };
        }
        let event = self.events[rng.random_range(0..self.events.len())];
        let n = self.emails.fetch_add(1, Ordering::SeqCst);
        Action {
            request: ApiRequest::new(Method::POST, format!("/events/{event}/registrations"))
                .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                .json(json!({ "email": format!("fan{n}@example.org"), "full_name": "Fan" })),
            registers: true,
        }
    }

    fn record(&self, action: &Action, reply: &Reply) {
        let mut ledger = self.ledger.lock().unwrap();
        *ledger.answers.entry(reply.status).or_default() += 1;
        assert!(
            matches!(reply.status, 200 | 201 | 409),
            "{} {} answered {}: {}",
            action.request.method,
            action.request.path,
            reply.status,
            reply.body
        );
        if action.registers && reply.status == 201 {
            ledger.registered.push((
                reply.body["id"].as_str().expect("id").to_owned(),
                reply.body["manage_token"]
                    .as_str()
                    .expect("token")
                    .to_owned(),
            ));
        }
        self.answered.fetch_add(1, Ordering::SeqCst);
        self.progress.notify_waiters();
    }

    /// Returns once `count` answers came since the last restart; a minute without
    /// enough fails the test (the clients are stuck).
    async fn answers(&self, count: usize) {
        let enough = async {
            loop {
                let progress = self.progress.notified();
                if self.answered.load(Ordering::SeqCst) >= count {
                    return;
                }
                progress.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), enough)
            .await
            .expect("the clients get answers");
    }
}

/// A client: actions one after another against the server of the moment (`server`
/// changes on each restart); an action without an answer is sent again, as is, to the
/// next server. Ends when `server` says `None`.
async fn client(run: Arc<Run>, mut server: watch::Receiver<Option<String>>) {
    let mut pending: Option<Action> = None;
    loop {
        let Some(url) = server.borrow_and_update().clone() else {
            return;
        };
        let api = HttpApi::new(url);
        // Until this server dies, or another (or the end) is announced.
        while !server.has_changed().unwrap_or(true) {
            let action = pending.take().unwrap_or_else(|| run.next_action());
            match api.try_send(action.request.clone()).await {
                Ok(reply) => run.record(&action, &reply),
                Err(_) => {
                    run.ledger.lock().unwrap().unanswered += 1;
                    pending = Some(action);
                    // Dead server: wait for the next one (or the end).
                    if server.changed().await.is_err() {
                        return;
                    }
                    break;
                }
            }
        }
    }
}

/// The organizer's events (capacity [`SEATS`], waitlist), made before the first kill.
async fn setup(api: &HttpApi) -> Vec<EventId> {
    let token = evreg_tests::api::new_organizer(api).await;
    let mut events = Vec::new();
    for i in 0..EVENTS {
        let created = api
            .try_send(
                ApiRequest::new(Method::POST, "/events")
                    .bearer(&token)
                    .json(
                        json!({ "name": format!("Crash {i}"), "date": "2027-09-01T18:00:00Z",
                                  "venue": "Hall", "max_capacity": SEATS, "status": "PUBLISHED",
                                  "waitlist_enabled": true }),
                    ),
            )
            .await
            .expect("an answer");
        assert_eq!(created.status, 201, "{}", created.body);
        events.push(
            created.body["id"]
                .as_str()
                .expect("id")
                .parse()
                .expect("uuid"),
        );
    }
    events
}

async fn all_registrations(store: &SqliteStore, event: EventId) -> Vec<Registration> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .registrations(event, None, 100, cursor.as_deref())
            .await
            .expect("listing");
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
}

/// The ticket mails each address received: (To, subject) counts.
fn mail_counts(data_dir: &std::path::Path) -> HashMap<(String, String), usize> {
    let mut counts = HashMap::new();
    for (_, raw) in mailbox::read_all(&data_dir.join("mail")).expect("the mailbox") {
        let to = header(&raw, "To").expect("To");
        let to = to.trim_matches(|c| c == '<' || c == '>').to_owned();
        let subject = decode_words(&header(&raw, "Subject").expect("Subject"));
        let kind = subject.split(':').next().unwrap_or_default().to_owned();
        *counts.entry((to, kind)).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn embedded_mode_loses_nothing_when_killed_20_times() {
    let Some((binary, data_dir)) = binary_and_data_dir() else {
        return;
    };
    let seed = std::env::var("EVREG_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!(
        "crash test: EVREG_CRASH_SEED={seed}, data in {}",
        data_dir.display()
    );
    let started = Instant::now();

    let first = DevServer::start_with(&binary, &data_dir, UNLIMITED);
    let events = setup(&HttpApi::new(first.url.clone())).await;
    let run = Arc::new(Run {
        ledger: Mutex::default(),
        answered: AtomicUsize::new(0),
        progress: tokio::sync::Notify::new(),
        rng: Mutex::new(StdRng::seed_from_u64(seed)),
        emails: AtomicUsize::new(0),
        events,
    });
    let (announce, server) = watch::channel(Some(first.url.clone()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(client(run.clone(), server.clone())))
        .collect();

    let mut current = first;
    let mut restarts = Vec::new();
    for _ in 0..KILLS {
        let threshold = run.rng.lock().unwrap().random_range(ANSWERS_BEFORE_KILL);
        run.answers(threshold).await;
        current.kill();
        run.answered.store(0, Ordering::SeqCst);
        let restart = Instant::now();
        current = DevServer::start_with(&binary, &data_dir, UNLIMITED);
        restarts.push(restart.elapsed());
        announce.send_replace(Some(current.url.clone()));
    }
    // One last stretch of load on the last server, then the clients stop.
    run.answers(ANSWERS_BEFORE_KILL.end).await;
    announce.send_replace(None);
    for client in clients {
        client.await.expect("client");
    }
    // Stopping gracefully lets the workers finish; what a slow finish left is resumed by
    // the next start, so stop until nothing is queued.
    let mut graceful_stops = 0;
    let store = loop {
        graceful_stops += 1;
        assert!(current.interrupt().success());
        let store = SqliteStore::open(&data_dir.join("evreg.sqlite3")).expect("the database");
        if store.queued().await.expect("queue") == 0 || graceful_stops == 5 {
            break store;
        }
        current = DevServer::start_with(&binary, &data_dir, UNLIMITED);
    };
    let elapsed = started.elapsed();

    // Everything agrees.
    let mut seats = 0;
    let (mut waitlisted, mut cancelled) = (0, 0);
    let mails = mail_counts(&data_dir);
    for &event in &run.events {
        let registrations = all_registrations(&store, event).await;
        let in_status = |status| registrations.iter().filter(|r| r.status == status).count();
        let confirmed = in_status(RegistrationStatus::Confirmed);
        let stats = store.stats(event).await.expect("stats");
        assert_eq!(
            store.confirmed_count(event).await.unwrap() as usize,
            confirmed,
            "the seat counter of {event} is its confirmed registrations"
        );
        assert!(confirmed <= SEATS);
        assert_eq!(
            stats.registered as usize, confirmed,
            "read model of {event}"
        );
        assert_eq!(
            stats.waitlisted as usize,
            in_status(RegistrationStatus::Waitlisted),
            "read model of {event}"
        );
        assert_eq!(
            stats.cancelled as usize,
            in_status(RegistrationStatus::Cancelled),
            "read model of {event}"
        );
        for registration in &registrations {
            let mail = |kind: &str| {
                mails
                    .get(&(registration.email.clone(), kind.to_owned()))
                    .copied()
                    .unwrap_or(0)
            };
            let ticket_mails = mail("You're in") + mail("A seat is yours");
            assert!(
                ticket_mails <= 1,
                "{} got {ticket_mails} tickets",
                registration.email
            );
            assert!(
                mail("You're on the waitlist") <= 1,
                "{}",
                registration.email
            );
            match registration.status {
                RegistrationStatus::Confirmed => {
                    assert!(
                        store.ticket(registration.id).await.unwrap().is_some(),
                        "{} has its ticket",
                        registration.id
                    );
                    let png = data_dir
                        .join("blobs")
                        .join(evreg::tickets::ticket_blob_key(registration));
                    assert!(png.exists(), "{} has its QR image", registration.id);
                    assert_eq!(
                        ticket_mails, 1,
                        "{} got one ticket mail",
                        registration.email
                    );
                }
                RegistrationStatus::Waitlisted => {
                    assert_eq!(mail("You're on the waitlist"), 1, "{}", registration.email);
                }
                RegistrationStatus::Cancelled => {
                    assert_eq!(mail("Registration cancelled"), 1, "{}", registration.email);
                }
                _ => {}
            }
        }
        seats += confirmed;
        waitlisted += in_status(RegistrationStatus::Waitlisted);
        cancelled += in_status(RegistrationStatus::Cancelled);
    }
    assert!(
        store.unpublished(10).await.unwrap().is_empty(),
        "nothing is left in the outbox"
    );
    assert_eq!(
        store.queued().await.unwrap(),
        0,
        "nothing is left in the queues"
    );
    assert!(
        store.dead_letters(None).await.unwrap().is_empty(),
        "no dead letters"
    );
    // Every answered registration is in the store.
    let ledger = std::mem::take(&mut *run.ledger.lock().unwrap());
    for (id, _) in &ledger.registered {
        let id = id.parse().expect("uuid");
        assert!(
            store.registration(id).await.unwrap().is_some(),
            "{id} was kept"
        );
    }

    let restart_ms: Vec<u128> = restarts.iter().map(Duration::as_millis).collect();
    eprintln!(
        "crash test figures: {KILLS} kills, {} requests answered {:?}, {} sent again after a \
         kill, {seats} seats taken ({} events × {SEATS}), {waitlisted} waitlisted, {cancelled} \
         cancelled, {} mails, restarts to banner {:?} ms (max {} ms), {graceful_stops} \
         graceful stop(s), {:.1} s in all",
        ledger.answers.values().sum::<usize>(),
        ledger.answers,
        ledger.unanswered,
        run.events.len(),
        mails.values().sum::<usize>(),
        restart_ms,
        restart_ms.iter().max().unwrap_or(&0),
        elapsed.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}
