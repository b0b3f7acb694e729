//! The door app's files (`shared/door/`, embedded in the binary): an installable, offline
//! web app for door staff (issue 12), served by `GET /door` (the page) and
//! `GET /door/{file}` (its scripts, stylesheet, manifest, icon, service worker and the
//! vendored QR decoder, copied from `node_modules` by `scripts/vendor-frontend.sh`).
//!
//! Every file is a public, cacheable answer ([`public_body`]: an `ETag`, `304` on
//! `If-None-Match`, `s-maxage` for the CDN); the service worker keeps its own copy for
//! offline use. The page's policy ([`DOOR_CONTENT_SECURITY_POLICY`]) differs from the other
//! pages' in what the app needs: its own scripts, the camera, the API, a worker.

use std::sync::LazyLock;

use http::header::CONTENT_SECURITY_POLICY;
use http::HeaderValue;
use lambda_http::Request;
use sha2::{Digest, Sha256};

use crate::http::html::HTML;
use crate::http::{public_body, ApiError, ApiResult};

/// One embedded file of the app.
#[derive(Debug)]
pub struct DoorFile {
    /// Its name under `/door/` (the page itself is `index.html`, served at `/door`).
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its text, as committed in `shared/door/`.
    pub body: &'static str,
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// A [`DoorFile`] of `shared/door/<name>`, embedded at compile time.
macro_rules! door_file {
    ($name:literal, $content_type:expr) => {
        DoorFile {
            name: $name,
            content_type: $content_type,
            body: include_str!(concat!("../../../door/", $name)),
        }
    };
}

/// Every file of the app; the service worker's offline copy (`sw.js`'s `SHELL`) lists the
/// same ones (a test holds the two equal).
pub const DOOR_FILES: &[DoorFile] = &[
    door_file!("index.html", HTML),
    door_file!("door.css", "text/css; charset=utf-8"),
    door_file!("app.js", JAVASCRIPT),
    door_file!("ticket.js", JAVASCRIPT),
    door_file!("api.js", JAVASCRIPT),
    door_file!("scanner.js", JAVASCRIPT),
    door_file!("sw.js", JAVASCRIPT),
    // The media type the W3C Web App Manifest registers for it.
    door_file!("manifest.webmanifest", "application/manifest+json"),
    door_file!("icon.svg", "image/svg+xml"),
    door_file!("idb-keyval.js", JAVASCRIPT),
    door_file!("jsQR.js", JAVASCRIPT),
];

/// `Content-Security-Policy` of the door page (CSP Level 3): scripts, styles, the
/// manifest and the service worker from this origin only (no inline script or style, no
/// `eval`, no WebAssembly: the vendored decoder is plain JavaScript); images from here,
/// `data:` and `blob:` (a photo to decode); requests to this API only; no framing, no
/// `<base>`, no form posts (the app posts with `fetch`).
pub const DOOR_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
     connect-src 'self'; worker-src 'self'; manifest-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// `Permissions-Policy` of the door page: the camera, for this origin only (the other
/// pages never ask for it).
pub const DOOR_PERMISSIONS_POLICY: &str = "camera=(self)";

/// The service worker sits at `/door/sw.js`, whose default scope is `/door/`; the page
/// is `/door`, so the worker's answer widens its allowed scope to `/door` (Service Workers
/// §"Service-Worker-Allowed").
const SERVICE_WORKER_SCOPE: &str = "/door";

/// What `sw.js` says in place of its version.
const VERSION_PLACEHOLDER: &str = "DOOR_VERSION";

/// `sw.js` with the app's version: the first 16 bytes of the SHA-256 of every file, in
/// hex. Any change to the app changes the worker's bytes, which is what makes browsers
/// install it again (and it then fetches the whole app anew).
pub static SERVICE_WORKER: LazyLock<String> = LazyLock::new(|| {
    let mut digest = Sha256::new();
    for file in DOOR_FILES {
        digest.update(file.name.as_bytes());
        digest.update(file.body.as_bytes());
    }
    let version: String = digest.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    DOOR_FILES
        .iter()
        .find(|file| file.name == "sw.js")
        .map_or_else(String::new, |file| {
            file.body.replacen(VERSION_PLACEHOLDER, &version, 1)
        })
});

/// Answers `GET /door` (`name` = `index.html`) or `GET /door/{name}`: the file with its
/// type and public cache headers, the page with its own policy and camera permission,
/// the worker with its scope; 404 `not_found` for a name the app does not have.
pub fn serve(req: &Request, name: &str) -> ApiResult {
    let file = DOOR_FILES
        .iter()
        .find(|file| file.name == name)
        .ok_or(ApiError::NotFound("door app file"))?;
    let body = if name == "sw.js" {
        SERVICE_WORKER.clone()
    } else {
        file.body.to_owned()
    };
    let mut response = public_body(req, file.content_type, body)?;
    let headers = response.headers_mut();
    match name {
        "index.html" => {
            headers.insert(
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(DOOR_CONTENT_SECURITY_POLICY),
            );
            headers.insert(
                "permissions-policy",
                HeaderValue::from_static(DOOR_PERMISSIONS_POLICY),
            );
        }
        "sw.js" => {
            headers.insert(
                "service-worker-allowed",
                HeaderValue::from_static(SERVICE_WORKER_SCOPE),
            );
        }
        _ => {}
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The worker's offline copy is the whole app: a file it missed would fail offline.
    #[test]
    fn the_service_worker_keeps_every_file() {
        let list = SERVICE_WORKER
            .split_once("const SHELL = [")
            .and_then(|(_, rest)| rest.split_once("];"))
            .map(|(list, _)| list)
            .expect("sw.js lists its SHELL");
        let kept: BTreeSet<&str> = list
            .split(',')
            .map(|entry| entry.trim().trim_matches('\''))
            .filter(|entry| !entry.is_empty())
            .collect();
        let served: BTreeSet<String> = DOOR_FILES
            .iter()
            .map(|file| match file.name {
                "index.html" => "/door".to_owned(),
                name => format!("/door/{name}"),
            })
            .collect();
        assert_eq!(
            kept,
            served.iter().map(String::as_str).collect::<BTreeSet<_>>()
        );
    }

    #[test]
    fn the_worker_carries_the_apps_version() {
        assert!(!SERVICE_WORKER.contains(VERSION_PLACEHOLDER));
        let version = SERVICE_WORKER
            .split_once("const VERSION = '")
            .and_then(|(_, rest)| rest.split_once('\''))
            .map(|(version, _)| version)
            .expect("a version");
        assert_eq!(version.len(), 32);
        assert!(version.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
