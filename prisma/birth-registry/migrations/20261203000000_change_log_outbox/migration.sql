-- The change log is the outbox of the audit store's WRITE records (lib/audit/outbox.ts): each entry, written in
-- the write's own transaction, carries what its audit record needs besides who and which request (already
-- there): the principal's role, purpose, agency and case reference (lib/change-log.ts). An entry without a
-- role (written before this migration, or by an unsealed deployment without a principal) is not shipped.
ALTER TABLE cg_nhat_ky_thay_doi
    ADD COLUMN vai_tro      TEXT,   -- role of the person acting (lib/access/principal.ts)
    ADD COLUMN muc_dich     TEXT,   -- purpose of use
    ADD COLUMN co_quan_goi  TEXT,   -- the caller's agency
    ADD COLUMN so_ho_so     TEXT;   -- case or court order reference (investigators)

-- Entries whose WRITE record the audit store has (shipped): the outbox is the entries with a role not here.
CREATE TABLE cg_nhat_ky_da_chuyen (
    id         BIGINT       PRIMARY KEY REFERENCES cg_nhat_ky_thay_doi (id),
    thoi_diem  TIMESTAMPTZ  NOT NULL DEFAULT now()
);
-- The unshipped entries are found by an anti-join from the entries that need shipping.
CREATE INDEX cg_nhat_ky_thay_doi_vai_tro_idx ON cg_nhat_ky_thay_doi (id) WHERE vai_tro IS NOT NULL;
