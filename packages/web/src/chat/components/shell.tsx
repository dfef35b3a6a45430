import { useEffect, useMemo, useState } from 'preact/hooks';
import { route } from '../router.ts';
import { signOut, type Session } from '../session.ts';
import { ChatStore } from '../store/chat-store.ts';
import { StoreContext } from './context.ts';
import { DmPage } from './dm-page.tsx';
import { FeedPage } from './feed-page.tsx';
import { NotificationBell, NotificationsPanel } from './notifications.tsx';
import { RoomPage } from './room-page.tsx';
import { JoinRoomForm, Sidebar } from './sidebar.tsx';
import { ConnectionStatus } from './status.tsx';

/** The signed-in app: header (connection, bell, account), the rooms and conversations, and the page. */
export function Shell({ session }: { session: Session }) {
  const store = useMemo(() => new ChatStore(session), [session.user.id]);
  useEffect(() => () => store.close(), [store]);
  const [menuOpen, setMenuOpen] = useState(false);
  const [panelOpen, setPanelOpen] = useState(false);
  const current = route.value;

  useEffect(() => {
    const title =
      current.page === 'room' ? `# ${current.room}` : current.page === 'dm' ? 'Messages' : current.page === 'feed' ? 'Posts' : 'Home';
    document.title = `${title} · Parley`;
  }, [current]);

  return (
    <StoreContext.Provider value={store}>
      <div class="shell">
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="topbar">
          <button type="button" class="menu-toggle" aria-expanded={menuOpen} aria-controls="sidebar" onClick={() => setMenuOpen(!menuOpen)}>
            Menu
          </button>
          <h1 class="brand">Parley</h1>
          <ConnectionStatus />
          <NotificationBell open={panelOpen} onToggle={() => setPanelOpen(!panelOpen)} />
          <p class="account">
            <span class="who">{session.user.username}</span>
            <button type="button" class="small" onClick={() => signOut()}>
              Sign out
            </button>
          </p>
        </header>
        {store.announcement.value && (
          <p class="announcement" role="status">
            {store.announcement.value}{' '}
            <button type="button" class="small" onClick={() => (store.announcement.value = null)}>
              Dismiss
            </button>
          </p>
        )}
        <nav id="sidebar" class={menuOpen ? 'sidebar open' : 'sidebar'} aria-label="Rooms and conversations">
          <Sidebar onNavigate={() => setMenuOpen(false)} />
        </nav>
        <main id="main" tabIndex={-1}>
          {panelOpen && <NotificationsPanel onClose={() => setPanelOpen(false)} />}
          {current.page === 'room' ? (
            <RoomPage name={current.room} />
          ) : current.page === 'dm' ? (
            <DmPage userId={current.userId} />
          ) : current.page === 'feed' ? (
            <FeedPage />
          ) : (
            <Home name={session.user.username} />
          )}
        </main>
      </div>
    </StoreContext.Provider>
  );
}

function Home({ name }: { name: string }) {
  return (
    <section class="page home" aria-labelledby="page-title">
      <h2 id="page-title">Welcome, {name}</h2>
      <p>Join a room to start chatting: everyone in it sees your messages live, on any device.</p>
      <JoinRoomForm id="home-join-room" />
      <p class="hint">Open Parley in a second window, sign in as someone else, and join the same room to chat between them.</p>
    </section>
  );
}
