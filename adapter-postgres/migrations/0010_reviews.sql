-- Reviews of products and sellers, sellers' replies, and sellers' running rating summaries
-- (docs/reviews.md). Products keep theirs in products.review_count / rating_sum.

create table reviews (
    id            uuid primary key,
    kind          text not null constraint reviews_kind_check check (kind in ('product', 'seller')),
    product_id    uuid references products (id) on delete restrict,
    order_item_id uuid references order_items (id) on delete restrict,
    seller_id     uuid not null references users (id) on delete restrict,
    order_id      uuid not null references orders (id) on delete restrict,
    buyer_id      uuid references users (id) on delete restrict,
    rating        smallint not null constraint reviews_rating_check check (rating between 1 and 5),
    title         text not null constraint reviews_title_length check (char_length(title) <= 120),
    body          text not null constraint reviews_body_length check (char_length(body) <= 5000),
    visibility    text not null constraint reviews_visibility_check check (visibility in ('visible', 'removed')),
    created_at    timestamptz not null,
    updated_at    timestamptz not null,
    constraint reviews_subject_check check (
        (kind = 'product' and product_id is not null and order_item_id is not null)
        or (kind = 'seller' and product_id is null and order_item_id is null))
);
-- One review per purchased line; one seller review per order and seller.
create unique index reviews_one_per_line on reviews (order_item_id) where kind = 'product';
create unique index reviews_one_per_order_seller on reviews (order_id, seller_id) where kind = 'seller';
create index reviews_product_newest_idx on reviews (product_id, created_at desc, id desc)
    where kind = 'product' and visibility = 'visible';
create index reviews_product_rating_idx on reviews (product_id, rating, created_at desc, id desc)
    where kind = 'product' and visibility = 'visible';
create index reviews_seller_newest_idx on reviews (seller_id, created_at desc, id desc)
    where kind = 'seller' and visibility = 'visible';

create table review_replies (
    id         uuid primary key,
    review_id  uuid not null constraint review_replies_one_per_review unique
        references reviews (id) on delete restrict,
    seller_id  uuid not null references users (id) on delete restrict,
    body       text not null constraint review_replies_body_length
        check (char_length(body) between 1 and 5000),
    visibility text not null constraint review_replies_visibility_check
        check (visibility in ('visible', 'removed')),
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table seller_ratings (
    seller_id    uuid primary key references users (id) on delete restrict,
    review_count bigint not null default 0 constraint seller_ratings_count_check check (review_count >= 0),
    rating_sum   bigint not null default 0 constraint seller_ratings_sum_check check (rating_sum >= 0)
);
