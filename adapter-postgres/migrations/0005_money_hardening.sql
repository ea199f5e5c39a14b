-- Money hardening (docs/money.md): payout attempts, unallocated refunds, holds and reconciliation.

-- Each payout attempt has its own idempotency key and amount; attempts counts them. Records made
-- before this migration that sent a transfer request were attempt 1.
alter table payouts add column attempts integer not null default 0
    constraint payouts_attempts_check check (attempts >= 0);
update payouts set attempts = 1 where status in ('pending', 'failed', 'paid');
-- `failed` used to mean any error, a timeout included, so such an attempt may have made a
-- transfer: it becomes `pending` (outcome unknown), which is looked up at Stripe before anything
-- is sent again. From now on `failed` means Stripe refused.
update payouts set status = 'pending' where status = 'failed';
alter table payouts add constraint payouts_skip_reason_check
    check (skip_reason is null or skip_reason in ('seller_not_ready', 'nothing_owed', 'on_hold'));
-- Payouts whose transfer may exist, per seller (what payouts and reversals take off a balance).
create index payouts_pending_idx on payouts (seller_id) where status = 'pending';
