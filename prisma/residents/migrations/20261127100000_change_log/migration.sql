-- Citizen Graph's own table (cg_ prefix): who changed what and when, written in the same transaction as
-- every change the graph makes (lib/change-log.ts). Append-only: nothing updates or deletes its rows.
CREATE TABLE cg_nhat_ky_thay_doi (
    id               BIGSERIAL    PRIMARY KEY,
    thoi_diem        TIMESTAMPTZ  NOT NULL DEFAULT now(),
    nguoi_thuc_hien  VARCHAR(100) NOT NULL,          -- the actor
    ma_yeu_cau       VARCHAR(100) NOT NULL,          -- request id (from the gateway)
    dich_vu          VARCHAR(50),                    -- the agency service that called, for service-to-service writes
    thao_tac         VARCHAR(50)  NOT NULL,          -- action
    bang             VARCHAR(63)  NOT NULL,          -- table changed
    khoa             VARCHAR(100) NOT NULL,          -- key of the row changed
    so_dinh_danh     CHAR(12),                       -- citizen concerned
    chi_tiet         JSONB        NOT NULL DEFAULT '{}'
);
CREATE INDEX cg_nhat_ky_thay_doi_so_dinh_danh_idx ON cg_nhat_ky_thay_doi (so_dinh_danh) WHERE so_dinh_danh IS NOT NULL;
