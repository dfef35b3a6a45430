import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Announcement, Stats } from '@parley/protocol';
import {
  accessibilityViolations,
  collect,
  connect,
  login,
  nextEvent,
  registerUser,
  request,
  SCREENSHOTS,
  startWebCluster,
  uniqueName,
  type BrowserContext,
  type ClientSocket,
  type Page,
  type Relay,
  type Session,
  type WebCluster,
} from '@parley/testkit';

// The operator console (packages/web/src/console, built by `pnpm build`) in Debian's Chromium,
// on a 2-node cluster behind nginx. The admin's browser comes through a relay pinned to node-1,
// the user's socket (socket.io-client) through one pinned to node-2, so every figure the console
// shows is known exactly. Waits are on the page (locators, expect.poll) and on the user's
// socket's events, each bounded; none is a fixed sleep. Screenshots go to
// test-results/screenshots/ (docs/screenshots/console.png is a copy for the README).

const UI_TIMEOUT_MS = 15_000;
/** expect.poll's bound: the console fetches its figures every 3 s. */
const POLL = { timeout: UI_TIMEOUT_MS };
const ADMIN = { username: 'console_admin', password: 'console admin password' };
const SESSION_KEY = 'parley.console.session';

let web: WebCluster;
let adminRelay: Relay;
let userRelay: Relay;
let context: BrowserContext;
let page: Page;
/** Every URL the admin's page asked for. */
const requests: string[] = [];
let user: Session;
let userSocket: ClientSocket | undefined;
/** An admin socket of the test's own, looking at the figures after the console logged out. */
let observer: ClientSocket | undefined;
const room = uniqueName('ops');

const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
const figure = (name: string) => page.locator(`[data-figure="${name}"]`).textContent();
/** The rows of a table, each as its cells' text. */
async function rows(table: string): Promise<string[][]> {
  const trs = await page.getByRole('table', { name: table }).locator('tbody tr').all();
  return Promise.all(trs.map((tr) => tr.locator('th, td').allTextContents()));
}
const stored = () => page.evaluate<string | null>(`sessionStorage.getItem(${JSON.stringify(SESSION_KEY)})`);

async function logIn(username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

beforeAll(async () => {
  web = await startWebCluster(
    { postgresUrl: inject('postgresUrl'), redisUrl: inject('redisUrl') },
    { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password },
  );
  adminRelay = web.relays.get('node-1')!;
  userRelay = web.relays.get('node-2')!;
  user = await registerUser(userRelay.url);
  context = await web.browser.newContext({ viewport: { width: 1200, height: 900 } });
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  context.on('request', (r) => requests.push(r.url()));
  page = await context.newPage();
});

afterAll(async () => {
  userSocket?.close();
  observer?.close();
  await web?.close();
});

describe('the operator console in Chromium, through nginx, on two nodes', () => {
  it('refuses an account that is not an admin, and keeps nothing', async () => {
    await page.goto(new URL('/console/', adminRelay.url).toString());
    await page.getByRole('heading', { name: 'Admin log-in' }).waitFor();
    await shot('console-log-in');
    expect(await accessibilityViolations(page)).toEqual([]);
    await logIn(user.user.username, 'password123');
    const alert = page.getByRole('alert');
    await alert.getByText(`“${user.user.username}” is not an admin`).waitFor();
    expect(await alert.textContent()).toContain(`pnpm cli set-role ${user.user.username} admin`);
    expect(await alert.textContent()).toMatch(/\(code forbidden\)$/);
    expect(await stored()).toBeNull();
    await shot('console-refused');
    expect(await accessibilityViolations(page)).toEqual([]);
    // A wrong password: the server's refusal with its code.
    await logIn(ADMIN.username, 'not the password');
    await alert.getByText('(code invalid_credentials)').waitFor();
    expect(await stored()).toBeNull();
  });

  it('logs the admin in for the tab: both nodes, their connections, the rooms; a reload stays logged in', async () => {
    await logIn(ADMIN.username, ADMIN.password);
    await page.getByRole('banner').getByRole('status').getByText('Connected').waitFor();
    expect(JSON.parse((await stored())!)).toMatchObject({ user: { username: ADMIN.username, role: 'admin' } });
    // The console's own connection is the only one, on node-1 (its relay's node).
    await expect
      .poll(() => rows('Nodes'), POLL)
      .toEqual([
        ['node-1', '1'],
        ['node-2', '0'],
      ]);
    expect([await figure('nodes'), await figure('connections'), await figure('rooms')]).toEqual(['2', '1', '0']);
    await page.reload();
    await page.getByRole('banner').getByRole('status').getByText('Connected').waitFor();
    await expect
      .poll(() => rows('Nodes'), POLL)
      .toEqual([
        ['node-1', '1'],
        ['node-2', '0'],
      ]);
  });

  it('shows the figures change live when a user connects and joins a room', async () => {
    userSocket = await connect(userRelay.url, '/', user.token);
    expect(await request(userSocket, 'join', { room })).toMatchObject({ ok: true, count: 1 });
    await expect
      .poll(() => rows('Nodes'), POLL)
      .toEqual([
        ['node-1', '1'],
        ['node-2', '1'],
      ]);
    await expect.poll(() => rows('Rooms'), POLL).toEqual([[room, '1']]);
    expect([await figure('connections'), await figure('rooms')]).toEqual(['2', '1']);
    await shot('console');
    expect(await accessibilityViolations(page)).toEqual([]);
  });

  it('sends an announcement after confirmation (keyboard), which the connected user receives', async () => {
    const heard = collect<Announcement>(userSocket!, 'announcement');
    const text = `Maintenance at noon ${uniqueName('n')}`;
    await page.getByLabel('Announcement', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Send announcement…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send this announcement?' });
    await dialog.getByText(text).waitFor();
    // Cancel has the focus; Escape closes the dialog and sends nothing.
    expect(await page.locator(':focus').textContent()).toBe('Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // Again, confirmed with the keyboard alone.
    await page.getByRole('button', { name: 'Send announcement…' }).click();
    await dialog.waitFor();
    await shot('console-confirm');
    expect(await accessibilityViolations(page)).toEqual([]);
    const received = nextEvent<Announcement>(userSocket!, 'announcement', undefined, UI_TIMEOUT_MS);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect((await received).text).toBe(text);
    await page.getByRole('status').getByText('Announcement sent to every connected user.').waitFor();
    // Exactly one: the cancelled one never went out.
    expect(heard.map((a) => a.text)).toEqual([text]);
  });

  it('disconnects a user after confirmation: the socket ends and the figures follow; an unknown name is an error', async () => {
    await page.getByLabel('Username').fill(uniqueName('nobody'));
    await page.getByRole('button', { name: 'Disconnect…' }).click();
    const alert = page.getByRole('alert');
    await alert.getByText('Not disconnected:').waitFor();
    expect(await alert.textContent()).toMatch(/\(code not_found\)$/);

    const ended = nextEvent<string>(userSocket!, 'disconnect', undefined, UI_TIMEOUT_MS);
    await page.getByLabel('Username').fill(user.user.username);
    await page.getByRole('button', { name: 'Disconnect…' }).click();
    const dialog = page.getByRole('dialog', { name: `Disconnect “${user.user.username}”?` });
    await dialog.getByText(`user #${user.user.id}`).waitFor();
    await dialog.getByRole('button', { name: `Disconnect ${user.user.username}` }).click();
    expect(await ended).toBe('io server disconnect');
    await page.getByRole('status').getByText(`Disconnected “${user.user.username}” (user #${user.user.id})`).waitFor();
    await expect
      .poll(() => rows('Nodes'), POLL)
      .toEqual([
        ['node-1', '1'],
        ['node-2', '0'],
      ]);
    await expect.poll(() => rows('Rooms'), POLL).toEqual([]);
  });

  it('works at phone width: one column, nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('table', { name: 'Nodes' }).waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot('console-phone');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 1200, height: 900 });
  });

  it('logs out: back to the log-in, nothing kept', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Admin log-in' }).waitFor();
    expect(await stored()).toBeNull();
    // The console's connection went with it: only this observer's is left.
    const admin = await login(adminRelay.url, ADMIN.username, ADMIN.password);
    observer = await connect(adminRelay.url, '/admin', admin.token);
    const byId = (a: { nodeId: string }, b: { nodeId: string }) => a.nodeId.localeCompare(b.nodeId);
    await expect
      .poll(async () => (await request<Stats>(observer!, 'stats')).nodes.sort(byId), POLL)
      .toEqual([
        { nodeId: 'node-1', connections: 1 },
        { nodeId: 'node-2', connections: 0 },
      ]);
  });

  it('made no request to any other origin (fonts and scripts are bundled)', () => {
    expect(requests.length).toBeGreaterThan(0);
    const elsewhere = requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== adminRelay.url);
    expect(elsewhere).toEqual([]);
  });
});
