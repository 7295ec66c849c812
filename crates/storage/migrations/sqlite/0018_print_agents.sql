-- The shop's print agents (`diancan print-agent`): a process in the shop that connects out to
-- the server with a device token, takes the jobs of its store's `agent` printers and prints
-- them on the LAN. Only the SHA-256 of the token is kept; a revoked agent is refused at once.
CREATE TABLE print_agents (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    store_id BLOB NOT NULL REFERENCES stores(id),
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER,
    last_seen_ms INTEGER,
    UNIQUE (store_id, name)
) STRICT;

-- Which agent feeds an `agent` printer; its `address` is then the printer's host:port as the
-- agent sees it on the shop's LAN.
ALTER TABLE printers ADD COLUMN agent_id BLOB REFERENCES print_agents(id);
CREATE INDEX printers_by_agent ON printers(agent_id);
