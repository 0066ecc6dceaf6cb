-- The outcome outbox (bot/outcome/pg_store.py). Times are epoch seconds, as the
-- outbox computes with them; to_timestamp(created_at) shows one to a person.
-- claimed_until: the instance that took a due row pushes it alone until then.
CREATE TABLE outbox (
    call_id text PRIMARY KEY,
    payload text NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'rejected')),
    created_at double precision NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at double precision NOT NULL,
    last_attempt_at double precision,
    delivered_at double precision,
    last_error text,
    claimed_until double precision NOT NULL DEFAULT 0,
    seq bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX outbox_by_state ON outbox (state, next_attempt_at);
