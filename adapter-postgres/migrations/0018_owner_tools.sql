-- Owners find orders by part of a guest's e-mail without scanning the orders (the account side
-- uses users_email_trgm_idx).
create index orders_guest_email_trgm_idx on orders using gin (guest_email gin_trgm_ops);
