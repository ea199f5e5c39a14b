-- Change signals (docs/architecture.md, "Caching the catalogue" and "Jobs"): triggers announce, on
-- commit, that something the public catalogue shows changed, or that work was queued, so every
-- app instance drops its cached catalogue answers and idle workers wake at once.

-- A transaction changed what catalogue pages show: every listener hears it when it commits, and
-- the transaction itself can tell (the committing instance drops its cache before answering).
create function announce_catalog_change() returns trigger language plpgsql as $$
begin
    perform set_config('marketplace.catalog_changed', 'on', true);
    perform pg_notify('catalog_changed', '');
    return null;
end
$$;

do $$
declare
    shown text;
begin
    foreach shown in array array['products', 'product_images', 'digital_assets', 'categories',
                                 'profiles', 'seller_connect_accounts', 'reviews',
                                 'review_replies', 'seller_ratings'] loop
        execute format('create trigger %I after insert or delete on %I for each row '
                       'execute function announce_catalog_change()',
                       shown || '_catalog_rows', shown);
        execute format('create trigger %I after update on %I for each row '
                       'when (old.* is distinct from new.*) '
                       'execute function announce_catalog_change()',
                       shown || '_catalog_updates', shown);
    end loop;
end
$$;

-- Of a user, pages show the name, the roles and whether the account is suspended.
create trigger users_catalog_updates after update of username, is_staff, is_superuser, is_active
    on users for each row
    when ((old.username, old.is_staff, old.is_superuser, old.is_active)
          is distinct from (new.username, new.is_staff, new.is_superuser, new.is_active))
    execute function announce_catalog_change();

-- A job or an outbox mail became due: idle workers wake instead of waiting for their next poll.
create function announce_work() returns trigger language plpgsql as $$
begin
    perform pg_notify('work_queued', tg_table_name);
    return null;
end
$$;

create trigger jobs_work_queued after insert or update of status, run_at on jobs
    for each row when (new.status = 'queued') execute function announce_work();
create trigger outbox_work_queued after insert or update of status, next_attempt_at on outbox
    for each row when (new.status = 'queued') execute function announce_work();

-- Active listings per category and kind, kept by the listings' own writes, so a public list's
-- total is a sum over a few rows instead of a count over the catalogue.
create table active_listing_counts (
    category_id uuid not null references categories (id) on delete cascade,
    kind        text not null,
    listings    bigint not null constraint active_listing_counts_nonnegative check (listings >= 0),
    constraint active_listing_counts_pkey primary key (category_id, kind)
);

insert into active_listing_counts (category_id, kind, listings)
select category_id, kind, count(*) from products where is_active group by category_id, kind;

-- Moves one listing in or out of the counts. A listing that changes category or kind leaves one
-- row and joins another: the smaller key is written first, so two such moves never deadlock.
create function count_active_listings() returns trigger language plpgsql as $$
declare
    leaving boolean := tg_op in ('UPDATE', 'DELETE') and old.is_active;
    joining boolean := tg_op in ('INSERT', 'UPDATE') and new.is_active;
    leave_first boolean := true;
begin
    if leaving and joining then
        leave_first := (old.category_id, old.kind) <= (new.category_id, new.kind);
    end if;
    if leaving and leave_first then
        update active_listing_counts set listings = listings - 1
        where category_id = old.category_id and kind = old.kind;
    end if;
    if joining then
        insert into active_listing_counts as c (category_id, kind, listings)
        values (new.category_id, new.kind, 1)
        on conflict (category_id, kind) do update set listings = c.listings + 1;
    end if;
    if leaving and not leave_first then
        update active_listing_counts set listings = listings - 1
        where category_id = old.category_id and kind = old.kind;
    end if;
    return null;
end
$$;

create trigger products_active_counts_rows after insert or delete on products
    for each row execute function count_active_listings();
create trigger products_active_counts_updates after update of is_active, category_id, kind on products
    for each row
    when ((old.is_active, old.category_id, old.kind) is distinct from (new.is_active, new.category_id, new.kind))
    execute function count_active_listings();
