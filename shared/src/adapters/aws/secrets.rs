use crate::auth::keys::KeyRing;
use crate::ports::BoxError;

/// Reads the JWT key ring from an SSM SecureString parameter, once per cold start.
pub async fn load_key_ring(
    ssm: &aws_sdk_ssm::Client,
    parameter: &str,
) -> Result<KeyRing, BoxError> {
    let output = ssm
        .get_parameter()
        .name(parameter)
        .with_decryption(true)
        .send()
        .await?;
    let value = output
        .parameter
        .and_then(|p| p.value)
        .ok_or_else(|| format!("SSM parameter {parameter} has no value"))?;
    Ok(KeyRing::from_json(&value)?)
}
