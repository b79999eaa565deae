-- Households (issue 13): the Resident Information Center's households and their memberships, pseudonymised.
-- `hid` is the pseudonym of the household number (as `pid` of a personal code), `rk` its record key: a household
-- is the unit counted. No address, no household number.
CREATE TABLE st_ho (
    hid            BYTEA     PRIMARY KEY,
    rk             SMALLINT  NOT NULL CHECK (rk BETWEEN 0 AND 255),
    ma_tinh        CHAR(3)   NOT NULL,          -- province of the household's address
    ngay_lap       DATE      NOT NULL
);

-- Who belonged to a household when; `chu_ho`: as its head.
CREATE TABLE st_thanh_vien_ho (
    hid            BYTEA     NOT NULL,
    pid            BYTEA     NOT NULL,
    chu_ho         BOOLEAN   NOT NULL,
    tu_ngay        DATE      NOT NULL,
    den_ngay       DATE                          -- exclusive; null: still a member
);
CREATE INDEX st_thanh_vien_ho_hid_idx ON st_thanh_vien_ho (hid);

-- The read model is built again by the next refresh, households included: forget how far each log was applied.
DELETE FROM st_nguon;
