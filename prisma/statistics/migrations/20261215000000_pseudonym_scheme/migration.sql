-- Which function the pseudonyms and record keys of a source's facts were computed with
-- (subgraphs/statistics/pseudonyms.ts, PSEUDONYM_SCHEME). A store built before this column existed used scheme 1
-- (HMAC-SHA-256); the refresh rebuilds from scratch any store whose scheme is not the code's, since its
-- pseudonyms would no longer match those it computes.
ALTER TABLE st_nguon ADD COLUMN so_do_bi_danh SMALLINT NOT NULL DEFAULT 1;
