//! The journal: append-only entries (one per fact key) with their postings, and the sellers'
//! balances kept in step with them in the same transaction.

use async_trait::async_trait;
use marketplace_domain::ids::{AdjustmentId, JournalEntryId, OrderId, OrderItemId, UserId};
use marketplace_domain::ledger::{Account, Component, Fact, JournalEntry, Posting};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{
    LedgerFilter, LedgerQueries, LedgerStore, SellerLedgerLine, StoreError,
};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, store_error};
use crate::listings::like_pattern;
use crate::paging;
use crate::{PgStore, TxConn};

/// The columns a fact is stored in (which are set depends on its kind).
#[derive(Default)]
struct FactColumns {
    order_id: Option<Uuid>,
    seller_id: Option<Uuid>,
    stripe_id: Option<String>,
    adjustment_id: Option<Uuid>,
    amount: Option<i64>,
    fee: Option<i64>,
    order_item_id: Option<Uuid>,
    external_created_at: Option<OffsetDateTime>,
}

fn columns(fact: &Fact) -> FactColumns {
    let mut c = FactColumns {
        order_id: fact.order().map(OrderId::get),
        ..FactColumns::default()
    };
    match fact {
        Fact::OrderPaid { .. } => {}
        Fact::Transfer {
            transfer_id: id,
            seller,
            amount,
            ..
        }
        | Fact::TransferReversal {
            reversal_id: id,
            seller,
            amount,
            ..
        } => {
            c.stripe_id = Some(id.clone());
            c.seller_id = Some(seller.get());
            c.amount = Some(amount.get());
        }
        Fact::Refund {
            refund_id,
            amount,
            line,
            created,
            ..
        } => {
            c.stripe_id = Some(refund_id.clone());
            c.amount = Some(amount.get());
            c.order_item_id = line.map(OrderItemId::get);
            c.external_created_at = Some(*created);
        }
        Fact::RefundFailed { refund_id, .. } => c.stripe_id = Some(refund_id.clone()),
        Fact::DisputeOpened {
            dispute_id,
            amount,
            fee,
            created,
            ..
        }
        | Fact::DisputeLost {
            dispute_id,
            amount,
            fee,
            created,
            ..
        } => {
            c.stripe_id = Some(dispute_id.clone());
            c.amount = Some(amount.get());
            c.fee = Some(fee.get());
            c.external_created_at = Some(*created);
        }
        Fact::DisputeWon {
            dispute_id, fee, ..
        } => {
            c.stripe_id = Some(dispute_id.clone());
            c.fee = Some(fee.get());
        }
        Fact::ExtraPayment {
            payment_intent: stripe_id,
            amount,
            ..
        }
        | Fact::ExtraPaymentRefund {
            refund_id: stripe_id,
            amount,
            ..
        }
        | Fact::ExtraPaymentRefundFailed {
            refund_id: stripe_id,
            amount,
            ..
        } => {
            c.stripe_id = Some(stripe_id.clone());
            c.amount = Some(amount.get());
        }
        Fact::Adjustment {
            adjustment_id,
            seller,
            amount,
            ..
        } => {
            c.adjustment_id = Some(adjustment_id.get());
            c.seller_id = Some(seller.get());
            c.amount = Some(amount.get());
        }
    }
    c
}

struct EntryRow {
    id: Uuid,
    kind: String,
    order_id: Option<Uuid>,
    currency: String,
    seller_id: Option<Uuid>,
    stripe_id: Option<String>,
    adjustment_id: Option<Uuid>,
    amount_cents: Option<i64>,
    fee_cents: Option<i64>,
    order_item_id: Option<Uuid>,
    external_created_at: Option<OffsetDateTime>,
}

struct PostingRow {
    entry_id: Uuid,
    account: String,
    amount_cents: i64,
    order_item_id: Option<Uuid>,
    component: Option<String>,
}

fn fact_of(row: &EntryRow) -> Result<Fact, StoreError> {
    let missing = |what: &str| corrupt("journal entry", format!("{} lacks {what}", row.id));
    let order = || {
        row.order_id
            .map(OrderId::from_uuid)
            .ok_or_else(|| missing("an order"))
    };
    let stripe_id = || row.stripe_id.clone().ok_or_else(|| missing("a Stripe id"));
    let amount = || {
        row.amount_cents
            .map(Cents::new)
            .ok_or_else(|| missing("an amount"))
    };
    let seller = || {
        row.seller_id
            .map(UserId::from_uuid)
            .ok_or_else(|| missing("a seller"))
    };
    let created = || {
        row.external_created_at
            .ok_or_else(|| missing("a creation time"))
    };
    Ok(match row.kind.as_str() {
        "order_paid" => Fact::OrderPaid { order: order()? },
        "transfer" => Fact::Transfer {
            transfer_id: stripe_id()?,
            order: row.order_id.map(OrderId::from_uuid),
            seller: seller()?,
            amount: amount()?,
        },
        "transfer_reversal" => Fact::TransferReversal {
            reversal_id: stripe_id()?,
            order: row.order_id.map(OrderId::from_uuid),
            seller: seller()?,
            amount: amount()?,
        },
        "refund" => Fact::Refund {
            refund_id: stripe_id()?,
            order: order()?,
            amount: amount()?,
            line: row.order_item_id.map(OrderItemId::from_uuid),
            created: created()?,
        },
        "refund_failed" => Fact::RefundFailed {
            refund_id: stripe_id()?,
            order: order()?,
        },
        "dispute_lost" => Fact::DisputeLost {
            dispute_id: stripe_id()?,
            order: order()?,
            amount: amount()?,
            fee: Cents::new(row.fee_cents.unwrap_or(0)),
            created: created()?,
        },
        "dispute_opened" => Fact::DisputeOpened {
            dispute_id: stripe_id()?,
            order: order()?,
            amount: amount()?,
            fee: Cents::new(row.fee_cents.unwrap_or(0)),
            created: created()?,
        },
        "dispute_won" => Fact::DisputeWon {
            dispute_id: stripe_id()?,
            order: order()?,
            fee: Cents::new(row.fee_cents.unwrap_or(0)),
        },
        "extra_payment" => Fact::ExtraPayment {
            payment_intent: stripe_id()?,
            order: order()?,
            amount: amount()?,
        },
        "extra_payment_refund" => Fact::ExtraPaymentRefund {
            refund_id: stripe_id()?,
            order: order()?,
            amount: amount()?,
        },
        "extra_payment_refund_failed" => Fact::ExtraPaymentRefundFailed {
            refund_id: stripe_id()?,
            order: order()?,
            amount: amount()?,
        },
        "adjustment" => Fact::Adjustment {
            adjustment_id: AdjustmentId::from_uuid(
                row.adjustment_id
                    .ok_or_else(|| missing("an adjustment id"))?,
            ),
            seller: seller()?,
            amount: amount()?,
            order: row.order_id.map(OrderId::from_uuid),
        },
        other => return Err(corrupt("journal entry", format!("unknown kind {other}"))),
    })
}

fn posting_of(row: &PostingRow) -> Result<Posting, StoreError> {
    Ok(Posting {
        account: Account::parse(&row.account).ok_or_else(|| corrupt("posting", &row.account))?,
        amount: Cents::new(row.amount_cents),
        line: row.order_item_id.map(OrderItemId::from_uuid),
        component: match &row.component {
            None => None,
            Some(text) => Some(Component::parse(text).ok_or_else(|| corrupt("posting", text))?),
        },
    })
}

/// The journal of one transaction.
pub(crate) struct PgLedger(pub(crate) TxConn);

/// The journal entries booked on an order, oldest first, rebuilt through the checked constructor.
async fn entries_of_order(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<JournalEntry>, StoreError> {
    let entries = sqlx::query_as!(
        EntryRow,
        "select id, kind, order_id, currency, seller_id, stripe_id, adjustment_id, amount_cents,
                fee_cents, order_item_id, external_created_at
         from journal_entries where order_id = $1 order by created_at, id",
        order.get()
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(store_error)?;
    let ids: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
    let postings = sqlx::query_as!(
        PostingRow,
        "select entry_id, account, amount_cents, order_item_id, component
         from journal_postings where entry_id = any($1) order by entry_id, seq",
        &ids
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(store_error)?;
    entries
        .iter()
        .map(|row| {
            let postings = postings
                .iter()
                .filter(|p| p.entry_id == row.id)
                .map(posting_of)
                .collect::<Result<Vec<_>, _>>()?;
            let currency =
                Currency::parse(&row.currency).map_err(|e| corrupt("journal entry", e))?;
            // Rebuilt through the checked constructor: a stored entry that does not balance is
            // reported, never used.
            JournalEntry::new(fact_of(row)?, currency, postings)
                .map_err(|e| corrupt("journal entry", e))
        })
        .collect()
}

#[async_trait]
impl LedgerStore for PgLedger {
    async fn insert_entry(
        &mut self,
        id: JournalEntryId,
        entry: &JournalEntry,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let fact = entry.fact();
        let c = columns(fact);
        let currency = entry.currency();
        let key = entry.key();
        let mut tx = self.0.lock().await;
        let inserted = sqlx::query!(
            "insert into journal_entries (id, key, kind, order_id, currency, seller_id, stripe_id,
                adjustment_id, amount_cents, fee_cents, order_item_id, external_created_at, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             on conflict (key) do nothing",
            id.get(),
            key.as_str(),
            fact.kind(),
            c.order_id,
            currency.as_str(),
            c.seller_id,
            c.stripe_id,
            c.adjustment_id,
            c.amount,
            c.fee,
            c.order_item_id,
            c.external_created_at,
            now,
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        // A key already booked is reported like the unique violation it is, without aborting the
        // caller's transaction (which goes on, e.g. to record the webhook as a duplicate).
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                constraint: "journal_entries_key_key".to_owned(),
            });
        }
        let seller_changes = entry
            .seller_balance_changes()
            .map_err(|e| StoreError::Unavailable(format!("balance overflow: {e}")))?;
        for (seq, posting) in (0_i32..).zip(entry.postings()) {
            sqlx::query!(
                "insert into journal_postings (entry_id, seq, account, amount_cents, order_item_id,
                    component)
                 values ($1, $2, $3, $4, $5, $6)",
                id.get(),
                seq,
                posting.account.code(),
                posting.amount.get(),
                posting.line.map(OrderItemId::get),
                posting.component.map(Component::as_str),
            )
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
        }
        for (seller, change) in seller_changes {
            sqlx::query!(
                "insert into seller_balances (seller_id, currency, balance_cents, updated_at)
                 values ($1, $2, $3, $4)
                 on conflict (seller_id, currency) do update
                 set balance_cents = seller_balances.balance_cents + excluded.balance_cents,
                     updated_at = excluded.updated_at",
                seller.get(),
                currency.as_str(),
                change.get(),
                now,
            )
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
        }
        Ok(())
    }

    async fn order_entries(&mut self, order: OrderId) -> Result<Vec<JournalEntry>, StoreError> {
        let mut tx = self.0.lock().await;
        entries_of_order(&mut tx, order).await
    }

    async fn lock_seller_balance(
        &mut self,
        seller: UserId,
        currency: Currency,
    ) -> Result<Cents, StoreError> {
        let mut tx = self.0.lock().await;
        sqlx::query!(
            "insert into seller_balances (seller_id, currency, balance_cents, updated_at)
             values ($1, $2, 0, now())
             on conflict (seller_id, currency) do nothing",
            seller.get(),
            currency.as_str(),
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        let balance = sqlx::query_scalar!(
            "select balance_cents from seller_balances
             where seller_id = $1 and currency = $2 for update",
            seller.get(),
            currency.as_str(),
        )
        .fetch_one(&mut **tx)
        .await
        .map_err(store_error)?;
        Ok(Cents::new(balance))
    }
}

fn push_ledger_filter(
    builder: &mut QueryBuilder<'_, Postgres>,
    seller: UserId,
    filter: &LedgerFilter,
) {
    builder
        .push(" where p.account = ")
        .push_bind(Account::SellerPayable(seller).code());
    if let Some(kind) = &filter.kind {
        builder.push(" and e.kind = ").push_bind(kind.clone());
    }
    if let Some(text) = &filter.text {
        let pattern = like_pattern(text);
        builder
            .push(" and (e.key ilike ")
            .push_bind(pattern.clone())
            .push(" or coalesce(e.order_id::text, '') ilike ")
            .push_bind(pattern)
            .push(")");
    }
}

#[derive(sqlx::FromRow)]
struct LedgerLineRow {
    key: String,
    kind: String,
    order_id: Option<Uuid>,
    currency: String,
    amount: i64,
    created_at: OffsetDateTime,
}

#[async_trait]
impl LedgerQueries for PgStore {
    async fn order_entries(&self, order: OrderId) -> Result<Vec<JournalEntry>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(store_error)?;
        entries_of_order(&mut conn, order).await
    }

    async fn seller_balance(
        &self,
        seller: UserId,
        currency: Currency,
    ) -> Result<Cents, StoreError> {
        let balance = sqlx::query_scalar!(
            "select balance_cents from seller_balances where seller_id = $1 and currency = $2",
            seller.get(),
            currency.as_str(),
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(Cents::new(balance.unwrap_or(0)))
    }

    async fn seller_ledger(
        &self,
        seller: UserId,
        filter: &LedgerFilter,
        page: PageRequest,
    ) -> Result<Page<SellerLedgerLine>, StoreError> {
        // The filter decides the SQL, so this one is built at run time.
        let mut count = QueryBuilder::<Postgres>::new(
            "select count(distinct e.id) from journal_entries e join journal_postings p on p.entry_id = e.id",
        );
        push_ledger_filter(&mut count, seller, filter);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)?;
        let mut select = QueryBuilder::<Postgres>::new(
            "select e.key, e.kind, e.order_id, e.currency, -sum(p.amount_cents)::bigint as amount,
                    e.created_at, e.id
             from journal_entries e join journal_postings p on p.entry_id = e.id",
        );
        push_ledger_filter(&mut select, seller, filter);
        select
            .push(" group by e.id order by e.created_at desc, e.id desc limit ")
            .push_bind(paging::limit(page))
            .push(" offset ")
            .push_bind(paging::offset(page));
        let rows: Vec<LedgerLineRow> = select
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        let items = rows
            .into_iter()
            .map(|row| {
                Ok(SellerLedgerLine {
                    key: row.key,
                    kind: row.kind,
                    order_id: row.order_id.map(OrderId::from_uuid),
                    amount: Cents::new(row.amount),
                    currency: Currency::parse(&row.currency)
                        .map_err(|e| corrupt("journal entry", e))?,
                    created_at: row.created_at,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(paging::page_of(items, page, total))
    }
}
