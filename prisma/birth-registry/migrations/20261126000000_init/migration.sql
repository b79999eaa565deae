-- Birth registry (civil status, Ministry of Justice): birth registrations (đăng ký khai sinh).
-- Table and column names are the agency's own; Citizen Graph maps them, it does not rename them.

CREATE TABLE dang_ky_khai_sinh (
    id                   BIGSERIAL    PRIMARY KEY,
    so_dang_ky           VARCHAR(30)  NOT NULL UNIQUE,       -- registration number
    ngay_dang_ky         DATE         NOT NULL,
    co_quan_dang_ky      VARCHAR(255) NOT NULL,              -- registering authority
    ma_tinh_dang_ky      CHAR(3)      NOT NULL,              -- province of registration: the PPP of the child's code
    noi_sinh             VARCHAR(255) NOT NULL,              -- place of birth
    ho_ten_tre           VARCHAR(150) NOT NULL,              -- child's name as registered
    gioi_tinh_tre        SMALLINT     NOT NULL CHECK (gioi_tinh_tre IN (1, 2)),
    ngay_sinh_tre        DATE         NOT NULL,
    so_dinh_danh_tre     CHAR(12),                           -- the code the child received at registration
    so_dinh_danh_cha     CHAR(12),                           -- father, by code where he has one ...
    ho_ten_cha           VARCHAR(150),                       -- ... or by name and nationality
    quoc_tich_cha        CHAR(2),
    so_dinh_danh_me      CHAR(12),
    ho_ten_me            VARCHAR(150),
    quoc_tich_me         CHAR(2)
);
CREATE INDEX dang_ky_khai_sinh_tre_idx ON dang_ky_khai_sinh (so_dinh_danh_tre);
CREATE INDEX dang_ky_khai_sinh_cha_idx ON dang_ky_khai_sinh (so_dinh_danh_cha);
CREATE INDEX dang_ky_khai_sinh_me_idx ON dang_ky_khai_sinh (so_dinh_danh_me);
