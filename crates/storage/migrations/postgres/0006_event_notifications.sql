-- Every event written wakes the live streams on every instance: NOTIFY is sent when the writing
-- transaction commits (never for one that rolls back), with the stream's name as the payload.
CREATE FUNCTION notify_event() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('diancan_events', NEW.stream);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION notify_event();
