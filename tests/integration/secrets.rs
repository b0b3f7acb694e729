//! The secrets a cold start reads from SSM (real SDK, emulator): the JWT key ring, the
//! attendee secret and Stripe's, in one call; a missing or malformed JWT or attendee
//! parameter stops the start, missing Stripe parameters only turn payments off.

use aws_sdk_ssm::types::ParameterType;
use evreg::adapters::aws::{load_secrets, PaymentParameters};
use evreg::auth::KeyRing;
use evreg::tickets::AttendeeKeys;
use evreg_tests::emulator::{sdk_config, unique_prefix};

#[tokio::test]
async fn a_cold_start_reads_both_secrets_from_ssm() {
    let Some(sdk) = sdk_config().await else {
        return;
    };
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let stage = format!("/evreg/{}", unique_prefix("secrets"));
    let (jwt, attendee, broken) = (
        format!("{stage}/jwt-keys"),
        format!("{stage}/attendee-secret"),
        format!("{stage}/broken"),
    );
    let ring = KeyRing::generate("k1");
    let keys = AttendeeKeys::generate();
    for (name, value) in [
        (&jwt, serde_json::to_string(&ring).unwrap()),
        (&attendee, keys.to_base64()),
        (&broken, "not base64!".to_owned()),
    ] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .send()
            .await
            .expect("put parameter");
    }

    let secrets = load_secrets(&ssm, &jwt, &attendee, &PaymentParameters::default())
        .await
        .expect("secrets");
    assert_eq!(secrets.jwt.active, "k1");
    let registration = evreg::domain::RegistrationId::now_v7();
    assert!(
        secrets
            .attendee
            .verify_manage_token(registration, &keys.manage_token(registration)),
        "the same attendee secret"
    );

    let missing = load_secrets(
        &ssm,
        &jwt,
        &format!("{stage}/missing"),
        &PaymentParameters::default(),
    )
    .await;
    assert!(missing.is_err(), "a missing parameter stops the cold start");
    assert!(
        load_secrets(&ssm, &jwt, &broken, &PaymentParameters::default())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn stripe_secrets_are_read_when_there_and_optional_when_not() {
    let Some(sdk) = sdk_config().await else {
        return;
    };
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let stage = format!("/evreg-payments/{}", unique_prefix("secrets"));
    let (jwt, attendee, key, webhooks) = (
        format!("{stage}/jwt-keys"),
        format!("{stage}/attendee-secret"),
        format!("{stage}/stripe-secret-key"),
        format!("{stage}/stripe-webhook-secrets"),
    );
    for (name, value) in [
        (
            &jwt,
            serde_json::to_string(&KeyRing::generate("k1")).unwrap(),
        ),
        (&attendee, AttendeeKeys::generate().to_base64()),
        (&key, "sk_test_123\n".to_owned()),
        (&webhooks, "whsec_new, whsec_old,".to_owned()),
    ] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .send()
            .await
            .expect("put parameter");
    }
    let both = PaymentParameters {
        secret_key: Some(key),
        webhook_secrets: Some(webhooks),
    };
    let secrets = load_secrets(&ssm, &jwt, &attendee, &both)
        .await
        .expect("secrets");
    assert_eq!(secrets.payments.secret_key.as_deref(), Some("sk_test_123"));
    assert_eq!(secrets.payments.webhook_secrets, ["whsec_new", "whsec_old"]);

    let absent = PaymentParameters {
        secret_key: Some(format!("{stage}/no-key")),
        webhook_secrets: Some(format!("{stage}/no-webhooks")),
    };
    let secrets = load_secrets(&ssm, &jwt, &attendee, &absent)
        .await
        .expect("a stack without Stripe still starts");
    assert_eq!(secrets.payments.secret_key, None);
    assert!(secrets.payments.webhook_secrets.is_empty());
}
