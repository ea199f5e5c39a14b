-- A claim takes the oldest due job by (run_at, id) straight from the index, without sorting the
-- queue (docs/architecture.md, "Jobs"); expired leases by (locked_until, id) likewise.
drop index jobs_due_idx;
create index jobs_due_idx on jobs (run_at, id) where status = 'queued';
drop index jobs_lease_idx;
create index jobs_lease_idx on jobs (locked_until, id) where status = 'running';
