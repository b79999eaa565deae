import { signServiceToken, verifyServiceToken } from '../lib/service-auth';
import { callerFrom } from '../lib/caller';

/** Service credentials between agencies: only a fresh token for this subgraph, signed with the shared secret, passes. */
const SECRET = 'a-test-secret-of-at-least-thirty-two-characters';
const now = Date.UTC(2026, 10, 27, 12, 0, 0);

describe('service credentials', () => {
  it('accepts a fresh token for its audience and names the calling agency', () => {
    const token = signServiceToken(SECRET, 'birth-registry', 'residents', { now });
    expect(verifyServiceToken(SECRET, token, 'residents', now + 30_000)).toEqual({
      ok: true,
      claims: { iss: 'birth-registry', aud: 'residents', iat: now / 1000, exp: now / 1000 + 60 },
    });
  });

  it('refuses another secret, another audience, an expired token, a tampered one and garbage', () => {
    const token = signServiceToken(SECRET, 'birth-registry', 'residents', { now });
    expect(verifyServiceToken('another-secret-of-at-least-thirty-two-chars', token, 'residents', now)).toMatchObject({ ok: false, problem: 'bad signature' });
    expect(verifyServiceToken(SECRET, token, 'national-id', now)).toMatchObject({ ok: false, problem: 'token is for residents' });
    expect(verifyServiceToken(SECRET, token, 'residents', now + 61_000)).toMatchObject({ ok: false, problem: 'expired' });
    expect(verifyServiceToken(SECRET, token, 'residents', now - 60_000)).toMatchObject({ ok: false, problem: 'issued in the future' });
    const [version, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, iss: 'national-id' })).toString('base64url');
    expect(verifyServiceToken(SECRET, `${version}.${forged}.${signature}`, 'residents', now)).toMatchObject({ ok: false, problem: 'bad signature' });
    expect(verifyServiceToken(SECRET, 'not-a-token', 'residents', now)).toMatchObject({ ok: false, problem: 'malformed token' });
  });

  it('a request carries a service identity only with a valid credential', () => {
    const verify = { secret: SECRET, audience: 'residents' };
    const valid = signServiceToken(SECRET, 'birth-registry', 'residents');
    expect(callerFrom({ authorization: `Service ${valid}`, 'x-actor': 'registrar:1' }, verify)).toMatchObject({ service: 'birth-registry', actor: 'registrar:1' });
    expect(callerFrom({ authorization: `Service ${valid}x` }, verify).service).toBeNull();
    expect(callerFrom({ authorization: `Bearer ${valid}` }, verify).service).toBeNull();
    expect(callerFrom({ 'x-request-id': 'drop table;' }, verify).requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(callerFrom({ 'x-request-id': 'req-42' }, verify).requestId).toBe('req-42');
  });
});
