import { Alert } from '../../chat/components/alert.tsx';
import { POLL_MS, type AdminConnection } from '../admin-connection.ts';
import { problemOf, problemText } from '../problem.ts';

const count = new Intl.NumberFormat();
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** The cluster at a glance: live nodes, connections and rooms, and when they were fetched. */
export function Overview({ connection }: { connection: AdminConnection }) {
  const stats = connection.stats.value;
  const updatedAt = connection.updatedAt.value;
  const error = connection.refreshError.value;
  const figures = { Nodes: stats?.nodes.length, Connections: stats?.connections, Rooms: stats?.rooms };
  return (
    <section class="card overview" aria-labelledby="overview-title">
      <h2 id="overview-title">Cluster</h2>
      <dl class="figures">
        {Object.entries(figures).map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd data-figure={name.toLowerCase()}>{value === undefined ? '–' : count.format(value)}</dd>
          </div>
        ))}
      </dl>
      <p class="hint">
        {updatedAt ? `Updated at ${time.format(updatedAt)}` : 'Not fetched yet'}, every {POLL_MS / 1000} s while connected. Connections are
        the clients connected to each node (browser tabs, apps; this console too).
      </p>
      <Alert message={error === null ? null : `The figures could not be fetched: ${problemText(problemOf(error))}`} />
      <button type="button" onClick={() => void connection.refresh()}>
        Refresh now
      </button>
    </section>
  );
}

/** Every live node with the connections it holds. */
export function NodesTable({ connection }: { connection: AdminConnection }) {
  const nodes = [...(connection.stats.value?.nodes ?? [])].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  return (
    <section class="card" aria-labelledby="nodes-title">
      <h2 id="nodes-title">Nodes</h2>
      <CountTable labelledBy="nodes-title" heads={['Node', 'Connections']} rows={nodes.map((n) => [n.nodeId, n.connections])} />
      {nodes.length === 0 && <p class="hint">No live node reported yet.</p>}
    </section>
  );
}

/** The rooms with members, cluster-wide, in name order, a page at a time. */
export function RoomsTable({ connection }: { connection: AdminConnection }) {
  const list = connection.rooms.value;
  const page = connection.pageNumber.value;
  return (
    <section class="card" aria-labelledby="rooms-title">
      <h2 id="rooms-title">Rooms</h2>
      <CountTable labelledBy="rooms-title" heads={['Room', 'Users']} rows={list?.rooms.map((r) => [r.room, r.count]) ?? []} />
      <p class="hint">
        {list && list.rooms.length === 0 ? 'No room has anyone in it on this page. ' : ''}
        In name order; users are counted once however many connections they have.
      </p>
      <nav class="pager" aria-label="Pages of rooms">
        <button type="button" disabled={page === 1} onClick={() => connection.previousRoomsPage()}>
          Previous
        </button>
        <span>Page {page}</span>
        <button type="button" disabled={!list?.hasMore} onClick={() => connection.nextRoomsPage()}>
          Next
        </button>
      </nav>
    </section>
  );
}

/** A table of names (row headers) and counts, named by the heading `labelledBy`. */
function CountTable({ labelledBy, heads, rows }: { labelledBy: string; heads: [string, string]; rows: [string, number][] }) {
  return (
    <table aria-labelledby={labelledBy}>
      <thead>
        <tr>
          <th scope="col">{heads[0]}</th>
          <th scope="col" class="number">
            {heads[1]}
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([name, value]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td class="number">{count.format(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
