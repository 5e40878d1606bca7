-- "Who holds an offer" is asked for every representative on every distribution pass.
CREATE INDEX conversations_by_offer ON conversations (offered_to) WHERE offered_to IS NOT NULL;
