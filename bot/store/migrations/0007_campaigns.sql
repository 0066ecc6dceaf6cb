-- Outbound campaigns (docs/campaigns.md): each campaign, its numbers with their data and
-- results, and the do-not-call list. Times are epoch seconds, JSON is text, as in the
-- SQLite file (bot/campaigns/store.py writes the same statements for both).
CREATE TABLE campaigns (
    name text PRIMARY KEY,
    flow text NOT NULL,
    task_id integer NOT NULL,
    settings text NOT NULL,
    state text NOT NULL,
    task_running boolean NOT NULL DEFAULT false,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL
);
CREATE TABLE campaign_numbers (
    campaign text NOT NULL REFERENCES campaigns (name) ON DELETE CASCADE,
    telnum text NOT NULL,
    data text NOT NULL,
    state text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_at double precision NOT NULL DEFAULT 0,
    imported_at double precision,
    call_id text,
    cti_state integer,
    outcome text,
    grade text,
    score integer,
    reason text,
    slots text,
    updated_at double precision NOT NULL,
    PRIMARY KEY (campaign, telnum)
);
CREATE INDEX campaign_numbers_due ON campaign_numbers (campaign, state, next_at);
CREATE INDEX campaign_numbers_by_telnum ON campaign_numbers (telnum);
CREATE TABLE do_not_call (
    telnum text PRIMARY KEY,
    added_at double precision NOT NULL,
    reason text NOT NULL,
    call_id text
);
