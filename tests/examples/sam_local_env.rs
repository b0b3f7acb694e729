//! Prepares the AWS emulator for `sam local invoke` (`scripts/sam-local.sh`), outside the
//! test suite: creates the template's tables, topic, queues, subscriptions, bucket and
//! distribution with `tests/support/provision.rs` (the very code the tests provision with,
//! so nothing here can drift from `template.yaml`), puts the stage's SSM SecureStrings
//! under the names the template gives them (a fresh JWT key ring and attendee secret, and
//! the payment provider's secret key and webhook signing secret), creates one ADMIN (the
//! `create-admin` path: nobody can sign up as one), verifies the stage's sender address in
//! SES, and prints one JSON object on standard
//! output: `{"env": {WRITE_TABLE, READ_TABLE, TOPIC_ARN, TICKETS_BUCKET, JWT_KEYS_PARAMETER,
//! ATTENDEE_SECRET_PARAMETER}, "distribution_id", "queues": {LogicalId: url},
//! "worker_queues": {binary: url}, "admin": {email, password}, "stripe": {secret_key,
//! webhook_secret}}`.
//!
//! `stripe SECRET_KEY` serves the test suite's Stripe stand-in (`tests/support/stripe.rs`)
//! on a free 127.0.0.1 port accepting that key, prints its base URL, and serves until it is
//! killed: the paid registrations and the payments worker talk to it (`STRIPE_API_BASE`).
//!
//! `scan FILE.png` prints the payload of the QR code in a ticket image (what the door
//! device reads), for the check-in invocation.
//!
//! ```sh
//! AWS_ENDPOINT_URL=http://127.0.0.1:PORT cargo run -p evreg-tests --example sam_local_env -- \
//!   dev tickets@evreg-dev.example.org
//! cargo run -p evreg-tests --example sam_local_env -- stripe sk_test_…
//! cargo run -p evreg-tests --example sam_local_env -- scan ticket.png
//! ```

use aws_sdk_ssm::types::ParameterType;
use evreg::adapters::aws::DynamoStore;
use evreg::secrets::Secrets;
use evreg_tests::stripe::StripeStandIn;
use evreg_tests::{mailbox, provision};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [scan, file] if scan == "scan" => {
            println!("{}", scan_qr(&std::fs::read(file)?)?);
            Ok(())
        }
        [stripe, secret_key] if stripe == "stripe" => {
            let stand_in = StripeStandIn::start(secret_key).await;
            println!("{}", stand_in.url);
            // Serves on its own task until this process is killed.
            std::future::pending::<()>().await;
            Ok(())
        }
        [stage, mail_from] => provision_for_sam_local(stage, mail_from).await,
        _ => Err(
            "usage: sam_local_env STAGE MAIL_FROM | sam_local_env stripe SECRET_KEY | sam_local_env scan FILE.png"
                .into(),
        ),
    }
}

/// The payload of the one QR code in a PNG.
fn scan_qr(png: &[u8]) -> Result<String, BoxError> {
    let image = image::load_from_memory(png)?.to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    let [grid] = grids.as_slice() else {
        return Err(format!("{} QR codes in the image, not one", grids.len()).into());
    };
    Ok(grid.decode()?.1)
}

async fn provision_for_sam_local(stage: &str, mail_from: &str) -> Result<(), BoxError> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        return Err("AWS_ENDPOINT_URL must name the emulator: this never provisions in AWS".into());
    }
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let prefix = format!(
        "evreg-local-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let provisioned = provision::provision(&sdk, &prefix).await?;

    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let secrets = Secrets::generate();
    let secret_key = secrets.payments.secret_key.clone().unwrap_or_default();
    let webhook_secret = secrets.payments.webhook_secrets.join(",");
    // The parameter names template.yaml gives the functions (Globals and the payment
    // functions' STRIPE_*_PARAMETER).
    let jwt_parameter = format!("/evreg/{stage}/jwt-keys");
    let attendee_parameter = format!("/evreg/{stage}/attendee-secret");
    for (name, value) in [
        (jwt_parameter.clone(), serde_json::to_string(&secrets.jwt)?),
        (attendee_parameter.clone(), secrets.attendee.to_base64()),
        (
            format!("/evreg-payments/{stage}/stripe-secret-key"),
            secret_key.clone(),
        ),
        (
            format!("/evreg-payments/{stage}/stripe-webhook-secrets"),
            webhook_secret.clone(),
        ),
    ] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await?;
    }

    // SES (and moto) refuse mail from an unverified sender: the README's deploy steps
    // verify MailFrom the same way.
    mailbox::verify_sender(&aws_sdk_ses::Client::new(&sdk), mail_from).await;

    let admin_email = "admin@example.org";
    let admin_password = format!("admin {}", uuid::Uuid::new_v4().simple());
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        provisioned.write_table(),
    );
    evreg::runtime::admin::create_admin(&store, admin_email, admin_password.clone()).await?;

    let out = serde_json::json!({
        "env": {
            "WRITE_TABLE": provisioned.write_table(),
            "READ_TABLE": provisioned.read_table(),
            "TOPIC_ARN": provisioned.topic_arn,
            "TICKETS_BUCKET": provisioned.tickets_bucket(),
            "JWT_KEYS_PARAMETER": jwt_parameter,
            "ATTENDEE_SECRET_PARAMETER": attendee_parameter,
        },
        "distribution_id": provisioned.api_distribution(),
        "queues": provisioned.queues,
        "worker_queues": provisioned.worker_queues,
        "admin": {"email": admin_email, "password": admin_password},
        "stripe": {"secret_key": secret_key, "webhook_secret": webhook_secret},
    });
    println!("{out}");
    Ok(())
}
