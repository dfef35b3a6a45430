/**
 * Every HTTP route the gateway serves (CONTRACT.md and the extensions in docs/PROTOCOL.md), by name. Clients, the load tool and the
 * k6 scripts' check use this list; `:param` segments are filled by `routePath`.
 */
export const HTTP_ROUTES = {
  register: { method: 'POST', path: '/auth/register' },
  login: { method: 'POST', path: '/auth/login' },
  me: { method: 'GET', path: '/me' },
  healthz: { method: 'GET', path: '/healthz' },
  readyz: { method: 'GET', path: '/readyz' },
  roomMessages: { method: 'GET', path: '/rooms/:room/messages' },
  follow: { method: 'POST', path: '/users/:id/follow' },
  unfollow: { method: 'DELETE', path: '/users/:id/follow' },
  followers: { method: 'GET', path: '/users/:id/followers' },
  following: { method: 'GET', path: '/users/:id/following' },
  createPost: { method: 'POST', path: '/posts' },
  listPosts: { method: 'GET', path: '/posts' },
  getPost: { method: 'GET', path: '/posts/:id' },
  updatePost: { method: 'PUT', path: '/posts/:id' },
  deletePost: { method: 'DELETE', path: '/posts/:id' },
  notifications: { method: 'GET', path: '/notifications' },
  readNotification: { method: 'POST', path: '/notifications/:id/read' },
  readAllNotifications: { method: 'POST', path: '/notifications/read-all' },
} as const satisfies Record<string, { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string }>;

export type RouteName = keyof typeof HTTP_ROUTES;

/**
 * A route's path with its `:params` filled in (URI-encoded).
 * @example routePath('follow', { id: 7 }) // '/users/7/follow'
 */
export function routePath(name: RouteName, params: Record<string, string | number> = {}): string {
  return HTTP_ROUTES[name].path.replace(/:([A-Za-z]+)/g, (_, key: string) => {
    const value = params[key];
    if (value === undefined) throw new Error(`routePath(${name}): missing :${key}`);
    return encodeURIComponent(String(value));
  });
}
