/**
 * The accounting of a chaos run, from what the clients saw and what the database holds. Pure:
 * no clock, no I/O, so that it can be checked on made-up runs (test/verify.test.ts). Keyed on
 * message ids, texts (every send's text is unique) and clientIds only.
 */

/** One `send()` of a client, from its call to its outcome. */
export interface SendRecord {
  client: number;
  room: string;
  /** Unique in the run: `<client>:<seq>`. */
  text: string;
  /** The id `send()` resolved with: the server acked it `ok`. */
  id?: number;
  /** Why `send()` rejected (a ParleyClientError's code, or the error's message). */
  error?: string;
  /** Every clientId the client put on the wire for this send, one per attempt (see `attempts`). */
  clientIds: string[];
}

/** A row of the `messages` table. */
export interface StoredRow {
  id: number;
  room: string;
  authorId: number;
  clientId: string | null;
  text: string;
}

/** What one client's `onMessage` handed over, by message id. */
export interface Received {
  client: number;
  room: string;
  /** How many times each id was handed over. */
  counts: ReadonlyMap<number, number>;
}

export interface Verdict {
  sends: {
    total: number;
    acked: number;
    failed: number;
    /** Failed sends by reason. */
    failedBy: Record<string, number>;
    /** Failed sends whose message is stored all the same (in flight when the client gave up). */
    failedButStored: number;
    /** Sends put on the wire more than once (a lost ack or `unavailable`), and how they ended. */
    retried: number;
    retriedAcked: number;
    retriedFailed: number;
    /** Most attempts of one send. */
    maxAttempts: number;
    /** Sends whose attempts carried different clientIds (a retry must reuse it). */
    clientIdChanged: number;
    /** Stored rows whose clientId is not the one their send carried. */
    clientIdMismatch: number;
  };
  stored: number;
  /** Acked sends whose id is not stored with their text. */
  lost: number;
  /** Stored rows beyond the first of one send (same text), or of one (author, clientId). */
  duplicated: number;
  /** Stored rows that no send of the run produced. */
  phantom: number;
  deliveries: {
    /** Stored messages × the members of their room. */
    expected: number;
    /** Expected deliveries that never came. */
    missing: number;
    /** Deliveries of an id beyond its first, per client. */
    duplicated: number;
    /** Deliveries of ids that are not stored messages of the client's room. */
    unexpected: number;
    /** Clients that got every stored message of their room. */
    completeClients: number;
  };
  /** A few concrete cases of each problem, to start debugging from. */
  examples: string[];
  ok: boolean;
}

const EXAMPLES_PER_KIND = 5;

/** Stored ids per room. */
export function storedIdsByRoom(rows: StoredRow[]): Map<string, Set<number>> {
  const byRoom = new Map<string, Set<number>>();
  for (const row of rows) {
    let ids = byRoom.get(row.room);
    if (!ids) byRoom.set(row.room, (ids = new Set()));
    ids.add(row.id);
  }
  return byRoom;
}

/**
 * Every acked send stored exactly once (its id, its text); no two rows of one send or one
 * (author, clientId); every retry with the send's one clientId; every member handed every
 * stored message of its room exactly once.
 */
export function verifyRun(sends: SendRecord[], rows: StoredRow[], received: Received[]): Verdict {
  const examples: string[] = [];
  const counted = new Map<string, number>();
  const example = (kind: string, detail: string) => {
    const n = counted.get(kind) ?? 0;
    counted.set(kind, n + 1);
    if (n < EXAMPLES_PER_KIND) examples.push(`${kind}: ${detail}`);
  };

  const bySend = new Map<string, SendRecord>(sends.map((s) => [s.text, s]));
  const rowsByText = new Map<string, StoredRow[]>();
  const byAuthorClientId = new Set<string>();
  let duplicated = 0;
  let phantom = 0;
  for (const row of rows) {
    const same = rowsByText.get(row.text) ?? [];
    same.push(row);
    rowsByText.set(row.text, same);
    const key = row.clientId === null ? undefined : `${row.authorId}/${row.clientId}`;
    const repeatsKey = key !== undefined && byAuthorClientId.has(key);
    if (key !== undefined) byAuthorClientId.add(key);
    if (same.length > 1 || repeatsKey) {
      duplicated++;
      example('duplicated', `row ${row.id} "${row.text}" (author ${row.authorId}, clientId ${row.clientId})`);
    }
    if (!bySend.has(row.text)) {
      phantom++;
      example('phantom', `row ${row.id} "${row.text}" was sent by no client of the run`);
    }
  }

  const s: Verdict['sends'] = {
    total: sends.length,
    acked: 0,
    failed: 0,
    failedBy: {},
    failedButStored: 0,
    retried: 0,
    retriedAcked: 0,
    retriedFailed: 0,
    maxAttempts: 0,
    clientIdChanged: 0,
    clientIdMismatch: 0,
  };
  let lost = 0;
  for (const send of sends) {
    const stored = rowsByText.get(send.text) ?? [];
    const attempts = send.clientIds.length;
    s.maxAttempts = Math.max(s.maxAttempts, attempts);
    if (attempts > 1) s.retried++;
    const clientIds = new Set(send.clientIds);
    if (clientIds.size > 1) {
      s.clientIdChanged++;
      example('clientId changed', `"${send.text}" went out with ${[...clientIds].join(', ')}`);
    }
    for (const row of stored) {
      if (row.clientId === null || !clientIds.has(row.clientId)) {
        s.clientIdMismatch++;
        example(
          'clientId mismatch',
          `row ${row.id} "${row.text}" stored with clientId ${row.clientId}, sent with ${[...clientIds].join(', ')}`,
        );
      }
    }
    if (send.id !== undefined) {
      s.acked++;
      if (attempts > 1) s.retriedAcked++;
      if (!stored.some((row) => row.id === send.id && row.room === send.room)) {
        lost++;
        example('lost', `"${send.text}" acked as ${send.id}, stored as [${stored.map((r) => r.id).join(', ')}]`);
      }
    } else {
      s.failed++;
      if (attempts > 1) s.retriedFailed++;
      const reason = send.error ?? 'unknown';
      s.failedBy[reason] = (s.failedBy[reason] ?? 0) + 1;
      if (stored.length > 0) s.failedButStored++;
    }
  }

  const byRoom = storedIdsByRoom(rows);
  const d: Verdict['deliveries'] = { expected: 0, missing: 0, duplicated: 0, unexpected: 0, completeClients: 0 };
  for (const member of received) {
    const expected = byRoom.get(member.room) ?? new Set<number>();
    d.expected += expected.size;
    let missing = 0;
    for (const id of expected) {
      if (!member.counts.has(id)) {
        missing++;
        example('missing', `client ${member.client} (${member.room}) never got ${id}`);
      }
    }
    d.missing += missing;
    if (missing === 0) d.completeClients++;
    for (const [id, n] of member.counts) {
      if (n > 1) {
        d.duplicated += n - 1;
        example('delivered twice', `client ${member.client} got ${id} ${n} times`);
      }
      if (!expected.has(id)) {
        d.unexpected += n;
        example('unexpected', `client ${member.client} (${member.room}) got ${id}, not a stored message of its room`);
      }
    }
  }

  for (const [kind, n] of counted) if (n > EXAMPLES_PER_KIND) examples.push(`${kind}: … ${n - EXAMPLES_PER_KIND} more`);
  const ok =
    lost === 0 &&
    duplicated === 0 &&
    phantom === 0 &&
    s.clientIdChanged === 0 &&
    s.clientIdMismatch === 0 &&
    d.missing === 0 &&
    d.duplicated === 0 &&
    d.unexpected === 0;
  return { sends: s, stored: rows.length, lost, duplicated, phantom, deliveries: d, examples, ok };
}
