-- The top-rated order of active listings (docs/reviews.md, "Ratings"): the Bayesian average
-- (TOP_PRIOR_COUNT · TOP_PRIOR_MEAN + rating_sum) / (TOP_PRIOR_COUNT + review_count) with the
-- domain's prior of 5 ratings of 3 stars. The list query orders by exactly this expression.
create index products_top_rated_idx on products
    (((rating_sum + 15)::numeric / (review_count + 5)) desc, created_at desc, id desc)
    where is_active;
