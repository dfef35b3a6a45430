/**
 * `pnpm bench:message-write`: what storing a chat message costs PostgreSQL, per message, for
 * the statement the gateway runs (MessageRepository.insertMany), at a given batch size. It
 * writes `--messages` messages in batches of `--batch` over 20 rooms from one connection, one
 * batch after the other (as one node's group commit does at a low rate), and reads the CPU time
 * of the database's PostgreSQL processes from /proc before and after (its backends and the WAL
 * writer, as the load tool counts them).
 *
 *   pnpm bench:message-write [--batch 1] [--messages 4000] [--repeat 3]
 */
import { parseArgs } from 'node:util';
import { createRepositories, openDatabase } from '@parley/db';
import { createTestDatabase, provideServices } from '@parley/devcluster';
import { cpuWindow, findPostgresPids } from '@parley/loadgen';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '1' },
    messages: { type: 'string', default: '4000' },
    repeat: { type: 'string', default: '3' },
  },
});
const batch = Number(values.batch);
const total = Number(values.messages);
const repeat = Number(values.repeat);

const services = await provideServices();
const database = await createTestDatabase(services.postgresUrl, 'parley_bench_write');
const db = await openDatabase({ url: database.url, poolSize: 1, dataDir: '' });
try {
  await db.migrate();
  const repos = createRepositories(db);
  const users = await Promise.all(Array.from({ length: 100 }, (_, i) => repos.users.create(`w${i}`, 'x')));
  const results: number[] = [];
  for (let run = 1; run <= repeat; run++) {
    const cpu = cpuWindow([{ label: 'postgres', pids: () => findPostgresPids(database.name) }]);
    const started = process.hrtime.bigint();
    for (let sent = 0; sent < total; sent += batch) {
      await repos.messages.insertMany(
        Array.from({ length: batch }, (_, i) => ({
          room: `room-${(sent + i) % 20}`,
          authorId: users[(sent + i) % users.length]!.id,
          text: `message ${sent + i} of run ${run}`,
          createdAt: new Date(),
          clientId: `r${run}-${sent + i}`,
        })),
      );
    }
    const wall = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuMicrosPerMessage = (cpu.stop()[0]!.cpuSeconds * 1e6) / total;
    results.push(cpuMicrosPerMessage);
    process.stderr.write(
      `[message-write] run ${run}: ${total} messages in batches of ${batch}, ${(total / wall).toFixed(0)} messages/s, ` +
        `PostgreSQL ${cpuMicrosPerMessage.toFixed(1)} µs CPU per message\n`,
    );
  }
  const median = [...results].sort((a, b) => a - b)[Math.floor(results.length / 2)]!;
  process.stdout.write(`batch ${batch}: PostgreSQL CPU per stored message, median of ${repeat}: ${median.toFixed(1)} µs\n`);
} finally {
  await db.close();
  await database.drop();
}
