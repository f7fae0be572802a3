DROP FUNCTION ratchet_value_refused(text, text, bigint);
DROP FUNCTION ratchet_workflow_refused(text, bigint);
DROP TABLE checkpoints;
DROP TABLE kv;
DROP TABLE workspaces;
DROP TABLE commands;
DROP TABLE events;
DROP TABLE steps;
DROP TABLE workflows;
