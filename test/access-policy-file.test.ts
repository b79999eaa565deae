import fs from 'node:fs';
import { ACCESS_POLICY, ACCESS_POLICY_FILE, AccessPolicyError, readAccessPolicy } from '../lib/access/policy-file';
import { allowedClassifications } from '../lib/access/policy';
import { readersOf } from '../tools/access/readers';
import { readClassifications } from '../lib/access/schema-classification';
import { ROLES, type Principal } from '../lib/access/principal';

/**
 * The access policy is data (lib/access/access-policy.yaml): a new classification, and who may see it, is an edit
 * of that file plus a test like the one below, never code in several places; and a file that does not hold
 * together is refused whole, naming each problem, before any process serves anything.
 */
const text = fs.readFileSync(ACCESS_POLICY_FILE, 'utf8');
const principal = (role: Principal['role'], purpose: string, caseReference: string | null = null): Principal => ({
  subject: 'test:policy',
  role,
  agency: null,
  personalCode: null,
  purpose,
  caseReference,
  requestId: 'policy-test',
});

/** The repository's policy file with a HEALTH class that investigators may see under a court order only. */
const withHealth = text
  .replace(/\nclassifications:\n/, '\nclassifications:\n  HEALTH: Health insurance membership and claims.\n')
  .replace('    COURT_ORDER: [REFERENCE, BASIC_IDENTITY, RESIDENCE, RELATIONSHIPS, SENSITIVE]', '    COURT_ORDER: [REFERENCE, BASIC_IDENTITY, RESIDENCE, RELATIONSHIPS, SENSITIVE, HEALTH]');

describe('the access policy file', () => {
  it('gives every role an entry, and the policy the processes run with', () => {
    expect(Object.keys(ACCESS_POLICY.roles).sort()).toEqual([...ROLES].sort());
    expect(ACCESS_POLICY.roles.ANALYST).toEqual({ STATISTICS: ['REFERENCE', 'AGGREGATE'] });
    expect(ACCESS_POLICY.roles.CLERK.SERVICE_COUNTER).not.toContain('SENSITIVE');
    expect(allowedClassifications(principal('INVESTIGATOR', 'COURT_ORDER', 'TA-1'))).toContain('SENSITIVE');
    expect(ACCESS_POLICY.caseReferencePurposes).toEqual(['POLICE_CASE', 'COURT_ORDER']);
  });

  it('adds a class by configuration: HEALTH for investigators under a court order, and no one else', () => {
    expect(withHealth).not.toBe(text);
    const policy = readAccessPolicy(withHealth);
    expect(allowedClassifications(principal('INVESTIGATOR', 'COURT_ORDER', 'TA-1'), policy)).toContain('HEALTH');
    expect(allowedClassifications(principal('INVESTIGATOR', 'POLICE_CASE', 'PC-1'), policy)).not.toContain('HEALTH');
    expect(allowedClassifications(principal('CLERK', 'SERVICE_COUNTER'), policy)).not.toContain('HEALTH');
    expect(allowedClassifications(principal('CITIZEN', 'OWN_DATA'), policy)).not.toContain('HEALTH');
    expect(readersOf('HEALTH', policy)).toEqual([{ role: 'INVESTIGATOR', purposes: ['COURT_ORDER'] }]);
    // A subgraph's schema may then use it; with the repository's policy it is an unknown class.
    const sdl = 'type Insurance @classified(as: "HEALTH") { number: String }';
    expect(readClassifications(sdl, policy).get('Insurance.number')).toBe('HEALTH');
    expect(() => readClassifications(sdl)).toThrow(/unknown classification: HEALTH/);
  });

  it.each([
    ['a role granted a class that is not defined', (t: string) => t.replace('STATISTICS: [REFERENCE, AGGREGATE]', 'STATISTICS: [REFERENCE, AGGREGATES]'), /roles\.ANALYST\.STATISTICS: "AGGREGATES" is not a classification/],
    ['a purpose that is not defined', (t: string) => t.replace('  ANALYST:\n    STATISTICS:', '  ANALYST:\n    STATISTIC:'), /roles\.ANALYST: "STATISTIC" is not a purpose/],
    ['an unknown role', (t: string) => t.replace('  AUDITOR:\n', '  SUPERUSER:\n    AUDIT: [AUDIT]\n  AUDITOR:\n'), /roles: "SUPERUSER" is not a role/],
    ['a role without an entry', (t: string) => t.replace(/\n {2}ANALYST:\n {4}STATISTICS: \[REFERENCE, AGGREGATE\]/, ''), /roles: ANALYST has no entry/],
    ['a misspelt key', (t: string) => t.replace('adHocRoles:', 'adhocRoles:'), /unknown key "adhocRoles"/],
    ['a class the code records removed', (t: string) => t.replace(/\n {2}RESIDENCE: [^\n]*/, '').replace(/, RESIDENCE/g, ''), /classifications: RESIDENCE is missing/],
    ['a case purpose that is not a purpose', (t: string) => t.replace('caseReferencePurposes: [POLICE_CASE, COURT_ORDER]', 'caseReferencePurposes: [POLICE_CASE, COURT]'), /caseReferencePurposes: "COURT" is not a purpose/],
    ['a class without a description', (t: string) => t.replace(/\n {2}AGGREGATE: [^\n]*/, '\n  AGGREGATE: ""'), /classifications: AGGREGATE has no description/],
    ['a writer role that does not exist', (t: string) => t.replace('  roles: [REGISTRAR]', '  roles: [REGISTRAR, ROOT]'), /writers\.roles: "ROOT" is not a role/],
    ['a self-service coordinate that is not Type.field', (t: string) => t.replace('[Household.head, Household.members]', '[Household.head, "members; DROP"]'), /citizenSelfService\.deniedFields: "members; DROP" is not a coordinate/],
  ])('refuses %s, naming it', (_what, doctor, problem) => {
    const doctored = doctor(text);
    expect(doctored).not.toBe(text);
    expect(() => readAccessPolicy(doctored)).toThrow(AccessPolicyError);
    expect(() => readAccessPolicy(doctored)).toThrow(problem);
  });

  it('refuses a document that is not a mapping', () => {
    expect(() => readAccessPolicy('- just\n- a list\n')).toThrow(AccessPolicyError);
  });
});
