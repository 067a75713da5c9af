-- +goose Up
-- One row per scheduled run that happened: an owner's digest of one hour or
-- one day ("digest:billing-pm", "2026-03-03"), the monthly manager digest
-- ("manager-digest", "2026-02"). The run that inserts the row is the one
-- that enqueues, in the same transaction: several replicas, or a restart,
-- never send a scheduled message twice.
create table schedule_runs (
    name   text not null,
    period text not null,
    ran_at timestamp not null,
    primary key (name, period)
);
create index schedule_runs_ran on schedule_runs (ran_at);

-- Digests and SLA reminders read an owner's assignments not triaged yet,
-- oldest first; the triage list reads all of them.
create index assignments_open on assignments (owner, created_at, id) where triaged_at is null;

-- +goose Down
drop index assignments_open;
drop table schedule_runs;
