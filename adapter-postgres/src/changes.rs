//! The change feed: the notifications the schema's triggers send on commit (migration 0020),
//! turned into a moving [`CatalogVersion`] and a wake-up for idle workers. See
//! docs/architecture.md, "Caching the catalogue".

use std::sync::Arc;
use std::time::Duration;

use marketplace_ports::ports::CatalogVersion;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;

/// The channel the catalogue triggers notify.
const CATALOG_CHANNEL: &str = "catalog_changed";
/// The channel queued jobs and outbox mail notify.
const WORK_CHANNEL: &str = "work_queued";
/// How long to wait before listening again after the connection failed.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);
/// A quiet connection is asked for a sign of life this often, so one that died without a word
/// (a dropped network path) is noticed within about this long plus [`PING_TIMEOUT`].
const QUIET_LIMIT: Duration = Duration::from_secs(15);
/// How long a sign of life may take.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Listens on the pool's server for as long as the returned future runs: every catalogue change
/// committed by any instance advances `catalog`, every queued job or mail wakes `work`'s waiters.
/// While the connection is down the version is unknown (caches stand aside), and after it comes
/// back everything is treated as changed, since notifications sent meanwhile are lost.
pub async fn follow_changes(pool: PgPool, catalog: CatalogVersion, work: Arc<Notify>) {
    loop {
        match listen(&pool).await {
            Ok(mut listener) => {
                catalog.start_following();
                work.notify_waiters();
                loop {
                    let received = match tokio::time::timeout(QUIET_LIMIT, listener.try_recv())
                        .await
                    {
                        Ok(received) => received,
                        Err(_quiet) => {
                            if alive(&mut listener).await {
                                continue;
                            }
                            tracing::warn!(
                                "the change feed's connection stopped answering; listening again"
                            );
                            break;
                        }
                    };
                    match received {
                        Ok(Some(notification)) if notification.channel() == CATALOG_CHANNEL => {
                            catalog.advance();
                        }
                        Ok(Some(_)) => work.notify_waiters(),
                        Ok(None) => {
                            tracing::warn!(
                                "the change feed's connection was lost; listening again"
                            );
                            break;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "the change feed failed; listening again");
                            break;
                        }
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for changes; catalogue caching is off until it can");
            }
        }
        catalog.stop_following();
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

/// Whether the listening connection still answers a query in time.
async fn alive(listener: &mut PgListener) -> bool {
    let ping = sqlx::query("select 1").execute(&mut *listener);
    matches!(tokio::time::timeout(PING_TIMEOUT, ping).await, Ok(Ok(_)))
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen_all([CATALOG_CHANNEL, WORK_CHANNEL]).await?;
    Ok(listener)
}
