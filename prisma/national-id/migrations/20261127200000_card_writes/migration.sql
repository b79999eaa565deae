-- Card writes (issue, replace, report lost, revoke): the database's own guard of the rule "at most one
-- valid card per citizen". The writes already serialise per holder (an advisory lock on the personal code)
-- and check before they write; this index is what holds even if two writers got past those checks, or a
-- write comes from outside Citizen Graph. The seeded and historical data satisfy it: a holder's card chain
-- only ever has its last card CON_HIEU_LUC (lib/demo-data/cards.ts).
CREATE UNIQUE INDEX the_can_cuoc_mot_the_con_hieu_luc_idx ON the_can_cuoc (so_dinh_danh) WHERE trang_thai = 'CON_HIEU_LUC';
