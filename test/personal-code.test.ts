import { centuryDigit, codeDiscrepancies, parsePersonalCode, PersonalCodeError, personalCodePrefix } from '../lib/personal-code';

describe('personal code', () => {
  it('reads province, century, sex and year from PPP G YY RRRRRR', () => {
    expect(parsePersonalCode('031303123456')).toEqual({
      code: '031303123456',
      provinceCode: '031',
      registeredAbroad: false,
      sex: 'FEMALE',
      birthYear: 2003,
      serial: '123456',
    });
    expect(parsePersonalCode('001099000001')).toMatchObject({ sex: 'MALE', birthYear: 1999 });
    expect(parsePersonalCode('046412000000')).toMatchObject({ sex: 'MALE', birthYear: 2112 });
    expect(parsePersonalCode('096901000000')).toMatchObject({ sex: 'FEMALE', birthYear: 2301 });
  });

  it('accepts a country code (not starting with 0) for births registered abroad', () => {
    expect(parsePersonalCode('840299123456')).toMatchObject({ registeredAbroad: true, provinceCode: '840', birthYear: 2099 });
  });

  it.each([
    ['12345', 'format', /exactly 12 digits.*"12345" \(5 characters\)/],
    ['03130312345a', 'format', /exactly 12 digits/],
    [' 031303123456', 'format', /exactly 12 digits/],
    ['0313031234567', 'format', /13 characters/],
    ['003303123456', 'province', /starts with "003", which is not a province code/],
    ['099303123456', 'province', /"099"/],
  ])('rejects %j, naming the %s', (input, part, message) => {
    expect(() => parsePersonalCode(input)).toThrow(message);
    try {
      parsePersonalCode(input);
    } catch (error) {
      expect(error).toBeInstanceOf(PersonalCodeError);
      expect((error as PersonalCodeError).part).toBe(part);
    }
  });

  it('rejects values that are not strings', () => {
    expect(() => parsePersonalCode(31303123456)).toThrow(/string of 12 digits; got number/);
  });

  it('builds the PPP G YY prefix for each century and sex', () => {
    expect(personalCodePrefix('001', 'MALE', 1985)).toBe('001085');
    expect(personalCodePrefix('001', 'FEMALE', 1985)).toBe('001185');
    expect(personalCodePrefix('079', 'MALE', 2024)).toBe('079224');
    expect(personalCodePrefix('079', 'FEMALE', 2205)).toBe('079705');
    expect(centuryDigit('FEMALE', 2399)).toBe(9);
    expect(() => centuryDigit('MALE', 1899)).toThrow(/outside the years/);
    expect(() => centuryDigit('MALE', 2400)).toThrow(/outside the years/);
  });

  it('reports where a record disagrees with its code, and nothing when it agrees', () => {
    const born2003 = new Date(Date.UTC(2003, 4, 1));
    expect(codeDiscrepancies('031303123456', { sex: 'FEMALE', dateOfBirth: born2003 })).toEqual([]);
    const found = codeDiscrepancies('031303123456', { sex: 'MALE', dateOfBirth: new Date(Date.UTC(2004, 0, 1)) });
    expect(found.map((d) => [d.code, d.codeSays, d.recordSays])).toEqual([
      ['SEX_MISMATCH', 'FEMALE', 'MALE'],
      ['BIRTH_YEAR_MISMATCH', '2003', '2004'],
    ]);
    expect(found[0].message).toMatch(/code says female.*record says male/);
    expect(found[1].message).toMatch(/born in 2003.*record says 2004/);
  });
});
