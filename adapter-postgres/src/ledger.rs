//! The journal: entries keyed by their fact, their postings, and running seller balances.

use std::collections::BTreeMap;

use marketplace_domain::ids::{AdjustmentId, JournalEntryId, OrderId, OrderItemId, UserId};
use marketplace_domain::ledger::{Account, Component, Fact, JournalEntry, Posting};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{LedgerFilter, SellerLedgerLine, StoreError};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, store_error};
use crate::paging;

/// The columns an entry's fact is stored in.
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
        seller_id: None,
        stripe_id: None,
        adjustment_id: None,
        amount: None,
        fee: None,
        order_item_id: None,
        external_created_at: None,
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
        Fact::DisputeLost {
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
        Fact::DisputeWon { dispute_id, .. } => c.stripe_id = Some(dispute_id.clone()),
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

pub(crate) async fn insert_entry(
    conn: &mut PgConnection,
    id: JournalEntryId,
    entry: &JournalEntry,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let fact = entry.fact();
    let c = columns(fact);
    let inserted = sqlx::query(
        "insert into journal_entries (id, key, kind, order_id, currency, seller_id, stripe_id, adjustment_id,
            amount_cents, fee_cents, order_item_id, external_created_at, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         on conflict (key) do nothing",
    )
    .bind(id.get())
    .bind(entry.key().as_str())
    .bind(fact.kind())
    .bind(c.order_id)
    .bind(entry.currency().as_str())
    .bind(c.seller_id)
    .bind(c.stripe_id)
    .bind(c.adjustment_id)
    .bind(c.amount)
    .bind(c.fee)
    .bind(c.order_item_id)
    .bind(c.external_created_at)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    // A key already booked is reported like the unique violation it is, without aborting the
    // caller's transaction (which goes on, e.g. to record the webhook as a duplicate).
    if inserted.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            constraint: "journal_entries_key_key".to_owned(),
        });
    }
    let mut seller_deltas: BTreeMap<UserId, i64> = BTreeMap::new();
    for (seq, posting) in (0_i32..).zip(entry.postings()) {
        sqlx::query(
            "insert into journal_postings (entry_id, seq, account, amount_cents, order_item_id, component)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.get())
        .bind(seq)
        .bind(posting.account.code())
        .bind(posting.amount.get())
        .bind(posting.line.map(OrderItemId::get))
        .bind(posting.component.map(Component::as_str))
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
        if let Account::SellerPayable(seller) = posting.account {
            let slot = seller_deltas.entry(seller).or_insert(0);
            // Payables are credit-normal: a credit (negative) raises what the seller is owed.
            *slot = slot
                .checked_sub(posting.amount.get())
                .ok_or_else(|| StoreError::Unavailable("balance overflow".into()))?;
        }
    }
    for (seller, delta) in seller_deltas {
        sqlx::query(
            "insert into seller_balances (seller_id, currency, balance_cents, updated_at) values ($1, $2, $3, $4)
             on conflict (seller_id, currency)
             do update set balance_cents = seller_balances.balance_cents + excluded.balance_cents, updated_at = excluded.updated_at",
        )
        .bind(seller.get())
        .bind(entry.currency().as_str())
        .bind(delta)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
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

#[derive(sqlx::FromRow)]
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
        "dispute_won" => Fact::DisputeWon {
            dispute_id: stripe_id()?,
            order: order()?,
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

pub(crate) async fn order_entries(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<JournalEntry>, StoreError> {
    let entries: Vec<EntryRow> = sqlx::query_as(
        "select id, kind, order_id, currency, seller_id, stripe_id, adjustment_id, amount_cents, fee_cents,
                order_item_id, external_created_at
         from journal_entries where order_id = $1 order by created_at, id",
    )
    .bind(order.get())
    .fetch_all(&mut *conn)
    .await
    .map_err(store_error)?;
    let ids: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
    let postings: Vec<PostingRow> = sqlx::query_as(
        "select entry_id, account, amount_cents, order_item_id, component
         from journal_postings where entry_id = any($1) order by entry_id, seq",
    )
    .bind(&ids)
    .fetch_all(conn)
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
            // Rebuilding through the checked constructor: a stored entry that does not balance is
            // reported, never used.
            JournalEntry::new(fact_of(row)?, currency, postings)
                .map_err(|e| corrupt("journal entry", e))
        })
        .collect()
}

pub(crate) async fn lock_seller_balance(
    conn: &mut PgConnection,
    seller: UserId,
    currency: Currency,
) -> Result<Cents, StoreError> {
    sqlx::query(
        "insert into seller_balances (seller_id, currency, balance_cents, updated_at) values ($1, $2, 0, now())
         on conflict (seller_id, currency) do nothing",
    )
    .bind(seller.get())
    .bind(currency.as_str())
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    let balance: i64 = sqlx::query_scalar("select balance_cents from seller_balances where seller_id = $1 and currency = $2 for update")
        .bind(seller.get())
        .bind(currency.as_str())
        .fetch_one(conn)
        .await
        .map_err(store_error)?;
    Ok(Cents::new(balance))
}

pub(crate) async fn seller_balance(
    conn: &mut PgConnection,
    seller: UserId,
    currency: Currency,
) -> Result<Cents, StoreError> {
    let balance: Option<i64> = sqlx::query_scalar(
        "select balance_cents from seller_balances where seller_id = $1 and currency = $2",
    )
    .bind(seller.get())
    .bind(currency.as_str())
    .fetch_optional(conn)
    .await
    .map_err(store_error)?;
    Ok(Cents::new(balance.unwrap_or(0)))
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
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        builder
            .push(" and (e.key ilike ")
            .push_bind(pattern.clone())
            .push(" or coalesce(e.order_id::text, '') ilike ")
            .push_bind(pattern)
            .push(")");
    }
}

pub(crate) async fn seller_ledger(
    conn: &mut PgConnection,
    seller: UserId,
    filter: &LedgerFilter,
    page: PageRequest,
) -> Result<Page<SellerLedgerLine>, StoreError> {
    let mut count = QueryBuilder::<Postgres>::new(
        "select count(distinct e.id) from journal_entries e join journal_postings p on p.entry_id = e.id",
    );
    push_ledger_filter(&mut count, seller, filter);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(store_error)?;
    let mut select = QueryBuilder::<Postgres>::new(
        "select e.key, e.kind, e.order_id, e.currency, -sum(p.amount_cents)::bigint as amount, e.created_at, e.id
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
        .fetch_all(conn)
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

/// One journal entry as a seller sees it (the signed sum of its postings to the seller's account).
#[derive(sqlx::FromRow)]
struct LedgerLineRow {
    key: String,
    kind: String,
    order_id: Option<Uuid>,
    currency: String,
    amount: i64,
    created_at: OffsetDateTime,
}
