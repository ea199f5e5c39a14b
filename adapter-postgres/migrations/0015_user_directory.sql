-- Owners search users by any part of their username or e-mail without scanning the table.
create index users_username_trgm_idx on users using gin (username gin_trgm_ops);
create index users_email_trgm_idx on users using gin (email gin_trgm_ops);
create index users_newest_idx on users (created_at desc, id desc);
