-- Outbox mail is delivered over SMTP by the mail workers (docs/architecture.md, "Mail"): each
-- attempt is counted; a failed one is tried again later (next_attempt_at) or, when the server
-- refused for good or the attempts ran out, the mail is marked failed with the last error.
alter table outbox
    add column attempts integer not null default 0,
    add column next_attempt_at timestamptz,
    add column locked_until timestamptz,
    add column last_error text;
create index outbox_due_idx on outbox (created_at, id) where status = 'queued';
