import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@parley/config';

/** A production-grade secret: random, made now (one written here would be public). */
const RANDOM_SECRET = randomBytes(24).toString('base64url');
/** `loadConfig` with a secret: without one it would write a generated secret under ./.data. */
const load = (env: Record<string, string>) => loadConfig({ JWT_SECRET: RANDOM_SECRET, ...env });

describe('loadConfig', () => {
  it('fills in the documented defaults', () => {
    const config = load({});
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      host: '0.0.0.0',
      database: { url: undefined, poolSize: 10 },
      redis: { url: undefined, adapter: 'sharded' },
      jwt: { expiresIn: '12h' },
      corsOrigin: ['http://localhost:3000'],
      socket: { maxHttpBufferSize: 65_536 },
      rateLimit: { perSecond: 10, burst: 20 },
      trustProxy: ['127.0.0.1', '::1'],
      limits: {
        httpPerMinute: 1000,
        auth: { perIp: 60, perUsername: 10, windowSec: 900 },
        user: { points: 200, windowSec: 10 },
        passwords: { concurrency: 2, queueMax: 32 },
      },
      migrateOnStart: true,
      metrics: { enabled: true, token: undefined },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses production without JWT_SECRET', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: RANDOM_SECRET }).jwt.secret).toBe(RANDOM_SECRET);
  });

  it('lists every bad variable at once', () => {
    let message = '';
    try {
      loadConfig({ PORT: 'eighty', SCRYPT_COST: '1000', JWT_SECRET: 'short' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    for (const name of ['PORT', 'SCRYPT_COST', 'JWT_SECRET']) expect(message).toContain(name);
  });

  it('requires ADMIN_USERNAME and ADMIN_PASSWORD together', () => {
    expect(() => load({ ADMIN_USERNAME: 'root' })).toThrow(ConfigError);
    expect(load({ ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'password' }).admin).toEqual({ username: 'root', password: 'password' });
  });

  it('holds the admin account to the rules of registration, so it can log in', () => {
    expect(() => load({ ADMIN_USERNAME: 'the admin', ADMIN_PASSWORD: 'password' })).toThrow(/ADMIN_USERNAME/);
    expect(() => load({ ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'short' })).toThrow(/ADMIN_PASSWORD/);
  });

  it('parses TRUST_PROXY: addresses and CIDRs, a hop count, true or false; refuses anything else', () => {
    expect(load({ TRUST_PROXY: '10.0.0.0/8, 192.0.2.7,fd00::/8' }).trustProxy).toEqual(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);
    expect(load({ TRUST_PROXY: 'loopback,uniquelocal' }).trustProxy).toEqual(['loopback', 'uniquelocal']);
    expect(load({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(load({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(load({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    for (const bad of ['nginx', '10.0.0.0/33', '300.1.1.1', '-1', '1.5', ' ', '10.0.0.1,']) {
      expect(() => load({ TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY/);
    }
  });

  it('parses CLIENT_URL as a list of origins or *', () => {
    expect(load({ CLIENT_URL: 'http://a.example, http://b.example' }).corsOrigin).toEqual(['http://a.example', 'http://b.example']);
    expect(load({ CLIENT_URL: '*' }).corsOrigin).toBe('*');
  });

  it('treats an empty DATABASE_URL as unset (embedded database)', () => {
    expect(load({ DATABASE_URL: '' }).database.url).toBeUndefined();
    expect(() => load({ DATABASE_URL: 'not a url' })).toThrow(ConfigError);
  });

  it('reads METRICS_ENABLED and METRICS_TOKEN: a token of 16+ characters, empty = unset, none while metrics are off', () => {
    const token = randomBytes(16).toString('hex');
    expect(load({ METRICS_TOKEN: token }).metrics).toEqual({ enabled: true, token });
    expect(load({ METRICS_TOKEN: '' }).metrics).toEqual({ enabled: true, token: undefined });
    expect(load({ METRICS_ENABLED: 'false' }).metrics).toEqual({ enabled: false, token: undefined });
    expect(() => load({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(() => load({ METRICS_ENABLED: 'maybe' })).toThrow(/METRICS_ENABLED/);
    expect(() => load({ METRICS_ENABLED: 'false', METRICS_TOKEN: token })).toThrow(/METRICS_TOKEN is set but METRICS_ENABLED=false/);
  });
});
