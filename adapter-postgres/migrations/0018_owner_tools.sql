-- Owners find orders by part of a guest's e-mail without scanning the orders (the account side
-- uses users_email_trgm_idx).
create index orders_guest_email_trgm_idx on orders using gin (guest_email gin_trgm_ops);

-- Received webhook events keep how their processing ended, how often it was tried, and — for
-- failed and rejected events — the verified payload and the error, so a redelivery or an owner
-- can process them again (docs/money.md, "Webhook events").
alter table webhook_events
    add column status text,
    add column attempts integer not null default 1,
    add column payload bytea,
    add column last_error text;
update webhook_events set status = case
    when outcome like 'applied%' or outcome = 'duplicate' then 'applied'
    when outcome like 'ignored%' then 'ignored'
    when outcome like 'rejected%' then 'rejected'
    else 'failed' end;
alter table webhook_events
    alter column status set not null,
    add constraint webhook_events_status_check
        check (status in ('processing', 'applied', 'ignored', 'rejected', 'failed'));
create index webhook_events_status_idx on webhook_events (status, received_at desc, id desc);
create index webhook_events_newest_idx on webhook_events (received_at desc, id desc);
