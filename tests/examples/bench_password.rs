//! Benchmark: how long one argon2id password hash (and verify) takes with evreg's parameters
//! (`evreg::auth::password::{MEMORY_KIB, PASSES, LANES}`), on one core, the way a login or
//! signup pays for it (`Passwords::hash` / `verify` on a blocking thread).
//!
//! Also prints the decoy path (a login for an unknown email), which must cost the same as a
//! wrong password for a known one: that equality is what hides whether an account exists.
//!
//! ```sh
//! cargo run --release -p evreg-tests --example bench_password
//! ```

use std::time::{Duration, Instant};

use evreg::auth::password::{LANES, MEMORY_KIB, PASSES};
use evreg::auth::Passwords;

const RUNS: usize = 30;

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    format!(
        "{:>8.1} {:>8.1} {:>8.1} {:>8.1}",
        ms(samples[0]),
        ms(at(0.5)),
        ms(at(0.9)),
        ms(samples[samples.len() - 1])
    )
}

#[tokio::main]
async fn main() {
    let passwords = Passwords::default();
    println!(
        "argon2id m={} KiB ({} MiB), t={PASSES}, p={LANES}; {RUNS} runs each; profile: {}",
        MEMORY_KIB,
        MEMORY_KIB / 1024,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    // Warm-up: first allocation of the 19 MiB block, and the decoy hash.
    let stored = passwords
        .hash("correct horse battery".into())
        .await
        .unwrap();
    passwords.verify("x".into(), None).await;

    let (mut hash, mut verify, mut wrong, mut decoy) = (vec![], vec![], vec![], vec![]);
    for _ in 0..RUNS {
        let started = Instant::now();
        passwords
            .hash("correct horse battery".into())
            .await
            .unwrap();
        hash.push(started.elapsed());

        let started = Instant::now();
        assert!(
            passwords
                .verify("correct horse battery".into(), Some(stored.clone()))
                .await
        );
        verify.push(started.elapsed());

        let started = Instant::now();
        assert!(
            !passwords
                .verify("wrong horse".into(), Some(stored.clone()))
                .await
        );
        wrong.push(started.elapsed());

        let started = Instant::now();
        assert!(!passwords.verify("correct horse battery".into(), None).await);
        decoy.push(started.elapsed());
    }
    println!("| operation (ms) | min | p50 | p90 | max |");
    println!("|---|---:|---:|---:|---:|");
    for (name, samples) in [
        ("hash (signup, password reset)", hash),
        ("verify, right password", verify),
        ("verify, wrong password", wrong),
        ("verify, unknown email (decoy)", decoy),
    ] {
        let row = summary(samples);
        let cells: Vec<&str> = row.split_whitespace().collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
}
