//! The dev-server binary (`make dev`) as a child process, for the tests that run it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A running `evreg-dev` on a free port; killed (SIGKILL) when dropped.
pub struct DevServer {
    pub child: Child,
    /// `http://127.0.0.1:<port>`, from its banner.
    pub url: String,
    /// Everything it printed after its banner (its JSON log lines, at `debug`).
    output: Arc<Mutex<String>>,
}

impl DevServer {
    /// Starts `binary` on a free port with its state in `data_dir`; returns once it has
    /// printed its banner, which it does once it listens.
    pub fn start(binary: &str, data_dir: &std::path::Path) -> Self {
        Self::start_with(binary, data_dir, &[])
    }

    /// As [`DevServer::start`], with more environment variables.
    pub fn start_with(binary: &str, data_dir: &std::path::Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(binary)
            .env("PORT", "0")
            .env("EVREG_DATA_DIR", data_dir)
            .env("RUST_LOG", "debug")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the dev server starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        // Log lines (a restart's recovery, say) may come before the banner.
        let mut banner = String::new();
        while !banner.starts_with("evreg embedded mode") {
            banner.clear();
            let read = reader.read_line(&mut banner).expect("the server's output");
            assert!(read > 0, "the dev server exited before its banner");
        }
        // Keep the pipe open and drained: the server goes on printing.
        let output = Arc::new(Mutex::new(String::new()));
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                if let Ok(mut output) = sink.lock() {
                    output.push_str(&line);
                    output.push('\n');
                }
            }
        });
        let url = banner
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {banner:?}"))
            .to_owned();
        Self { child, url, output }
    }

    /// What it printed so far after its banner.
    pub fn output(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// SIGKILL, and reaped.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGINT (Ctrl-C): the server lets its workers finish, then exits; waits for that.
    pub fn interrupt(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGINT to {pid}");
        self.child.wait().expect("the server exits")
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary `make test` built (`None`, skipped, outside CI) and a fresh data directory.
pub fn binary_and_data_dir() -> Option<(String, std::path::PathBuf)> {
    let Ok(binary) = std::env::var("EVREG_DEV_BIN") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "EVREG_DEV_BIN is not set in CI"
        );
        eprintln!("skipped: EVREG_DEV_BIN is not set (run `make test`)");
        return None;
    };
    let data_dir =
        std::env::temp_dir().join(format!("evreg-dev-{}", uuid::Uuid::new_v4().simple()));
    Some((binary, data_dir))
}
