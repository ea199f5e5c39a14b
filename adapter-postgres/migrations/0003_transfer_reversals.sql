-- Transfer reversals: an owner takes back a seller's part of refunds made after their payout.

create table transfer_reversals (
    id                 uuid primary key,
    order_id           uuid not null references orders (id) on delete restrict,
    seller_id          uuid not null references users (id) on delete restrict,
    transfer_id        text not null,
    amount_cents       bigint not null constraint transfer_reversals_amount_check check (amount_cents > 0),
    currency           text not null constraint transfer_reversals_currency_check check (currency ~ '^[a-z]{3}$'),
    status             text not null constraint transfer_reversals_status_check check (status in ('pending', 'reversed', 'refused')),
    stripe_reversal_id text constraint transfer_reversals_stripe_reversal_id_key unique,
    last_error         text,
    created_at         timestamptz not null,
    updated_at         timestamptz not null,
    constraint transfer_reversals_reversed_check check ((status = 'reversed') = (stripe_reversal_id is not null))
);
-- One reversal under way per (order, seller): retries reuse it (and its idempotency key).
create unique index transfer_reversals_one_pending on transfer_reversals (order_id, seller_id) where status = 'pending';
create index transfer_reversals_seller_pending_idx on transfer_reversals (seller_id) where status = 'pending';
create index transfer_reversals_order_idx on transfer_reversals (order_id, created_at);
