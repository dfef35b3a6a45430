import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { openDatabase } from '@parley/db';
import { ParleyError } from '@parley/protocol';
import { toParleyError } from '../src/domain/errors.ts';

/** What a real query raises on `url`, through node-postgres and through Prisma. */
async function failures(url: string, sql: string): Promise<unknown[]> {
  const db = await openDatabase({ url, poolSize: 1, dataDir: '' });
  try {
    return await Promise.all([
      db.sql.query(sql).then(
        () => new Error(`${sql} succeeded`),
        (err: unknown) => err,
      ),
      db.prisma.$queryRawUnsafe(sql).then(
        () => new Error(`${sql} succeeded`),
        (err: unknown) => err,
      ),
    ]);
  } finally {
    await db.close();
  }
}

const code = (err: unknown) => toParleyError(err).code;

describe('toParleyError: one mapping for HTTP, acks and handshakes', () => {
  it('a database that does not exist or a server that is not there: unavailable', async () => {
    const missing = new URL(inject('postgresUrl'));
    missing.pathname = '/parley_no_such_database';
    expect((await failures(missing.toString(), 'SELECT 1')).map(code)).toEqual(['unavailable', 'unavailable']);

    // A port nobody listens on: bound, read back, closed.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    expect((await failures(`postgresql://root@127.0.0.1:${port}/postgres`, 'SELECT 1')).map(code)).toEqual(['unavailable', 'unavailable']);
  });

  it('a query that fails inside a working database, or any other error: internal_error', async () => {
    const broken = await failures(inject('postgresUrl'), 'SELECT no_such_column FROM pg_class');
    expect(broken.map(code)).toEqual(['internal_error', 'internal_error']);
    expect(code(new TypeError('x is undefined'))).toBe('internal_error');
    expect(code('a string')).toBe('internal_error');
  });

  it('a ParleyError keeps its code', () => {
    expect(code(new ParleyError('forbidden'))).toBe('forbidden');
    expect(toParleyError(new ParleyError('not_found', 'No post 7')).toBody()).toEqual({ code: 'not_found', message: 'No post 7' });
  });
});
