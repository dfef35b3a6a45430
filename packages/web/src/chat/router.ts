import { signal } from '@preact/signals';

/** What the main pane shows: a room, a conversation with a user, the posts, or the start page. */
export type Route = { page: 'home' } | { page: 'room'; room: string } | { page: 'dm'; userId: number } | { page: 'feed' };

/**
 * The app's pages are real paths (a reload or a shared link opens the same page; the gateway
 * answers every such navigation with the app): `/room/<name>`, `/dm/<user id>`, `/feed`.
 */
export function parseRoute(pathname: string): Route {
  const [, first, second] = pathname.split('/');
  if (first === 'room' && second) return { page: 'room', room: decodeURIComponent(second) };
  if (first === 'dm' && second && /^\d+$/.test(second)) return { page: 'dm', userId: Number(second) };
  if (first === 'feed') return { page: 'feed' };
  return { page: 'home' };
}

export function pathOf(route: Route): string {
  switch (route.page) {
    case 'room':
      return `/room/${encodeURIComponent(route.room)}`;
    case 'dm':
      return `/dm/${route.userId}`;
    case 'feed':
      return '/feed';
    case 'home':
      return '/';
  }
}

export const route = signal<Route>(parseRoute(location.pathname));

addEventListener('popstate', () => {
  route.value = parseRoute(location.pathname);
});

export function navigate(to: Route): void {
  const path = pathOf(to);
  if (path !== location.pathname) history.pushState(null, '', path);
  route.value = to;
}
