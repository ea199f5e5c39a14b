-- Mail is rendered from templates as plain text and HTML; the outbox keeps both.
alter table outbox add column html_body text not null default '';
