-- Who bears Stripe's dispute fees (docs/money.md, "Disputes"): the platform unless the site
-- charges them to the sellers; each order keeps the setting in force when it was placed.
alter table site_config add column dispute_fee_to_sellers boolean not null default false;
alter table orders add column dispute_fee_to_sellers boolean not null default false;

-- What Stripe last said was refunded of an order's charge, and when (reconciliation compares it
-- with the refunds booked).
alter table orders add column stripe_refunded_cents bigint,
    add column stripe_refunded_at timestamptz;
