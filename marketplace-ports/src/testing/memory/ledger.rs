//! The journal and sellers' balances, in memory.

use async_trait::async_trait;
use marketplace_domain::ids::{JournalEntryId, OrderId, UserId};
use marketplace_domain::ledger::JournalEntry;
use marketplace_domain::money::{Cents, Currency, MoneyError};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::listings::page_of;
use super::{MemoryStore, Working, conflict};
use crate::ports::{LedgerFilter, LedgerQueries, LedgerStore, SellerLedgerLine, StoreError};

pub(crate) struct MemLedger(pub(crate) Working);

fn overflow(error: MoneyError) -> StoreError {
    StoreError::Unavailable(format!("balance overflow: {error}"))
}

#[async_trait]
impl LedgerStore for MemLedger {
    async fn insert_entry(
        &mut self,
        id: JournalEntryId,
        entry: &JournalEntry,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("ledger.insert_entry")?;
        if s.journal.iter().any(|(_, e, _)| e.key() == entry.key()) {
            return Err(conflict("journal_entries_key_key"));
        }
        for (seller, change) in entry.seller_balance_changes().map_err(overflow)? {
            let balance = s.balances.entry((seller, entry.currency())).or_insert(0);
            *balance = balance
                .checked_add(change.get())
                .ok_or_else(|| overflow(MoneyError::Overflow))?;
        }
        s.journal.push((id, entry.clone(), now));
        Ok(())
    }

    async fn order_entries(&mut self, order: OrderId) -> Result<Vec<JournalEntry>, StoreError> {
        let s = self.0.state("ledger.order_entries")?;
        Ok(s.journal
            .iter()
            .filter(|(_, e, _)| e.fact().order() == Some(order))
            .map(|(_, e, _)| e.clone())
            .collect())
    }

    async fn lock_seller_balance(
        &mut self,
        seller: UserId,
        currency: Currency,
    ) -> Result<Cents, StoreError> {
        let mut s = self.0.state("ledger.lock_seller_balance")?;
        Ok(Cents::new(
            *s.balances.entry((seller, currency)).or_insert(0),
        ))
    }
}

#[async_trait]
impl LedgerQueries for MemoryStore {
    async fn order_entries(&self, order: OrderId) -> Result<Vec<JournalEntry>, StoreError> {
        let s = self.read("ledger.order_entries")?;
        Ok(s.journal
            .iter()
            .filter(|(_, e, _)| e.fact().order() == Some(order))
            .map(|(_, e, _)| e.clone())
            .collect())
    }

    async fn seller_balance(
        &self,
        seller: UserId,
        currency: Currency,
    ) -> Result<Cents, StoreError> {
        let s = self.read("ledger.seller_balance")?;
        Ok(Cents::new(
            s.balances.get(&(seller, currency)).copied().unwrap_or(0),
        ))
    }

    async fn seller_ledger(
        &self,
        seller: UserId,
        filter: &LedgerFilter,
        page: PageRequest,
    ) -> Result<Page<SellerLedgerLine>, StoreError> {
        let s = self.read("ledger.seller_ledger")?;
        let text = filter.text.as_ref().map(|t| t.to_lowercase());
        let mut lines: Vec<(JournalEntryId, SellerLedgerLine)> = Vec::new();
        for (id, entry, created_at) in &s.journal {
            let Some(amount) = entry
                .seller_balance_changes()
                .map_err(overflow)?
                .remove(&seller)
            else {
                continue;
            };
            let key = entry.key().as_str().to_owned();
            let order_id = entry.fact().order();
            let kind_matches = filter
                .kind
                .as_deref()
                .is_none_or(|k| k == entry.fact().kind());
            let text_matches = text.as_ref().is_none_or(|t| {
                key.to_lowercase().contains(t)
                    || order_id.is_some_and(|o| o.to_string().contains(t))
            });
            if !(kind_matches && text_matches) {
                continue;
            }
            lines.push((
                *id,
                SellerLedgerLine {
                    key,
                    kind: entry.fact().kind().to_owned(),
                    order_id,
                    amount,
                    currency: entry.currency(),
                    created_at: *created_at,
                },
            ));
        }
        lines.sort_by(|(a_id, a), (b_id, b)| (b.created_at, b_id).cmp(&(a.created_at, a_id)));
        Ok(page_of(lines.into_iter().map(|(_, l)| l).collect(), page))
    }
}
