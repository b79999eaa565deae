-- Citizen Graph's addition to the residents database: search by any run of words of a name as people type it,
-- without diacritics, in any case and in either Unicode normalisation form (subgraphs/residents/name-search.ts).
--
-- The name folded once, when the row is written: decomposed (NFD), combining marks removed (the five tones
-- and the marks of ă â ê ô ơ ư), đ/Đ (and the look-alike ð/Ð of legacy converters) made d, lower-cased,
-- runs of white space made one space, with one space in front: 'Nguyễn Văn An' is stored as ' nguyen van an'.
-- The resolver folds what a user types the same way (name-search.ts foldName; a test holds the two to the
-- same result for every Vietnamese letter). Built from core functions only (normalize, translate,
-- regexp_replace, lower are IMMUTABLE): unaccent() is not, and an IMMUTABLE wrapper around it would depend on
-- its dictionary file staying the same.
CREATE FUNCTION cg_ten_khong_dau(ten TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ' ' || btrim(regexp_replace(lower(regexp_replace(translate(normalize(ten, NFD), 'ĐđÐð', 'dddd'), '[\u0300-\u036f]', '', 'g')), '\s+', ' ', 'g'));

-- The folded name from its vi_tri-th word on ('nguyen van an', 'van an', 'an' for 1, 2, 3), NULL past its last
-- word. A search for 'van a' is a search for the names one of whose word suffixes starts with 'van a'.
CREATE FUNCTION cg_hau_to(ten_khong_dau TEXT, vi_tri INT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN NULLIF(array_to_string((string_to_array(btrim(ten_khong_dau), ' '))[vi_tri:], ' '), '');

-- Stored, in the "C" collation (code point order, whatever the database's own collation): the suffixes
-- computed from it inherit it, so that their indexes answer LIKE 'prefix%' as a range and in order.
-- Nobody writes it: PostgreSQL computes it on every INSERT and UPDATE, whoever writes.
ALTER TABLE cong_dan ADD COLUMN cg_ho_ten_tim_kiem TEXT COLLATE "C" GENERATED ALWAYS AS (cg_ten_khong_dau(ho_ten)) STORED;

-- One B-tree per word position, by (suffix, code): the names whose suffix at that word starts with the typed
-- text are one range of it, already in the order the search pages in, so a page reads about as many index
-- entries as it shows, however common the name ('nguyen': a third of the population) and wherever its
-- holders live. The search merges the five ranges (name-search.ts). A run of words starting past the fifth
-- word is not searched for; names that long are rare, and their first five words are.
CREATE INDEX cong_dan_cg_hau_to_1_idx ON cong_dan (cg_hau_to(cg_ho_ten_tim_kiem, 1), so_dinh_danh);
CREATE INDEX cong_dan_cg_hau_to_2_idx ON cong_dan (cg_hau_to(cg_ho_ten_tim_kiem, 2), so_dinh_danh) WHERE cg_hau_to(cg_ho_ten_tim_kiem, 2) IS NOT NULL;
CREATE INDEX cong_dan_cg_hau_to_3_idx ON cong_dan (cg_hau_to(cg_ho_ten_tim_kiem, 3), so_dinh_danh) WHERE cg_hau_to(cg_ho_ten_tim_kiem, 3) IS NOT NULL;
CREATE INDEX cong_dan_cg_hau_to_4_idx ON cong_dan (cg_hau_to(cg_ho_ten_tim_kiem, 4), so_dinh_danh) WHERE cg_hau_to(cg_ho_ten_tim_kiem, 4) IS NOT NULL;
CREATE INDEX cong_dan_cg_hau_to_5_idx ON cong_dan (cg_hau_to(cg_ho_ten_tim_kiem, 5), so_dinh_danh) WHERE cg_hau_to(cg_ho_ten_tim_kiem, 5) IS NOT NULL;
