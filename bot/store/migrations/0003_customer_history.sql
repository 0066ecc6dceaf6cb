-- What each customer was answered with by the knowledge service (knowledge/pg_history.py),
-- kept for VOICEBOT_KB_HISTORY_DAYS. at: epoch seconds.
CREATE TABLE customer_history (
    customer text NOT NULL,
    entry_id text NOT NULL,
    title text NOT NULL,
    at double precision NOT NULL
);
CREATE INDEX customer_history_by_customer ON customer_history (customer, at DESC);
CREATE INDEX customer_history_by_time ON customer_history (at);
