-- Buyers' refund requests for physical lines of paid orders, and the history of their decisions
-- (docs/money.md, "Refund requests").

create table refund_requests (
    id               uuid primary key,
    order_id         uuid not null references orders (id) on delete restrict,
    order_item_id    uuid not null references order_items (id) on delete restrict,
    seller_id        uuid not null references users (id) on delete restrict,
    buyer_id         uuid references users (id) on delete restrict,
    reason           text not null constraint refund_requests_reason_check
        check (reason in ('damaged', 'not_as_described', 'late', 'wrong_item', 'other')),
    notes            text not null,
    amount_cents     bigint not null constraint refund_requests_amount_check check (amount_cents > 0),
    currency         text not null,
    status           text not null constraint refund_requests_status_check
        check (status in ('requested', 'approved', 'declined', 'canceled', 'refunded', 'failed')),
    attempts         integer not null default 0 constraint refund_requests_attempts_check check (attempts >= 0),
    stripe_refund_id text,
    last_error       text,
    created_at       timestamptz not null,
    updated_at       timestamptz not null
);
-- One request holds a line at a time: declined and canceled ones free it.
create unique index refund_requests_one_per_line on refund_requests (order_item_id)
    where status not in ('declined', 'canceled');
create index refund_requests_buyer_idx on refund_requests (buyer_id, created_at desc, id desc);
create index refund_requests_seller_idx on refund_requests (seller_id, status, created_at desc, id desc);
create index refund_requests_status_idx on refund_requests (status, created_at desc, id desc);

create table refund_request_steps (
    request_id uuid not null references refund_requests (id) on delete restrict,
    seq        bigint generated always as identity,
    status     text not null,
    actor_id   uuid references users (id) on delete restrict,
    note       text not null,
    created_at timestamptz not null,
    constraint refund_request_steps_pkey primary key (request_id, seq)
);
