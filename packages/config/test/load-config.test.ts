import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@parley/config';

describe('loadConfig', () => {
  it('fills in the documented defaults', () => {
    const config = loadConfig({});
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
      migrateOnStart: true,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses production without JWT_SECRET', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'a-long-enough-secret' }).jwt.secret).toBe('a-long-enough-secret');
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
    expect(() => loadConfig({ ADMIN_USERNAME: 'root' })).toThrow(ConfigError);
    expect(loadConfig({ ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'password' }).admin).toEqual({ username: 'root', password: 'password' });
  });

  it('holds the admin account to the rules of registration, so it can log in', () => {
    expect(() => loadConfig({ ADMIN_USERNAME: 'the admin', ADMIN_PASSWORD: 'password' })).toThrow(/ADMIN_USERNAME/);
    expect(() => loadConfig({ ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'short' })).toThrow(/ADMIN_PASSWORD/);
  });

  it('parses CLIENT_URL as a list of origins or *', () => {
    expect(loadConfig({ CLIENT_URL: 'http://a.example, http://b.example' }).corsOrigin).toEqual(['http://a.example', 'http://b.example']);
    expect(loadConfig({ CLIENT_URL: '*' }).corsOrigin).toBe('*');
  });

  it('treats an empty DATABASE_URL as unset (embedded database)', () => {
    expect(loadConfig({ DATABASE_URL: '' }).database.url).toBeUndefined();
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(ConfigError);
  });
});
