import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  accessibilityViolations,
  addressesByNode,
  checkWebBuild,
  createTestDatabase,
  launchChromium,
  REPO_ROOT,
  startCluster,
  startRelay,
  uniqueName,
  type Browser,
  type BrowserContext,
  type Cluster,
  type Locator,
  type Page,
  type Relay,
  type TestDatabase,
} from '@parley/testkit';

// The web app (packages/web, built by `pnpm build`) in Debian's Chromium, driven by
// playwright-core: two people in two browser contexts, each behind a relay that makes them
// come from a loopback address of their own, so nginx's sticky hash pins alice to node-1 and
// bob to node-2 of a 2-node cluster. Every wait is on the page's state (locators auto-wait,
// expect.poll retries); none is a fixed sleep. axe-core checks the sign-in page, a room and the
// posts with the notifications open against WCAG 2.1 AA (about 3 s each on a loaded machine: the
// private conversation and the phone layout are made of the same parts). Screenshots of the main
// screens go to test-results/screenshots/ (docs/screenshots/ keeps copies for the README).

const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'screenshots');
/** Longest wait for something to show on a page (a loaded 2-core machine, a node start behind it). */
const UI_TIMEOUT_MS = 15_000;
const PASSWORD = 'correct horse battery';
/** expect.poll's bound (its default, 1 s, is too short for a page on this machine). */
const POLL = { timeout: UI_TIMEOUT_MS };

interface Person {
  name: string;
  relay: Relay;
  context: BrowserContext;
  page: Page;
  /** Every URL the page asked for. */
  requests: string[];
}

let db: TestDatabase;
let cluster: Cluster;
let browser: Browser;
let alice: Person;
let bob: Person;
const room = uniqueName('lobby');

async function person(name: string, relay: Relay): Promise<Person> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  const requests: string[] = [];
  context.on('request', (request) => requests.push(request.url()));
  const page = await context.newPage();
  return { name, relay, context, page, requests };
}

const shot = (who: Person, name: string) => who.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
const status = (who: Person) => who.page.getByRole('banner').getByRole('status');
const log = (who: Person, name: string) => who.page.getByRole('log', { name });
const texts = (list: Locator) => list.locator('.message .text').allTextContents();

async function say(who: Person, box: string, text: string): Promise<void> {
  const composer = who.page.getByRole('textbox', { name: box });
  await composer.fill(text);
  await composer.press('Enter');
}

async function register(who: Person): Promise<void> {
  await who.page.goto(who.relay.url);
  await who.page.getByRole('button', { name: 'Create an account' }).click();
  await who.page.getByLabel('Username').fill(who.name);
  await who.page.getByLabel('Password').fill(PASSWORD);
  await who.page.getByRole('button', { name: 'Create account' }).click();
  await who.page.getByRole('heading', { name: `Welcome, ${who.name}` }).waitFor();
  await status(who).getByText('Connected').waitFor();
}

/** Sign in on `page` (a tab of `who`'s, or of another browser) and wait for the connection. */
async function signIn(who: Person, page: Page): Promise<void> {
  await page.goto(who.relay.url);
  await page.getByLabel('Username').fill(who.name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('banner').getByRole('status').getByText('Connected').waitFor();
}

/** The link to a room (or a conversation) in the sidebar: `name` alone when nothing is unread. */
const navLink = (page: Page, name: string) => page.getByRole('navigation').getByRole('link', { name, exact: true });

async function joinRoom(who: Person, name: string): Promise<void> {
  await who.page.getByRole('navigation').getByLabel('Join a room').fill(name);
  await who.page.getByRole('navigation').getByRole('button', { name: 'Join' }).click();
  await who.page.getByRole('heading', { name: `# ${name}` }).waitFor();
}

async function openPosts(who: Person): Promise<void> {
  await who.page.getByRole('navigation').getByRole('link', { name: 'Posts' }).click();
  await who.page.getByRole('heading', { name: 'Posts' }).waitFor();
}

async function publish(who: Person, title: string, content: string): Promise<void> {
  const form = who.page.getByRole('form', { name: 'Write a post' });
  await form.getByLabel('Title (optional)').fill(title);
  await form.getByLabel('New post').fill(content);
  await form.getByRole('button', { name: 'Publish' }).click();
  await who.page.getByRole('heading', { name: title }).waitFor();
}

beforeAll(async () => {
  // The bundle the nodes serve, and the nodes themselves (startCluster checks dist/): built by `pnpm build`.
  checkWebBuild(REPO_ROOT);
  await mkdir(SCREENSHOTS, { recursive: true });
  db = await createTestDatabase(inject('postgresUrl'));
  [cluster, browser] = await Promise.all([
    startCluster(2, {
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: uniqueName('web'),
      // `pnpm start`'s default, which the pages' origins are not: the app is same-origin and needs no CORS.
      CLIENT_URL: 'http://localhost:3000',
    }),
    launchChromium(),
  ]);
  const nginx = { host: '127.0.0.1', port: cluster.nginx.port };
  const addresses = await addressesByNode(cluster.nginx.url, ['node-1', 'node-2']);
  alice = await person(uniqueName('alice'), await startRelay(nginx, addresses.get('node-1')![0]!));
  bob = await person(uniqueName('bob'), await startRelay(nginx, addresses.get('node-2')![0]!));
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([alice?.relay.close(), bob?.relay.close()]);
  await cluster?.stop();
  await db?.drop();
});

describe('the web app in Chromium, through nginx, on two nodes', () => {
  it('each person lands on their own node', async () => {
    for (const [who, node] of [
      [alice, 'node-1'],
      [bob, 'node-2'],
    ] as const) {
      const res = await fetch(new URL('/healthz', who.relay.url));
      expect(((await res.json()) as { nodeId: string }).nodeId).toBe(node);
    }
  });

  it('registers, joins a room, and chats both ways with presence and typing', async () => {
    await alice.page.goto(alice.relay.url);
    await alice.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot(alice, 'sign-in');
    expect(await accessibilityViolations(alice.page)).toEqual([]);
    await Promise.all([register(alice), register(bob)]);
    await joinRoom(alice, room);
    await joinRoom(bob, room);

    // Presence: each sees the other in the room's people.
    await alice.page
      .getByRole('complementary', { name: `People in ${room}` })
      .getByText(bob.name)
      .waitFor();
    await bob.page
      .getByRole('complementary', { name: `People in ${room}` })
      .getByText(alice.name)
      .waitFor();
    await alice.page.getByText(`${bob.name} has joined`).waitFor();

    await say(alice, `Message ${room}`, 'hello bob');
    await log(bob, `Messages in ${room}`).getByText('hello bob').waitFor();
    await say(bob, `Message ${room}`, 'hi alice!');
    await log(alice, `Messages in ${room}`).getByText('hi alice!').waitFor();

    // Typing: bob types without sending; alice is told, and not any more once he sends.
    await bob.page.getByRole('textbox', { name: `Message ${room}` }).pressSequentially('how are');
    await alice.page.getByText(`${bob.name} is typing…`).waitFor();
    await shot(alice, 'room');
    expect(await accessibilityViolations(alice.page)).toEqual([]);
    await bob.page.getByRole('textbox', { name: `Message ${room}` }).press('Enter');
    await alice.page.getByText(`${bob.name} is typing…`).waitFor({ state: 'hidden' });
    await expect.poll(() => texts(log(alice, `Messages in ${room}`)), POLL).toEqual(['hello bob', 'hi alice!', 'how are']);
  });

  it('sends a private message from the people list; it arrives live, with an unread count, on every tab of the recipient', async () => {
    // A second tab of bob's, signed in on its own (the token is kept per tab).
    const secondTab = await bob.context.newPage();
    await signIn(bob, secondTab);

    await alice.page.getByRole('button', { name: `Message ${bob.name}` }).click();
    await alice.page.getByRole('heading', { name: bob.name }).waitFor();
    await say(alice, `Message ${bob.name}`, 'psst, just for you');
    await log(alice, `Messages with ${bob.name}`).getByText('psst, just for you').waitFor();

    await secondTab.getByRole('link', { name: `${alice.name}, 1 unread` }).waitFor();
    await secondTab.close();
    const conversation = bob.page.getByRole('link', { name: `${alice.name}, 1 unread` });
    await conversation.click();
    await log(bob, `Messages with ${alice.name}`).getByText('psst, just for you').waitFor();
    await bob.page.getByRole('link', { name: alice.name, exact: true }).waitFor();
    await say(bob, `Message ${alice.name}`, 'got it');
    await log(alice, `Messages with ${bob.name}`).getByText('got it').waitFor();
    await shot(bob, 'private-messages');
  });

  it('notifies a follower of a new post; the bell counts it, marking it read clears it; edits and deletions show live', async () => {
    await Promise.all([openPosts(alice), openPosts(bob)]);
    await publish(alice, 'First post', 'Parley has a face now.');
    await bob.page.reload();
    await bob.page.getByRole('button', { name: `Follow ${alice.name}` }).click();
    await bob.page.getByRole('button', { name: `Unfollow ${alice.name}` }).waitFor();

    await publish(alice, 'Second post', 'Followers hear about this one.');
    const bell = bob.page.getByRole('button', { name: 'Notifications, 1 unread' });
    await bell.click();
    const panel = bob.page.getByRole('region', { name: 'Notifications' });
    await panel.getByText(`${alice.name} created a new post`).waitFor();
    // The post itself showed up in bob's list without a reload.
    await bob.page.getByRole('heading', { name: 'Second post' }).waitFor();
    await shot(bob, 'notifications-and-posts');
    expect(await accessibilityViolations(bob.page)).toEqual([]);
    await panel.getByRole('button', { name: 'Mark read' }).click();
    await bob.page.getByRole('button', { name: 'Notifications, 0 unread' }).waitFor();

    const second = alice.page.getByRole('listitem').filter({ has: alice.page.getByRole('heading', { name: 'Second post' }) });
    await second.getByRole('button', { name: 'Edit' }).click();
    await second.getByRole('textbox', { name: 'Post', exact: true }).fill('Followers hear about this one (edited).');
    await second.getByRole('button', { name: 'Save' }).click();
    await bob.page.getByText('Followers hear about this one (edited).').waitFor();
    alice.page.once('dialog', (dialog) => void dialog.accept());
    await second.getByRole('button', { name: 'Delete' }).click();
    await bob.page.getByRole('heading', { name: 'Second post' }).waitFor({ state: 'detached' });
  });

  it('keeps read state on the server: the room list and unread counts follow bob to another browser on the other node', async () => {
    // A fresh browser of bob's (nothing in its storage), pinned to node-1 while his first is on node-2.
    const elsewhere = await person(bob.name, alice.relay);
    try {
      await signIn(elsewhere, elsewhere.page);
      // The rooms he joined in his first browser, read up to his last visit.
      await navLink(elsewhere.page, room).waitFor();

      // Neither of bob's browsers shows the room: alice's message is unread in both.
      await navLink(alice.page, room).click();
      await say(alice, `Message ${room}`, 'are you there?');
      await log(alice, `Messages in ${room}`).getByText('are you there?').waitFor();
      await Promise.all([navLink(bob.page, `${room}, 1 unread`).waitFor(), navLink(elsewhere.page, `${room}, 1 unread`).waitFor()]);

      // Read in the first browser (node-2): the other (node-1) clears within a second or two.
      await navLink(bob.page, `${room}, 1 unread`).click();
      await log(bob, `Messages in ${room}`).getByText('are you there?').waitFor();
      await navLink(elsewhere.page, room).waitFor({ timeout: 2000 });

      // A room joined in one browser is joined in the other; leaving it in one leaves it in both.
      const side = uniqueName('side');
      await joinRoom(elsewhere, side);
      await navLink(bob.page, side).waitFor();
      await elsewhere.page.getByRole('button', { name: 'Leave room' }).click();
      await navLink(bob.page, side).waitFor({ state: 'detached' });
      await navLink(elsewhere.page, side).waitFor({ state: 'detached' });
    } finally {
      await elsewhere.context.close();
    }
  });

  it("shows reconnecting when alice's node dies, then catches up: nothing missing, in order, none twice", async () => {
    await Promise.all(
      [alice, bob].map((who) =>
        who.page
          .getByRole('navigation')
          .getByRole('link', { name: new RegExp(`^${room}`) })
          .click(),
      ),
    );
    const aliceLog = log(alice, `Messages in ${room}`);
    const bobLog = log(bob, `Messages in ${room}`);
    // Alice's network stays away after her node dies (her reconnection waits at the relay), so
    // what bob sends meanwhile is certainly sent while she is away.
    alice.relay.hold();
    await cluster.nodes[0]!.kill('SIGKILL');
    await status(alice).getByText('Reconnecting…').waitFor();
    const away = ['while you were away 1', 'while you were away 2', 'while you were away 3'];
    for (const text of away) {
      await say(bob, `Message ${room}`, text);
      await bobLog.getByText(text).waitFor();
    }
    expect(await aliceLog.getByText('while you were away').count()).toBe(0);
    await shot(alice, 'reconnecting');

    alice.relay.release();
    await status(alice).getByText('Connected').waitFor();
    await expect.poll(() => texts(aliceLog), POLL).toEqual(['hello bob', 'hi alice!', 'how are', 'are you there?', ...away]);
    // Now on node-2 with bob: still both ways.
    await say(alice, `Message ${room}`, 'back on node-2');
    await bobLog.getByText('back on node-2').waitFor();
    expect(((await (await fetch(new URL('/healthz', alice.relay.url))).json()) as { nodeId: string }).nodeId).toBe('node-2');
  });

  it('works at phone width: one column, the rooms behind a menu button', async () => {
    await alice.page.setViewportSize({ width: 390, height: 844 });
    const menu = alice.page.getByRole('button', { name: 'Menu' });
    await expect.poll(() => alice.page.getByRole('navigation').isVisible(), POLL).toBe(false);
    await shot(alice, 'phone-room');
    await menu.click();
    await alice.page.getByRole('navigation').getByRole('link', { name: bob.name }).click();
    await log(alice, `Messages with ${bob.name}`).getByText('got it').waitFor();
    await expect.poll(() => alice.page.getByRole('navigation').isVisible(), POLL).toBe(false);
  });

  it('made no request to any other origin (fonts and scripts are bundled)', () => {
    for (const who of [alice, bob]) {
      expect(who.requests.length).toBeGreaterThan(0);
      // data: URLs are not requests to anyone (the page's empty favicon).
      const elsewhere = who.requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== who.relay.url);
      expect(elsewhere).toEqual([]);
    }
  });
});
