-- A refund request's Stripe attempt in flight (docs/money.md, "Refund requests"), and digital
-- entitlements with their download log (docs/money.md, "Digital entitlements").

alter table refund_requests add column refund_in_flight boolean not null default false;
create index refund_requests_in_flight_idx on refund_requests (order_id) where refund_in_flight;

alter table site_config
    add column download_limit integer constraint site_config_download_limit_check
        check (download_limit between 1 and 10000),
    add column download_expiry_days integer constraint site_config_download_expiry_check
        check (download_expiry_days between 1 and 3650);

-- One per paid FILE line: the buyer (or the holder of the order's guest token) may download the
-- product's files that existed when it was paid for.
create table entitlements (
    order_item_id  uuid primary key references order_items (id) on delete restrict,
    order_id       uuid not null references orders (id) on delete restrict,
    product_id     uuid not null references products (id) on delete restrict,
    seller_id      uuid not null references users (id) on delete restrict,
    granted_at     timestamptz not null,
    expires_at     timestamptz,
    download_limit integer constraint entitlements_download_limit_check check (download_limit >= 1),
    downloads      integer not null default 0 constraint entitlements_downloads_check check (downloads >= 0),
    revoked_at     timestamptz
);
create index entitlements_order_idx on entitlements (order_id);

-- Every download: who, when, which file, how many bytes.
create table download_log (
    id             bigint generated always as identity primary key,
    order_item_id  uuid not null references entitlements (order_item_id) on delete restrict,
    order_id       uuid not null references orders (id) on delete restrict,
    asset_id       uuid not null,
    user_id        uuid references users (id) on delete restrict,
    bytes          bigint not null constraint download_log_bytes_check check (bytes >= 0),
    downloaded_at  timestamptz not null,
    -- A buyer's download counts against the entitlement; staff's (support) are only logged.
    counted        boolean not null
);
create index download_log_order_idx on download_log (order_id, id desc);

-- Downloads per product, kept in step with the log so a seller's counts never scan it.
create table product_downloads (
    product_id uuid primary key references products (id) on delete restrict,
    seller_id  uuid not null references users (id) on delete restrict,
    downloads  bigint not null default 0 constraint product_downloads_check check (downloads >= 0)
);
create index product_downloads_seller_idx on product_downloads (seller_id, downloads desc, product_id);

-- Purchases paid before entitlements existed: unlimited, never expiring, revoked when refunded.
insert into entitlements (order_item_id, order_id, product_id, seller_id, granted_at, revoked_at)
select i.id, o.id, i.product_id, i.seller_id, o.paid_at,
       case when o.status = 'refunded' then o.updated_at end
from order_items i join orders o on o.id = i.order_id
where i.kind = 'FILE' and o.paid_at is not null;
