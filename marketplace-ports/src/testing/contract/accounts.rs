//! The accounts stores' contract.

use marketplace_domain::accounts::{ProfileChanges, Roles};
use marketplace_domain::ids::{BlobId, SessionId, UserId};
use time::Duration;

use super::{Subject, at, id, seed_user, seller_roles};
use crate::ports::{NewUser, SessionRecord, StoreError};

/// Usernames are unique whatever their case, and found in any case.
pub async fn usernames_are_unique_whatever_their_case(s: Subject) {
    let maker = seed_user(&s, "Maker", seller_roles()).await;
    let mut tx = s.uow.begin().await.unwrap();
    let clash = tx
        .users()
        .unwrap()
        .insert_user(&NewUser {
            id: UserId::from_uuid(id()),
            username: "mAKER".into(),
            email: String::new(),
            password_hash: "h".into(),
            roles: Roles::default(),
            created_at: at(1),
        })
        .await
        .unwrap_err();
    assert!(
        clash.is_conflict_on("users_username_lower_key"),
        "{clash:?}"
    );
    drop(tx);
    let found = s
        .queries
        .accounts()
        .unwrap()
        .user_by_username("MAKER")
        .await
        .unwrap()
        .expect("found in any case");
    assert_eq!(found.id, maker);
    assert_eq!(found.username, "Maker");
    assert!(found.is_active && found.roles.is_seller && !found.roles.is_owner());
    assert_eq!(found.created_at, at(0));
}

/// A profile change writes the fields it names and leaves the rest; the seller opt-in shows in the
/// user's roles.
pub async fn profiles_change_only_what_is_given(s: Subject) {
    let user = seed_user(&s, "buyer", Roles::default()).await;
    let mut tx = s.uow.begin().await.unwrap();
    let changes = ProfileChanges {
        shop_name: Some("Owl Works".into()),
        city: Some("Springfield".into()),
        is_seller: Some(true),
        ..ProfileChanges::default()
    };
    tx.users()
        .unwrap()
        .update_profile(user, &changes, at(5))
        .await
        .unwrap();
    let missing = tx
        .users()
        .unwrap()
        .update_profile(UserId::from_uuid(id()), &changes, at(5))
        .await
        .unwrap_err();
    assert_eq!(missing, StoreError::NotFound);
    tx.commit().await.unwrap();
    let (user, profile) = s
        .queries
        .accounts()
        .unwrap()
        .user_profile(user)
        .await
        .unwrap()
        .unwrap();
    assert!(user.roles.is_seller);
    assert_eq!(profile.shop_name, "Owl Works");
    assert_eq!(profile.city, "Springfield");
    assert_eq!(
        profile.email, "buyer@example.com",
        "seeded from the account"
    );
    assert_eq!(profile.first_name, "");
}

/// Setting an avatar returns the one it replaces.
pub async fn avatars_are_replaced_and_the_old_one_returned(s: Subject) {
    let user = seed_user(&s, "pic", Roles::default()).await;
    let (first, second) = (BlobId::from_uuid(id()), BlobId::from_uuid(id()));
    let mut tx = s.uow.begin().await.unwrap();
    for blob in [first, second] {
        tx.blobs()
            .unwrap()
            .insert_blob(blob, "image/png", b"png", at(1))
            .await
            .unwrap();
    }
    let users = tx.users().unwrap();
    assert_eq!(
        users.set_avatar(user, Some(first), at(1)).await.unwrap(),
        None
    );
    assert_eq!(
        users.set_avatar(user, Some(second), at(2)).await.unwrap(),
        Some(first)
    );
    assert_eq!(
        users.set_avatar(user, None, at(3)).await.unwrap(),
        Some(second)
    );
    assert_eq!(
        users
            .set_avatar(UserId::from_uuid(id()), None, at(3))
            .await
            .unwrap_err(),
        StoreError::NotFound
    );
}

/// A session authenticates until it expires or is deleted.
pub async fn sessions_live_until_they_expire_or_are_deleted(s: Subject) {
    let user = seed_user(&s, "sess", Roles::default()).await;
    let session = SessionRecord {
        id: SessionId::from_uuid(id()),
        user_id: user,
        token_digest: "digest-1".into(),
        csrf_token: "csrf".into(),
        created_at: at(0),
        expires_at: at(100),
    };
    let mut tx = s.uow.begin().await.unwrap();
    tx.sessions()
        .unwrap()
        .insert_session(&session)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let accounts = s.queries.accounts().unwrap();
    let (found, who) = accounts
        .session_user("digest-1", at(99))
        .await
        .unwrap()
        .expect("alive");
    assert_eq!((found, who.id), (session.clone(), user));
    assert!(
        accounts
            .session_user("digest-1", at(100))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        accounts
            .session_user("other", at(1))
            .await
            .unwrap()
            .is_none()
    );
    let mut tx = s.uow.begin().await.unwrap();
    tx.sessions()
        .unwrap()
        .delete_session("digest-1")
        .await
        .unwrap();
    tx.sessions()
        .unwrap()
        .delete_session("never-existed")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        accounts
            .session_user("digest-1", at(1))
            .await
            .unwrap()
            .is_none()
    );
}

/// Failed logins are counted per key within the window, and a success clears them.
pub async fn login_failures_are_counted_per_key_and_cleared(s: Subject) {
    let mut tx = s.uow.begin().await.unwrap();
    let sessions = tx.sessions().unwrap();
    for second in [0, 10, 20] {
        sessions
            .record_login_failure("user:maker", at(second))
            .await
            .unwrap();
    }
    sessions
        .record_login_failure("ip:10.0.0.1", at(20))
        .await
        .unwrap();
    assert_eq!(
        sessions
            .count_login_failures("user:maker", at(10))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        sessions
            .count_login_failures("user:maker", at(0))
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        sessions
            .count_login_failures("ip:10.0.0.1", at(0))
            .await
            .unwrap(),
        1
    );
    sessions.clear_login_failures("user:maker").await.unwrap();
    assert_eq!(
        sessions
            .count_login_failures("user:maker", at(0))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        sessions
            .count_login_failures("ip:10.0.0.1", at(0))
            .await
            .unwrap(),
        1
    );
    // A day later the old failures are gone when a new one is recorded.
    sessions
        .record_login_failure("ip:10.0.0.1", at(20) + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(
        sessions
            .count_login_failures("ip:10.0.0.1", at(0))
            .await
            .unwrap(),
        1
    );
}

/// Writes of a transaction dropped without commit are not seen; committed ones are.
pub async fn a_dropped_transaction_changes_nothing(s: Subject) {
    let mut tx = s.uow.begin().await.unwrap();
    tx.users()
        .unwrap()
        .insert_user(&NewUser {
            id: UserId::from_uuid(id()),
            username: "ghost".into(),
            email: String::new(),
            password_hash: "h".into(),
            roles: Roles::default(),
            created_at: at(0),
        })
        .await
        .unwrap();
    drop(tx);
    let accounts = s.queries.accounts().unwrap();
    assert!(accounts.user_by_username("ghost").await.unwrap().is_none());
    seed_user(&s, "ghost", Roles::default()).await;
    assert!(accounts.user_by_username("ghost").await.unwrap().is_some());
}
