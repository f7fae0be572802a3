DROP TABLE checkpoints;
DROP TABLE kv;
DROP TABLE workspaces;
DROP TABLE commands;
DROP TABLE events;
DROP TABLE steps;
DROP TABLE workflows;
