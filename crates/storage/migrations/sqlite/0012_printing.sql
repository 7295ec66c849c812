-- Printers and the durable print queue. A print job is written in the transaction of the order
-- change it belongs to (接单, 加菜, a cancel), so a committed change always has its paper and a
-- rolled-back one never does; `dedupe_key` keeps the same document from being queued twice.

-- A store's printers. `address` is host:port for raw TCP (9100), the agent's name for a
-- print-agent, the printer's SN for Feie. `down_since_ms` is set while the printer answered
-- off, open or out of paper; its jobs then go to `fallback_id`.
CREATE TABLE printers (
    id BLOB PRIMARY KEY,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    store_id BLOB NOT NULL REFERENCES stores(id),
    name TEXT NOT NULL,
    connection TEXT NOT NULL,
    address TEXT NOT NULL,
    paper_mm INTEGER NOT NULL,
    fallback_id BLOB REFERENCES printers(id),
    takes_receipts INTEGER NOT NULL,
    takes_packing_slips INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    down_since_ms INTEGER,
    last_error TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    UNIQUE (store_id, name)
) STRICT;

-- Which printer makes a station's tickets in a store: at most one per station and store.
CREATE TABLE printer_stations (
    store_id BLOB NOT NULL REFERENCES stores(id),
    station_id BLOB NOT NULL REFERENCES stations(id),
    printer_id BLOB NOT NULL REFERENCES printers(id),
    PRIMARY KEY (store_id, station_id)
) STRICT;
CREATE INDEX printer_stations_by_printer ON printer_stations(printer_id);

-- One document for one printer: queued -> sending -> printed | failed. The id is the job number
-- printed at the foot of the paper. `content_json` holds what to print (rendered for the paper
-- of the printer it finally goes to); `uncertain` is set once an attempt may have put ink on
-- paper without being recorded, and from then on the paper says 重打.
CREATE TABLE print_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    brand_id BLOB NOT NULL REFERENCES brands(id),
    store_id BLOB NOT NULL REFERENCES stores(id),
    printer_id BLOB NOT NULL REFERENCES printers(id),
    routed_printer_id BLOB NOT NULL REFERENCES printers(id),
    document TEXT NOT NULL,
    order_id BLOB,
    ticket_id BLOB,
    content_json TEXT NOT NULL,
    reprint INTEGER NOT NULL,
    reprint_of INTEGER REFERENCES print_jobs(id),
    requested_by TEXT,
    dedupe_key TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    uncertain INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL,
    leased_until_ms INTEGER,
    last_error TEXT,
    created_at_ms INTEGER NOT NULL,
    sent_at_ms INTEGER,
    printed_at_ms INTEGER,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_ms);
CREATE INDEX print_jobs_by_printer ON print_jobs(printer_id, state);
CREATE INDEX print_jobs_by_store ON print_jobs(store_id, created_at_ms);

-- One row per store: the last version of its printer alert stream (`printing:<store>`).
CREATE TABLE printing_streams (
    store_id BLOB PRIMARY KEY REFERENCES stores(id),
    version INTEGER NOT NULL
) STRICT;
