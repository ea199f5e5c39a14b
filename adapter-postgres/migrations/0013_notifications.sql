-- In-app notifications and the kinds a user does not want by e-mail (docs/notifications.md).

create table notifications (
    id         uuid primary key,
    user_id    uuid not null references users (id) on delete cascade,
    kind       text not null constraint notifications_kind_check check (kind in
        ('new_question', 'thread_reply', 'new_review', 'report_outcome', 'refund_request', 'sale')),
    title      text not null,
    body       text not null,
    subject_id uuid not null,
    read_at    timestamptz,
    created_at timestamptz not null
);
create index notifications_user_idx on notifications (user_id, created_at desc, id desc);
create index notifications_unread_idx on notifications (user_id, created_at desc, id desc)
    where read_at is null;

create table notification_mail_muted (
    user_id uuid not null references users (id) on delete cascade,
    kind    text not null,
    constraint notification_mail_muted_pkey primary key (user_id, kind)
);
