-- `sort=top` falls back to newest first while no matching listing has a review: whether one has
-- is answered from the reviewed listings alone, however large the catalogue.
create index products_reviewed_idx on products (created_at desc, id desc)
    where is_active and review_count > 0;
