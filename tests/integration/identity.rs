//! Identity: rotating refresh tokens with reuse detection, logout, deactivation, login
//! throttling, no account enumeration, and password reset by email — the store's side in
//! both adapters, and the API's in both modes (route handlers over the emulator as API
//! Gateway invokes them; the embedded dev server over real HTTP).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use evreg::auth::refresh::{new_secret, secret_hash};
use evreg::auth::throttle::{ACCOUNT_LIMIT, IP_LIMIT, WINDOW_SECONDS};
use evreg::domain::{Role, User, UserId};
use evreg::ports::{RefreshToken, Rotation, UserChange};
use evreg::AppContext;
use evreg_tests::api::{Api, LambdaApi, Reply};
use evreg_tests::apps::TestApp;
use evreg_tests::clock::LaterClock;
use evreg_tests::fixtures::{self, now};
use serde_json::{json, Value};
use time::Duration;
use uuid::Uuid;

use evreg_tests::stores::Stores;

// ---------------------------------------------------------------------------------------
// The store, both adapters.

evreg_tests::both_stores!(
    a_refresh_token_rotates_once_and_a_replay_revokes_its_family,
    concurrent_rotations_of_one_token_have_one_winner,
    a_revoked_or_expired_family_refuses_its_tokens,
    login_failures_count_per_key_and_window,
    a_reset_token_works_once_and_ends_every_session,
);

async fn stored_user(stores: &Stores) -> User {
    let user = User {
        password_hash: "old hash".into(),
        ..fixtures::user(&fixtures::unique_email("id"))
    };
    stores
        .users
        .create_user(&user, &[])
        .await
        .unwrap()
        .unpublished();
    user
}

/// A new family for `user`: the raw first token's hash.
async fn login(stores: &Stores, user: &User) -> String {
    let hash = secret_hash(&new_secret());
    stores
        .identity
        .start_refresh_family(
            &RefreshToken {
                hash: hash.clone(),
                family_id: Uuid::now_v7(),
                user_id: user.id,
                expires_at: now() + Duration::days(1),
            },
            now(),
        )
        .await
        .unwrap();
    hash
}

async fn rotate(stores: &Stores, presented: &str) -> (Rotation, String) {
    let next = secret_hash(&new_secret());
    let rotation = stores
        .identity
        .rotate_refresh_token(presented, &next, now() + Duration::days(1), now())
        .await
        .unwrap();
    (rotation, next)
}

async fn a_refresh_token_rotates_once_and_a_replay_revokes_its_family(stores: Stores) {
    let user = stored_user(&stores).await;
    let first = login(&stores, &user).await;
    let (rotation, second) = rotate(&stores, &first).await;
    let Rotation::Rotated { user_id, family_id } = rotation else {
        panic!("the first rotation wins: {rotation:?}");
    };
    assert_eq!(user_id, user.id);
    let (rotation, third) = rotate(&stores, &second).await;
    assert!(matches!(rotation, Rotation::Rotated { .. }), "{rotation:?}");

    // The first token again: a replay. The family dies, the live token with it.
    assert_eq!(
        rotate(&stores, &first).await.0,
        Rotation::Reused { family_id }
    );
    assert_eq!(rotate(&stores, &third).await.0, Rotation::Refused);
    // Another login of the same user is another family, untouched.
    let other = login(&stores, &user).await;
    assert!(matches!(
        rotate(&stores, &other).await.0,
        Rotation::Rotated { .. }
    ));
    assert_eq!(
        rotate(&stores, &secret_hash("unknown")).await.0,
        Rotation::Refused
    );
}

async fn concurrent_rotations_of_one_token_have_one_winner(stores: Stores) {
    let user = stored_user(&stores).await;
    let token = login(&stores, &user).await;
    let stores = Arc::new(stores);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (stores, token) = (stores.clone(), token.clone());
            tokio::spawn(async move { rotate(&stores, &token).await })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (rotation, next) = task.await.unwrap();
        match rotation {
            Rotation::Rotated { .. } => winners.push(next),
            Rotation::Reused { .. } | Rotation::Refused => {}
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins");
    // The losers were replays: the family is revoked, the winner's token included.
    assert_eq!(rotate(&stores, &winners[0]).await.0, Rotation::Refused);
}

async fn a_revoked_or_expired_family_refuses_its_tokens(stores: Stores) {
    let user = stored_user(&stores).await;
    let token = login(&stores, &user).await;
    assert!(stores.identity.revoke_refresh_family(&token).await.unwrap());
    assert_eq!(rotate(&stores, &token).await.0, Rotation::Refused);
    assert!(!stores.identity.revoke_refresh_family("nope").await.unwrap());

    let token = login(&stores, &user).await;
    let next = secret_hash(&new_secret());
    let later = now() + Duration::days(2);
    let rotation = stores
        .identity
        .rotate_refresh_token(&token, &next, later + Duration::days(1), later)
        .await
        .unwrap();
    assert_eq!(rotation, Rotation::Refused, "expired");
}

async fn login_failures_count_per_key_and_window(stores: Stores) {
    let key = format!("login:account:{}", Uuid::new_v4());
    assert_eq!(stores.identity.login_failures(&key, 1000).await.unwrap(), 0);
    for expected in 1..=3 {
        let count = stores
            .identity
            .record_login_failure(&key, 1000, 1900)
            .await
            .unwrap();
        assert_eq!(count, expected);
    }
    assert_eq!(stores.identity.login_failures(&key, 1000).await.unwrap(), 3);
    assert_eq!(stores.identity.login_failures(&key, 1900).await.unwrap(), 0);
    assert_eq!(
        stores.identity.login_failures("other", 1000).await.unwrap(),
        0
    );
}

async fn a_reset_token_works_once_and_ends_every_session(stores: Stores) {
    let user = stored_user(&stores).await;
    let sessions = [login(&stores, &user).await, login(&stores, &user).await];
    let token = secret_hash(&new_secret());
    stores
        .identity
        .create_password_reset(&token, user.id, now() + Duration::hours(1), &[])
        .await
        .unwrap()
        .unpublished();

    let reset = stores
        .identity
        .reset_password(&token, "new hash", now())
        .await;
    assert_eq!(reset.unwrap(), Some(user.id));
    let changed = stores.users.user(user.id).await.unwrap().unwrap();
    assert_eq!(changed.password_hash, "new hash");
    for session in &sessions {
        assert_eq!(rotate(&stores, session).await.0, Rotation::Refused);
    }
    // Once only; a login after the reset works.
    let again = stores.identity.reset_password(&token, "x", now()).await;
    assert_eq!(again.unwrap(), None);
    let fresh = login(&stores, &user).await;
    assert!(matches!(
        rotate(&stores, &fresh).await.0,
        Rotation::Rotated { .. }
    ));

    let expired = secret_hash(&new_secret());
    stores
        .identity
        .create_password_reset(&expired, user.id, now() - Duration::seconds(1), &[])
        .await
        .unwrap()
        .unpublished();
    let late = stores
        .identity
        .reset_password(&expired, "late", now())
        .await;
    assert_eq!(late.unwrap(), None);
    assert_eq!(
        stores
            .users
            .user(user.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new hash"
    );
}

// ---------------------------------------------------------------------------------------
// The API, both modes.

evreg_tests::both_modes!("identity":
    auth_refresh => [
        refresh_rotates_and_a_replay_revokes_the_family,
        concurrent_refreshes_of_one_token_let_one_win,
        deactivation_and_role_changes_apply_at_refresh,
    ],
    auth_logout => [logout_ends_the_session],
    auth_password_reset => [password_reset_by_email_end_to_end],
    me => [a_deactivated_users_access_token_is_refused],
    auth_login => [
        failed_logins_are_throttled_per_account,
        failed_logins_are_throttled_per_source_ip,
        unknown_emails_get_the_same_answers,
    ],
);

const PASSWORD: &str = "correct horse battery";

struct Account {
    id: UserId,
    email: String,
}

async fn signup(api: &dyn Api) -> Account {
    let email = format!("id-{}@example.org", Uuid::new_v4().simple());
    let reply = api
        .post(
            "/auth/signup",
            None,
            json!({ "email": email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    Account {
        id: reply.body["id"].as_str().unwrap().parse().unwrap(),
        email,
    }
}

async fn login_as(api: &dyn Api, email: &str, password: &str) -> Reply {
    api.post(
        "/auth/login",
        None,
        json!({ "email": email, "password": password }),
    )
    .await
}

/// (access token, refresh token) of a successful login.
async fn tokens_of(api: &dyn Api, account: &Account) -> (String, String) {
    let reply = login_as(api, &account.email, PASSWORD).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    pair(&reply)
}

fn pair(reply: &Reply) -> (String, String) {
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
    let refresh = reply.body["refresh_token"]
        .as_str()
        .expect("a refresh token");
    assert!(URL_SAFE_NO_PAD.decode(refresh).expect("base64url").len() >= 32);
    (
        reply.body["access_token"].as_str().unwrap().to_owned(),
        refresh.to_owned(),
    )
}

async fn refresh(api: &dyn Api, token: &str) -> Reply {
    api.post("/auth/refresh", None, json!({ "refresh_token": token }))
        .await
}

fn role_in(access_token: &str) -> Value {
    let payload = access_token.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["role"].clone()
}

async fn refresh_rotates_and_a_replay_revokes_the_family(app: TestApp) {
    let api = app.api.clone();
    let account = signup(api.as_ref()).await;
    let (_, first) = tokens_of(api.as_ref(), &account).await;
    let rotated = refresh(api.as_ref(), &first).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let (access, second) = pair(&rotated);
    assert_ne!(first, second);
    assert_eq!(api.get("/me", Some(&access)).await.status, 200);

    let replay = refresh(api.as_ref(), &first).await;
    assert_eq!(
        (replay.status, replay.code()),
        (401, "invalid_refresh_token")
    );
    let after = refresh(api.as_ref(), &second).await;
    assert_eq!(after.status, 401, "the whole family is revoked");
    let garbage = refresh(api.as_ref(), "not a token").await;
    assert_eq!(garbage.status, 401);
}

async fn concurrent_refreshes_of_one_token_let_one_win(app: TestApp) {
    let api = app.api.clone();
    let account = signup(api.as_ref()).await;
    let (_, token) = tokens_of(api.as_ref(), &account).await;
    let (a, b) = tokio::join!(refresh(api.as_ref(), &token), refresh(api.as_ref(), &token));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "{:?} / {:?}", a.body, b.body);
    let winner = if a.status == 200 { &a } else { &b };
    let (_, next) = pair(winner);
    assert_eq!(
        refresh(api.as_ref(), &next).await.status,
        401,
        "reuse revoked the family"
    );
}

async fn logout_ends_the_session(app: TestApp) {
    let api = app.api.clone();
    let account = signup(api.as_ref()).await;
    let (_, kept) = tokens_of(api.as_ref(), &account).await;
    let (_, ended) = tokens_of(api.as_ref(), &account).await;
    let logout = api
        .post("/auth/logout", None, json!({ "refresh_token": ended }))
        .await;
    assert_eq!(logout.status, 204);
    assert_eq!(refresh(api.as_ref(), &ended).await.status, 401);
    assert_eq!(
        refresh(api.as_ref(), &kept).await.status,
        200,
        "other sessions stay"
    );
    let again = api
        .post("/auth/logout", None, json!({ "refresh_token": ended }))
        .await;
    assert_eq!(again.status, 204, "idempotent");
}

async fn deactivation_and_role_changes_apply_at_refresh(app: TestApp) {
    let (api, ctx) = (app.api.clone(), app.ctx.clone());
    let account = signup(api.as_ref()).await;
    let (access, token) = tokens_of(api.as_ref(), &account).await;
    assert_eq!(role_in(&access), "ORGANIZER");
    let change = UserChange {
        role: Some(Role::Staff),
        active: None,
    };
    ctx.users.update_user(account.id, change).await.unwrap();
    let rotated = refresh(api.as_ref(), &token).await;
    assert_eq!(rotated.status, 200);
    let (access, token) = pair(&rotated);
    assert_eq!(
        role_in(&access),
        "STAFF",
        "the new access token has the current role"
    );

    let change = UserChange {
        role: None,
        active: Some(false),
    };
    ctx.users.update_user(account.id, change).await.unwrap();
    let refused = refresh(api.as_ref(), &token).await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.get("refresh_token").is_none());
    // Reactivated, the session that met the deactivation stays over.
    let change = UserChange {
        role: None,
        active: Some(true),
    };
    ctx.users.update_user(account.id, change).await.unwrap();
    assert_eq!(refresh(api.as_ref(), &token).await.status, 401);
}

async fn a_deactivated_users_access_token_is_refused(app: TestApp) {
    let (api, ctx) = (app.api.clone(), app.ctx.clone());
    let account = signup(api.as_ref()).await;
    let (access, _) = tokens_of(api.as_ref(), &account).await;
    let event = json!({ "name": "Deactivated", "date": "2027-03-01T18:00:00Z", "venue": "Hall A" });
    assert_eq!(api.get("/me", Some(&access)).await.status, 200);
    let change = UserChange {
        role: None,
        active: Some(false),
    };
    ctx.users.update_user(account.id, change).await.unwrap();
    for reply in [
        api.get("/me", Some(&access)).await,
        api.post("/events", Some(&access), event).await,
        api.get("/events", Some(&access)).await,
    ] {
        assert_eq!((reply.status, reply.code()), (401, "unauthenticated"));
    }
    let login = login_as(api.as_ref(), &account.email, PASSWORD).await;
    assert_eq!((login.status, login.code()), (401, "invalid_credentials"));
}

async fn failed_logins_are_throttled_per_account(app: TestApp) {
    let (api, ctx) = (app.api.clone(), app.ctx.clone());
    let account = signup(api.as_ref()).await;
    let bystander = signup(api.as_ref()).await;
    for _ in 0..ACCOUNT_LIMIT {
        let reply = login_as(api.as_ref(), &account.email, "wrong password!").await;
        assert_eq!(reply.status, 401);
    }
    // Now even the right password waits for the window to end.
    let throttled = login_as(api.as_ref(), &account.email, PASSWORD).await;
    assert_eq!(
        (throttled.status, throttled.code()),
        (429, "too_many_attempts")
    );
    let retry_after: i64 = throttled
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=WINDOW_SECONDS).contains(&retry_after), "{retry_after}");
    assert_eq!(
        login_as(api.as_ref(), &bystander.email, PASSWORD)
            .await
            .status,
        200
    );

    // A window later (a clock, no sleeping) the account may try again.
    let later = LambdaApi {
        ctx: Arc::new(AppContext {
            clock: Arc::new(LaterClock(Duration::seconds(WINDOW_SECONDS))),
            ..(*ctx).clone()
        }),
    };
    assert_eq!(login_as(&later, &account.email, PASSWORD).await.status, 200);
}

async fn failed_logins_are_throttled_per_source_ip(app: TestApp) {
    let api = app.api.clone();
    let account = signup(api.as_ref()).await;
    // Password spraying: one wrong guess each at many accounts from one address.
    let guesses: Vec<_> = (0..IP_LIMIT)
        .map(|i| {
            let api = api.clone();
            tokio::spawn(async move {
                let email = format!("spray-{i}-{}@example.org", Uuid::new_v4().simple());
                login_as(api.as_ref(), &email, "Summer2026!").await.status
            })
        })
        .collect();
    for guess in guesses {
        assert_eq!(guess.await.unwrap(), 401);
    }
    let throttled = login_as(api.as_ref(), &account.email, PASSWORD).await;
    assert_eq!(
        (throttled.status, throttled.code()),
        (429, "too_many_attempts")
    );
    assert!(throttled.header("retry-after").is_some());
}

async fn unknown_emails_get_the_same_answers(app: TestApp) {
    let api = app.api.clone();
    let account = signup(api.as_ref()).await;
    let unknown = format!("nobody-{}@example.org", Uuid::new_v4().simple());
    let wrong = login_as(api.as_ref(), &account.email, "wrong password!").await;
    let absent = login_as(api.as_ref(), &unknown, "wrong password!").await;
    assert_eq!((wrong.status, &wrong.body), (absent.status, &absent.body));
    assert_eq!(wrong.status, 401);

    let known = api
        .post(
            "/auth/password-reset",
            None,
            json!({ "email": account.email }),
        )
        .await;
    let absent = api
        .post("/auth/password-reset", None, json!({ "email": unknown }))
        .await;
    assert_eq!(known.status, 202);
    assert_eq!((known.status, &known.body), (absent.status, &absent.body));
}

// ---------------------------------------------------------------------------------------
// Password reset by email, end to end.

/// The token in a reset mail's text: the link's `token=` parameter.
fn token_in(text: &str) -> String {
    let start = text.find("token=").expect("a reset link") + "token=".len();
    text[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn request_reset(api: &dyn Api, account: &Account) -> String {
    let (_, session) = tokens_of(api, account).await;
    let reply = api
        .post(
            "/auth/password-reset",
            None,
            json!({ "email": account.email }),
        )
        .await;
    assert_eq!(reply.status, 202);
    session
}

/// Confirms with the mailed token: the new password works, the old one and every old
/// session do not, and the token is spent.
async fn confirm_reset(api: &dyn Api, account: &Account, token: &str, old_session: &str) {
    let weak = api
        .post(
            "/auth/password-reset/confirm",
            None,
            json!({ "token": token, "password": "short" }),
        )
        .await;
    assert_eq!((weak.status, weak.code()), (422, "validation_failed"));
    let new_password = "a brand new horse";
    let confirm = json!({ "token": token, "password": new_password });
    let done = api
        .post("/auth/password-reset/confirm", None, confirm.clone())
        .await;
    assert_eq!(done.status, 204, "{:?}", done.body);
    let spent = api
        .post("/auth/password-reset/confirm", None, confirm)
        .await;
    assert_eq!((spent.status, spent.code()), (400, "invalid_reset_token"));

    assert_eq!(refresh(api, old_session).await.status, 401);
    assert_eq!(login_as(api, &account.email, PASSWORD).await.status, 401);
    assert_eq!(
        login_as(api, &account.email, new_password).await.status,
        200
    );
}

async fn password_reset_by_email_end_to_end(app: TestApp) {
    let api = app.api.as_ref();
    let account = signup(api).await;
    let session = request_reset(api, &account).await;
    app.settle().await;
    let mail = app.mail_to(&account.email).await;
    assert_eq!(mail.len(), 1, "one reset mail");
    let text = evreg_tests::mailbox::text_part(&mail[0], "text/plain").expect("a text part");
    assert!(text.contains("https://evreg.test/auth/password-reset/confirm?token="));
    confirm_reset(api, &account, &token_in(&text), &session).await;
    assert_eq!(app.dead_letters().await, 0);
}
