-- Chain format 2 (lib/audit/chain.ts): one record per request, agency and kind of access, naming every
-- person it covers (no anonymous bulk summaries); the case reference an investigator acted under; the
-- change-log reference of a WRITE shipped from an agency's outbox; and times from the store's clock only,
-- never going backwards along the chain.

-- Which chain format hashes the record: 1 for the records written before this migration, 2 from now on.
ALTER TABLE audit_log ADD COLUMN format SMALLINT NOT NULL DEFAULT 1 CHECK (format IN (1, 2));
ALTER TABLE audit_log ALTER COLUMN format DROP DEFAULT;
-- Every person the record covers, sorted and unique; empty for a refusal that names no one. Format 1 records
-- get their personal_code (which stays what their hash covers; audit:verify checks the two agree).
ALTER TABLE audit_log ADD COLUMN persons CHAR(12)[];
ALTER TABLE audit_log ADD COLUMN case_reference TEXT;
-- "<agency>:<change-log id>": a WRITE shipped from an agency's change log (lib/audit/outbox.ts). At most once.
ALTER TABLE audit_log ADD COLUMN change_ref TEXT;

-- The one data change this store ever needs: existing records get persons. The append-only trigger is off
-- for that statement only, inside this migration's transaction.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
UPDATE audit_log SET persons = CASE WHEN personal_code IS NULL THEN '{}'::char(12)[] ELSE ARRAY[personal_code] END;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
ALTER TABLE audit_log ALTER COLUMN persons SET NOT NULL;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_format_2_fields CHECK (
    format = 1 OR (personal_code IS NULL AND bulk_count IS NULL));

-- Search by person: `persons @> ARRAY[code]` (lib/audit/search.ts).
CREATE INDEX audit_log_persons_idx ON audit_log USING GIN (persons);
CREATE UNIQUE INDEX audit_log_change_ref_idx ON audit_log (change_ref) WHERE change_ref IS NOT NULL;

-- The head also keeps the time of the last record: the next one is never dated earlier.
ALTER TABLE audit_chain_head ADD COLUMN at TIMESTAMPTZ(3);
UPDATE audit_chain_head SET at = (SELECT l.at FROM audit_log l ORDER BY l.seq DESC LIMIT 1);

-- audit_append, format 2. What changed from the first version (20261202000000_append_function):
-- - the time is the store's clock only (clock_timestamp() once the head is held), and never earlier than the
--   head's last time: times never go backwards along the chain, whatever the server's clock does. An `at`
--   sent by a client is ignored.
-- - an entry whose change_ref is already recorded is skipped (an outbox may ship the same change twice);
--   when every entry is skipped, nothing moves and the result is the empty range (head + 1, head).
-- - SECURITY DEFINER with a fixed search_path: a role holding only EXECUTE on it (and no INSERT on
--   audit_log, no UPDATE on the head) can append, and only through it.
-- The hash, as chain.ts specifies format 2:
--   hash = hex(sha256(utf8(prev_hash || '[2,"' || at || '",' || tail)))
CREATE OR REPLACE FUNCTION audit_append(entries json) RETURNS TABLE (first_seq bigint, last_seq bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    head_seq  bigint;
    head_at   timestamptz;
    tip       text;
    next_seq  bigint;
    store_at  timestamptz;
    digest    text;
    given     integer := 0;
    e         record;
BEGIN
    SELECT h.seq, h.hash, h.at INTO head_seq, tip, head_at FROM public.audit_chain_head h FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the audit chain head is missing: the audit store is not migrated';
    END IF;
    -- clock_timestamp(), not now(): the time the head was granted, not the time the wait began.
    store_at := greatest(date_trunc('milliseconds', clock_timestamp()), coalesce(head_at, '-infinity'::timestamptz));
    next_seq := head_seq;
    FOR e IN
        SELECT * FROM json_to_recordset(entries) AS r(tail text, request_id text, subject text, role text,
             caller_agency text, purpose text, case_reference text, agency text, action text, operation text,
             persons text[], classes text[], outcome text, change_ref text)
    LOOP
        given := given + 1;
        IF e.change_ref IS NOT NULL AND EXISTS (SELECT 1 FROM public.audit_log l WHERE l.change_ref = e.change_ref) THEN
            CONTINUE;
        END IF;
        next_seq := next_seq + 1;
        digest := encode(sha256(convert_to(
            tip || '[2,"' || to_char(store_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '",' || e.tail, 'UTF8')), 'hex');
        INSERT INTO public.audit_log (seq, format, at, request_id, subject, role, caller_agency, purpose, case_reference, agency,
                                      action, operation, personal_code, persons, classes, outcome, bulk_count, change_ref, prev_hash, hash)
        VALUES (next_seq, 2, store_at, e.request_id, e.subject, e.role, e.caller_agency, e.purpose, e.case_reference, e.agency,
                e.action, e.operation, NULL, coalesce(e.persons, '{}')::char(12)[], e.classes, e.outcome, NULL, e.change_ref, tip, digest);
        tip := digest;
    END LOOP;
    IF given = 0 THEN
        RAISE EXCEPTION 'audit_append needs at least one entry';
    END IF;
    IF next_seq > head_seq THEN
        UPDATE public.audit_chain_head SET seq = next_seq, hash = tip, at = store_at;
    END IF;
    RETURN QUERY SELECT head_seq + 1, next_seq;
END $$;
