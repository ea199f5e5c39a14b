-- Reports to staff and their resolutions (docs/moderation.md). Suspension is `users.is_active`.

create table reports (
    id              uuid primary key,
    target_type     text not null constraint reports_target_type_check
        check (target_type in ('review', 'seller_review', 'reply', 'message')),
    target_id       uuid not null,
    reporter_id     uuid not null references users (id) on delete restrict,
    reason          text not null constraint reports_reason_check
        check (reason in ('spam', 'harassment', 'hate', 'violence', 'sexual', 'illegal', 'other')),
    details         text not null constraint reports_details_length check (char_length(details) <= 2000),
    status          text not null constraint reports_status_check check (status in ('open', 'resolved')),
    resolution      text constraint reports_resolution_check
        check (resolution in ('dismissed', 'removed', 'suspended')),
    resolved_by     uuid references users (id) on delete restrict,
    resolution_note text not null default '',
    created_at      timestamptz not null,
    resolved_at     timestamptz,
    constraint reports_resolution_when_resolved check ((status = 'resolved') = (resolution is not null))
);
-- One open report per (content, reporter).
create unique index reports_one_open_per_reporter on reports (target_type, target_id, reporter_id)
    where status = 'open';
create index reports_queue_idx on reports (created_at, id) where status = 'open';
create index reports_target_idx on reports (target_type, target_id) where status = 'open';
create index reports_newest_idx on reports (created_at desc, id desc);
