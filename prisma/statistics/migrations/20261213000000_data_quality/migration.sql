-- Data quality (issue 13): whether a person's personal code disagrees with their record (the sex and century
-- digit, or the birth year digits, lib/personal-code.ts codeDiscrepancies), decided at refresh time from the code
-- the read model never stores.
ALTER TABLE st_dan_so ADD COLUMN ma_lech BOOLEAN NOT NULL DEFAULT false;

-- Built again by the next refresh, the flag included.
DELETE FROM st_nguon;
