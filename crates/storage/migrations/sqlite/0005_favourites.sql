-- Dishes a signed-in diner has starred (收藏), per brand. Guests keep theirs on the phone and
-- hand them over when they sign in.
CREATE TABLE customer_favourites (
    customer_id BLOB NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    dish_id BLOB NOT NULL REFERENCES dishes(id) ON DELETE CASCADE,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (customer_id, dish_id)
) STRICT;
