import { getFrom } from './gateway-process.ts';

/** Loopback addresses tried: 127.0.0.2 … 127.0.0.254 (127.0.0.1 is every other client's). */
const FIRST = 2;
const LAST = 254;

/**
 * Loopback source addresses that nginx's `hash $remote_addr consistent` sends to each of
 * `nodeIds`: `perNode` of each, found by asking nginx's `/healthz` (which names the node that
 * answered) from 127.0.0.2, 127.0.0.3… A client bound to one of them (`localAddress`) lands on
 * that node while it is up, and on the next node of the ring once it is down.
 * Rejects when some node gets fewer than `perNode` of the 253 addresses.
 */
export async function addressesByNode(nginxUrl: string, nodeIds: string[], perNode = 1): Promise<Map<string, string[]>> {
  const found = new Map(nodeIds.map((id) => [id, [] as string[]]));
  const complete = () => [...found.values()].every((list) => list.length >= perNode);
  for (let i = FIRST; i <= LAST && !complete(); i++) {
    const address = `127.0.0.${i}`;
    const { body } = await getFrom<{ nodeId: string }>(nginxUrl, '/healthz', address);
    const list = found.get(body.nodeId);
    if (list && list.length < perNode) list.push(address);
  }
  if (!complete()) {
    const counts = [...found].map(([id, list]) => `${id}: ${list.length}`).join(', ');
    throw new Error(`nginx sends fewer than ${perNode} of 127.0.0.${FIRST}-${LAST} to some node (${counts})`);
  }
  return found;
}
