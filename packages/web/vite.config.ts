import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Two pages, built side by side into dist/ (served by every gateway, see
 * services/gateway/src/plugins/web.ts): the chat app at `/` and the operator console at
 * `/console/`. Hashed files go to dist/assets/ (served as immutable); the pages themselves are
 * revalidated on every load. Preact's JSX through Vite's own transform (no Babel); nothing is
 * loaded from another origin.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: {
      input: { chat: page('./index.html'), console: page('./console/index.html') },
    },
  },
});
