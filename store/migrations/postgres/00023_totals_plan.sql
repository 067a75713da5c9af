-- +goose Up
-- The totals trigger reads the kind of each new ledger entry's item.
-- PostgreSQL plans the trigger's statement once per session and keeps the
-- plan until the table's statistics change: planned while items was
-- small, as in a new database taking in a backlog, it read the whole items
-- table at every statement, a scan that grew with the table until an
-- ANALYZE replanned it. These settings, applied while the trigger runs,
-- leave the planner one way at any size: each entry's item looked up by
-- its key.
alter function rep_month_totals_add() set enable_seqscan = off;
alter function rep_month_totals_add() set enable_hashjoin = off;
alter function rep_month_totals_add() set enable_mergejoin = off;

-- +goose Down
alter function rep_month_totals_add() reset all;
