-- Test calls placed from the console (bot/console/trycall.py): shown apart from the CTI's
-- calls, left out of the dashboard's figures and never pushed as outcomes.
ALTER TABLE calls ADD COLUMN test boolean NOT NULL DEFAULT false;
