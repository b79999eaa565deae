-- Appending a batch in one statement (lib/audit/append.ts says why): lock the head, chain each entry onto
-- it, insert, move the head. The client sends each entry's columns and the canonical form of everything but
-- the time (`tail`, lib/audit/chain.ts): the time is the store's own clock, read once the head is held,
-- unless the entry brings its own. So the hash is computed here, as chain.ts specifies it:
--   hash = hex(sha256(utf8(prev_hash || '["' || at || '",' || tail)))
-- and audit:verify recomputes it in TypeScript from the stored columns, so a client that sent a tail
-- differing from its columns would be caught at once.
CREATE FUNCTION audit_append(entries json) RETURNS TABLE (first_seq bigint, last_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
    head_seq  bigint;
    tip       text;
    next_seq  bigint;
    store_at  timestamptz;
    entry_at  timestamptz;
    digest    text;
    e         record;
BEGIN
    SELECT h.seq, h.hash INTO head_seq, tip FROM audit_chain_head h FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the audit chain head is missing: the audit store is not migrated';
    END IF;
    -- clock_timestamp(), not now(): the time the head was granted, not the time the wait began.
    store_at := date_trunc('milliseconds', clock_timestamp());
    next_seq := head_seq;
    FOR e IN
        SELECT * FROM json_to_recordset(entries) AS r(at timestamptz, tail text, request_id text, subject text, role text,
             caller_agency text, purpose text, agency text, action text, operation text, personal_code text,
             classes text[], outcome text, bulk_count integer)
    LOOP
        next_seq := next_seq + 1;
        entry_at := date_trunc('milliseconds', coalesce(e.at, store_at));
        digest := encode(sha256(convert_to(
            tip || '["' || to_char(entry_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '",' || e.tail, 'UTF8')), 'hex');
        INSERT INTO audit_log (seq, at, request_id, subject, role, caller_agency, purpose, agency, action, operation,
                               personal_code, classes, outcome, bulk_count, prev_hash, hash)
        VALUES (next_seq, entry_at, e.request_id, e.subject, e.role, e.caller_agency, e.purpose, e.agency, e.action,
                e.operation, e.personal_code, e.classes, e.outcome, e.bulk_count, tip, digest);
        tip := digest;
    END LOOP;
    IF next_seq = head_seq THEN
        RAISE EXCEPTION 'audit_append needs at least one entry';
    END IF;
    UPDATE audit_chain_head SET seq = next_seq, hash = tip;
    RETURN QUERY SELECT head_seq + 1, next_seq;
END $$;
