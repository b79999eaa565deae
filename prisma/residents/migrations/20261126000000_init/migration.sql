-- Resident Information Center: the national population database (CSDL quốc gia về dân cư).
-- Table and column names are the agency's own; Citizen Graph maps them, it does not rename them.

-- The citizen's core record. so_dinh_danh is the 12-digit personal identification code.
CREATE TABLE cong_dan (
    so_dinh_danh         CHAR(12)     PRIMARY KEY,
    ho_ten               VARCHAR(150) NOT NULL,
    ten_goi_khac         VARCHAR(150),
    ngay_sinh            DATE         NOT NULL,
    gioi_tinh            SMALLINT     NOT NULL CHECK (gioi_tinh IN (1, 2)),      -- 1 nam, 2 nữ
    dan_toc              VARCHAR(50)  NOT NULL,
    ton_giao             VARCHAR(50),
    quoc_tich            CHAR(2)      NOT NULL DEFAULT 'VN',
    que_quan             VARCHAR(255),
    nhom_mau             VARCHAR(3),
    tinh_trang_hon_nhan  SMALLINT     NOT NULL DEFAULT 1 CHECK (tinh_trang_hon_nhan BETWEEN 1 AND 4), -- 1 độc thân, 2 đã kết hôn, 3 ly hôn, 4 góa
    ngay_mat             DATE,
    ngay_tao             TIMESTAMPTZ  NOT NULL DEFAULT now(),
    ngay_cap_nhat        TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX cong_dan_ho_ten_idx ON cong_dan (lower(ho_ten) text_pattern_ops);
CREATE INDEX cong_dan_ngay_sinh_idx ON cong_dan (ngay_sinh);

-- Households (sổ hộ khẩu): one address, one head.
CREATE TABLE ho_gia_dinh (
    so_ho                VARCHAR(20)  PRIMARY KEY,
    so_dinh_danh_chu_ho  CHAR(12)     NOT NULL REFERENCES cong_dan (so_dinh_danh),
    ma_tinh              CHAR(3)      NOT NULL,
    quan_huyen           VARCHAR(100) NOT NULL,
    phuong_xa            VARCHAR(100) NOT NULL,
    dia_chi_chi_tiet     VARCHAR(255) NOT NULL,
    ngay_lap             DATE         NOT NULL
);
CREATE INDEX ho_gia_dinh_chu_ho_idx ON ho_gia_dinh (so_dinh_danh_chu_ho);

-- Membership of a household, with the relationship to the head. den_ngay set = left the household.
CREATE TABLE thanh_vien_ho (
    id                   BIGSERIAL    PRIMARY KEY,
    so_ho                VARCHAR(20)  NOT NULL REFERENCES ho_gia_dinh (so_ho),
    so_dinh_danh         CHAR(12)     NOT NULL REFERENCES cong_dan (so_dinh_danh),
    quan_he_chu_ho       VARCHAR(20)  NOT NULL, -- CHU_HO, VO, CHONG, CON, CHA, ME, ONG, BA, CHAU, ANH_CHI_EM, KHAC
    tu_ngay              DATE         NOT NULL,
    den_ngay             DATE
);
CREATE INDEX thanh_vien_ho_so_ho_idx ON thanh_vien_ho (so_ho);
CREATE INDEX thanh_vien_ho_so_dinh_danh_idx ON thanh_vien_ho (so_dinh_danh);

-- Residence registrations (đăng ký cư trú): permanent (thường trú) or temporary (tạm trú), with history.
CREATE TABLE dang_ky_cu_tru (
    id                   BIGSERIAL    PRIMARY KEY,
    so_dinh_danh         CHAR(12)     NOT NULL REFERENCES cong_dan (so_dinh_danh),
    loai_cu_tru          VARCHAR(10)  NOT NULL CHECK (loai_cu_tru IN ('THUONG_TRU', 'TAM_TRU')),
    ma_tinh              CHAR(3)      NOT NULL,
    quan_huyen           VARCHAR(100) NOT NULL,
    phuong_xa            VARCHAR(100) NOT NULL,
    dia_chi_chi_tiet     VARCHAR(255) NOT NULL,
    tu_ngay              DATE         NOT NULL,
    den_ngay             DATE,
    trang_thai           VARCHAR(15)  NOT NULL CHECK (trang_thai IN ('HIEU_LUC', 'HET_HIEU_LUC', 'DA_CHUYEN_DI'))
);
CREATE INDEX dang_ky_cu_tru_so_dinh_danh_idx ON dang_ky_cu_tru (so_dinh_danh);
CREATE INDEX dang_ky_cu_tru_ma_tinh_idx ON dang_ky_cu_tru (ma_tinh) WHERE trang_thai = 'HIEU_LUC';
