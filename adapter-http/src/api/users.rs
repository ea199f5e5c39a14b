//! Owners: the user directory and role changes.

use marketplace_domain::ids::UserId;
use marketplace_ports::ports::UserRecord;
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::admin::RoleChange;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use crate::auth::Auth;
use crate::dto::{PageDto, page_request};
use crate::error::ApiResult;
use crate::json::JsonBody;
use crate::params::{MaxChars, PageNumber, PerPage, Text};
use marketplace_ports::use_cases::admin::users::MAX_USER_SEARCH;

/// Owners' user tools.
pub struct UsersApi {
    /// Use cases.
    pub services: Services,
}

/// A user as owners see them.
#[derive(Debug, Object)]
pub struct AdminUserDto {
    /// Id.
    pub id: Uuid,
    /// Username.
    pub username: String,
    /// Account e-mail.
    pub email: String,
    /// May sell.
    pub is_seller: bool,
    /// Staff.
    pub is_staff: bool,
    /// Owner (staff, superuser or the owner flag).
    pub is_owner: bool,
    /// Suspended (cannot log in).
    pub suspended: bool,
    /// Registered.
    pub created_at: OffsetDateTime,
}

/// A role change.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct RolesBody {
    /// Grant (`true`) or revoke (`false`) selling; absent: unchanged.
    #[oai(nullable)]
    pub is_seller: Option<bool>,
    /// Grant or revoke staff; absent: unchanged.
    #[oai(nullable)]
    pub is_staff: Option<bool>,
    /// Why (required; it goes to the audit log).
    #[oai(validator(
        pattern = r"^[^\u0000]*[^\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$",
        max_length = 2000
    ))]
    pub note: String,
}

fn user_dto(user: UserRecord) -> AdminUserDto {
    AdminUserDto {
        id: user.id.get(),
        is_seller: user.roles.is_seller(),
        is_staff: user.roles.is_staff(),
        is_owner: user.roles.is_owner(),
        suspended: !user.is_active,
        username: user.username,
        email: user.email,
        created_at: user.created_at,
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Admin")]
impl UsersApi {
    /// Users whose username or e-mail contains `q`, newest first (owners).
    #[oai(path = "/admin/users", method = "get")]
    async fn users(
        &self,
        auth: Auth,
        q: Query<Option<Text<MaxChars<{ MAX_USER_SEARCH }>>>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<AdminUserDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let found = self
            .services
            .user_admin
            .users(auth.actor(), q.0.as_deref(), request)
            .await?;
        Ok(Json(PageDto::from_page(found, user_dto)))
    }

    /// Grant or revoke a user's seller and staff roles (owners; audited; effective at once, in
    /// existing sessions too).
    #[oai(path = "/admin/users/:id/roles", method = "put")]
    async fn roles(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<RolesBody>,
    ) -> ApiResult<Json<AdminUserDto>> {
        let b = body.0;
        let user = self
            .services
            .user_admin
            .set_roles(
                auth.actor(),
                UserId::from_uuid(id.0),
                &RoleChange {
                    is_seller: b.is_seller,
                    is_staff: b.is_staff,
                    note: b.note,
                },
            )
            .await?;
        Ok(Json(user_dto(user)))
    }
}
