//! The password policy: Django's four default validators (minimum length, not entirely numeric,
//! not a common password, not too similar to the username or e-mail).

/// Shortest accepted password.
pub const PASSWORD_MIN: usize = 8;
/// Longest accepted password: argon2id accepts more, but nobody types this much and it bounds work.
pub const PASSWORD_MAX: usize = 256;

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
