//! Accounts: usernames, e-mail addresses, roles, sessions and login throttling; the password
//! policy (`password.rs`) and profile fields (`profile.rs`) have their own files.
//!
//! The rules follow the original Django application: usernames are unique case-insensitively and
//! use Django's character set; passwords follow Django's four default validators (minimum length 8,
//! not entirely numeric, not a common password, not too similar to the username or e-mail); phones,
//! US states and ZIP codes are checked as the profile form did.

mod password;
mod profile;

use std::fmt;

pub use password::*;
pub use profile::*;

/// Longest accepted username (Django's `max_length`).
pub const USERNAME_MAX: usize = 150;

/// Why a username was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Empty after trimming.
    #[error("this field is required")]
    Missing,
    /// Longer than [`USERNAME_MAX`].
    #[error("must be at most {USERNAME_MAX} characters")]
    TooLong,
    /// Contains something other than letters, digits and `@ . + - _`.
    #[error("may contain only letters, digits and @ . + - _")]
    InvalidCharacter,
}

/// A valid username. Compared case-insensitively for uniqueness by the store.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Trims and validates a username as Django's `UnicodeUsernameValidator` does.
    pub fn parse(raw: &str) -> Result<Username, UsernameError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(UsernameError::Missing);
        }
        if name.chars().count() > USERNAME_MAX {
            return Err(UsernameError::TooLong);
        }
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, '@' | '.' | '+' | '-' | '_');
        if !name.chars().all(allowed) {
            return Err(UsernameError::InvalidCharacter);
        }
        Ok(Username(name.to_owned()))
    }

    /// The username as entered (case preserved).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an e-mail address was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("enter a valid e-mail address")]
pub struct EmailError;

/// A syntactically valid e-mail address, lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Trims, lower-cases and validates an address (`local@domain.tld`).
    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let address = raw.trim().to_lowercase();
        if address.len() > 254 {
            return Err(EmailError);
        }
        let (local, domain) = address.split_once('@').ok_or(EmailError)?;
        if !valid_local_part(local) || !valid_domain(domain) {
            return Err(EmailError);
        }
        Ok(Email(address))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn valid_local_part(local: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c);
    !local.is_empty()
        && local.len() <= 64
        && local.chars().all(allowed)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok
}

/// How long a login session lasts.
pub const SESSION_LIFETIME: time::Duration = time::Duration::days(14);

/// How many failed logins are tolerated before further attempts are refused for a while.
///
/// Failures are counted per username and per client address over a sliding window, so one
/// attacker cannot guess one account's password, nor spray many accounts from one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Failures per username within the window.
    pub max_per_username: u32,
    /// Failures per client address within the window.
    pub max_per_address: u32,
    /// The window.
    pub window: time::Duration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            max_per_username: 5,
            max_per_address: 20,
            window: time::Duration::minutes(15),
        }
    }
}

impl LoginThrottle {
    /// True when either counter has reached its limit.
    pub fn is_blocked(&self, username_failures: u32, address_failures: u32) -> bool {
        username_failures >= self.max_per_username || address_failures >= self.max_per_address
    }

    /// The throttle key of a username (case-insensitive, like usernames).
    pub fn username_key(username: &str) -> String {
        format!("user:{}", username.trim().to_lowercase())
    }

    /// The throttle key of a client address.
    pub fn address_key(address: &str) -> String {
        format!("ip:{address}")
    }
}

/// Role flags of a user, as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    /// Staff member (Django `is_staff`).
    pub is_staff: bool,
    /// Superuser (Django `is_superuser`).
    pub is_superuser: bool,
    /// Marketplace owner flag on the profile.
    pub is_owner: bool,
    /// Opted in as a seller.
    pub is_seller: bool,
}

impl Roles {
    /// Owner = staff, superuser or `is_owner`: full permissions.
    pub fn is_owner(self) -> bool {
        self.is_staff || self.is_superuser || self.is_owner
    }

    /// Seller = `is_seller` or owner: may manage listings.
    pub fn is_seller(self) -> bool {
        self.is_seller || self.is_owner()
    }

    /// Staff = staff or superuser: the refund safety valve.
    pub fn is_staff(self) -> bool {
        self.is_staff || self.is_superuser
    }

    /// Moderators = staff and owners: work through reports, delete any Q&A message, suspend.
    pub fn moderates(self) -> bool {
        self.is_staff() || self.is_owner()
    }
}

/// The public seller label: the shop name if set, else the username.
pub fn public_seller_name(shop_name: &str, username: &str) -> String {
    let shop = shop_name.trim();
    if shop.is_empty() {
        username.to_owned()
    } else {
        shop.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_djangos_character_set() {
        assert_eq!(Username::parse("  maker_01 ").unwrap().as_str(), "maker_01");
        assert!(Username::parse("a.b@c+d-e").is_ok());
        assert!(Username::parse("José").is_ok());
        assert_eq!(
            Username::parse("has space"),
            Err(UsernameError::InvalidCharacter)
        );
        assert_eq!(Username::parse("  "), Err(UsernameError::Missing));
        assert_eq!(
            Username::parse(&"x".repeat(151)),
            Err(UsernameError::TooLong)
        );
    }

    #[test]
    fn password_policy_reports_each_failed_rule() {
        assert!(check_password("Tr1cky-Sailboat", "maker", Some("maker@example.com")).is_ok());
        assert_eq!(
            check_password("short1", "maker", None),
            Err(vec![PasswordProblem::TooShort])
        );
        assert_eq!(
            check_password("12345678", "maker", None),
            Err(vec![
                PasswordProblem::EntirelyNumeric,
                PasswordProblem::TooCommon
            ])
        );
        assert_eq!(
            check_password("Password", "maker", None),
            Err(vec![PasswordProblem::TooCommon])
        );
    }

    #[test]
    fn password_too_similar_to_username_or_email_is_refused() {
        assert_eq!(
            check_password("printmaster1", "printmaster", None),
            Err(vec![PasswordProblem::TooSimilar("username")])
        );
        assert_eq!(
            check_password("janedoe99", "seller7", Some("janedoe@example.com")),
            Err(vec![PasswordProblem::TooSimilar("email address")])
        );
        // A long unrelated password is not "similar" to a one-letter username.
        assert!(check_password("correct horse battery", "c", None).is_ok());
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            Email::parse(" Buyer@Example.COM ").unwrap().as_str(),
            "buyer@example.com"
        );
        for bad in [
            "",
            "no-at",
            "a@b",
            "a@@b.com",
            "a@b..com",
            ".a@b.com",
            "a@-b.com",
            "a b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn phones_states_and_zips_follow_the_profile_form() {
        assert!(
            parse_phone("+1 (555) 123").is_err(),
            "spaces are not allowed"
        );
        assert_eq!(parse_phone("+1(555)123-4567").unwrap(), "+1(555)123-4567");
        assert!(parse_phone("123456").is_err());
        assert!(parse_phone("555-CALL-NOW").is_err());
        assert_eq!(parse_us_state("dc").unwrap(), "DC");
        assert!(parse_us_state("XX").is_err());
        assert!(parse_zip("12345").is_ok());
        assert!(parse_zip("12345-6789").is_ok());
        assert!(parse_zip("1234").is_err());
        assert!(parse_zip("12345-67").is_err());
    }

    #[test]
    fn roles_derive_owner_and_seller() {
        let staff = Roles {
            is_staff: true,
            ..Roles::default()
        };
        assert!(staff.is_owner() && staff.is_seller() && staff.is_staff());
        let seller = Roles {
            is_seller: true,
            ..Roles::default()
        };
        assert!(seller.is_seller() && !seller.is_owner());
        let owner = Roles {
            is_owner: true,
            ..Roles::default()
        };
        assert!(owner.is_owner() && !owner.is_staff());
        assert!(!Roles::default().is_seller());
    }

    #[test]
    fn profile_changes_collect_all_field_errors_and_allow_clearing() {
        let changes = ProfileChanges {
            phone_1: Some("abc".into()),
            state: Some("ZZ".into()),
            zip_code: Some("".into()),
            first_name: Some("  Ada ".into()),
            ..ProfileChanges::default()
        };
        let errors = changes.validate().unwrap_err();
        assert_eq!(
            errors.fields().keys().collect::<Vec<_>>(),
            ["phone_1", "state"]
        );

        let ok = ProfileChanges {
            first_name: Some("  Ada ".into()),
            zip_code: Some("".into()),
            state: Some("ny".into()),
            ..ProfileChanges::default()
        }
        .validate()
        .unwrap();
        assert_eq!(ok.first_name.as_deref(), Some("Ada"));
        assert_eq!(ok.zip_code.as_deref(), Some(""));
        assert_eq!(ok.state.as_deref(), Some("NY"));
    }

    #[test]
    fn login_throttle_blocks_at_either_limit() {
        let throttle = LoginThrottle::default();
        assert!(!throttle.is_blocked(4, 19));
        assert!(throttle.is_blocked(5, 0));
        assert!(throttle.is_blocked(0, 20));
        assert_eq!(LoginThrottle::username_key(" Maker "), "user:maker");
    }

    #[test]
    fn seller_label_falls_back_to_username() {
        assert_eq!(public_seller_name("  ", "maker"), "maker");
        assert_eq!(public_seller_name(" Print Shop ", "maker"), "Print Shop");
    }
}
