import fp from 'fastify-plugin';
import type { Config } from '@parley/config';
import { createRepositories, openDatabase, type Account, type Database, type Repositories } from '@parley/db';
import { ensureAdmin } from '../domain/admin.ts';
import { GroupCommit } from '../domain/group-commit.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Database;
    repos: Repositories;
    /**
     * Users by id, batched: look-ups made while one is in flight share the next query (the
     * token check, a private message's recipient). null: no such user.
     */
    userLookup: GroupCommit<number, Account | null>;
  }
}

/** Opens PostgreSQL or the embedded database, migrates, bootstraps the admin; closes last. */
export const dbPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const db = await openDatabase({
      ...config.database,
      onIdleError: (err) => app.log.warn({ err }, 'database: an idle connection failed (replaced when needed)'),
    });
    app.addHook('onClose', () => db.close());
    if (config.migrateOnStart) {
      const report = await db.migrate();
      app.log.info({ applied: report.applied, modified: report.modified, database: db.kind }, 'migrations checked');
    }
    const repos = createRepositories(db);
    if (config.admin) {
      const admin = await ensureAdmin(repos.users, config.admin, app.passwords);
      app.log.info({ userId: admin.id, username: admin.username }, 'admin account ready');
    }
    app.decorate('db', db);
    app.decorate('repos', repos);
    const userLookup: GroupCommit<number, Account | null> = new GroupCommit((ids) => repos.users.findByIds(ids), {
      retryAlone: false,
      ...config.writeQueue,
      onWrite: app.metrics?.batching('user_lookups', () => userLookup.pending),
    });
    app.decorate('userLookup', userLookup);
  },
  { name: 'db', dependencies: ['metrics'] },
);
