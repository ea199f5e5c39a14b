//! Accounts: registration and the first owner ([`registration`]), login sessions
//! ([`sessions`]), profiles and avatars ([`profiles`]).

pub mod profiles;
pub mod registration;
pub mod sessions;

pub use profiles::{ProfileError, Profiles};
pub use registration::{Register, Registration, RegistrationError};
pub use sessions::{Login, SessionError, Sessions, SignedIn};
