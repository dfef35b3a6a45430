import axe from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';

export type { Browser, BrowserContext, Locator, Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`; scripts/ensure-services.sh installs it). Playwright's own browser downloads cannot be fetched here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags for a quiet headless Chromium on a machine without a network: no sandbox (root in CI),
 * no GPU, and none of the browser's own background connections (updates, sync, QUIC probes,
 * first-run pages), which this machine's closed network refuses by the dozen.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Headless Debian Chromium driven by playwright-core. Each launch runs on a fresh, empty
 * user-data dir of its own (Playwright makes a temporary one and removes it at close), and each
 * `browser.newContext()` is a separate visitor (its own cookies and storage).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** The WCAG 2.1 levels A and AA. */
const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * What axe-core (the accessibility engine of browsers' audits) finds wrong on `page` as it is
 * now, against WCAG 2.1 A and AA: each violation's rule, impact and the elements it is on. An
 * empty list is a page without a barrier axe can detect (missing labels and names, contrast,
 * landmarks, roles, ARIA misuse). axe is put into the page itself (no other page, no request).
 */
export async function accessibilityViolations(page: Page): Promise<{ rule: string; impact: string; targets: string[] }[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.addScriptTag({ content: axe.source });
  // Runs in the page (this file has no DOM types: the page's globals are named by hand).
  const { violations } = await page.evaluate((tags) => {
    const inPage = globalThis as unknown as { axe: typeof axe; document: Parameters<typeof axe.run>[0] };
    return inPage.axe.run(inPage.document, { runOnly: { type: 'tag', values: tags } });
  }, WCAG_AA);
  return violations.map((v) => ({ rule: v.id, impact: v.impact ?? 'unknown', targets: v.nodes.map((n) => n.target.join(' ')) }));
}
