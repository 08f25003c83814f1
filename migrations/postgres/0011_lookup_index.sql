-- Look-ups name an aggregate and the event types they want. This index
-- serves them with only the wanted events read (the primary key reads
-- every event of the aggregate); the host compares byte by byte
-- (COLLATE "C") where it is present, which only this index matches.
CREATE INDEX IF NOT EXISTS events2_lookup
    ON eventstore.events2 (instance_id COLLATE "C", aggregate_type COLLATE "C",
        aggregate_id COLLATE "C", event_type COLLATE "C", "position", in_tx_order);
