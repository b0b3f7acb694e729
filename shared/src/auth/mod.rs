//! Who is calling: password hashing, access tokens, and the principal of a request.

pub mod keys;
pub mod password;
pub mod principal;
pub mod refresh;
pub mod throttle;
pub mod token;

pub use keys::KeyRing;
pub use password::Passwords;
pub use principal::Principal;
pub use token::{AccessToken, TokenService};
