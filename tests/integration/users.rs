//! Account administration by ADMINs (`POST /users`, `GET /users`, `PATCH /users/{id}`) in
//! both modes, and the `create-admin` command that makes the first ADMIN.

use std::process::Command;

use evreg::adapters::embedded::SqliteStore;
use evreg::domain::Role;
use evreg::runtime::embedded::{Embedded, EmbeddedConfig};
use evreg::secrets::Secrets;
use evreg_tests::api::{Api, LambdaApi};
use evreg_tests::apps::{scratch_dir, AwsApp, TestApp, FAST_QUEUES, TEST_PUBLIC_URL};
use http::Method;
use serde_json::{json, Value};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

evreg_tests::both_modes!("users":
    users_create => [admins_create_accounts_of_any_role],
    users_list => [admins_list_accounts_by_email_across_pages],
    users_update => [admins_change_roles_and_deactivate_accounts],
);

/// `POST /users` as `admin`; returns the new account's id.
async fn create_account(api: &dyn Api, admin: &str, email: &str, role: &str) -> String {
    let created = api
        .post(
            "/users",
            Some(admin),
            json!({ "email": email, "password": PASSWORD, "role": role }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    created.body["id"].as_str().expect("id").to_owned()
}

/// The access token of `email`, logged in with [`PASSWORD`].
async fn login(api: &dyn Api, email: &str) -> String {
    let login = api
        .post(
            "/auth/login",
            None,
            json!({ "email": email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    login.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

async fn admins_create_accounts_of_any_role(app: TestApp) {
    let api = app.api.as_ref();
    let (_, admin) = evreg_tests::api::new_admin(&app.ctx).await;
    let tag = Uuid::new_v4().simple().to_string();
    let email = format!("Staff-{tag}@Users.Example.org");

    let created = api
        .post(
            "/users",
            Some(&admin),
            json!({ "email": email, "password": PASSWORD, "role": "STAFF" }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["email"], email.to_lowercase());
    assert_eq!(created.body["role"], "STAFF");
    assert_eq!(created.body["active"], true);
    assert!(
        created.body.get("password_hash").is_none(),
        "{:?}",
        created.body
    );

    // The new account logs in with the role the ADMIN gave it.
    let staff = login(api, &email).await;
    assert_eq!(api.get("/me", Some(&staff)).await.body["role"], "STAFF");

    let again = api
        .post(
            "/users",
            Some(&admin),
            json!({ "email": email.to_uppercase(), "password": PASSWORD, "role": "ADMIN" }),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "email_taken"));
    for (case, body) in [
        (
            "unknown role",
            json!({ "email": format!("x-{tag}@e.org"), "password": PASSWORD, "role": "ROOT" }),
        ),
        (
            "no role",
            json!({ "email": format!("x-{tag}@e.org"), "password": PASSWORD }),
        ),
        (
            "short password",
            json!({ "email": format!("x-{tag}@e.org"), "password": "short", "role": "STAFF" }),
        ),
        (
            "not an email",
            json!({ "email": "nope", "password": PASSWORD, "role": "STAFF" }),
        ),
    ] {
        let refused = api.post("/users", Some(&admin), body).await;
        assert_eq!(refused.status, 422, "{case}: {:?}", refused.body);
    }
}

async fn admins_list_accounts_by_email_across_pages(app: TestApp) {
    let api = app.api.as_ref();
    let (_, admin) = evreg_tests::api::new_admin(&app.ctx).await;
    let tag = Uuid::new_v4().simple().to_string();
    let email = format!("Staff-{tag}@Users.Example.org");
    create_account(api, &admin, &email, "STAFF").await;

    // More accounts than a page, listed by email across pages, never with a hash.
    for i in 0..3 {
        let page_email = format!("page{i}-{tag}@users.example.org");
        create_account(api, &admin, &page_email, "ORGANIZER").await;
    }
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/users?limit=2&cursor={cursor}"),
            None => "/users?limit=2".to_owned(),
        };
        let page = api.get(&path, Some(&admin)).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        let items = page.body["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        for item in items {
            assert!(item.get("password_hash").is_none(), "{item}");
            seen.push(item["email"].as_str().expect("email").to_owned());
        }
        pages += 1;
        match &page.body["next_cursor"] {
            Value::String(next) => cursor = Some(next.clone()),
            _ => break,
        }
    }
    assert!(pages >= 3, "{pages} pages");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "by email, each once");
    for i in 0..3 {
        assert!(seen.contains(&format!("page{i}-{tag}@users.example.org")));
    }
    assert!(seen.contains(&email.to_lowercase()));
    let forged = api
        .get("/users?cursor=bm90LWEtY3Vyc29y", Some(&admin))
        .await;
    assert_eq!(forged.status, 400, "a forged cursor: {:?}", forged.body);
}

async fn admins_change_roles_and_deactivate_accounts(app: TestApp) {
    let api = app.api.clone();
    let (admin_id, admin) = evreg_tests::api::new_admin(&app.ctx).await;
    let email = format!("staff-{}@users.example.org", Uuid::new_v4().simple());
    let id = create_account(api.as_ref(), &admin, &email, "STAFF").await;
    let staff = login(api.as_ref(), &email).await;

    let patch = |path: String, body: Value| {
        let (api, admin) = (api.clone(), admin.clone());
        async move {
            api.call(Method::PATCH, &path, Some(&admin), Some(body))
                .await
        }
    };
    let promoted = patch(format!("/users/{id}"), json!({ "role": "ORGANIZER" })).await;
    assert_eq!(promoted.status, 200, "{:?}", promoted.body);
    assert_eq!(
        (&promoted.body["role"], &promoted.body["active"]),
        (&json!("ORGANIZER"), &json!(true))
    );
    let deactivated = patch(format!("/users/{id}"), json!({ "active": false })).await;
    assert_eq!(
        (&deactivated.body["role"], &deactivated.body["active"]),
        (&json!("ORGANIZER"), &json!(false))
    );
    assert!(deactivated.body.get("password_hash").is_none());
    let stored = app
        .ctx
        .users
        .user(id.parse().expect("uuid"))
        .await
        .expect("store")
        .expect("user");
    assert_eq!((stored.role, stored.active), (Role::Organizer, false));
    assert_eq!(
        api.get("/me", Some(&staff)).await.status,
        401,
        "deactivated"
    );
    let listed = api.get("/users?limit=200", Some(&admin)).await;
    assert!(listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|u| u["id"] == json!(id) && u["active"] == json!(false) && u["role"] == "ORGANIZER"));

    let unknown = patch(
        format!("/users/{}", Uuid::now_v7()),
        json!({ "active": false }),
    )
    .await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    let not_an_id = patch("/users/nope".into(), json!({ "active": false })).await;
    assert_eq!(not_an_id.status, 404);
    // No ADMIN locks themselves out.
    for body in [json!({ "active": false }), json!({ "role": "STAFF" })] {
        let refused = patch(format!("/users/{admin_id}"), body.clone()).await;
        assert_eq!(refused.status, 422, "{body}: {:?}", refused.body);
    }
    let kept = patch(
        format!("/users/{admin_id}"),
        json!({ "role": "ADMIN", "active": true }),
    )
    .await;
    assert_eq!(kept.status, 200, "{:?}", kept.body);
    for body in [
        json!({}),
        json!({ "role": "ROOT" }),
        json!({ "password": "x" }),
    ] {
        let refused = patch(format!("/users/{id}"), body.clone()).await;
        assert_eq!(refused.status, 422, "{body}: {:?}", refused.body);
    }
}

/// `evreg-dev create-admin`, as the README documents it, against `data_dir` (embedded) or
/// the emulator's table (`aws`).
fn create_admin(
    binary: &str,
    email: &str,
    configure: impl FnOnce(&mut Command),
) -> std::process::Output {
    let mut command = Command::new(binary);
    command
        .args(["create-admin", "--email", email])
        .env("EVREG_ADMIN_PASSWORD", PASSWORD);
    configure(&mut command);
    command.output().expect("evreg-dev runs")
}

fn dev_binary() -> Option<String> {
    let binary = std::env::var("EVREG_DEV_BIN").ok();
    if binary.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "EVREG_DEV_BIN is not set in CI"
        );
        eprintln!("skipped: EVREG_DEV_BIN is not set (run `make test`)");
    }
    binary
}

/// The admin logs in and administers accounts; a second run for the same email fails.
async fn the_admin_works(api: &dyn Api, email: &str) {
    let login = api
        .post(
            "/auth/login",
            None,
            json!({ "email": email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    let token = login.body["access_token"].as_str().expect("token");
    assert_eq!(api.get("/me", Some(token)).await.body["role"], "ADMIN");
    assert_eq!(api.get("/users", Some(token)).await.status, 200);
}

#[tokio::test]
async fn create_admin_writes_the_first_admin_into_the_local_database() {
    let Some(binary) = dev_binary() else { return };
    let data_dir = scratch_dir("create-admin");
    let email = "first-admin@example.org";

    let made = create_admin(&binary, email, |c| {
        c.env("EVREG_DATA_DIR", &data_dir);
    });
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let again = create_admin(&binary, email, |c| {
        c.env("EVREG_DATA_DIR", &data_dir);
    });
    assert!(!again.status.success(), "a second ADMIN with one email");

    // The dev server's database, opened as `make dev` opens it.
    let store = SqliteStore::open(&data_dir.join("evreg.sqlite3")).expect("the database");
    let app = Embedded::start(
        store,
        &Secrets::generate(),
        EmbeddedConfig {
            files: data_dir.clone(),
            public_url: TEST_PUBLIC_URL.to_owned(),
            queues: FAST_QUEUES,
        },
    )
    .expect("the app");
    the_admin_works(
        &LambdaApi {
            ctx: app.ctx.clone(),
        },
        email,
    )
    .await;
}

#[tokio::test]
async fn create_admin_writes_the_first_admin_into_dynamodb() {
    let Some(app) = AwsApp::start("admin-cli").await else {
        return;
    };
    let Some(binary) = dev_binary() else { return };
    let email = format!("admin-{}@example.org", Uuid::new_v4().simple());
    let made = create_admin(&binary, &email, |c| {
        // The SDK settings (endpoint, region, credentials) come from this test's environment.
        c.arg("--aws")
            .env("WRITE_TABLE", app.resources.write_table());
    });
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    the_admin_works(app.api().as_ref(), &email).await;
    let again = create_admin(&binary, &email, |c| {
        c.arg("--aws")
            .env("WRITE_TABLE", app.resources.write_table());
    });
    assert!(!again.status.success(), "a second ADMIN with one email");
}

/// The `UserStore` port, against both adapters (the conformance suite's fresh stores).
mod store {
    use evreg::domain::{Role, User, UserId};
    use evreg::ports::{StoreError, UserChange};
    use time::OffsetDateTime;

    use evreg_tests::stores::Stores;

    evreg_tests::both_stores!(
        users_list_by_email_across_pages,
        updates_change_only_what_they_name,
        concurrent_updates_of_different_fields_both_land,
    );

    async fn user(stores: &Stores, email: &str, role: Role) -> User {
        let user = User {
            id: UserId::now_v7(),
            email: email.to_owned(),
            password_hash: "hash".into(),
            role,
            active: true,
            created_at: OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .expect("time"),
        };
        stores
            .users
            .create_user(&user, &[])
            .await
            .expect("user")
            .unpublished();
        user
    }

    async fn users_list_by_email_across_pages(stores: Stores) {
        for name in ["dora", "alice", "eve", "carol", "bob"] {
            user(&stores, &format!("{name}@example.org"), Role::Staff).await;
        }
        let mut emails = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = stores
                .users
                .users(2, cursor.as_deref())
                .await
                .expect("page");
            assert!(page.items.len() <= 2);
            emails.extend(page.items.into_iter().map(|u| u.email));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(
            emails,
            ["alice", "bob", "carol", "dora", "eve"].map(|n| format!("{n}@example.org"))
        );
        assert!(matches!(
            stores.users.users(2, Some("garbage!")).await,
            Err(StoreError::InvalidCursor)
        ));
    }

    async fn updates_change_only_what_they_name(stores: Stores) {
        let ann = user(&stores, "ann@example.org", Role::Staff).await;
        let promoted = stores
            .users
            .update_user(
                ann.id,
                UserChange {
                    role: Some(Role::Organizer),
                    active: None,
                },
            )
            .await
            .expect("update")
            .expect("ann");
        assert_eq!(
            promoted,
            User {
                role: Role::Organizer,
                ..ann.clone()
            }
        );
        let deactivated = stores
            .users
            .update_user(
                ann.id,
                UserChange {
                    role: None,
                    active: Some(false),
                },
            )
            .await
            .expect("update")
            .expect("ann");
        assert_eq!(
            (deactivated.role, deactivated.active),
            (Role::Organizer, false)
        );
        let by_email = stores
            .users
            .user_by_email("ann@example.org")
            .await
            .expect("read")
            .expect("ann");
        assert_eq!(by_email, deactivated);
        assert_eq!(
            stores
                .users
                .update_user(UserId::now_v7(), UserChange::default())
                .await
                .expect("update"),
            None
        );
        assert_eq!(
            stores
                .users
                .update_user(
                    UserId::now_v7(),
                    UserChange {
                        role: Some(Role::Admin),
                        active: None
                    }
                )
                .await
                .expect("update"),
            None,
            "no account appears from an update"
        );
        // The listing shows the change too.
        let listed = stores.users.users(10, None).await.expect("list");
        assert_eq!(listed.items, [deactivated]);
    }

    async fn concurrent_updates_of_different_fields_both_land(stores: Stores) {
        for round in 0..5 {
            let u = user(&stores, &format!("c{round}@example.org"), Role::Staff).await;
            let (a, b) = (stores.users.clone(), stores.users.clone());
            let role = tokio::spawn(async move {
                a.update_user(
                    u.id,
                    UserChange {
                        role: Some(Role::Admin),
                        active: None,
                    },
                )
                .await
            });
            let active = tokio::spawn(async move {
                b.update_user(
                    u.id,
                    UserChange {
                        role: None,
                        active: Some(false),
                    },
                )
                .await
            });
            role.await.expect("task").expect("update");
            active.await.expect("task").expect("update");
            let now = stores.users.user(u.id).await.expect("read").expect("user");
            assert_eq!(
                (now.role, now.active),
                (Role::Admin, false),
                "round {round}"
            );
        }
    }
}
