-- Citizen Graph: lets population statistics (counts by province of registration, sex and birth decade)
-- be answered from this index alone (an index-only scan) instead of reading every citizen's row.
CREATE INDEX cong_dan_thong_ke_idx ON cong_dan (so_dinh_danh, gioi_tinh, ngay_sinh) WHERE ngay_mat IS NULL;
