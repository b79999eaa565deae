-- Identity cards (issue 13): the national-id agency's cards, pseudonymised. `cid` is the pseudonym of the card's
-- row id, `rk` its record key (a card is the unit counted in card tables); `pid` the holder's pseudonym under the
-- code they hold now (a re-issued code moves their cards with them). No card number, no issuing authority.
CREATE TABLE st_the (
    cid              BYTEA     PRIMARY KEY,
    rk               SMALLINT  NOT NULL CHECK (rk BETWEEN 0 AND 255),
    pid              BYTEA     NOT NULL,
    loai             TEXT      NOT NULL CHECK (loai IN ('CMND', 'CCCD', 'CCCD_CHIP')),
    ngay_cap         DATE      NOT NULL,
    ngay_het_han     DATE,                         -- null: no expiry
    trang_thai       TEXT      NOT NULL,           -- as recorded now (CON_HIEU_LUC, HET_HAN, MAT, THU_HOI, DA_THAY_THE)
    ngay_trang_thai  DATE      NOT NULL            -- the day the card's row last changed: its status since then
);
CREATE INDEX st_the_pid_idx ON st_the (pid);

-- Built again by the next refresh, cards included.
DELETE FROM st_nguon;
