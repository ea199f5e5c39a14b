//! Accounts: usernames, the password policy, contact details and roles.
//!
//! The rules follow the original Django application: usernames are unique case-insensitively and
//! use Django's character set; passwords follow Django's four default validators (minimum length 8,
//! not entirely numeric, not a common password, not too similar to the username or e-mail); phones,
//! US states and ZIP codes are checked as the profile form did.

use std::fmt;

use crate::validation::{FieldErrors, bounded_text};

/// Longest accepted username (Django's `max_length`).
pub const USERNAME_MAX: usize = 150;
/// Shortest accepted password.
pub const PASSWORD_MIN: usize = 8;
/// Longest accepted password: argon2id accepts more, but nobody types this much and it bounds work.
pub const PASSWORD_MAX: usize = 256;

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

/// The password policy's complaints, one per failed rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    /// Shorter than [`PASSWORD_MIN`].
    #[error("this password is too short; it must contain at least {PASSWORD_MIN} characters")]
    TooShort,
    /// Longer than [`PASSWORD_MAX`].
    #[error("this password is too long; it must contain at most {PASSWORD_MAX} characters")]
    TooLong,
    /// Only digits.
    #[error("this password is entirely numeric")]
    EntirelyNumeric,
    /// On the list of common passwords.
    #[error("this password is too common")]
    TooCommon,
    /// Too close to the username or e-mail.
    #[error("the password is too similar to the {0}")]
    TooSimilar(&'static str),
}

/// Checks a new password against Django's default validators. Returns every problem found.
pub fn check_password(
    password: &str,
    username: &str,
    email: Option<&str>,
) -> Result<(), Vec<PasswordProblem>> {
    let mut problems = Vec::new();
    let length = password.chars().count();
    if length < PASSWORD_MIN {
        problems.push(PasswordProblem::TooShort);
    }
    if length > PASSWORD_MAX {
        problems.push(PasswordProblem::TooLong);
    }
    if !password.is_empty() && password.chars().all(|c| c.is_ascii_digit()) {
        problems.push(PasswordProblem::EntirelyNumeric);
    }
    let lowered = password.trim().to_lowercase();
    if COMMON_PASSWORDS.contains(&lowered.as_str()) {
        problems.push(PasswordProblem::TooCommon);
    }
    let attributes = [("username", Some(username)), ("email address", email)];
    for (label, value) in attributes {
        if let Some(value) = value.filter(|v| !v.is_empty())
            && too_similar(&lowered, &value.to_lowercase())
        {
            problems.push(PasswordProblem::TooSimilar(label));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Django's `UserAttributeSimilarityValidator`: the password is compared with the whole value and
/// with each of its word parts; a Ratcliff/Obershelp ratio of 0.7 or more is too similar.
fn too_similar(password: &str, value: &str) -> bool {
    let mut candidates = vec![value.to_owned()];
    candidates.extend(
        value
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter(|part| !part.is_empty())
            .map(str::to_owned),
    );
    let password: Vec<char> = password.chars().collect();
    candidates.iter().any(|candidate| {
        let candidate: Vec<char> = candidate.chars().collect();
        // Django skips values the password dwarfs: a long password cannot be "similar" to "a".
        let dwarfed = password.len() >= candidate.len().saturating_mul(10);
        !dwarfed && similarity_at_least(&password, &candidate, 7, 10)
    })
}

/// True when `2·M / (|a| + |b|) ≥ num/den`, M being the Ratcliff/Obershelp matching characters.
fn similarity_at_least(a: &[char], b: &[char], num: usize, den: usize) -> bool {
    let total = a.len().saturating_add(b.len());
    if total == 0 {
        return true;
    }
    matching_characters(a, b)
        .saturating_mul(2)
        .saturating_mul(den)
        >= num.saturating_mul(total)
}

/// Ratcliff/Obershelp: the longest common substring, then the same on each side of it.
fn matching_characters(a: &[char], b: &[char]) -> usize {
    let (mut best_len, mut best_a, mut best_b) = (0_usize, 0_usize, 0_usize);
    for i in 0..a.len() {
        for j in 0..b.len() {
            let run = a[i..]
                .iter()
                .zip(&b[j..])
                .take_while(|(x, y)| x == y)
                .count();
            if run > best_len {
                (best_len, best_a, best_b) = (run, i, j);
            }
        }
    }
    if best_len == 0 {
        return 0;
    }
    let left = matching_characters(&a[..best_a], &b[..best_b]);
    let right = matching_characters(
        &a[best_a.saturating_add(best_len)..],
        &b[best_b.saturating_add(best_len)..],
    );
    best_len.saturating_add(left).saturating_add(right)
}

/// The most common passwords of eight characters or more (shorter ones already fail the length
/// rule), from the public breach lists Django's own list is built from.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "password1",
    "iloveyou",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome1",
    "abc12345",
    "password123",
    "qwerty123",
    "1q2w3e4r",
    "11111111",
    "00000000",
    "123123123",
    "987654321",
    "superman",
    "trustno1",
    "whatever",
    "starwars",
    "computer",
    "michelle",
    "jennifer",
    "corvette",
    "mercedes",
    "maverick",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "letmein1",
    "zaq12wsx",
    "qwertyui",
    "asdfghjk",
    "asdfasdf",
    "1qaz2wsx",
    "aaaaaaaa",
    "88888888",
    "12341234",
    "11223344",
    "q1w2e3r4",
    "q1w2e3r4t5",
    "1q2w3e4r5t",
    "qazwsxedc",
    "password12",
    "welcome123",
    "changeme",
    "iloveyou1",
    "loveyou1",
    "football1",
    "baseball1",
    "sunshine1",
    "princess1",
    "charlie1",
    "michael1",
    "jordan23",
    "liverpool",
    "chelsea1",
    "arsenal1",
    "manchester",
    "basketball",
    "master123",
    "admin123",
    "administrator",
    "test1234",
    "testtest",
    "letmein123",
    "monkey123",
    "dragon123",
    "shadow123",
    "qwerty12",
    "qwerty1234",
    "a1b2c3d4",
    "abcd1234",
    "abcdefgh",
    "12344321",
    "147258369",
    "123qweasd",
    "1234qwer",
    "zxcvbnm1",
    "zxcvbnm123",
    "secret123",
    "freedom1",
    "blink182",
    "hello123",
    "internet",
    "samsung1",
    "homecraft",
    "marketplace",
    "88888888",
    "987654321a",
    "password!",
    "iloveu123",
    "pokemon1",
    "minecraft",
];

/// Why a phone number was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("enter a valid phone number (digits and - + ( ) allowed)")]
pub struct PhoneError;

/// Validates a phone number with the original's rule `^[0-9\-\+\(\)]{7,20}$`.
pub fn parse_phone(raw: &str) -> Result<String, PhoneError> {
    let phone = raw.trim();
    let length = phone.chars().count();
    let allowed = |c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '(' | ')');
    if (7..=20).contains(&length) && phone.chars().all(allowed) {
        Ok(phone.to_owned())
    } else {
        Err(PhoneError)
    }
}

/// The US states (and DC) a profile address may name, as the original's choices.
pub const US_STATES: &[(&str, &str)] = &[
    ("AL", "Alabama"),
    ("AK", "Alaska"),
    ("AZ", "Arizona"),
    ("AR", "Arkansas"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("HI", "Hawaii"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("ME", "Maine"),
    ("MD", "Maryland"),
    ("MA", "Massachusetts"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MS", "Mississippi"),
    ("MO", "Missouri"),
    ("MT", "Montana"),
    ("NE", "Nebraska"),
    ("NV", "Nevada"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NY", "New York"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VT", "Vermont"),
    ("VA", "Virginia"),
    ("WA", "Washington"),
    ("WV", "West Virginia"),
    ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
    ("DC", "District of Columbia"),
];

/// Why a state was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("select a valid US state code (e.g. CA, NY, DC)")]
pub struct StateError;

/// Accepts a two-letter US state code (any case), returns it upper-cased.
pub fn parse_us_state(raw: &str) -> Result<String, StateError> {
    let code = raw.trim().to_ascii_uppercase();
    if US_STATES.iter().any(|(known, _)| *known == code) {
        Ok(code)
    } else {
        Err(StateError)
    }
}

/// Why a ZIP code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("enter a US ZIP code: 5 digits, optionally followed by - and 4 digits")]
pub struct ZipError;

/// Accepts `12345` or `12345-6789`.
pub fn parse_zip(raw: &str) -> Result<String, ZipError> {
    let zip = raw.trim();
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    let valid = match zip.split_once('-') {
        None => digits(zip, 5),
        Some((head, tail)) => digits(head, 5) && digits(tail, 4),
    };
    if valid {
        Ok(zip.to_owned())
    } else {
        Err(ZipError)
    }
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

    /// Staff = staff or superuser: the refund safety valve and moderation.
    pub fn is_staff(self) -> bool {
        self.is_staff || self.is_superuser
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

/// A requested profile change; `None` leaves a field as it is, `Some("")` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileChanges {
    /// First name (≤ 150).
    pub first_name: Option<String>,
    /// Last name (≤ 150).
    pub last_name: Option<String>,
    /// Public shop label (≤ 80).
    pub shop_name: Option<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// First phone.
    pub phone_1: Option<String>,
    /// Second phone.
    pub phone_2: Option<String>,
    /// Address line 1 (≤ 255).
    pub address_1: Option<String>,
    /// Address line 2 (≤ 255).
    pub address_2: Option<String>,
    /// City (≤ 120).
    pub city: Option<String>,
    /// US state code.
    pub state: Option<String>,
    /// ZIP code.
    pub zip_code: Option<String>,
    /// Seller opt-in.
    pub is_seller: Option<bool>,
}

impl ProfileChanges {
    /// Validates every present field; cleared fields become empty strings. Returns the normalised
    /// changes or every field error at once.
    pub fn validate(self) -> Result<ProfileChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut text = |field: &str, value: Option<String>, max: usize| {
            value.and_then(|v| errors.check(field, bounded_text(&v, max)))
        };
        let mut valid = ProfileChanges {
            first_name: text("first_name", self.first_name, 150),
            last_name: text("last_name", self.last_name, 150),
            shop_name: text("shop_name", self.shop_name, 80),
            address_1: text("address_1", self.address_1, 255),
            address_2: text("address_2", self.address_2, 255),
            city: text("city", self.city, 120),
            is_seller: self.is_seller,
            ..ProfileChanges::default()
        };
        valid.email = optional(&mut errors, "email", self.email, |v| {
            Email::parse(v).map(|e| e.as_str().to_owned())
        });
        valid.phone_1 = optional(&mut errors, "phone_1", self.phone_1, parse_phone);
        valid.phone_2 = optional(&mut errors, "phone_2", self.phone_2, parse_phone);
        valid.state = optional(&mut errors, "state", self.state, parse_us_state);
        valid.zip_code = optional(&mut errors, "zip_code", self.zip_code, parse_zip);
        errors.into_result(valid)
    }
}

/// Validates an optional field whose empty value means "clear".
fn optional<E: fmt::Display>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
    parse: impl Fn(&str) -> Result<String, E>,
) -> Option<String> {
    let value = value?;
    if value.trim().is_empty() {
        return Some(String::new());
    }
    errors.check(field, parse(&value))
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
