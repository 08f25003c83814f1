-- The host compares the text columns of the global order byte by byte
-- (COLLATE "C"), whatever the database's collation, so that the order it
-- reads in is the order it checkpoints in. The index that walks the order
-- compares them the same way, so reads walk it without sorting.
DROP INDEX IF EXISTS eventstore.events2_global_order;

CREATE INDEX events2_global_order
    ON eventstore.events2 ("position", in_tx_order, instance_id COLLATE "C",
        aggregate_type COLLATE "C", aggregate_id COLLATE "C", "sequence");
