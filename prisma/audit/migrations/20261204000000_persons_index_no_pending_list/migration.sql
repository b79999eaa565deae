-- The persons index without GIN's pending list (fastupdate). With it, inserts park their entries in a list
-- that some later insert, or a vacuum, merges into the index in one go once it outgrows
-- gin_pending_list_limit. Here every insert happens inside audit_append, while the chain head is locked
-- (lib/audit/append.ts): the append that happens to merge the list holds every writer of the system for the
-- length of the merge, and every response waiting for its records with it. Without the list each insert
-- adds its few entries (a record names a handful of persons, a bulk read a hundred) to the index itself: a
-- small, even cost inside the lock instead of an occasional long one.
ALTER INDEX audit_log_persons_idx SET (fastupdate = off);
-- What inserts had parked so far goes into the index now.
SELECT gin_clean_pending_list('audit_log_persons_idx'::regclass);
