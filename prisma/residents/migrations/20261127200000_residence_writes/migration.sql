-- Residence and household writes (subgraphs/residents/residence-writes.ts, household-writes.ts).
-- The writes lock the citizen (and the household) and check these rules first, with clear errors; these
-- guards are the final word, whatever writes the tables. The seeded demo data satisfies all of them.

-- At most one permanent residence in force per citizen.
CREATE UNIQUE INDEX dang_ky_cu_tru_thuong_tru_hieu_luc_uq
    ON dang_ky_cu_tru (so_dinh_danh) WHERE loai_cu_tru = 'THUONG_TRU' AND trang_thai = 'HIEU_LUC';

-- A citizen belongs to at most one household at a time.
CREATE UNIQUE INDEX thanh_vien_ho_hien_tai_uq
    ON thanh_vien_ho (so_dinh_danh) WHERE den_ngay IS NULL;

-- A household has at most one current head.
CREATE UNIQUE INDEX thanh_vien_ho_chu_ho_hien_tai_uq
    ON thanh_vien_ho (so_ho) WHERE den_ngay IS NULL AND quan_he_chu_ho = 'CHU_HO';

-- History is consistent: nothing ends before it starts, and an ended registration says when it ended.
ALTER TABLE dang_ky_cu_tru ADD CONSTRAINT dang_ky_cu_tru_den_ngay_check CHECK (den_ngay IS NULL OR den_ngay >= tu_ngay);
ALTER TABLE dang_ky_cu_tru ADD CONSTRAINT dang_ky_cu_tru_ket_thuc_check CHECK (trang_thai = 'HIEU_LUC' OR den_ngay IS NOT NULL);
ALTER TABLE thanh_vien_ho ADD CONSTRAINT thanh_vien_ho_den_ngay_check CHECK (den_ngay IS NULL OR den_ngay >= tu_ngay);
