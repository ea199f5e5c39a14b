-- An order's reviews, for its buyer's order page and review forms (what they reviewed already).
create index reviews_order_idx on reviews (order_id);
