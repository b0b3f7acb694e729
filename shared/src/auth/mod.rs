//! Who is calling: password hashing, access tokens, and the principal of a request.

/// The JWT signing key ring.
pub mod keys;
/// Argon2id password hashing.
pub mod password;
pub mod principal;
pub mod refresh;
pub mod throttle;
pub mod token;

pub use keys::KeyRing;
pub use password::Passwords;
pub use principal::Principal;
pub use token::{AccessToken, TokenService};
