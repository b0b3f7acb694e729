//! `make dev`'s build of evreg-dev (without the `aws` feature, so no AWS SDK): `--aws` still
//! parses, and is refused with a usage error that names the command to run instead —
//! before any password is read or database opened. `cargo test -p evreg-dev` runs this
//! against that build's binary; with `--features aws` there is nothing to test here (the
//! `--aws` commands themselves are tested in tests/integration/).
#![cfg(not(feature = "aws"))]

use std::process::{Command, Stdio};

#[test]
fn aws_commands_are_refused_naming_the_build_that_runs_them() {
    let data_dir = std::env::temp_dir().join(format!(
        "evreg-dev-without-aws-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    for (args, usage, instead) in [
        (
            &["create-admin", "--email", "o'hara@example.org", "--aws"][..],
            "Usage: evreg-dev create-admin",
            r"cargo run -p evreg-dev --features aws -- create-admin --email 'o'\''hara@example.org' --aws",
        ),
        (
            &["dead-letters", "list", "--aws", "--prefix", "evreg-prod"][..],
            "Usage: evreg-dev dead-letters list",
            "cargo run -p evreg-dev --features aws -- dead-letters list --aws --prefix evreg-prod",
        ),
        (
            &["dead-letters", "redrive", "--aws"][..],
            "Usage: evreg-dev dead-letters redrive",
            "cargo run -p evreg-dev --features aws -- dead-letters redrive --aws\n",
        ),
    ] {
        let refused = Command::new(env!("CARGO_BIN_EXE_evreg-dev"))
            .args(args)
            .env("EVREG_DATA_DIR", &data_dir)
            .env_remove("EVREG_ADMIN_PASSWORD")
            // A password prompt would read this (and fail); the refusal comes first.
            .stdin(Stdio::null())
            .output()
            .expect("evreg-dev runs");
        let error = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{args:?}: {error}");
        assert!(refused.stdout.is_empty(), "{args:?}");
        assert!(
            error.starts_with("error: --aws needs evreg-dev built with the `aws` feature"),
            "{args:?}: {error}"
        );
        assert!(error.contains(instead), "{args:?}: {error}");
        assert!(error.contains(usage), "{args:?}: {error}");
        assert!(!error.contains("password"), "{args:?}: {error}");
    }
    assert!(
        !data_dir.exists(),
        "a refused --aws command creates no data directory and opens no database"
    );
}
