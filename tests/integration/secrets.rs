//! The secrets a cold start reads from SSM (real SDK, emulator): the JWT key ring and the
//! attendee secret, in one call; a missing or malformed parameter stops the start.

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
