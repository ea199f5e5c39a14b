//! The outbox, in memory.

use std::cmp::Reverse;

use async_trait::async_trait;
use marketplace_domain::pagination::{Page, PageRequest};

use marketplace_domain::ids::MailId;
use time::OffsetDateTime;

use super::listings::page_of;
use super::{MemoryStore, State, Working};
use crate::ports::{ClaimedMail, MailOutbox, MailQueries, MailRecord, MailStatus, StoreError};

pub(crate) struct MemOutbox(pub(crate) Working);

#[async_trait]
impl MailOutbox for MemOutbox {
    async fn insert_mail(&mut self, mail: &MailRecord) -> Result<bool, StoreError> {
        let mut s = self.0.state("mail.insert_mail")?;
        if mail.dedupe_key.is_some() && s.mail.iter().any(|m| m.dedupe_key == mail.dedupe_key) {
            return Ok(false);
        }
        s.mail.push(mail.clone());
        Ok(true)
    }

    async fn claim_due_mail(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<ClaimedMail>, StoreError> {
        let mut s = self.0.state("mail.claim_due_mail")?;
        let State {
            mail,
            mail_delivery,
            ..
        } = &mut *s;
        let mut due: Vec<&MailRecord> = mail
            .iter()
            .filter(|m| m.status == MailStatus::Queued)
            .filter(|m| {
                mail_delivery.get(&m.id).is_none_or(|d| {
                    d.next_attempt_at.is_none_or(|at| at <= now)
                        && d.locked_until.is_none_or(|until| until < now)
                })
            })
            .collect();
        due.sort_by_key(|m| (m.created_at, m.id));
        let Some(found) = due.first().map(|m| (*m).clone()) else {
            return Ok(None);
        };
        let delivery = mail_delivery.entry(found.id).or_default();
        delivery.attempts = delivery.attempts.saturating_add(1);
        delivery.locked_until = Some(lease_until);
        Ok(Some(ClaimedMail {
            attempt: delivery.attempts,
            mail: found,
        }))
    }

    async fn mail_sent(
        &mut self,
        id: MailId,
        attempt: i32,
        _now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("mail.mail_sent")?;
        if s.mail_delivery
            .get(&id)
            .is_some_and(|d| d.attempts != attempt)
        {
            return Ok(());
        }
        if let Some(mail) = s.mail.iter_mut().find(|m| m.id == id) {
            mail.status = MailStatus::Sent;
        }
        let delivery = s.mail_delivery.entry(id).or_default();
        delivery.locked_until = None;
        delivery.last_error = None;
        Ok(())
    }

    async fn mail_not_sent(
        &mut self,
        id: MailId,
        attempt: i32,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("mail.mail_not_sent")?;
        if s.mail_delivery
            .get(&id)
            .is_some_and(|d| d.attempts != attempt)
        {
            return Ok(());
        }
        if retry_at.is_none()
            && let Some(mail) = s.mail.iter_mut().find(|m| m.id == id)
        {
            mail.status = MailStatus::Failed;
        }
        let delivery = s.mail_delivery.entry(id).or_default();
        delivery.locked_until = None;
        delivery.next_attempt_at = retry_at;
        delivery.last_error = Some(error.to_owned());
        Ok(())
    }
}

#[async_trait]
impl MailQueries for MemoryStore {
    async fn list_outbox(&self, page: PageRequest) -> Result<Page<MailRecord>, StoreError> {
        let s = self.read("mail.list_outbox")?;
        let mut mail = s.mail.clone();
        mail.sort_by_key(|m| Reverse((m.created_at, m.id)));
        Ok(page_of(mail, page))
    }
}
