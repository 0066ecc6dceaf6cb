-- Transcripts (bot/store/pg_transcripts.py): calls, their turns, the CTI's hang-up pushes.
-- Times are timestamptz at millisecond precision, as the API shows them; turns and
-- variables are JSON text kept as written (json, not jsonb: the keys keep their order).
CREATE TABLE calls (
    call_id text PRIMARY KEY,
    telnum text NOT NULL,
    flow text NOT NULL,
    flow_version text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    outcome text NOT NULL,
    end_reason text,
    grade text,
    score integer,
    grade_reason text,
    variables json,
    seq bigint GENERATED ALWAYS AS IDENTITY  -- insertion order, between calls started the same millisecond
);
CREATE INDEX calls_by_start ON calls (started_at DESC, seq DESC);
CREATE INDEX calls_by_end ON calls (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE turns (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id text NOT NULL,
    data json NOT NULL
);
CREATE INDEX turns_by_call ON turns (call_id, id);

CREATE TABLE hangup_pushes (
    call_id text NOT NULL,
    business text NOT NULL,
    received_at timestamptz NOT NULL,
    data json NOT NULL,
    PRIMARY KEY (call_id, business)
);
