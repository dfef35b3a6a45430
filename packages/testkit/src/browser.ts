import { chromium, type Browser } from 'playwright-core';

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
