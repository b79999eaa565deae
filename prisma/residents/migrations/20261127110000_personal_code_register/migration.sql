-- The register of personal codes (sổ đăng ký số định danh cá nhân): every code ever issued, one row each,
-- never deleted and never reused. Its primary key is the final guard against issuing a code twice, whatever
-- the application does (subgraphs/residents/code-issuance.ts explains issuance under concurrency).
--
-- A code is in force (HIEU_LUC) or cancelled (DA_HUY). so_dinh_danh_hien_hanh is the person's code in force:
-- the code itself while in force; for a cancelled code, the code that replaced it (kept pointing at the
-- latest one when a person's code is re-issued again), so any old code leads to the person in one lookup.
CREATE TABLE so_dinh_danh (
    so_dinh_danh            CHAR(12)     PRIMARY KEY,
    so_dinh_danh_hien_hanh  CHAR(12)     NOT NULL,
    trang_thai              VARCHAR(10)  NOT NULL CHECK (trang_thai IN ('HIEU_LUC', 'DA_HUY')),
    ngay_cap                TIMESTAMPTZ  NOT NULL DEFAULT now(),
    nguoi_cap               VARCHAR(100),                          -- null for codes issued before this register was kept
    khoa_khai_sinh          VARCHAR(100) UNIQUE,                   -- the birth registration a code was issued for: one code per birth
    ngay_huy                TIMESTAMPTZ,
    nguoi_huy               VARCHAR(100),
    ly_do_huy               VARCHAR(20)  CHECK (ly_do_huy IN ('DOI_GIOI_TINH', 'SUA_NAM_SINH', 'SAI_SOT_NHAP_LIEU')),
    van_ban_huy             VARCHAR(255),                          -- the legal document behind the cancellation
    CHECK ((trang_thai = 'HIEU_LUC') = (so_dinh_danh = so_dinh_danh_hien_hanh)),
    CHECK ((trang_thai = 'DA_HUY') = (ngay_huy IS NOT NULL AND ly_do_huy IS NOT NULL AND van_ban_huy IS NOT NULL))
);
-- Only cancelled codes are looked up by the code in force (a person's earlier codes): a small partial index.
CREATE INDEX so_dinh_danh_da_huy_idx ON so_dinh_danh (so_dinh_danh_hien_hanh) WHERE trang_thai = 'DA_HUY';

-- Every code already in use is in the register.
INSERT INTO so_dinh_danh (so_dinh_danh, so_dinh_danh_hien_hanh, trang_thai, ngay_cap)
SELECT so_dinh_danh, so_dinh_danh, 'HIEU_LUC', ngay_tao FROM cong_dan;

-- A citizen's record carries a registered code.
ALTER TABLE cong_dan ADD CONSTRAINT cong_dan_so_dinh_danh_fkey FOREIGN KEY (so_dinh_danh) REFERENCES so_dinh_danh (so_dinh_danh);

-- Re-issuing a code moves the person's record to the new code: the rows that point at the record follow it.
ALTER TABLE ho_gia_dinh DROP CONSTRAINT ho_gia_dinh_so_dinh_danh_chu_ho_fkey,
    ADD CONSTRAINT ho_gia_dinh_so_dinh_danh_chu_ho_fkey FOREIGN KEY (so_dinh_danh_chu_ho) REFERENCES cong_dan (so_dinh_danh) ON UPDATE CASCADE;
ALTER TABLE thanh_vien_ho DROP CONSTRAINT thanh_vien_ho_so_dinh_danh_fkey,
    ADD CONSTRAINT thanh_vien_ho_so_dinh_danh_fkey FOREIGN KEY (so_dinh_danh) REFERENCES cong_dan (so_dinh_danh) ON UPDATE CASCADE;
ALTER TABLE dang_ky_cu_tru DROP CONSTRAINT dang_ky_cu_tru_so_dinh_danh_fkey,
    ADD CONSTRAINT dang_ky_cu_tru_so_dinh_danh_fkey FOREIGN KEY (so_dinh_danh) REFERENCES cong_dan (so_dinh_danh) ON UPDATE CASCADE;
