import { useEffect, useMemo } from 'preact/hooks';
import { AdminConnection, type ConnectionState } from '../admin-connection.ts';
import { logOut, type AdminSession } from '../session.ts';
import { AnnounceForm, DisconnectForm } from './actions.tsx';
import { NodesTable, Overview, RoomsTable } from './figures.tsx';

const LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  ended: 'Disconnected by the server',
};

/** The logged-in console: the connection's state and the admin, the figures, the actions. */
export function Dashboard({ session }: { session: AdminSession }) {
  const connection = useMemo(() => new AdminConnection(session), [session.token]);
  useEffect(() => () => connection.close(), [connection]);
  const state = connection.state.value;

  return (
    <div class="console">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="console-top">
        <h1>Parley console</h1>
        <p class={`connection connection-${state}`} role="status">
          <span class="dot" aria-hidden="true" />
          {LABELS[state]}
        </p>
        {state === 'ended' && (
          <button type="button" class="small" onClick={() => connection.reconnect()}>
            Reconnect
          </button>
        )}
        <p class="account">
          <span>
            Logged in as <strong>{session.user.username}</strong>
          </span>
          <button type="button" class="small" onClick={() => logOut()}>
            Log out
          </button>
        </p>
      </header>
      <main id="main" tabIndex={-1} class="console-main">
        <Overview connection={connection} />
        <NodesTable connection={connection} />
        <RoomsTable connection={connection} />
        <AnnounceForm connection={connection} />
        <DisconnectForm connection={connection} token={session.token} />
      </main>
    </div>
  );
}
