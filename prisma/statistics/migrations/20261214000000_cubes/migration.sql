-- Tables kept for the current date (subgraphs/statistics/cubes.ts): for each cube of a measure, its count and
-- record-key sum by every combination of the cube's dimension values at one reference date. A query whose
-- grouping and filters a cube covers sums the cube's rows instead of the facts: the same counts and record-key
-- sums, so the same published cells. The refresh keeps them in step, in the transaction that changes the facts.

CREATE TABLE st_khoi (
    khoi   TEXT    NOT NULL,                -- the cube: "<measure>:<dimensions' hash>"
    ngay   DATE    NOT NULL,                -- its reference date
    d0     TEXT    NOT NULL DEFAULT '',     -- the cube's dimension values, in the cube's order; '' past its last
    d1     TEXT    NOT NULL DEFAULT '',
    d2     TEXT    NOT NULL DEFAULT '',
    d3     TEXT    NOT NULL DEFAULT '',
    d4     TEXT    NOT NULL DEFAULT '',
    d5     TEXT    NOT NULL DEFAULT '',
    d6     TEXT    NOT NULL DEFAULT '',
    d7     TEXT    NOT NULL DEFAULT '',
    n      BIGINT  NOT NULL,                -- how many units (persons, cards, households…) the cell holds
    k      BIGINT  NOT NULL,                -- the sum of their record keys (taken modulo the key range when published)
    PRIMARY KEY (khoi, ngay, d0, d1, d2, d3, d4, d5, d6, d7)
);

-- Which cubes are complete for which date: a cube is used only once its build has committed.
CREATE TABLE st_khoi_ngay (
    khoi          TEXT         NOT NULL,
    ngay          DATE         NOT NULL,
    so_o          BIGINT       NOT NULL,    -- its rows when built: the smallest covering cube is chosen
    xay_dung_luc  TIMESTAMPTZ  NOT NULL,
    PRIMARY KEY (khoi, ngay)
);

-- The refresh finds the households a changed person belongs to in the store.
CREATE INDEX st_thanh_vien_ho_pid_idx ON st_thanh_vien_ho (pid);
-- …and the registrations naming a changed child (data quality: a citizen without a birth registration).
CREATE INDEX st_khai_sinh_child_pid_idx ON st_khai_sinh (child_pid);
