//! `make dev`: evreg's API and workers on 127.0.0.1:$PORT with no AWS.
//!
//! `evreg-dev create-admin --email <email> [--aws]` creates an ADMIN instead (the password
//! from `EVREG_ADMIN_PASSWORD`, else read from standard input): in the `.local/` database
//! (`EVREG_DATA_DIR`), or with `--aws` in the DynamoDB table named by `WRITE_TABLE`.
//!
//! `evreg-dev dead-letters list|redrive [--queue <name>] [--aws [--prefix <stack>]]` lists
//! or redrives the messages every delivery failed (see `dead_letters.rs`).
//!
//! `--aws` needs the `aws` feature (`cargo run -p evreg-dev --features aws -- …`): without
//! it, as `make dev` builds, no AWS SDK crate is compiled, and `--aws` still parses but is
//! refused with a usage error (status 2) that names the command to run instead.

mod dead_letters;

use std::io::BufRead;

use clap::{Args, Parser, Subcommand};
use evreg::adapters::embedded::SqliteStore;
use evreg::ports::BoxError;
use evreg::runtime::{admin, dev_server, logging};

/// evreg's API and workers on 127.0.0.1:$PORT with no AWS (embedded mode), or one of the
/// operator's commands.
#[derive(Parser)]
#[command(name = "evreg-dev", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Creates an ADMIN (password from EVREG_ADMIN_PASSWORD, else one line on standard input)
    /// in the .local/ database (EVREG_DATA_DIR), or with --aws in the table WRITE_TABLE names.
    CreateAdmin {
        /// The new ADMIN's email address.
        #[arg(long)]
        email: String,
        /// In the DynamoDB write table instead.
        #[cfg_attr(not(feature = "aws"), doc = "(Needs a build with --features aws.)")]
        #[arg(long)]
        aws: bool,
    },
    /// Lists or redrives the messages every delivery failed.
    DeadLetters {
        #[command(subcommand)]
        action: DeadLetterCommand,
    },
}

#[derive(Subcommand)]
enum DeadLetterCommand {
    /// Prints the dead letters.
    List(DeadLetterQueues),
    /// Sends the dead letters back to their queues.
    Redrive(DeadLetterQueues),
}

#[derive(Args)]
struct DeadLetterQueues {
    /// Only this embedded queue.
    #[arg(long, conflicts_with = "aws")]
    queue: Option<String>,
    /// The stack's SQS dead-letter queues instead of the embedded ones.
    #[cfg_attr(not(feature = "aws"), doc = "(Needs a build with --features aws.)")]
    #[arg(long)]
    aws: bool,
    /// With --aws: only queues whose names begin with this (a stack, or one of its queues).
    #[arg(long, requires = "aws")]
    prefix: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    match Cli::parse().command {
        None => {
            logging::init_json();
            dev_server::run(dev_server::DevSettings::from_env()?).await
        }
        Some(Command::CreateAdmin { email, aws }) => create_admin(email, aws).await,
        Some(Command::DeadLetters { action }) => dead_letters(action).await,
    }
}

async fn create_admin(email: String, aws: bool) -> Result<(), BoxError> {
    #[cfg(not(feature = "aws"))]
    if aws {
        refuse_aws(&["create-admin"], &["--email", &email, "--aws"]);
    }
    let password = match std::env::var("EVREG_ADMIN_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            eprintln!("password for {email} (one line on standard input):");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };

    #[cfg(feature = "aws")]
    if aws {
        let store = admin::aws_store_from_env().await?;
        let user = admin::create_admin(&store, &email, password).await?;
        println!("created ADMIN {} ({})", user.email, user.id);
        return Ok(());
    }
    let settings = dev_server::DevSettings::from_env()?;
    std::fs::create_dir_all(&settings.data_dir)?;
    // The dev server's database file (see `dev_server::run`).
    let store = SqliteStore::open(&settings.data_dir.join("evreg.sqlite3"))?;
    let user = admin::create_admin(&store, &email, password).await?;
    println!("created ADMIN {} ({})", user.email, user.id);
    Ok(())
}

async fn dead_letters(command: DeadLetterCommand) -> Result<(), BoxError> {
    let (action, DeadLetterQueues { queue, aws, prefix }) = match command {
        DeadLetterCommand::List(queues) => (dead_letters::Action::List, queues),
        DeadLetterCommand::Redrive(queues) => (dead_letters::Action::Redrive, queues),
    };
    if aws {
        // `--prefix` names a stack's queues, or one of them (queue names begin with it).
        #[cfg(feature = "aws")]
        return dead_letters::aws::run(action, prefix.as_deref()).await;
        #[cfg(not(feature = "aws"))]
        {
            let subcommand = match action {
                dead_letters::Action::List => "list",
                dead_letters::Action::Redrive => "redrive",
            };
            let mut args = vec!["--aws"];
            if let Some(prefix) = &prefix {
                args.extend(["--prefix", prefix]);
            }
            refuse_aws(&["dead-letters", subcommand], &args);
        }
    }
    let settings = dev_server::DevSettings::from_env()?;
    let store = SqliteStore::open(&settings.data_dir.join("evreg.sqlite3"))?;
    dead_letters::embedded(&store, action, queue.as_deref()).await
}

/// Refuses `--aws` in a build without the `aws` feature (`make dev`'s, which compiles no
/// AWS SDK): a usage error of the subcommand `path` (status 2, like clap's own), naming the
/// same command line (`args` after the subcommand) run from a build with the feature —
/// before anything is read or opened (`devserver/tests/without_aws.rs` holds it to that).
#[cfg(not(feature = "aws"))]
fn refuse_aws(path: &[&str], args: &[&str]) -> ! {
    use clap::CommandFactory;

    let mut command = Cli::command();
    // Names every subcommand for its usage line (`evreg-dev dead-letters list`).
    command.build();
    let mut subcommand = &mut command;
    for name in path {
        subcommand = subcommand
            .find_subcommand_mut(name)
            .expect("a subcommand of evreg-dev");
    }
    let line: Vec<String> = path
        .iter()
        .chain(args)
        .map(|word| shell_word(word))
        .collect();
    let message = format!(
        "--aws needs evreg-dev built with the `aws` feature (the AWS SDK, which `make dev` \
         leaves out); run instead:\n\n  cargo run -p evreg-dev --features aws -- {}",
        line.join(" ")
    );
    subcommand
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

/// `word` as a POSIX shell reads it back: as it is when it is plain, else single-quoted.
#[cfg(not(feature = "aws"))]
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
