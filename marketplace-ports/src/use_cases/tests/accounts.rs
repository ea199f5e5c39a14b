//! Registration, login throttling and sessions.

use time::Duration;

use super::World;
use crate::ports::Clock;
use crate::use_cases::accounts::{Login, Register, RegistrationError, SessionError};

fn register(username: &str, password: &str) -> Register {
    Register {
        username: username.into(),
        password: password.into(),
        email: Some("Maker@Example.com".into()),
        register_as_seller: true,
    }
}

fn login(username: &str, password: &str, address: &str) -> Login {
    Login {
        username: username.into(),
        password: password.into(),
        client_address: address.into(),
    }
}

#[tokio::test]
async fn register_hashes_the_password_stores_the_user_and_opens_a_session() {
    let world = World::new();
    let signed_in = world
        .services
        .registration
        .register(register("maker", "Tr1cky-Sailboat"))
        .await
        .unwrap();
    let state = world.state();
    let user = state.users.values().next().unwrap();
    assert_eq!(
        (user.username.as_str(), user.email.as_str()),
        ("maker", "maker@example.com")
    );
    assert_eq!(
        user.password_hash, "hash:Tr1cky-Sailboat",
        "hashed by the crypto port"
    );
    assert!(user.roles.is_seller && !user.roles.is_owner());
    assert_eq!(state.sessions.len(), 1);
    assert_eq!(
        state.sessions[0].token_digest,
        format!("digest:{}", signed_in.token)
    );
    let actor = world.actor(&signed_in).await;
    assert_eq!(
        (actor.user_id, actor.csrf_token),
        (user.id, signed_in.csrf_token)
    );
}

#[tokio::test]
async fn register_reports_every_field_problem_without_touching_the_store() {
    let world = World::new();
    let error = world
        .services
        .registration
        .register(Register {
            username: "bad name".into(),
            password: "123".into(),
            email: Some("nope".into()),
            register_as_seller: false,
        })
        .await
        .unwrap_err();
    let RegistrationError::Invalid(errors) = error else {
        panic!("expected Invalid, got {error:?}")
    };
    assert_eq!(
        errors.fields().keys().collect::<Vec<_>>(),
        ["email", "password", "username"]
    );
    assert!(world.state().users.is_empty());
}

#[tokio::test]
async fn a_taken_username_is_a_field_error() {
    let world = World::new();
    let registration = &world.services.registration;
    registration
        .register(register("maker", "Tr1cky-Sailboat"))
        .await
        .unwrap();
    let error = registration
        .register(register("MAKER", "Tr1cky-Sailboat"))
        .await
        .unwrap_err();
    assert!(matches!(&error, RegistrationError::Invalid(e) if e.fields().contains_key("username")));
    assert_eq!(world.state().users.len(), 1);
}

#[tokio::test]
async fn login_is_refused_without_checking_the_password_once_throttled() {
    let world = World::new();
    world.buyer("maker").await;
    let sessions = &world.services.sessions;
    for _ in 0..5 {
        let error = sessions
            .login(login("maker", "wrong", "10.0.0.1"))
            .await
            .unwrap_err();
        assert!(matches!(error, SessionError::InvalidCredentials));
    }
    // The right password is refused too: the password is not even checked.
    let error = sessions
        .login(login("Maker", "Tr1cky-Sailboat", "10.0.0.2"))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        SessionError::Throttled {
            retry_after_seconds: 900
        }
    ));
    assert_eq!(world.state().sessions.len(), 1, "only the registration's");
    // The window slides: fifteen minutes later the right password works and clears the count.
    world
        .clock
        .advance(Duration::minutes(15) + Duration::seconds(1));
    sessions
        .login(login("maker", "Tr1cky-Sailboat", "10.0.0.2"))
        .await
        .unwrap();
    let failures = world.state().login_failures;
    assert!(
        failures.iter().all(|(key, _)| key.starts_with("ip:")),
        "{failures:?}"
    );
}

#[tokio::test]
async fn a_wrong_password_records_a_failure_under_both_keys() {
    let world = World::new();
    let error = world
        .services
        .sessions
        .login(login("Maker", "wrong", "10.0.0.9"))
        .await
        .unwrap_err();
    assert!(matches!(error, SessionError::InvalidCredentials));
    let keys: Vec<String> = world
        .state()
        .login_failures
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert_eq!(keys, ["user:maker", "ip:10.0.0.9"]);
}

#[tokio::test]
async fn sessions_end_at_logout_or_expiry() {
    let world = World::new();
    let sessions = &world.services.sessions;
    world.buyer("maker").await;
    let first = sessions
        .login(login("maker", "Tr1cky-Sailboat", "10.0.0.1"))
        .await
        .unwrap();
    let second = sessions
        .login(login("maker", "Tr1cky-Sailboat", "10.0.0.1"))
        .await
        .unwrap();
    sessions.logout(&first.token).await.unwrap();
    assert!(sessions.authenticate(&first.token).await.unwrap().is_none());
    assert!(
        sessions
            .authenticate(&second.token)
            .await
            .unwrap()
            .is_some()
    );
    assert!(sessions.authenticate("").await.unwrap().is_none());
    world
        .clock
        .advance(second.expires_at - world.clock.now() + Duration::seconds(1));
    assert!(
        sessions
            .authenticate(&second.token)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
}
