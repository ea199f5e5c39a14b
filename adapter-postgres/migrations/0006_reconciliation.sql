-- Reconciliation (docs/money.md): anomalies recorded on orders, each order's flags (computed when
-- its money moves, so the report is a query), owner adjustments and the audit log.

create table order_anomalies (
    order_id     uuid not null references orders (id) on delete restrict,
    kind         text not null constraint order_anomalies_kind_check
        check (kind in ('charge_mismatch', 'currency_mismatch', 'extra_payment', 'unallocated_refund')),
    reference    text not null,
    amount_cents bigint,
    currency     text,
    created_at   timestamptz not null,
    resolved_at  timestamptz,
    constraint order_anomalies_pkey primary key (order_id, kind, reference)
);

create table order_flags (
    order_id   uuid not null references orders (id) on delete restrict,
    code       text not null,
    detail     text not null,
    flagged_at timestamptz not null,
    constraint order_flags_pkey primary key (order_id, code)
);
create index order_flags_code_idx on order_flags (code, order_id);
create index order_flags_flagged_idx on order_flags (flagged_at desc, order_id);

create table adjustments (
    id              uuid primary key,
    seller_id       uuid not null references users (id) on delete restrict,
    amount_cents    bigint not null constraint adjustments_amount_check check (amount_cents <> 0),
    currency        text not null,
    note            text not null,
    idempotency_key text not null constraint adjustments_idempotency_key_key unique,
    created_by      uuid not null references users (id) on delete restrict,
    created_at      timestamptz not null
);

create table audit_log (
    id         bigint generated always as identity primary key,
    actor_id   uuid not null references users (id) on delete restrict,
    action     text not null,
    subject    text not null,
    detail     text not null,
    created_at timestamptz not null
);
create index audit_log_created_idx on audit_log (created_at desc, id desc);
