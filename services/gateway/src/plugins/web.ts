import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '@parley/config';
import { HTTP_ROUTES, ParleyError } from '@parley/protocol';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Answers a request no route matched when it is a browser navigation to one of the web app's
     * pages (GET or HEAD, accepting HTML, outside the API): its page, or 503 `web_unavailable`
     * without a bundle. Returns undefined for anything else (the caller answers 404).
     */
    webFallback(request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<never> | undefined;
  }
}

/** Hashed by Vite (a new name for new content): cached for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Pages (and anything else without a hash in its name): revalidated on every load (ETag / Last-Modified). */
const REVALIDATE = 'no-cache';
/** Where Vite puts hashed files, under the bundle's root. */
const HASHED_DIR = 'assets';
/** The console's page, under the bundle's root; every other page is the chat app's index.html. */
const CONSOLE = 'console';

/**
 * First path segments that belong to the API (every HTTP route of the contract, Socket.IO, the
 * OpenAPI document and its UI, the metrics): an unknown path under one of them is a JSON 404, never a page.
 */
const API_SEGMENTS = new Set([
  ...Object.values(HTTP_ROUTES).map((route) => route.path.split('/')[1]),
  'socket.io',
  'docs',
  'openapi.json',
  'metrics',
]);

/** The @parley/web package's build output (`pnpm build`). */
function defaultWebRoot(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@parley/web/package.json')), 'dist');
}

/** The page a navigation to `path` gets: the console's under /console/, the chat app's elsewhere. */
function pageFor(path: string): string {
  return path === `/${CONSOLE}` || path.startsWith(`/${CONSOLE}/`) ? `${CONSOLE}/index.html` : 'index.html';
}

function isNavigation(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (!request.headers.accept?.includes('text/html')) return false;
  const segment = request.url.split('?')[0]!.split('/')[1] ?? '';
  return !API_SEGMENTS.has(segment);
}

/**
 * The web app, served by every node: the chat app at `/`, the operator console at `/console/`,
 * their hashed assets (immutable) and, for a browser navigation to any other page of the app
 * (`/room/lobby` reloaded), the app's page. The bundle is `WEB_ROOT`, by default the @parley/web
 * package's `dist/`. Without one (never built), the node still starts: the pages answer 503
 * `web_unavailable`, and the API works as before.
 */
export const webPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const root = config.webRoot ?? defaultWebRoot();
    const built = existsSync(join(root, 'index.html'));
    if (!built) {
      app.log.warn({ webRoot: root }, 'the web app is not built: its pages answer 503 web_unavailable (run `pnpm build`)');
      const unavailable = async () => {
        throw new ParleyError('web_unavailable');
      };
      for (const url of ['/', `/${CONSOLE}/`]) app.get(url, { schema: { hide: true } }, unavailable);
      app.decorate('webFallback', (request: FastifyRequest) => (isNavigation(request) ? unavailable() : undefined));
      return;
    }
    await app.register(fastifyStatic, {
      root,
      // /console -> /console/ (the page's relative URLs need the slash).
      redirect: true,
      // The build stamp and anything else hidden is not served.
      dotfiles: 'ignore',
      cacheControl: false,
      setHeaders: (reply, path) => {
        const hashed = relative(root, path).split(sep)[0] === HASHED_DIR;
        reply.header('cache-control', hashed ? IMMUTABLE : REVALIDATE);
      },
    });
    app.decorate('webFallback', (request: FastifyRequest, reply: FastifyReply) => {
      return isNavigation(request) ? reply.sendFile(pageFor(request.url.split('?')[0]!)) : undefined;
    });
    app.log.debug({ webRoot: root }, 'serving the web app');
  },
  { name: 'web' },
);
