-- Printers and the durable print queue. A print job is written in the transaction of the order
-- change it belongs to (接单, 加菜, a cancel), so a committed change always has its paper and a
-- rolled-back one never does; `dedupe_key` keeps the same document from being queued twice.

-- A store's printers. `address` is host:port for raw TCP (9100), the agent's name for a
-- print-agent, the printer's SN for Feie. `down_since_ms` is set while the printer answered
-- off, open or out of paper; its jobs then go to `fallback_id`.
CREATE TABLE printers (
    id UUID PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    store_id UUID NOT NULL REFERENCES stores(id),
    name TEXT NOT NULL,
    connection TEXT NOT NULL,
    address TEXT NOT NULL,
    paper_mm BIGINT NOT NULL,
    fallback_id UUID REFERENCES printers(id),
    takes_receipts BOOLEAN NOT NULL,
    takes_packing_slips BOOLEAN NOT NULL,
    enabled BOOLEAN NOT NULL,
    down_since_ms BIGINT,
    last_error TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (store_id, name)
);

-- Which printer makes a station's tickets in a store: at most one per station and store.
CREATE TABLE printer_stations (
    store_id UUID NOT NULL REFERENCES stores(id),
    station_id UUID NOT NULL REFERENCES stations(id),
    printer_id UUID NOT NULL REFERENCES printers(id),
    PRIMARY KEY (store_id, station_id)
);
CREATE INDEX printer_stations_by_printer ON printer_stations(printer_id);

-- One document for one printer: queued -> sending -> printed | failed. The id is the job number
-- printed at the foot of the paper. `content_json` holds what to print (rendered for the paper
-- of the printer it finally goes to); `uncertain` is set once an attempt may have put ink on
-- paper without being recorded, and from then on the paper says 重打.
CREATE TABLE print_jobs (
    id BIGSERIAL PRIMARY KEY,
    brand_id UUID NOT NULL REFERENCES brands(id),
    store_id UUID NOT NULL REFERENCES stores(id),
    printer_id UUID NOT NULL REFERENCES printers(id),
    routed_printer_id UUID NOT NULL REFERENCES printers(id),
    document TEXT NOT NULL,
    order_id UUID,
    ticket_id UUID,
    content_json TEXT NOT NULL,
    reprint BIGINT NOT NULL,
    reprint_of BIGINT REFERENCES print_jobs(id),
    requested_by TEXT,
    dedupe_key TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    uncertain BOOLEAN NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    leased_until_ms BIGINT,
    last_error TEXT,
    created_at_ms BIGINT NOT NULL,
    sent_at_ms BIGINT,
    printed_at_ms BIGINT,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_ms);
CREATE INDEX print_jobs_by_printer ON print_jobs(printer_id, state);
CREATE INDEX print_jobs_by_store ON print_jobs(store_id, created_at_ms);

-- One row per store: the last version of its printer alert stream (`printing:<store>`).
CREATE TABLE printing_streams (
    store_id UUID PRIMARY KEY REFERENCES stores(id),
    version BIGINT NOT NULL
);
