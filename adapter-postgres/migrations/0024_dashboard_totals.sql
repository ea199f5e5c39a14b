-- The owners' dashboard totals, kept by the writes that change them, so the dashboard reads a few
-- rows instead of counting every listing and order (docs/discovery.md, "Admin dashboard").
--
-- Each total is split over 64 slots (a listing's by its seller, an order's by its id) and read as
-- their sum: concurrent writers seldom wait on one another's row, as they would on a single one.

-- No listing or order is written between the backfill below and its trigger (another instance
-- still serving during the migration waits here): none is missed or counted twice.
lock table products, orders in share row exclusive mode;

-- Listings per seller: a seller counts among the marketplace's sellers while they have one.
create table seller_listing_counts (
    seller_id uuid primary key references users (id) on delete cascade,
    listings  bigint not null constraint seller_listing_counts_nonnegative check (listings >= 0)
);
insert into seller_listing_counts (seller_id, listings)
select seller_id, count(*) from products group by seller_id;

create table catalog_totals (
    slot     smallint primary key constraint catalog_totals_slot check (slot between 0 and 63),
    listings bigint not null default 0,
    sellers  bigint not null default 0
);
insert into catalog_totals (slot) select generate_series(0, 63);

-- The slot of a seller or an order.
create function totals_slot(id uuid) returns smallint language sql immutable as $$
    select (hashtext(id::text) & 63)::smallint
$$;

update catalog_totals t set listings = s.listings, sellers = s.sellers
from (select totals_slot(seller_id) as slot, sum(listings) as listings, count(*) as sellers
      from seller_listing_counts where listings > 0 group by 1) s
where t.slot = s.slot;

create function count_listings_and_sellers() returns trigger language plpgsql as $$
declare
    listings_now bigint;
begin
    if tg_op = 'INSERT' then
        insert into seller_listing_counts as c (seller_id, listings) values (new.seller_id, 1)
        on conflict (seller_id) do update set listings = c.listings + 1
        returning listings into listings_now;
        update catalog_totals
        set listings = listings + 1, sellers = sellers + (listings_now = 1)::int
        where slot = totals_slot(new.seller_id);
    else
        update seller_listing_counts set listings = listings - 1 where seller_id = old.seller_id
        returning listings into listings_now;
        update catalog_totals
        set listings = listings - 1, sellers = sellers - (listings_now = 0)::int
        where slot = totals_slot(old.seller_id);
    end if;
    return null;
end
$$;

-- A listing never changes seller, so inserts and deletes are all that move these totals.
create trigger products_catalog_totals after insert or delete on products
    for each row execute function count_listings_and_sellers();

-- Paid orders (ever paid: refunds included) and orders waiting for payment.
create table order_totals (
    slot    smallint primary key constraint order_totals_slot check (slot between 0 and 63),
    paid    bigint not null default 0,
    pending bigint not null default 0
);
insert into order_totals (slot) select generate_series(0, 63);
update order_totals t set paid = s.paid, pending = s.pending
from (select totals_slot(id) as slot,
             count(*) filter (where paid_at is not null) as paid,
             count(*) filter (where status = 'pending') as pending
      from orders group by 1) s
where t.slot = s.slot;

create function count_orders() returns trigger language plpgsql as $$
declare
    paid_change bigint := 0;
    pending_change bigint := 0;
    id uuid;
begin
    if tg_op in ('INSERT', 'UPDATE') then
        paid_change := paid_change + (new.paid_at is not null)::int;
        pending_change := pending_change + (new.status = 'pending')::int;
        id := new.id;
    end if;
    if tg_op in ('UPDATE', 'DELETE') then
        paid_change := paid_change - (old.paid_at is not null)::int;
        pending_change := pending_change - (old.status = 'pending')::int;
        id := old.id;
    end if;
    if paid_change <> 0 or pending_change <> 0 then
        update order_totals
        set paid = paid + paid_change, pending = pending + pending_change
        where slot = totals_slot(id);
    end if;
    return null;
end
$$;

create trigger orders_totals_rows after insert or delete on orders
    for each row execute function count_orders();
create trigger orders_totals_updates after update of status, paid_at on orders
    for each row
    when ((old.status, old.paid_at is null) is distinct from (new.status, new.paid_at is null))
    execute function count_orders();
