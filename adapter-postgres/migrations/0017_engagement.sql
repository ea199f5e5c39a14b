-- Engagement and sales counted per product per UTC day (docs/discovery.md, "Engagement"): views,
-- clicks and adds to cart arrive in batches from the app's in-memory tally; paid lines and reviews
-- are counted by the transactions that make them. Trending, seller analytics and the admin
-- dashboard read these rows, never the orders or a raw event log.
create table product_daily_stats (
    product_id   uuid not null references products (id) on delete cascade,
    day          date not null,
    seller_id    uuid not null references users (id) on delete cascade,
    views        bigint not null default 0,
    clicks       bigint not null default 0,
    add_to_carts bigint not null default 0,
    purchases    bigint not null default 0,
    units        bigint not null default 0,
    gross_cents  bigint not null default 0,
    net_cents    bigint not null default 0,
    fee_cents    bigint not null default 0,
    reviews      bigint not null default 0,
    primary key (product_id, day)
);
create index product_daily_stats_day_idx on product_daily_stats (day, product_id);
create index product_daily_stats_seller_idx on product_daily_stats (seller_id, day, product_id);

-- What was paid and reviewed before this migration, so nothing starts from zero.
insert into product_daily_stats (product_id, day, seller_id, purchases, units, gross_cents, net_cents, fee_cents)
select i.product_id, (o.paid_at at time zone 'UTC')::date, i.seller_id, count(*), sum(i.quantity),
       sum(i.gross_cents), sum(i.net_cents), sum(i.fee_cents)
from order_items i join orders o on o.id = i.order_id
where o.paid_at is not null
group by i.product_id, (o.paid_at at time zone 'UTC')::date, i.seller_id;

insert into product_daily_stats as s (product_id, day, seller_id, reviews)
select r.product_id, (r.created_at at time zone 'UTC')::date, r.seller_id, count(*)
from reviews r
where r.kind = 'product'
group by r.product_id, (r.created_at at time zone 'UTC')::date, r.seller_id
on conflict (product_id, day) do update set reviews = s.reviews + excluded.reviews;

-- The activity part of each listing's trending score in quarter points, and its place among the
-- best positive scores (1–12, for the badge), both written by the periodic refresh.
alter table products
    add column trending_points bigint not null default 0,
    add column trending_rank smallint;

-- The trending order (domain engagement::trending_score): activity + average rating, then the
-- average rating, then newest. The list query orders by exactly these expressions.
create index products_trending_idx on products (
    ((trending_points + 4 * rating_sum::numeric / greatest(review_count, 1))) desc,
    ((rating_sum::numeric / greatest(review_count, 1))) desc,
    created_at desc, id desc) where is_active;
-- The home page's featured and hand-picked trending buckets.
create index products_featured_new_idx on products (created_at desc, id desc) where is_active and is_featured;
create index products_picked_trending_new_idx on products (created_at desc, id desc) where is_active and is_trending;
create index products_trending_points_idx on products (id) where trending_points <> 0 or trending_rank is not null;
