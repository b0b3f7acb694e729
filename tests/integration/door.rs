//! The door app's page and files (`GET /door`, `GET /door/{file}`), in both modes: their
//! media types, public cache headers and `304`s, the page's own policy (its scripts, the
//! camera, a worker; still no inline script and no framing), the service worker's scope
//! and version, a 404 for a name the app lacks; and the vendored libraries, byte for byte
//! what `npm ci` installed (`scripts/vendor-frontend.sh`).

use std::path::PathBuf;

use evreg::handlers::common::door::{DOOR_FILES, SERVICE_WORKER};
use evreg_tests::api::{Api, ApiRequest, Reply};
use evreg_tests::apps::TestApp;
use http::Method;

evreg_tests::both_modes!("door":
    door => [the_page_has_its_own_policy_and_caches],
    door_file => [every_file_has_its_type_and_caches, an_unknown_file_is_404],
);

async fn the_page_has_its_own_policy_and_caches(app: TestApp) {
    let api = app.api.as_ref();
    let page = api.get("/door", None).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let policy = page.header("content-security-policy").expect("a policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(
        !policy.contains("unsafe") && !policy.contains("http"),
        "{policy}"
    );
    assert_eq!(page.header("permissions-policy"), Some("camera=(self)"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert!(page.header("referrer-policy").is_some());

    let html = String::from_utf8(page.bytes.clone()).unwrap();
    assert_eq!(html.matches("<script").count(), 1, "one script: the app");
    assert!(html.contains(r#"<script type="module" src="/door/app.js"></script>"#));
    assert!(!html.contains("<style") && !html.contains(" style="));
    let handler_attribute = html.split(" on").skip(1).any(|rest| {
        rest.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase())
        })
    });
    assert!(!handler_attribute, "no inline event handler");
    assert!(html.contains(r#"<link rel="manifest" href="/door/manifest.webmanifest">"#));

    assert_public_and_revalidates(api, "/door", &page).await;
}

async fn every_file_has_its_type_and_caches(app: TestApp) {
    let api = app.api.as_ref();
    for file in DOOR_FILES {
        let path = format!("/door/{}", file.name);
        let reply = api.get(&path, None).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(
            reply.header("content-type"),
            Some(file.content_type),
            "{path}"
        );
        let expected = if file.name == "sw.js" {
            SERVICE_WORKER.as_str()
        } else {
            file.body
        };
        assert_eq!(reply.bytes, expected.as_bytes(), "{path}");
        if file.name != "index.html" {
            assert!(reply.header("permissions-policy").is_none(), "{path}");
            assert!(reply.header("content-security-policy").is_none(), "{path}");
        }
        assert_public_and_revalidates(api, &path, &reply).await;
    }
    let worker = api.get("/door/sw.js", None).await;
    assert_eq!(worker.header("service-worker-allowed"), Some("/door"));
    let script = String::from_utf8(worker.bytes).unwrap();
    assert!(!script.contains("DOOR_VERSION"), "the version is filled in");
    assert!(script.contains("const VERSION = '"), "{script}");
}

async fn an_unknown_file_is_404(app: TestApp) {
    let api = app.api.as_ref();
    for path in ["/door/nope.js", "/door/..%2Fsecrets", "/door/APP.JS"] {
        let reply = api.get(path, None).await;
        assert_eq!((reply.status, reply.code()), (404, "not_found"), "{path}");
    }
}

/// `reply` (to `GET path`) may be cached by anyone and revalidates to a 304 by its ETag.
async fn assert_public_and_revalidates(api: &dyn Api, path: &str, reply: &Reply) {
    let cache_control = reply.header("cache-control").unwrap_or_default();
    assert!(
        cache_control.starts_with("public") && cache_control.contains("max-age"),
        "{path}: {cache_control}"
    );
    let etag = reply.header("etag").expect("an ETag");
    let again = api
        .send(ApiRequest::new(Method::GET, path).header("if-none-match", etag))
        .await;
    assert_eq!(again.status, 304, "{path}");
    assert!(again.bytes.is_empty(), "{path}");
}

/// Each `vendor <from> <to>` line of `scripts/vendor-frontend.sh` copies
/// `node_modules/<from>` to `shared/door/<to>`: the committed copy must be exactly what
/// `npm ci` installed from the lockfile. Without node_modules (no `npm ci` yet) it is
/// skipped locally and fails under CI, where the test command installs it.
#[test]
fn the_vendored_libraries_are_the_locked_npm_packages() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let script = std::fs::read_to_string(root.join("scripts/vendor-frontend.sh")).unwrap();
    let copies: Vec<(&str, &str)> = script
        .lines()
        .filter_map(|line| line.strip_prefix("vendor "))
        .filter_map(|rest| rest.split_once(' '))
        .collect();
    assert_eq!(copies.len(), 2, "{copies:?}");
    if !root.join("node_modules").is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "node_modules is missing: the test command runs `npm ci` first"
        );
        eprintln!("SKIPPED: no node_modules (run `npm ci`)");
        return;
    }
    for (from, to) in copies {
        let installed = std::fs::read(root.join("node_modules").join(from))
            .unwrap_or_else(|e| panic!("node_modules/{from}: {e}"));
        let vendored = std::fs::read(root.join("shared/door").join(to)).unwrap();
        assert!(
            installed == vendored,
            "shared/door/{to} differs from node_modules/{from}: run scripts/vendor-frontend.sh"
        );
        assert!(
            DOOR_FILES.iter().any(|file| file.name == to),
            "{to} is served"
        );
    }
}

/// The app loads nothing from another origin: no absolute URL in its own files (the
/// vendored decoder's only one is a link in a comment; the icon's is its XML namespace).
#[test]
fn the_app_loads_nothing_from_elsewhere() {
    for file in DOOR_FILES {
        let body = match file.name {
            "jsQR.js" => file
                .body
                .replace("http://en.wikipedia.org/wiki/Bresenham", ""),
            "icon.svg" => file.body.replace("http://www.w3.org/2000/svg", ""),
            _ => file.body.to_owned(),
        };
        assert!(
            !body.contains("http://") && !body.contains("https://") && !body.contains("//cdn"),
            "{} names another origin",
            file.name
        );
    }
}
