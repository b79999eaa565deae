-- Citizen Graph's addition to the residents database: search by any part of a name as people type it,
-- without diacritics, in any case and in either Unicode normalisation form (subgraphs/residents/name-search.ts).
--
-- The name folded once, when the row is written: decomposed (NFD), combining marks removed (the five tones
-- and the marks of ă â ê ô ơ ư), đ/Đ (and the look-alike ð/Ð of legacy converters) made d, lower-cased,
-- runs of white space made one space, with one space in front so that "the start of a word" is ' ' followed
-- by the typed text: 'Nguyễn Văn An' is stored as ' nguyen van an'. The resolver folds what a user types the
-- same way (name-search.ts foldName; a test holds the two to the same result for every Vietnamese letter).
-- Built from core functions only (normalize, translate, regexp_replace, lower are IMMUTABLE): unaccent() is
-- not, and an IMMUTABLE wrapper around it would depend on its dictionary file staying the same.
CREATE FUNCTION cg_ten_khong_dau(ten TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ' ' || btrim(regexp_replace(lower(regexp_replace(translate(normalize(ten, NFD), 'ĐđÐð', 'dddd'), '[\u0300-\u036f]', '', 'g')), '\s+', ' ', 'g'));

-- Stored, so that neither the index's recheck nor a scan in code order folds a name per row it reads.
-- Nobody writes it: PostgreSQL computes it on every INSERT and UPDATE, whoever writes.
ALTER TABLE cong_dan ADD COLUMN cg_ho_ten_tim_kiem TEXT GENERATED ALWAYS AS (cg_ten_khong_dau(ho_ten)) STORED;
-- The planner chooses between this index (few matches) and the primary key in code order, stopping at the
-- page's end (many matches, such as ' nguyen'); a larger sample lets it tell the two apart.
ALTER TABLE cong_dan ALTER COLUMN cg_ho_ten_tim_kiem SET STATISTICS 1000;

-- Trigrams: a word-prefix pattern ('% van an%') is answered by the trigrams of its words, whatever word of
-- the name it starts at. pg_trgm ships with PostgreSQL (contrib); creating it needs the migrating user.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX cong_dan_cg_ho_ten_tim_kiem_trgm_idx ON cong_dan USING gin (cg_ho_ten_tim_kiem gin_trgm_ops);
