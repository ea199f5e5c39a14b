-- Site configuration, carts, orders, the journal, payouts, jobs, webhook events and the outbox.

create table site_config (
    id                         boolean primary key default true constraint site_config_singleton check (id),
    fee_bps                    integer not null default 1000 constraint site_config_fee_bps_check check (fee_bps between 0 and 10000),
    currency                   text not null default 'usd' constraint site_config_currency_check check (currency ~ '^[a-z]{3}$'),
    allowed_shipping_countries text[] not null default '{US}',
    updated_at                 timestamptz not null default now()
);
insert into site_config (id) values (true);

alter table seller_connect_accounts
    add column status_event_at timestamptz,
    add column synced_at timestamptz;

create table carts (
    id            uuid primary key,
    token_digest  text constraint carts_token_digest_key unique,
    user_id       uuid constraint carts_user_id_key unique references users (id) on delete cascade,
    last_order_id uuid,
    created_at    timestamptz not null,
    updated_at    timestamptz not null,
    constraint carts_owner_check check (token_digest is not null or user_id is not null)
);
create index carts_updated_idx on carts (updated_at);

create table cart_items (
    cart_id    uuid not null references carts (id) on delete cascade,
    product_id uuid not null references products (id) on delete cascade,
    quantity   integer not null constraint cart_items_quantity_check check (quantity between 1 and 99),
    added_at   timestamptz not null,
    constraint cart_items_pkey primary key (cart_id, product_id)
);

create table orders (
    id                       uuid primary key,
    buyer_id                 uuid references users (id) on delete restrict,
    guest_email              text,
    access_token             text not null,
    status                   text not null constraint orders_status_check
        check (status in ('pending', 'paid', 'partially_refunded', 'refunded', 'canceled')),
    kind                     text not null constraint orders_kind_check check (kind in ('digital', 'physical', 'mixed')),
    currency                 text not null,
    fee_bps                  integer not null constraint orders_fee_bps_check check (fee_bps between 0 and 10000),
    subtotal_cents           bigint not null constraint orders_subtotal_check check (subtotal_cents >= 0),
    tax_cents                bigint not null constraint orders_tax_check check (tax_cents >= 0),
    shipping_cents           bigint not null constraint orders_shipping_check check (shipping_cents >= 0),
    total_cents              bigint not null constraint orders_total_check check (total_cents >= 0),
    refunded_cents           bigint not null default 0 constraint orders_refunded_check check (refunded_cents >= 0),
    payment_reference        text,
    stripe_session_id        text,
    stripe_session_url       text,
    stripe_session_attempt   integer not null default 0,
    stripe_session_expired   boolean not null default false,
    stripe_payment_intent_id text,
    stripe_charge_id         text,
    paid_at                  timestamptz,
    shipping_name            text,
    shipping_phone           text,
    shipping_line1           text,
    shipping_line2           text,
    shipping_city            text,
    shipping_state           text,
    shipping_postal_code     text,
    shipping_country         text,
    created_at               timestamptz not null,
    updated_at               timestamptz not null,
    constraint orders_buyer_or_guest check ((buyer_id is null) <> (guest_email is null))
);
create index orders_buyer_idx on orders (buyer_id, created_at desc, id desc);
create index orders_status_idx on orders (status, created_at desc);
create index orders_paid_idx on orders (paid_at desc) where paid_at is not null;
create unique index orders_stripe_session_key on orders (stripe_session_id) where stripe_session_id is not null;
create index orders_payment_intent_idx on orders (stripe_payment_intent_id) where stripe_payment_intent_id is not null;
create index orders_charge_idx on orders (stripe_charge_id) where stripe_charge_id is not null;

-- Every session ever created for an order, so a late event of a replaced session still finds it.
create table order_sessions (
    session_id text primary key,
    order_id   uuid not null references orders (id) on delete cascade
);

create table order_items (
    id                uuid primary key,
    order_id          uuid not null references orders (id) on delete cascade,
    product_id        uuid not null references products (id) on delete restrict,
    seller_id         uuid not null references users (id) on delete restrict,
    title             text not null,
    kind              text not null constraint order_items_kind_check check (kind in ('MODEL', 'FILE')),
    quantity          integer not null constraint order_items_quantity_check check (quantity between 1 and 99),
    unit_price_cents  bigint not null constraint order_items_unit_price_check check (unit_price_cents >= 0),
    gross_cents       bigint not null constraint order_items_gross_check check (gross_cents >= 0),
    fee_cents         bigint not null constraint order_items_fee_check check (fee_cents >= 0),
    net_cents         bigint not null constraint order_items_net_check check (net_cents >= 0),
    tax_cents         bigint not null constraint order_items_tax_check check (tax_cents >= 0),
    shipping_cents    bigint not null constraint order_items_shipping_check check (shipping_cents >= 0),
    position          integer not null,
    constraint order_items_split_check check (fee_cents + net_cents = gross_cents)
);
create index order_items_order_idx on order_items (order_id, position);
create index order_items_seller_idx on order_items (seller_id, order_id);
create index order_items_product_idx on order_items (product_id);

create table order_events (
    id         uuid primary key,
    order_id   uuid not null references orders (id) on delete cascade,
    kind       text not null,
    message    text not null default '',
    created_at timestamptz not null
);
create index order_events_order_idx on order_events (order_id, created_at, id);

-- The append-only journal. Each entry is keyed by the external fact that caused it.
create table journal_entries (
    id                  uuid primary key,
    key                 text not null constraint journal_entries_key_key unique,
    kind                text not null,
    order_id            uuid references orders (id) on delete restrict,
    currency            text not null,
    seller_id           uuid references users (id) on delete restrict,
    stripe_id           text,
    adjustment_id       uuid,
    amount_cents        bigint,
    fee_cents           bigint,
    order_item_id       uuid,
    external_created_at timestamptz,
    created_at          timestamptz not null
);
create index journal_entries_order_idx on journal_entries (order_id, created_at, id);

create table journal_postings (
    entry_id      uuid not null references journal_entries (id) on delete restrict,
    seq           integer not null,
    account       text not null,
    amount_cents  bigint not null constraint journal_postings_nonzero check (amount_cents <> 0),
    order_item_id uuid,
    component     text constraint journal_postings_component_check check (component in ('net', 'fee', 'tax', 'shipping')),
    constraint journal_postings_pkey primary key (entry_id, seq)
);
create index journal_postings_account_idx on journal_postings (account, entry_id);

-- Running balances of seller payables (credit-normal: what the platform owes), kept in the same
-- transaction as the postings so balance reads are one row.
create table seller_balances (
    seller_id     uuid not null references users (id) on delete restrict,
    currency      text not null,
    balance_cents bigint not null default 0,
    updated_at    timestamptz not null,
    constraint seller_balances_pkey primary key (seller_id, currency)
);

create table payouts (
    order_id      uuid not null references orders (id) on delete restrict,
    seller_id     uuid not null references users (id) on delete restrict,
    status        text not null constraint payouts_status_check check (status in ('pending', 'paid', 'skipped', 'failed')),
    amount_cents  bigint constraint payouts_amount_check check (amount_cents is null or amount_cents > 0),
    skip_reason   text,
    transfer_id   text constraint payouts_transfer_id_key unique,
    last_error    text,
    created_at    timestamptz not null,
    updated_at    timestamptz not null,
    constraint payouts_pkey primary key (order_id, seller_id)
);
create index payouts_seller_idx on payouts (seller_id, status, updated_at desc);

create table jobs (
    id           uuid primary key,
    kind         text not null,
    order_id     uuid,
    seller_id    uuid,
    dedupe_key   text not null,
    status       text not null constraint jobs_status_check check (status in ('queued', 'running', 'done', 'dead')),
    attempts     integer not null default 0,
    max_attempts integer not null,
    run_at       timestamptz not null,
    locked_until timestamptz,
    last_error   text,
    created_at   timestamptz not null,
    updated_at   timestamptz not null
);
create index jobs_due_idx on jobs (run_at) where status = 'queued';
create index jobs_lease_idx on jobs (locked_until) where status = 'running';
create index jobs_status_idx on jobs (status, updated_at desc);
-- One queued job per key (a running one may coexist: it could be reading stale state).
create unique index jobs_queued_dedupe_key on jobs (dedupe_key) where status = 'queued';

create table webhook_events (
    id          text primary key,
    endpoint    text not null,
    event_type  text not null,
    created     timestamptz not null,
    outcome     text not null,
    received_at timestamptz not null
);
create index webhook_events_received_idx on webhook_events (received_at desc);

create table outbox (
    id         uuid primary key,
    to_address text not null,
    subject    text not null,
    body       text not null,
    status     text not null constraint outbox_status_check check (status in ('queued', 'sent', 'failed')),
    order_id   uuid references orders (id) on delete set null,
    dedupe_key text constraint outbox_dedupe_key_key unique,
    created_at timestamptz not null,
    sent_at    timestamptz
);
create index outbox_created_idx on outbox (created_at desc, id desc);
