-- The CTI's call records (GX manual §31; bot/store/pg_call_records.py), joined to robot
-- calls when a transcript is read: by callid, else by number and time. One row per
-- pushing CTI (source: its client_ip) and record (record_key: id:<id>, else callid:<callid>).
-- caller_key, callee_key: the numbers as the join compares them; shown, data: JSON text.
CREATE TABLE call_records (
    source text NOT NULL,
    record_key text NOT NULL,
    callid text,
    peercallid text,
    caller_key text NOT NULL,
    callee_key text NOT NULL,
    begin_ms bigint,
    end_ms bigint,
    received_at timestamptz NOT NULL,
    shown json NOT NULL,
    data json NOT NULL,
    PRIMARY KEY (source, record_key)
);
CREATE INDEX call_records_by_callid ON call_records (callid);
CREATE INDEX call_records_by_peer ON call_records (peercallid);
CREATE INDEX call_records_by_caller ON call_records (caller_key, begin_ms);
CREATE INDEX call_records_by_callee ON call_records (callee_key, begin_ms);
CREATE INDEX call_records_by_received ON call_records (received_at);
