import type { AdminConnection } from '../admin-connection.ts';
import { POLL_MS } from '../admin-connection.ts';
import { problemOf } from '../problem.ts';
import { ProblemAlert } from './feedback.tsx';

const count = new Intl.NumberFormat();
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** The cluster at a glance: live nodes, connections and rooms, and when they were fetched. */
export function Overview({ connection }: { connection: AdminConnection }) {
  const stats = connection.stats.value;
  const updatedAt = connection.updatedAt.value;
  const error = connection.refreshError.value;
  return (
    <section class="card overview" aria-labelledby="overview-title">
      <h2 id="overview-title">Cluster</h2>
      <dl class="figures">
        <div>
          <dt>Nodes</dt>
          <dd data-figure="nodes">{stats ? count.format(stats.nodes.length) : '–'}</dd>
        </div>
        <div>
          <dt>Connections</dt>
          <dd data-figure="connections">{stats ? count.format(stats.connections) : '–'}</dd>
        </div>
        <div>
          <dt>Rooms</dt>
          <dd data-figure="rooms">{stats ? count.format(stats.rooms) : '–'}</dd>
        </div>
      </dl>
      <p class="hint">
        {updatedAt ? `Updated at ${time.format(updatedAt)}` : 'Not fetched yet'}, every {POLL_MS / 1000} s while connected. Connections are
        the clients connected to each node (browser tabs, apps; this console too).
      </p>
      {error !== null && <ProblemAlert problem={problemOf(error)} prefix="The figures could not be fetched: " />}
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
      <table aria-labelledby="nodes-title">
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col" class="number">
              Connections
            </th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((node) => (
            <tr key={node.nodeId}>
              <th scope="row">{node.nodeId}</th>
              <td class="number">{count.format(node.connections)}</td>
            </tr>
          ))}
        </tbody>
      </table>
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
      <table aria-labelledby="rooms-title" aria-describedby="rooms-hint">
        <thead>
          <tr>
            <th scope="col">Room</th>
            <th scope="col" class="number">
              Users
            </th>
          </tr>
        </thead>
        <tbody>
          {list?.rooms.map(({ room, count: users }) => (
            <tr key={room}>
              <th scope="row">{room}</th>
              <td class="number">{count.format(users)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p id="rooms-hint" class="hint">
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
