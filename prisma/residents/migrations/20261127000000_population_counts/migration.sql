-- Citizen Graph's own addition to the residents database (prefix cg_): living citizens counted by
-- province of birth registration (the PPP of the code), sex and decade of birth, kept exact by triggers.
--
-- Why a trigger-maintained table: counting 8 million rows takes seconds of both cores on every request,
-- and a cache in the subgraph would miss what the agency's own systems write. Statement-level triggers
-- with transition tables see every insert, update and delete, by anyone, and cost one aggregated
-- upsert per statement (a COPY of 20,000 citizens updates the counts once, not 20,000 times).
CREATE TABLE cg_thong_ke_dan_so (
    ma_tinh     CHAR(3)  NOT NULL,
    gioi_tinh   SMALLINT NOT NULL,
    thap_ky     SMALLINT NOT NULL,   -- first year of the decade of birth, e.g. 1990
    so_luong    BIGINT   NOT NULL,
    PRIMARY KEY (ma_tinh, gioi_tinh, thap_ky)
);

-- Rows are counted when alive (ngay_mat IS NULL). The ORDER BY makes concurrent writers lock counts
-- in the same order, so they queue instead of deadlocking.
-- One function for the three triggers: a delete takes the old rows off the counts, an insert adds the new
-- ones, an update does both. PL/pgSQL prepares a statement when it first runs it, so the branch that names
-- a transition table the firing trigger does not have is never prepared.
CREATE FUNCTION cg_thong_ke_cap_nhat() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE cg_thong_ke_dan_so AS t SET so_luong = t.so_luong - c.n
          FROM (SELECT substr(so_dinh_danh, 1, 3) AS p, gioi_tinh AS s, (extract(year FROM ngay_sinh)::int / 10) * 10 AS d, count(*) AS n
                  FROM cu WHERE ngay_mat IS NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3) AS c
         WHERE t.ma_tinh = c.p AND t.gioi_tinh = c.s AND t.thap_ky = c.d;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO cg_thong_ke_dan_so AS t (ma_tinh, gioi_tinh, thap_ky, so_luong)
        SELECT substr(so_dinh_danh, 1, 3), gioi_tinh, (extract(year FROM ngay_sinh)::int / 10) * 10, count(*)
          FROM moi WHERE ngay_mat IS NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (ma_tinh, gioi_tinh, thap_ky) DO UPDATE SET so_luong = t.so_luong + EXCLUDED.so_luong;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER cg_thong_ke_them AFTER INSERT ON cong_dan
    REFERENCING NEW TABLE AS moi FOR EACH STATEMENT EXECUTE FUNCTION cg_thong_ke_cap_nhat();
CREATE TRIGGER cg_thong_ke_xoa AFTER DELETE ON cong_dan
    REFERENCING OLD TABLE AS cu FOR EACH STATEMENT EXECUTE FUNCTION cg_thong_ke_cap_nhat();
CREATE TRIGGER cg_thong_ke_sua AFTER UPDATE ON cong_dan
    REFERENCING OLD TABLE AS cu NEW TABLE AS moi FOR EACH STATEMENT EXECUTE FUNCTION cg_thong_ke_cap_nhat();

-- Citizens already in the database when this migration runs.
INSERT INTO cg_thong_ke_dan_so (ma_tinh, gioi_tinh, thap_ky, so_luong)
SELECT substr(so_dinh_danh, 1, 3), gioi_tinh, (extract(year FROM ngay_sinh)::int / 10) * 10, count(*)
  FROM cong_dan WHERE ngay_mat IS NULL GROUP BY 1, 2, 3;
