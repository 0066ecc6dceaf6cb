-- Who placed the call (docs/pbx.md, "Inbound and outbound calls"): the customer
-- (inbound) or the robot (outbound: the customer is the callee); and the outbound
-- campaign whose call it was (docs/campaigns.md).
ALTER TABLE calls ADD COLUMN direction text NOT NULL DEFAULT 'inbound';
ALTER TABLE calls ADD COLUMN campaign text;
