//! Health and readiness.

use marketplace_ports::use_cases::Services;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;

/// Liveness and readiness probes.
pub struct SystemApi {
    /// The services (readiness pings the database through them).
    pub services: Services,
}

/// Probe answer.
#[derive(Debug, Object)]
pub struct HealthDto {
    /// `ok` or `unavailable`.
    pub status: String,
}

/// Readiness answer.
#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// The database answers.
    #[oai(status = 200)]
    Ready(Json<HealthDto>),
    /// The database does not answer.
    #[oai(status = 503)]
    NotReady(Json<HealthDto>),
}

#[OpenApi(tag = "ApiTags::System")]
impl SystemApi {
    /// The process is up.
    #[oai(path = "/healthz", method = "get")]
    async fn healthz(&self) -> Json<HealthDto> {
        Json(HealthDto {
            status: "ok".into(),
        })
    }

    /// The process can serve: the database is reachable.
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(&self) -> ReadyResponse {
        match self.services.health.ready().await {
            Ok(()) => ReadyResponse::Ready(Json(HealthDto {
                status: "ok".into(),
            })),
            Err(error) => {
                tracing::warn!(%error, "readiness check failed");
                ReadyResponse::NotReady(Json(HealthDto {
                    status: "unavailable".into(),
                }))
            }
        }
    }
}
