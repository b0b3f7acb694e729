//! The dev-server binary itself (`make dev`): it prints its URL, serves the API, and keeps
//! its state in the data directory across a restart.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use evreg_tests::api::{Api, HttpApi};
use serde_json::json;

struct DevServer {
    child: Child,
    url: String,
}

impl DevServer {
    fn start(binary: &str, data_dir: &std::path::Path) -> Self {
        let mut child = Command::new(binary)
            .env("PORT", "0")
            .env("EVREG_DATA_DIR", data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the dev server starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut first_line = String::new();
        reader.read_line(&mut first_line).expect("a banner");
        // Keep the pipe open and drained: the server goes on printing.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = first_line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {first_line:?}"))
            .to_owned();
        Self { child, url }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_binary_serves_the_api_and_keeps_state_across_restarts() {
    let Ok(binary) = std::env::var("EVREG_DEV_BIN") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "EVREG_DEV_BIN is not set in CI"
        );
        eprintln!("skipped: EVREG_DEV_BIN is not set (run `make test`)");
        return;
    };
    let data_dir =
        std::env::temp_dir().join(format!("evreg-dev-{}", uuid::Uuid::new_v4().simple()));
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
