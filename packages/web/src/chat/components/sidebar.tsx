import { Alert } from './alert.tsx';
import { useState } from 'preact/hooks';
import { navigate, type Route } from '../router.ts';
import { useStore } from './context.ts';
import { Link } from './link.tsx';
import { useErrorAlert } from './use-error.ts';

/** A room or a conversation: its unread count as a badge, and in the link's accessible name ("lobby, 3 unread"). */
function NavItem({ to, name, text, unread }: { to: Route; name: string; text: string; unread: number }) {
  return (
    <li>
      <Link to={to} label={unread > 0 ? `${name}, ${unread} unread` : name}>
        <span>{text}</span>
        {unread > 0 && (
          <span class="badge" aria-hidden="true">
            {unread}
          </span>
        )}
      </Link>
    </li>
  );
}

/** Join a room by name; it opens once joined. `id`: its field's (the form is on the sidebar and the home page). */
export function JoinRoomForm({ id }: { id: string }) {
  const store = useStore();
  const [name, setName] = useState('');
  const { error, setError, report } = useErrorAlert();
  return (
    <form
      class="join"
      onSubmit={(e) => {
        e.preventDefault();
        const room = name.trim();
        if (!room) return;
        setError(null);
        report(
          store.joinRoom(room).then((joined) => {
            setName('');
            navigate({ page: 'room', room: joined.name });
          }),
        );
      }}
    >
      <label for={id}>Join a room</label>
      <div class="row">
        <input
          id={id}
          placeholder="lobby"
          maxLength={64}
          value={name}
          aria-describedby={error ? `${id}-error` : undefined}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <button type="submit">Join</button>
      </div>
      <Alert message={error} id={`${id}-error`} />
    </form>
  );
}

/** Joined rooms and conversations with their unread counts, and the posts page. */
export function Sidebar({ onNavigate }: { onNavigate: () => void }) {
  const store = useStore();
  return (
    <div class="sidebar-content" onClick={(e) => (e.target as HTMLElement).closest('a') && onNavigate()}>
      <JoinRoomForm id="join-room" />
      <h2 id="rooms-title">Rooms</h2>
      <ul aria-labelledby="rooms-title" class="nav-list">
        {store.rooms.value.map((room) => (
          <NavItem
            key={room.name}
            to={{ page: 'room', room: room.name }}
            name={room.name}
            text={`# ${room.name}`}
            unread={room.cursor.unread.value}
          />
        ))}
      </ul>
      {store.rooms.value.length === 0 && <p class="hint">No rooms yet: join one above.</p>}
      <h2 id="conversations-title">Messages</h2>
      <ul aria-labelledby="conversations-title" class="nav-list">
        {store.conversations.value.map((c) => (
          <NavItem
            key={c.userId}
            to={{ page: 'dm', userId: c.userId }}
            name={c.username}
            text={c.username}
            unread={c.cursor.unread.value}
          />
        ))}
      </ul>
      {store.conversations.value.length === 0 && <p class="hint">Message someone from a room’s people list.</p>}
      <h2 id="more-title" class="visually-hidden">
        More
      </h2>
      <ul aria-labelledby="more-title" class="nav-list">
        <li>
          <Link to={{ page: 'feed' }}>Posts</Link>
        </li>
      </ul>
    </div>
  );
}
