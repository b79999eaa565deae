import { startFederation, type GraphQLResponse, type TestFederation } from './support/federation';
import { startFaultyProxy, type FaultyProxy } from './support/faulty-proxy';
import { citizenWithEverything, openFixtures, type Fixtures } from './support/fixtures';
import { UNIFIED_CITIZEN } from './support/queries';
import { eventually } from './support/eventually';
import type { BreakerState } from '../gateway/subgraph-breaker';

/**
 * The circuit breaker of each subgraph (gateway/subgraph-breaker.ts), with a real National ID Center behind a
 * proxy that makes it refuse connections, or hang (hold every call open without an answer), on command.
 */
let f: Fixtures;
let code: string;

beforeAll(async () => {
  f = openFixtures();
  code = await citizenWithEverything(f);
});

afterAll(async () => {
  await f?.end();
});

type Unified = GraphQLResponse<any>;
const NATIONAL_ID_FIELDS = [
  ['citizen', 'identityCard'],
  ['citizen', 'identityCards'],
  ['citizen', 'legacyIdNumbers'],
];

/** The other agencies' data, and for the National ID Center's fields null with AGENCY_UNAVAILABLE, each by its path. */
function expectNationalIdMissing(response: Unified): void {
  expect(response.status).toBe(200);
  const citizen = response.data!.citizen;
  expect(citizen.personalCode).toBe(code);
  expect(citizen.fullName).toEqual(expect.any(String));
  expect(citizen.birthRegistration.registrationNumber).toEqual(expect.any(String));
  expect(citizen.identityCard).toBeNull();
  expect(response.errors!.map((e) => e.path)).toEqual(NATIONAL_ID_FIELDS);
  for (const error of response.errors!) {
    expect(error.extensions).toEqual({ code: 'AGENCY_UNAVAILABLE', reason: 'AGENCY_UNREACHABLE', agency: 'National ID Center' });
  }
}

function expectComplete(response: Unified): void {
  expect(response.errors).toBeUndefined();
  expect(response.data!.citizen.identityCard.status).toBe('VALID');
  expect(response.data!.citizen.birthRegistration.registrationNumber).toEqual(expect.any(String));
}

describe('a National ID Center that stops answering', () => {
  const FAILURES = 3;
  let federation: TestFederation;
  let proxy: FaultyProxy;
  const states: BreakerState[] = [];
  /** Calls that had reached the agency when its circuit opened. */
  let reachedWhenOpened = -1;
  /** The requests sent while the circuit is open, and their answers as they come. */
  const sent: Promise<Unified>[] = [];
  const answered = new Map<number, Unified>();

  beforeAll(async () => {
    federation = await startFederation({
      routeThrough: { 'national-id': async (url) => (proxy = await startFaultyProxy(url)).url },
      gatewayEnv: {
        // Far above the test's own limit (jest's 60 s): a request that waited for the hung agency fails the test.
        SUBGRAPH_TIMEOUT_MS: '120000',
        SUBGRAPH_BREAKER_FAILURES: String(FAILURES),
        SUBGRAPH_BREAKER_PROBE_AFTER_MS: '1000',
        // The probe's credential must still be valid when the hang ends and it reaches the agency.
        SERVICE_CREDENTIAL_TTL_S: '60',
      },
      gatewayObservers: {
        onBreakerStateChange: (subgraph, state) => {
          if (subgraph !== 'national-id') return;
          states.push(state);
          // From the moment its circuit opens the agency hangs: whatever reaches it from now on gets no answer.
          if (state === 'open' && reachedWhenOpened < 0) {
            reachedWhenOpened = proxy.received;
            proxy.mode = 'hang';
          }
        },
      },
    });
  });

  afterAll(async () => {
    await federation?.stop();
    await proxy?.stop();
  });

  it('answers in full while the agency answers; its circuit opens after calls in a row that get no answer', async () => {
    expectComplete(await federation.query<any>(UNIFIED_CITIZEN, { code }));
    expect(states).toEqual([]);

    proxy.mode = 'refuse';
    const reachedBefore = proxy.received;
    for (let call = 1; call <= FAILURES; call++) {
      expectNationalIdMissing(await federation.query<any>(UNIFIED_CITIZEN, { code }));
      expect(states).toEqual(call < FAILURES ? [] : ['open']);
    }
    expect(reachedWhenOpened - reachedBefore).toBe(FAILURES);
  });

  it('while open: every request answers at once with the others\' data, and only the probe reaches the hung agency', async () => {
    const send = () => {
      const index = sent.length;
      sent.push(federation.query<any>(UNIFIED_CITIZEN, { code }).then((response) => (answered.set(index, response), response)));
    };
    // A request every 100 ms until one, after the breaker's delay, goes through as the probe and is held by the agency.
    const held = await eventually(
      () => {
        send();
        return proxy.held;
      },
      (count) => count > 0,
      { everyMs: 100 },
    );
    expect(held).toBe(1);
    // Every other request answers without the hung agency (it holds the probe, and the subgraph timeout is 120 s).
    await eventually(() => answered.size, (count) => count === sent.length - 1);
    expect(answered.size).toBe(sent.length - 1);
    for (const response of answered.values()) expectNationalIdMissing(response);

    // While the probe waits (half-open), requests still answer at once, and none of them reaches the agency.
    const meanwhile = await Promise.all(Array.from({ length: 5 }, () => federation.query<any>(UNIFIED_CITIZEN, { code })));
    for (const response of meanwhile) expectNationalIdMissing(response);
    expect(proxy.received - reachedWhenOpened).toBe(1);
    expect(proxy.held).toBe(1);
    expect(states).toEqual(['open', 'half-open']);
  });

  it('when the agency answers again, the probe closes the circuit and its data is back', async () => {
    proxy.mode = 'pass';
    proxy.release();
    const probe = [...sent.keys()].find((index) => !answered.has(index))!;
    expectComplete(await sent[probe]);
    expect(states).toEqual(['open', 'half-open', 'closed']);
    expectComplete(await federation.query<any>(UNIFIED_CITIZEN, { code }));
  });
});

describe('a National ID Center that hangs from the start', () => {
  const FAILURES = 2;
  let federation: TestFederation;
  let proxy: FaultyProxy;
  const states: BreakerState[] = [];

  beforeAll(async () => {
    federation = await startFederation({
      routeThrough: { 'national-id': async (url) => (proxy = await startFaultyProxy(url)).url },
      gatewayEnv: {
        // Applies to every subgraph: ample for the others on a loaded machine.
        SUBGRAPH_TIMEOUT_MS: '3000',
        SUBGRAPH_BREAKER_FAILURES: String(FAILURES),
        // No probe during this test.
        SUBGRAPH_BREAKER_PROBE_AFTER_MS: '3600000',
      },
      gatewayObservers: { onBreakerStateChange: (subgraph, state) => subgraph === 'national-id' && states.push(state) },
    });
    proxy.mode = 'hang';
  });

  afterAll(async () => {
    await federation?.stop();
    await proxy?.stop();
  });

  it('counts timed-out calls: after two, the agency is no longer called', async () => {
    for (let call = 1; call <= FAILURES; call++) {
      expectNationalIdMissing(await federation.query<any>(UNIFIED_CITIZEN, { code }));
    }
    expect(states).toEqual(['open']);
    const responses = await Promise.all(Array.from({ length: 5 }, () => federation.query<any>(UNIFIED_CITIZEN, { code })));
    for (const response of responses) expectNationalIdMissing(response);
    expect(proxy.received).toBe(FAILURES);
  });
});
