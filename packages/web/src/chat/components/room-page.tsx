import { Alert } from './alert.tsx';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { navigate } from '../router.ts';
import type { RoomState } from '../store/room.ts';
import { Composer } from './composer.tsx';
import { useStore } from './context.ts';
import { MessageList, type ListItem } from './message-list.tsx';
import { PendingPage } from './pending-page.tsx';
import { useErrorAlert } from './use-error.ts';

/** "alice is typing…", "alice and bob are typing…", "3 people are typing…". */
export function typingText(users: string[]): string {
  if (users.length === 0) return '';
  if (users.length === 1) return `${users[0]} is typing…`;
  if (users.length === 2) return `${users[0]} and ${users[1]} are typing…`;
  return `${users.length} people are typing…`;
}

/** A room: its messages (history, live, system), who is in it, who is typing, and the message box. */
export function RoomPage({ name }: { name: string }) {
  const store = useStore();
  const room = store.room(name);
  const { error, setError, report } = useErrorAlert();

  // Opened by a link or a reload before it was joined: join it.
  useEffect(() => {
    if (room) return;
    setError(null);
    report(store.joinRoom(name));
  }, [name, room, store, setError, report]);

  if (!room) return <PendingPage title={`# ${name}`} waiting={`Joining ${name}…`} error={error && `Could not join ${name}: ${error}`} />;
  return <JoinedRoom key={room.name} room={room} />;
}

function JoinedRoom({ room }: { room: RoomState }) {
  const store = useStore();
  const [showMembers, setShowMembers] = useState(false);
  const { error, report } = useErrorAlert();
  useEffect(() => {
    report(store.opened(room));
  }, [room, store, report, room.timeline.value.length]);
  const loadOlder = useCallback(() => report(store.loadHistory(room)), [room, store, report]);
  const onBottom = useCallback((atBottom: boolean) => store.seen(room, atBottom), [room, store]);

  const items = room.timeline.value.map((entry): ListItem =>
    entry.kind === 'system'
      ? { key: entry.key, text: entry.text, timestamp: entry.timestamp }
      : {
          key: entry.key,
          author: entry.message.username,
          text: entry.message.text,
          timestamp: entry.message.timestamp,
          mine: entry.message.userId === store.me.id,
        },
  );
  const members = room.members.value;

  return (
    <section class="page room" aria-labelledby="page-title">
      <header class="page-header">
        <h2 id="page-title"># {room.name}</h2>
        <button
          type="button"
          aria-expanded={showMembers}
          aria-controls="members"
          class="members-toggle"
          onClick={() => setShowMembers(!showMembers)}
        >
          People ({room.memberCount.value})
        </button>
        <button
          type="button"
          onClick={() => {
            report(store.leaveRoom(room).then(() => navigate({ page: 'home' })));
          }}
        >
          Leave room
        </button>
      </header>
      <Alert message={error} />
      <div class="room-body">
        <div class="conversation">
          <MessageList
            label={`Messages in ${room.name}`}
            items={items}
            hasOlder={room.hasOlder.value}
            loadingOlder={room.loadingOlder.value}
            onLoadOlder={loadOlder}
            onBottom={onBottom}
            empty="No messages yet. Say hello!"
          />
          <p class="typing" aria-live="polite">
            {typingText(room.typing.value)}
          </p>
          <Composer label={`Message ${room.name}`} onSend={(text) => store.send(room, text)} onTyping={() => store.typing(room.name)} />
        </div>
        <aside id="members" class={showMembers ? 'members open' : 'members'} aria-label={`People in ${room.name}`}>
          <h3>
            People in {room.name} <span class="count">({room.memberCount.value})</span>
          </h3>
          <ul>
            {members.map((username) => (
              <li key={username}>
                <span>{username}</span>
                {username === store.me.username ? (
                  <span class="hint"> (you)</span>
                ) : (
                  <button
                    type="button"
                    class="small"
                    aria-label={`Message ${username}`}
                    onClick={() => {
                      report(store.conversationWith(username).then((c) => navigate({ page: 'dm', userId: c.userId })));
                    }}
                  >
                    Message
                  </button>
                )}
              </li>
            ))}
          </ul>
          {room.memberCount.value > members.length && <p class="hint">and {room.memberCount.value - members.length} more</p>}
        </aside>
      </div>
    </section>
  );
}
