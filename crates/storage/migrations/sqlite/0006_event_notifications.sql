-- PostgreSQL wakes other instances' live streams from here (LISTEN/NOTIFY). SQLite is one
-- process, which wakes its own streams in memory: nothing to add, the version is kept in step.
SELECT 1;
