-- Dishes a signed-in diner has starred (收藏), per brand. Guests keep theirs on the phone and
-- hand them over when they sign in.
CREATE TABLE customer_favourites (
    customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    dish_id UUID NOT NULL REFERENCES dishes(id) ON DELETE CASCADE,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (customer_id, dish_id)
);
