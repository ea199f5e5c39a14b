//! Notifications and mail preferences, in memory.

use async_trait::async_trait;
use marketplace_domain::ids::{NotificationId, UserId};
use marketplace_domain::notifications::MailPreferences;
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::listings::page_of;
use super::{MemoryStore, Working};
use crate::ports::{NotificationQueries, NotificationRecord, NotificationStore, StoreError};

pub(crate) struct MemNotifications(pub(crate) Working);

#[async_trait]
impl NotificationStore for MemNotifications {
    async fn insert_notification(
        &mut self,
        notification: &NotificationRecord,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("notifications.insert_notification")?;
        s.notifications.push(notification.clone());
        Ok(())
    }

    async fn mark_read(
        &mut self,
        user: UserId,
        id: NotificationId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut s = self.0.state("notifications.mark_read")?;
        let Some(n) = s
            .notifications
            .iter_mut()
            .find(|n| n.id == id && n.user_id == user)
        else {
            return Ok(false);
        };
        n.read_at = n.read_at.or(Some(now));
        Ok(true)
    }

    async fn mark_all_read(
        &mut self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut s = self.0.state("notifications.mark_all_read")?;
        let mut count = 0;
        for n in s
            .notifications
            .iter_mut()
            .filter(|n| n.user_id == user && n.read_at.is_none())
        {
            n.read_at = Some(now);
            count += 1;
        }
        Ok(count)
    }

    async fn mail_preferences(&mut self, user: UserId) -> Result<MailPreferences, StoreError> {
        let s = self.0.state("notifications.mail_preferences")?;
        Ok(s.mail_preferences.get(&user).cloned().unwrap_or_default())
    }

    async fn set_mail_preferences(
        &mut self,
        user: UserId,
        preferences: &MailPreferences,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("notifications.set_mail_preferences")?;
        s.mail_preferences.insert(user, preferences.clone());
        Ok(())
    }
}

#[async_trait]
impl NotificationQueries for MemoryStore {
    async fn notifications(
        &self,
        user: UserId,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<Page<NotificationRecord>, StoreError> {
        let s = self.read("notifications.notifications")?;
        let mut found: Vec<NotificationRecord> = s
            .notifications
            .iter()
            .filter(|n| n.user_id == user && (!unread_only || n.read_at.is_none()))
            .cloned()
            .collect();
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(page_of(found, page))
    }

    async fn unread_count(&self, user: UserId) -> Result<i64, StoreError> {
        let s = self.read("notifications.unread_count")?;
        let unread = s
            .notifications
            .iter()
            .filter(|n| n.user_id == user && n.read_at.is_none())
            .count();
        Ok(i64::try_from(unread).unwrap_or(i64::MAX))
    }
}
