import { HTTP_ROUTES, routePath, type ErrorCode, type RouteInput, type RouteName, type RouteResponse } from '@parley/protocol';

/** An HTTP error answer of the API: its stable code and message (packages/protocol errors.ts). */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | 'network_error',
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Longest a request may take before it fails (the node or the network is away). */
const REQUEST_TIMEOUT_MS = 10_000;

export interface ApiCall<R extends RouteName> {
  token?: string;
  params?: Record<string, string | number>;
  query?: Record<string, string | number | undefined>;
  body?: RouteInput<R, 'body'>;
}

/**
 * Call contract route `name` (HTTP_ROUTES) on this page's origin: its method and path come
 * from the contract, and so does the type of the answer. Rejects with an ApiError.
 * @example const { posts } = await api('listPosts', { query: { limit: 20 } });
 */
export async function api<R extends RouteName>(name: R, call: ApiCall<R> = {}): Promise<RouteResponse<R>> {
  const route = HTTP_ROUTES[name];
  const url = new URL(routePath(name, call.params), location.origin);
  for (const [key, value] of Object.entries(call.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (call.token) headers.authorization = `Bearer ${call.token}`;
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method: route.method,
      headers,
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch {
    throw new ApiError('network_error', 'Parley cannot be reached right now. Try again in a moment.', 0);
  }
  const text = await res.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const error = (body as { error?: { code: ErrorCode; message: string } } | undefined)?.error;
    throw new ApiError(error?.code ?? 'internal_error', error?.message ?? `HTTP ${res.status}`, res.status);
  }
  return body as RouteResponse<R>;
}
