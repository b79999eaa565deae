-- The audit store: one append-only, hash-chained record per access to a person's data (lib/audit).
-- The chain format (what `hash` covers) is defined and documented in lib/audit/chain.ts; the locking that
-- keeps the chain single and gap-free under many concurrent writers in lib/audit/append.ts.

-- The records. seq is the position in the chain (1, 2, 3, ... without gaps); prev_hash is the hash of the
-- record at seq - 1 (64 zeros for the first). No column has a default that the hash could miss: the writer
-- computes every hashed value, including `at`, before inserting.
CREATE TABLE audit_log (
    seq            BIGINT       PRIMARY KEY CHECK (seq > 0),
    -- Millisecond precision, as JavaScript dates and the canonical form have it: what is stored is
    -- exactly what was hashed, whoever reads it back.
    at             TIMESTAMPTZ(3) NOT NULL,
    request_id     TEXT         NOT NULL,
    subject        TEXT         NOT NULL,
    role           TEXT         NOT NULL,
    caller_agency  TEXT,
    purpose        TEXT,
    agency         TEXT         NOT NULL,
    action         TEXT         NOT NULL CHECK (action IN ('READ', 'WRITE', 'REFUSED')),
    operation      TEXT         NOT NULL,
    personal_code  CHAR(12)     CHECK (personal_code ~ '^[0-9]{12}$'),
    classes        TEXT[]       NOT NULL,
    outcome        TEXT         NOT NULL CHECK (outcome IN ('OK', 'DENIED', 'ERROR')),
    -- A summary record of a bulk access stands for bulk_count persons and names none of them.
    bulk_count     INTEGER      CHECK (bulk_count IS NULL OR (bulk_count > 0 AND personal_code IS NULL)),
    prev_hash      CHAR(64)     NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    hash           CHAR(64)     NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
);

-- The tip of the chain: exactly one row, the last seq and its hash. Writers lock it FOR UPDATE for the
-- length of their transaction (lib/audit/append.ts explains why this and not an advisory lock or a
-- sequence). It also lets `audit:verify` notice records deleted from the end of the chain.
CREATE TABLE audit_chain_head (
    id    BOOLEAN  PRIMARY KEY DEFAULT TRUE CHECK (id),
    seq   BIGINT   NOT NULL CHECK (seq >= 0),
    hash  CHAR(64) NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
) WITH (fillfactor = 50); -- room for HOT updates: one update per commit, the page stays the same.
INSERT INTO audit_chain_head (seq, hash) VALUES (0, repeat('0', 64));

-- Append-only, in the database itself and not only in the writer: any UPDATE, DELETE or TRUNCATE of a
-- record is refused, whoever asks. (A superuser can still disable the trigger; that is what the hash
-- chain and `audit:verify` are for. In production the services' role should also hold INSERT only.)
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- The head only moves forward, and is never removed.
CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq < OLD.seq OR NEW.id IS DISTINCT FROM OLD.id THEN
        RAISE EXCEPTION 'the audit chain head only moves forward (% -> %)', OLD.seq, NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE ON audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only();
CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Search (lib/audit/search.ts): newest first by (at, seq), one index per filter so that each filter
-- (alone, or with a time range) reads only the page it returns.
CREATE INDEX audit_log_personal_code_idx ON audit_log (personal_code, at, seq) WHERE personal_code IS NOT NULL;
CREATE INDEX audit_log_agency_idx ON audit_log (agency, at, seq);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, at, seq);
CREATE INDEX audit_log_at_idx ON audit_log (at, seq);
