//! `make dev`: evreg's API and workers on 127.0.0.1:$PORT with no AWS.
//!
//! `evreg-dev create-admin --email <email> [--aws]` creates an ADMIN instead (the password
//! from `EVREG_ADMIN_PASSWORD`, else read from standard input): in the `.local/` database
//! (`EVREG_DATA_DIR`), or with `--aws` in the DynamoDB table named by `WRITE_TABLE`.
//!
//! `evreg-dev dead-letters list|redrive [--queue <name>] [--aws [--prefix <stack>]]` lists
//! or redrives the messages every delivery failed (see `dead_letters.rs`).

mod dead_letters;

use std::io::BufRead;

use evreg::adapters::embedded::SqliteStore;
use evreg::ports::BoxError;
use evreg::runtime::{admin, dev_server, logging};

const USAGE: &str = "usage: evreg-dev [create-admin --email <email> [--aws] | dead-letters \
                     list|redrive [--queue <name>] [--aws [--prefix <queue name prefix>]]]";

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {
            logging::init_json();
            dev_server::run(dev_server::DevSettings::from_env()?).await
        }
        Some("create-admin") => create_admin(&args[1..]).await,
        Some("dead-letters") => dead_letters(&args[1..]).await,
        Some(_) => Err(USAGE.into()),
    }
}

async fn create_admin(args: &[String]) -> Result<(), BoxError> {
    let mut email = None;
    let mut aws = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--email" => email = rest.next().cloned(),
            "--aws" => aws = true,
            _ => return Err(USAGE.into()),
        }
    }
    let email = email.ok_or(USAGE)?;
    let password = match std::env::var("EVREG_ADMIN_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            eprintln!("password for {email} (one line on standard input):");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };

    let user = if aws {
        let store = admin::aws_store_from_env().await?;
        admin::create_admin(&store, &email, password).await?
    } else {
        let settings = dev_server::DevSettings::from_env()?;
        std::fs::create_dir_all(&settings.data_dir)?;
        // The dev server's database file (see `dev_server::run`).
        let store = SqliteStore::open(&settings.data_dir.join("evreg.sqlite3"))?;
        admin::create_admin(&store, &email, password).await?
    };
    println!("created ADMIN {} ({})", user.email, user.id);
    Ok(())
}

async fn dead_letters(args: &[String]) -> Result<(), BoxError> {
    let action = match args.first().map(String::as_str) {
        Some("list") => dead_letters::Action::List,
        Some("redrive") => dead_letters::Action::Redrive,
        _ => return Err(USAGE.into()),
    };
    let (mut queue, mut prefix, mut aws) = (None, None, false);
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--queue" => queue = Some(rest.next().ok_or(USAGE)?.clone()),
            "--prefix" => prefix = Some(rest.next().ok_or(USAGE)?.clone()),
            "--aws" => aws = true,
            _ => return Err(USAGE.into()),
        }
    }
    if aws {
        // `--prefix` names a stack's queues, or one of them (queue names begin with it).
        if queue.is_some() {
            return Err("with --aws, name queues by --prefix".into());
        }
        return dead_letters::aws(action, prefix.as_deref()).await;
    }
    let settings = dev_server::DevSettings::from_env()?;
    let store = SqliteStore::open(&settings.data_dir.join("evreg.sqlite3"))?;
    dead_letters::embedded(&store, action, queue.as_deref()).await
}
