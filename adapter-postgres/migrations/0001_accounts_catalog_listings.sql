-- Accounts, sessions, files, catalog, listings and sellers' Stripe Connect rows.
-- Constraint names are part of the adapter's contract: errors are mapped by name.

create extension if not exists pg_trgm;

create table users (
    id            uuid primary key,
    username      text not null,
    email         text not null default '',
    password_hash text not null,
    is_staff      boolean not null default false,
    is_superuser  boolean not null default false,
    is_active     boolean not null default true,
    created_at    timestamptz not null,
    constraint users_username_length check (char_length(username) between 1 and 150)
);
-- Usernames are unique whatever their case.
create unique index users_username_lower_key on users (lower(username));

-- File bytes live in the database, chunked, so every app instance sees the same files.
create table blobs (
    id           uuid primary key,
    content_type text not null,
    size_bytes   bigint not null constraint blobs_size_nonnegative check (size_bytes >= 0),
    chunk_count  integer not null constraint blobs_chunk_count_nonnegative check (chunk_count >= 0),
    created_at   timestamptz not null
);

create table blob_chunks (
    blob_id uuid not null references blobs (id) on delete cascade,
    seq     integer not null,
    data    bytea not null,
    constraint blob_chunks_pkey primary key (blob_id, seq)
);
-- Images and archives are already compressed: do not spend CPU trying again.
alter table blob_chunks alter column data set storage external;

create table profiles (
    user_id        uuid primary key references users (id) on delete cascade,
    first_name     text not null default '',
    last_name      text not null default '',
    shop_name      text not null default '',
    email          text not null default '',
    phone_1        text not null default '',
    phone_2        text not null default '',
    address_1      text not null default '',
    address_2      text not null default '',
    city           text not null default '',
    state          text not null default '',
    zip_code       text not null default '',
    avatar_blob_id uuid references blobs (id) on delete set null,
    is_seller      boolean not null default false,
    is_owner       boolean not null default false,
    created_at     timestamptz not null,
    updated_at     timestamptz not null
);

create table sessions (
    id           uuid primary key,
    user_id      uuid not null references users (id) on delete cascade,
    token_digest text not null constraint sessions_token_digest_key unique,
    csrf_token   text not null,
    created_at   timestamptz not null,
    expires_at   timestamptz not null
);
create index sessions_user_idx on sessions (user_id);
create index sessions_expires_idx on sessions (expires_at);

-- Failed logins, counted per key (user:<name>, ip:<address>) over a sliding window.
create table login_failures (
    key       text not null,
    failed_at timestamptz not null
);
create index login_failures_key_idx on login_failures (key, failed_at);
create index login_failures_failed_at_idx on login_failures (failed_at);

create table categories (
    id          uuid primary key,
    type        text not null constraint categories_type_check check (type in ('MODEL', 'FILE')),
    name        text not null,
    slug        text not null,
    parent_id   uuid references categories (id) on delete cascade,
    description text not null default '',
    is_active   boolean not null default true,
    sort_order  integer not null default 0 constraint categories_sort_order_check check (sort_order >= 0),
    created_at  timestamptz not null,
    updated_at  timestamptz not null,
    -- Roots (parent null) must have distinct slugs per type too.
    constraint categories_type_parent_slug_key unique nulls not distinct (type, parent_id, slug)
);
create index categories_type_active_idx on categories (type, is_active, sort_order);
create index categories_parent_active_idx on categories (parent_id, is_active, sort_order);

create table products (
    id                uuid primary key,
    seller_id         uuid not null constraint products_seller_id_fkey references users (id) on delete restrict,
    kind              text not null constraint products_kind_check check (kind in ('MODEL', 'FILE')),
    title             text not null,
    slug              text not null,
    short_description text not null default ''
        constraint products_short_description_length check (char_length(short_description) <= 280),
    description       text not null default '',
    category_id       uuid not null constraint products_category_id_fkey references categories (id) on delete restrict,
    price_cents       bigint not null constraint products_price_nonnegative check (price_cents >= 0),
    is_free           boolean not null default false,
    is_active         boolean not null default true,
    is_featured       boolean not null default false,
    is_trending       boolean not null default false,
    material          text,
    color             text,
    width_mm          integer,
    height_mm         integer,
    depth_mm          integer,
    license_text      text,
    review_count      bigint not null default 0,
    rating_sum        bigint not null default 0,
    created_at        timestamptz not null,
    updated_at        timestamptz not null,
    constraint products_seller_slug_key unique (seller_id, slug),
    constraint products_free_price_check check ((is_free and price_cents = 0) or (not is_free and price_cents > 0))
);
-- Public lists: active listings newest first, optionally by kind or category.
create index products_active_new_idx on products (created_at desc, id desc) where is_active;
create index products_kind_active_new_idx on products (kind, created_at desc, id desc) where is_active;
create index products_category_new_idx on products (category_id, created_at desc, id desc) where is_active;
create index products_seller_new_idx on products (seller_id, created_at desc, id desc);
-- `q` is a case-insensitive substring search over the listing text.
create index products_text_trgm_idx on products
    using gin ((title || ' ' || short_description || ' ' || description) gin_trgm_ops);

create table product_images (
    id         uuid primary key,
    product_id uuid not null references products (id) on delete cascade,
    blob_id    uuid not null references blobs (id) on delete restrict,
    alt_text   text not null default '',
    is_primary boolean not null default false,
    sort_order integer not null default 0,
    created_at timestamptz not null
);
create index product_images_product_idx on product_images (product_id, sort_order, created_at);
-- At most one primary image per listing.
create unique index product_images_one_primary_key on product_images (product_id) where is_primary;

create table digital_assets (
    id                uuid primary key,
    product_id        uuid not null references products (id) on delete cascade,
    blob_id           uuid not null references blobs (id) on delete restrict,
    original_filename text not null,
    size_bytes        bigint not null constraint digital_assets_size_nonnegative check (size_bytes >= 0),
    created_at        timestamptz not null
);
create index digital_assets_product_idx on digital_assets (product_id, created_at);

create table seller_connect_accounts (
    user_id                 uuid constraint seller_connect_accounts_pkey primary key references users (id) on delete cascade,
    stripe_account_id       text,
    details_submitted       boolean not null default false,
    charges_enabled         boolean not null default false,
    payouts_enabled         boolean not null default false,
    onboarding_started_at   timestamptz,
    onboarding_completed_at timestamptz,
    created_at              timestamptz not null,
    updated_at              timestamptz not null
);
create unique index seller_connect_accounts_stripe_account_key
    on seller_connect_accounts (stripe_account_id) where stripe_account_id is not null;
