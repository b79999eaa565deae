import os from 'node:os';
import path from 'node:path';
import { readConfig as gatewayConfig } from '../gateway/config';
import { readConfig as residentsConfig } from '../subgraphs/residents/config';
import { readConfig as scriptsConfig } from '../scripts/config';
import { testDatabases } from './support/databases';
import { productionGateway } from './support/service-credentials';
import type { ServiceKeyFiles } from '../tools/service-keys';

/**
 * Production cannot start insecure: each process reads its configuration once, and in production any
 * setting that would switch a defence off stops it, naming the setting. A typo in NODE_ENV counts as such a
 * setting, never as development.
 */
const { serviceUrls } = testDatabases();
let productionKeys: ServiceKeyFiles;
/** A complete, secure production configuration of the gateway (keys outside the repository). */
let GATEWAY: Record<string, string>;

beforeAll(async () => {
  const production = await productionGateway();
  GATEWAY = production.env;
  productionKeys = production.serviceKeys;
});

describe('NODE_ENV', () => {
  it.each(['prod', 'Production', 'production ', 'staging', ''])('"%s" stops every process with a message', (mode) => {
    if (mode === '') return expect(() => gatewayConfig({ ...GATEWAY, NODE_ENV: mode })).toThrow(/NODE_ENV must be exactly one of production, development, test/);
    for (const read of [() => gatewayConfig({ ...GATEWAY, NODE_ENV: mode }), () => residentsConfig({ NODE_ENV: mode }), () => scriptsConfig({ NODE_ENV: mode })]) {
      expect(read).toThrow(/NODE_ENV must be exactly one of production, development, test/);
    }
  });

  it('accepts production, development and test', () => {
    expect(gatewayConfig(GATEWAY).production).toBe(true);
    expect(gatewayConfig({ NODE_ENV: 'development' }).production).toBe(false);
    expect(gatewayConfig({ NODE_ENV: 'test' }).production).toBe(false);
  });
});

describe('the gateway in production', () => {
  it.each([
    ['AUTHENTICATION=false', { AUTHENTICATION: 'false' }, /AUTHENTICATION=false/],
    ['AUDIT_RECORDING=false', { AUDIT_RECORDING: 'off' }, /AUDIT_RECORDING=false/],
    ['token keys inside the repository', { AUTH_JWKS_FILE: path.resolve(__dirname, '../.data/keys/jwks.json') }, /AUTH_JWKS_FILE .* inside the repository/],
    ['no audit store', { AUDIT_DATABASE_URL: '' }, /AUDIT_DATABASE_URL is required in production/],
    ['the checkpoint key inside the repository', { AUDIT_CHECKPOINT_KEY_FILE: path.resolve(__dirname, '../.data/audit-checkpoints/checkpoint-key.json') }, /AUDIT_CHECKPOINT_KEY_FILE .* inside the repository/],
    ['no checkpoint file', { AUDIT_CHECKPOINT_FILE: '' }, /AUDIT_CHECKPOINT_FILE is required in production/],
  ])('refuses %s, naming it', (_what, change, message) => {
    expect(() => gatewayConfig({ ...GATEWAY, ...change })).toThrow(message);
  });

  it('names every insecure setting at once', () => {
    expect(() => gatewayConfig({ ...GATEWAY, AUTHENTICATION: 'false', AUDIT_RECORDING: 'false' })).toThrow(/AUTHENTICATION=false[\s\S]*AUDIT_RECORDING=false/);
  });

  it('lets development keep its defaults', () => {
    expect(() => gatewayConfig({ AUTHENTICATION: 'false', AUTH_JWKS_FILE: path.join(os.tmpdir(), 'x.json') })).not.toThrow();
  });
});

describe('a subgraph in production', () => {
  const subgraph = () => ({
    NODE_ENV: 'production',
    RESIDENTS_HOST: '127.0.0.1',
    RESIDENTS_SERVICE_URL: 'http://127.0.0.1:4001/graphql',
    RESIDENTS_DATABASE_URL: serviceUrls.residents.database!,
    AUDIT_DATABASE_URL: serviceUrls.residents.audit,
    SERVICE_TRUST_FILE: productionKeys.trustFile,
    SERVICE_KEY_FILE: productionKeys.keyFiles.residents,
  });
  it('starts with a complete, secure configuration', () => {
    expect(residentsConfig(subgraph()).sealed).toBe(true);
  });
  it.each([
    ['SUBGRAPH_SEALED=false', { SUBGRAPH_SEALED: 'false' }, /SUBGRAPH_SEALED=false/],
    ['AUDIT_RECORDING=false', { AUDIT_RECORDING: 'false' }, /AUDIT_RECORDING=false/],
    ['no database URL', { RESIDENTS_DATABASE_URL: '' }, /DATABASE_URL is required in production/],
  ])('refuses %s, naming it', (_what, change, message) => {
    expect(() => residentsConfig({ ...subgraph(), ...change })).toThrow(message);
  });
});
