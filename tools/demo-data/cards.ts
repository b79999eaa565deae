/**
 * A person's identity cards over time (the_can_cuoc), following the real sequence of card kinds:
 *   - CMND, 9 digits, valid 15 years, issued by the provincial police, until 2016 (some provinces to 2020);
 *   - CCCD with a barcode, 12 digits = the personal code, 2016–2020;
 *   - CCCD with a chip, from 2021 (issued by the C06 police department; by the Ministry from July 2024).
 * A 12-digit card is valid until the holder turns 25, 40 or 60 (a card issued within two years before a
 * milestone runs to the next one; one issued from age 58 never expires).
 *
 * The history is simulated card by card: each card ends at the earliest of being lost (MAT), revoked
 * (THU_HOI), replaced by a newer kind or renewed at its expiry (DA_THAY_THE), expiring unrenewed (HET_HAN)
 * or the holder's death (THU_HOI); a replaced card points at its successor (id_the_thay_the). Only the
 * last card of the chain can be CON_HIEU_LUC, so a person never has two valid cards, and a deceased
 * person's last card is revoked or expired, never valid.
 *
 * The brief asks for some 9-digit CMND still valid: those are cards issued from late 2011 on whose holders
 * never came for a chip card (legally void since 2025, but the register still says so).
 */
import { addYears, dayFromCivil, formatDay, fullYearsBetween } from './dates';
import { expiryMilestone } from '../../subgraphs/national-id/card-expiry';
import { provinceLowerTitle } from './geography';
import type { Random } from './random';
import type { CardKind, CardStatus, TheCanCuocRow } from './rows';

const CMND_WAVES_START = dayFromCivil(1995, 1, 1);
const BARCODE_START = dayFromCivil(2016, 1, 1);
const CHIP_START = dayFromCivil(2021, 1, 1);
const MINISTRY_START = dayFromCivil(2024, 7, 1);
const YEAR = 365;

export interface CardHolder {
  code: string;
  birth: number;
  death: number | null;
  /** Province of residence: whose police issued the CMND. */
  provinceCode: string;
}

export interface CardNumbering {
  nextCardId(): number;
  /** A fresh, population-unique 9-digit CMND number. */
  nextCmndNumber(): string;
}

/** The card-expiry rule of the National ID Center's service itself, in day numbers. */
function milestoneExpiry(birth: number, issued: number): number | null {
  const milestone = expiryMilestone(fullYearsBetween(birth, issued));
  return milestone === null ? null : addYears(birth, milestone);
}

function issuingAuthority(kind: CardKind, issued: number, provinceCode: string): string {
  if (kind === 'CMND') return `Công an ${provinceLowerTitle(provinceCode)}`;
  if (kind === 'CCCD') return 'Cục Cảnh sát ĐKQL cư trú và DLQG về dân cư';
  return issued < MINISTRY_START ? 'Cục Cảnh sát QLHC về TTXH' : 'Bộ Công an';
}

interface CardEnd {
  day: number;
  status: CardStatus;
  /** When the successor card was issued; null when there is none. */
  successorOn: number | null;
}

/** Keeps the earliest event that falls within the card's life (after issue, by the last possible day). */
function consider(end: CardEnd, issued: number, lastDay: number, day: number, status: CardStatus, successorOn: number | null): void {
  if (day > issued && day <= lastDay && day < end.day) {
    end.day = day;
    end.status = status;
    end.successorOn = successorOn;
  }
}

export function issueCards(rng: Random, ref: number, holder: CardHolder, numbering: CardNumbering): TheCanCuocRow[] {
  const cards: TheCanCuocRow[] = [];
  const age14 = addYears(holder.birth, 14);
  // The last day the holder could do anything at the police station.
  const lastDay = holder.death === null ? ref : holder.death - 1;
  if (age14 > lastDay) return cards;

  // First card: soon after turning 14, or for older people during the 1995–2012 CMND waves.
  let issued = Math.max(age14 + rng.int(0, 3 * YEAR), CMND_WAVES_START + rng.int(0, 17 * YEAR));
  if (issued > lastDay) {
    // Recently turned 14: about half have not applied yet.
    if (rng.chance(0.5)) return cards;
    issued = rng.dayBetween(age14, lastDay);
  }

  let cmndNumber: string | null = null;
  let hadTwelveDigitCard = false;
  let previous: TheCanCuocRow | null = null;

  for (;;) {
    const kind: CardKind =
      issued >= CHIP_START ? 'CCCD_CHIP' : hadTwelveDigitCard || (issued >= BARCODE_START && rng.chance(0.6)) ? 'CCCD' : 'CMND';
    if (kind !== 'CMND') hadTwelveDigitCard = true;
    // A CMND keeps its number through renewals and replacements.
    const number = kind === 'CMND' ? (cmndNumber ??= numbering.nextCmndNumber()) : holder.code;
    const expiry = kind === 'CMND' ? addYears(issued, 15) : milestoneExpiry(holder.birth, issued);
    const card: TheCanCuocRow = {
      id: numbering.nextCardId(),
      so_the: number,
      loai_the: kind,
      so_dinh_danh: holder.code,
      ngay_cap: formatDay(issued),
      ngay_het_han: expiry === null ? null : formatDay(expiry),
      noi_cap: issuingAuthority(kind, issued, holder.provinceCode),
      trang_thai: 'CON_HIEU_LUC',
      id_the_thay_the: null,
    };
    if (previous) previous.id_the_thay_the = card.id;
    cards.push(card);

    // What ends this card, if anything, before the reference date (or death): the earliest event wins.
    const end: CardEnd = { day: Infinity, status: 'CON_HIEU_LUC', successorOn: null };
    const until = Math.min(lastDay, expiry ?? lastDay);
    if (rng.chance(0.02)) {
      const lost = rng.dayBetween(issued + 30, until);
      consider(end, issued, lastDay, lost, 'MAT', rng.chance(0.85) ? lost + rng.int(7, 90) : null);
    }
    if (rng.chance(0.004)) {
      const revoked = rng.dayBetween(issued + 30, until);
      consider(end, issued, lastDay, revoked, 'THU_HOI', rng.chance(0.8) ? revoked + rng.int(7, 90) : null);
    }
    if (kind !== 'CCCD_CHIP' && lastDay >= CHIP_START && rng.chance(kind === 'CMND' ? 0.9 : 0.4)) {
      // Most people switched in the 2021–2022 campaign.
      const from = Math.max(CHIP_START, issued + 30);
      const upgrade = rng.chance(0.75) ? from + rng.int(0, 2 * YEAR) : rng.dayBetween(from, lastDay);
      consider(end, issued, lastDay, upgrade, 'DA_THAY_THE', upgrade);
    }
    if (expiry !== null && expiry <= lastDay && rng.chance(0.85)) {
      const renewal = Math.max(issued + 30, expiry - rng.int(0, 90));
      consider(end, issued, lastDay, renewal, 'DA_THAY_THE', renewal);
    }

    if (end.day === Infinity) {
      // Nothing happened to the card: it is valid, expired, or was withdrawn when its holder died.
      if (expiry !== null && expiry < lastDay) card.trang_thai = 'HET_HAN';
      else card.trang_thai = holder.death === null ? 'CON_HIEU_LUC' : 'THU_HOI';
      break;
    }
    card.trang_thai = end.status;
    // Lost or revoked and never replaced (or the holder died first): the chain ends here.
    if (end.successorOn === null || end.successorOn > lastDay) break;
    // Terminates: every successor is issued strictly later, and never after lastDay.
    issued = end.successorOn;
    previous = card;
  }
  return cards;
}
