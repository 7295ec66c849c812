-- The orders board's store-wide log. Each order change writes an outbox row of topic `board`;
-- its consumer appends the change to the store's `orders:<store>` stream in one transaction
-- per batch, numbering it from this row, so a board replays a gap-free log after
-- `Last-Event-ID` while order writes never queue on a per-store lock.
CREATE TABLE order_board_streams (
    store_id BLOB PRIMARY KEY REFERENCES stores(id),
    version INTEGER NOT NULL
) STRICT;

-- Why staff turned an order down (拒单 / 取消), shown to the diner and in the history.
ALTER TABLE order_transitions ADD COLUMN reason TEXT;
