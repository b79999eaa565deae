-- National ID Center: identity cards (CMND 9 digits, CCCD 12 digits, CCCD gắn chip).
-- Table and column names are the agency's own; Citizen Graph maps them, it does not rename them.

CREATE TABLE the_can_cuoc (
    id                   BIGSERIAL    PRIMARY KEY,
    so_the               VARCHAR(12)  NOT NULL,              -- 9 digits for CMND; the personal code for CCCD and chip cards
    loai_the             VARCHAR(10)  NOT NULL CHECK (loai_the IN ('CMND', 'CCCD', 'CCCD_CHIP')),
    so_dinh_danh         CHAR(12)     NOT NULL,              -- whose card it is
    ngay_cap             DATE         NOT NULL,
    ngay_het_han         DATE,                               -- null: no expiry (issued after the last age milestone)
    noi_cap              VARCHAR(255) NOT NULL,              -- issuing authority
    trang_thai           VARCHAR(15)  NOT NULL CHECK (trang_thai IN ('CON_HIEU_LUC', 'HET_HAN', 'MAT', 'THU_HOI', 'DA_THAY_THE')),
    id_the_thay_the      BIGINT       REFERENCES the_can_cuoc (id), -- the card that replaced this one
    ngay_cap_nhat        TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX the_can_cuoc_so_the_idx ON the_can_cuoc (so_the);
CREATE INDEX the_can_cuoc_so_dinh_danh_idx ON the_can_cuoc (so_dinh_danh);
