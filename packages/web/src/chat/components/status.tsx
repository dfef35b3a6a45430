import { useStore } from './context.ts';
import type { ConnectionState } from '../store/chat-store.ts';

const LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  'catching-up': 'Catching up…',
  offline: 'Offline',
};

/** The connection's state, announced politely when it changes. */
export function ConnectionStatus() {
  const state = useStore().connection.value;
  return (
    <p class={`connection connection-${state}`} role="status" data-state={state}>
      <span class="dot" aria-hidden="true" />
      {LABELS[state]}
    </p>
  );
}
