-- Listings cheapest or dearest first (newest first among equal prices), without sorting the table.
create index products_price_asc_idx on products (price_cents, created_at desc, id desc) where is_active;
create index products_price_desc_idx on products (price_cents desc, created_at desc, id desc) where is_active;
