-- The sweep that closes unpaid gateway orders reads pending payments only: keep them findable
-- without scanning every payment ever taken.
CREATE INDEX payments_pending ON payments(created_at_ms) WHERE state = 'pending';
