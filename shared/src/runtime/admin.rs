//! `evreg-dev create-admin`: the first ADMIN, who then grants every other role through
//! `POST /users`. Nobody can sign up as an ADMIN, so this runs with the operator's own
//! access to the store (the `.local/` database, or AWS credentials for the write table)
//! rather than through the API.

use crate::auth::Passwords;
use crate::domain::{DomainEvent, Envelope, Role, Signup, User, UserId};
use crate::ports::{BoxError, Clock, StoreError, SystemClock, UserStore};

/// Creates an active ADMIN with the same email and password rules as sign-up. Its
/// UserSignedUp event stays in the outbox for the sweeper to publish (the command has
/// no bus).
pub async fn create_admin(
    users: &dyn UserStore,
    email: &str,
    password: String,
) -> Result<User, BoxError> {
    let signup = Signup::parse(email, password).map_err(|e| format!("{e}"))?;
    let password_hash = Passwords::default().hash(signup.password).await?;
    let now = SystemClock.now();
    let user = User {
        id: UserId::now_v7(),
        email: signup.email,
        password_hash,
        role: Role::Admin,
        active: true,
        created_at: now,
    };
    let outbox = [Envelope::new(
        DomainEvent::UserSignedUp { user_id: user.id },
        now,
    )];
    match users.create_user(&user, &outbox).await {
        Ok(created) => {
            created.unpublished();
            Ok(user)
        }
        Err(StoreError::EmailTaken) => {
            Err(format!("an account with the email {} exists already", user.email).into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The store AWS-mode functions write to: `WRITE_TABLE`, with the SDK's usual
/// configuration (credentials, region, `AWS_ENDPOINT_URL`).
#[cfg(feature = "aws")]
pub async fn aws_store_from_env() -> Result<crate::adapters::aws::DynamoStore, BoxError> {
    let table = std::env::var("WRITE_TABLE").map_err(|_| "WRITE_TABLE is not set")?;
    let sdk = crate::adapters::aws::load_sdk_config().await;
    Ok(crate::adapters::aws::DynamoStore::new(
        crate::adapters::aws::dynamodb_client(&sdk),
        table,
    ))
}
