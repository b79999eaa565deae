-- The statistics read model (issue 13, docs/DESIGN.md "Statistics"): pseudonymised facts, one row per person
-- (per birth registration), refreshed from the agencies' change logs by the statistics subgraph. No name,
-- personal code, address or registration number is stored: `pid` is HMAC-SHA-256 of the code under a key the
-- database never holds, `rk` the record key of cell-key perturbation. Distributable as is (Citus: by pid).

-- A person as the Resident Information Center records them.
CREATE TABLE st_dan_so (
    pid            BYTEA     PRIMARY KEY,
    rk             SMALLINT  NOT NULL CHECK (rk BETWEEN 0 AND 255),
    gioi_tinh      SMALLINT  NOT NULL CHECK (gioi_tinh IN (1, 2)),
    ngay_sinh      DATE      NOT NULL,
    ma_tinh_ma     CHAR(3)   NOT NULL,          -- PPP of the personal code (province of birth registration)
    ngay_mat       DATE,
    dan_toc        TEXT      NOT NULL,          -- SENSITIVE: aggregates only, for the purposes policy.ts allows
    ton_giao       TEXT                          -- SENSITIVE; null: none declared
);
CREATE INDEX st_dan_so_ngay_sinh_idx ON st_dan_so (ngay_sinh);

-- Residence registrations, with their validity: permanent (P) and temporary (T).
CREATE TABLE st_cu_tru (
    pid            BYTEA     NOT NULL,
    loai           CHAR(1)   NOT NULL CHECK (loai IN ('P', 'T')),
    ma_tinh        CHAR(3)   NOT NULL,
    quan_huyen     TEXT      NOT NULL,
    tu_ngay        DATE      NOT NULL,
    den_ngay       DATE                          -- exclusive; null: in force
);
CREATE INDEX st_cu_tru_pid_idx ON st_cu_tru (pid);

-- Birth registrations as the birth registry records them; `rid` pseudonymises the registration.
CREATE TABLE st_khai_sinh (
    rid            BYTEA     PRIMARY KEY,
    rk             SMALLINT  NOT NULL CHECK (rk BETWEEN 0 AND 255),
    child_pid      BYTEA,                        -- the child, once they have a code
    ngay_sinh      DATE      NOT NULL,
    ngay_dang_ky   DATE      NOT NULL,
    ma_tinh        CHAR(3)   NOT NULL,
    gioi_tinh      SMALLINT  NOT NULL CHECK (gioi_tinh IN (1, 2))
);
CREATE INDEX st_khai_sinh_ngay_dang_ky_idx ON st_khai_sinh (ngay_dang_ky);

-- How far the facts of each source are complete: its change log's id and the time of that entry.
CREATE TABLE st_nguon (
    nguon              TEXT         PRIMARY KEY,
    ma_nhat_ky         BIGINT       NOT NULL,
    thoi_diem_nhat_ky  TIMESTAMPTZ,
    lam_moi_luc        TIMESTAMPTZ  NOT NULL,
    xay_dung_luc       TIMESTAMPTZ  NOT NULL
);
