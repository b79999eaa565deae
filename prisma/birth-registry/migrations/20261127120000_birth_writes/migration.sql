-- Citizen Graph's own tables (cg_ prefix) for registering births through the graph.

-- One row per registerBirth call the birth registry accepted, under the idempotency key the client sent:
-- a retry with the same key finds it and gets the same registration and the same personal code.
-- trang_thai: CHO_CAP_SO    the registration is recorded, the child's personal code not yet obtained from the
--                           Resident Information Center (it was unreachable); completed by a retry or by the
--                           subgraph's background completion (subgraphs/birth-registry/birth-completion.ts)
--             HOAN_TAT      registered, with the child's code
--             CHO_XEM_XET   held for review: it looks like a second registration of a child already registered
--                           (same mother, date of birth and name); nothing recorded in dang_ky_khai_sinh
CREATE TABLE cg_yeu_cau_khai_sinh (
    khoa_idempotency        VARCHAR(100) PRIMARY KEY,
    dau_van_tay             CHAR(64)     NOT NULL,           -- SHA-256 of the request: one key, one request
    du_lieu                 JSONB        NOT NULL,           -- the validated request
    trang_thai              VARCHAR(12)  NOT NULL CHECK (trang_thai IN ('CHO_CAP_SO', 'HOAN_TAT', 'CHO_XEM_XET')),
    id_dang_ky              BIGINT       UNIQUE REFERENCES dang_ky_khai_sinh (id),
    id_dang_ky_nghi_trung   BIGINT       REFERENCES dang_ky_khai_sinh (id),   -- held: the registration it may duplicate
    nguoi_thuc_hien         VARCHAR(100) NOT NULL,
    ma_yeu_cau              VARCHAR(100) NOT NULL,
    ngay_tao                TIMESTAMPTZ  NOT NULL DEFAULT now(),
    ngay_cap_nhat           TIMESTAMPTZ  NOT NULL DEFAULT now(),
    so_lan_thu              INT          NOT NULL DEFAULT 0,  -- attempts to obtain the code
    loi_gan_nhat            VARCHAR(255),                     -- why the last attempt failed
    CHECK ((trang_thai = 'CHO_XEM_XET') = (id_dang_ky IS NULL))
);
CREATE INDEX cg_yeu_cau_khai_sinh_cho_idx ON cg_yeu_cau_khai_sinh (ngay_tao) WHERE trang_thai = 'CHO_CAP_SO';

-- The last sequence number used per province and year of registration, for numbers PPP/YYYY/NNNNNN that
-- continue after those already in dang_ky_khai_sinh (the row is created from them on first use).
CREATE TABLE cg_so_dang_ky_cuoi (
    ma_tinh   CHAR(3)   NOT NULL,
    nam       SMALLINT  NOT NULL,
    so_cuoi   INT       NOT NULL,
    PRIMARY KEY (ma_tinh, nam)
);

-- Finding a possible second registration of the same child: by date of birth and name.
CREATE INDEX dang_ky_khai_sinh_tre_ngay_sinh_idx ON dang_ky_khai_sinh (ngay_sinh_tre, lower(ho_ten_tre));
