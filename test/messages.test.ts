import { LANDMARKS, MESSAGES, messageIn, type MessageKey } from '../lib/i18n/messages';
import { inLanguage } from '../lib/i18n/language';
import { message } from '../lib/i18n/messages';
import { parsePersonalCode } from '../lib/personal-code';

/**
 * The message table (lib/i18n/messages.ts): every message exists in English and in Vietnamese, renders with
 * its parameters, and the Vietnamese is Vietnamese (with its diacritics), not a copy of the English.
 */
/** Parameters for any message: each named parameter gets a value of the kind the messages use it as. */
const SAMPLE = new Proxy({} as Record<string, unknown>, {
  get: (_target, name) => {
    switch (name) {
      case 'sex':
      case 'codeSex':
        return 'FEMALE';
      case 'recordSex':
        return 'MALE';
      case 'role':
        return 'mother';
      case 'what':
        return 'PREVIOUS_CARD_ISSUE';
      case 'whatParams':
        return { number: '012345678' };
      case 'where':
        return { variable: 'code' };
      case 'roles':
        return ['CLERK', 'REGISTRAR'];
      case 'agency':
        return 'national-id';
      case 'trusted':
        return false;
      default:
        return typeof name === 'string' && /count|length|maximum|actual|year|Year|others|lifetime|perSecond|burst|Seconds/.test(name) ? 7 : `«${String(name)}»`;
    }
  },
});

/** Messages whose English is a detail written by graphql-js or Apollo Server, passed through as it is. */
const PASSED_THROUGH: MessageKey[] = ['BAD_REQUEST', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'VARIABLE_INVALID'];
const VIETNAMESE = /[ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]/i;

describe('the message table', () => {
  it.each(Object.keys(MESSAGES) as MessageKey[])('%s: English and Vietnamese, each rendered, not the same words', (key) => {
    const en = messageIn('en', key, SAMPLE as never);
    const vi = messageIn('vi', key, SAMPLE as never);
    for (const text of [en, vi]) {
      expect(text.length).toBeGreaterThan(0);
      expect(text).not.toMatch(/undefined|\[object Object\]|NaN/);
    }
    expect(vi).toMatch(VIETNAMESE);
    if (!PASSED_THROUGH.includes(key)) expect(vi).not.toBe(en);
  });

  it.each(Object.keys(LANDMARKS))('the date %s, named in both languages', (key) => {
    const landmark = LANDMARKS[key as keyof typeof LANDMARKS];
    expect(landmark.en({ number: '1' } as never)).not.toBe(landmark.vi({ number: '1' } as never));
    expect(landmark.vi({ number: '1' } as never)).toMatch(VIETNAMESE);
  });

  it('speaks the language of the request being served, English outside one', () => {
    const refused = (language?: 'en' | 'vi') => {
      const parse = () => {
        try {
          parsePersonalCode('12345');
        } catch (error) {
          return (error as Error).message;
        }
        return '';
      };
      return language ? inLanguage(language, parse) : parse();
    };
    expect(refused()).toMatch(/^A personal code is exactly 12 digits/);
    expect(refused('vi')).toMatch(/^Số định danh cá nhân gồm đúng 12 chữ số/);
    expect(refused('en')).toMatch(/^A personal code is exactly 12 digits/);
    expect(inLanguage('vi', () => message('NO_FILTER'))).toBe(messageIn('vi', 'NO_FILTER'));
  });
});
