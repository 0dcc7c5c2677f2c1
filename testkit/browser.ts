// Debian's chromium, headless, driven by playwright-core. The browser is a
// process this helper owns: close() always kills it, even when the test failed.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserServer } from 'playwright-core';

export const CHROMIUM = process.env.SIXPN_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots and other things a person may want to look at after a run (git-ignored). */
export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

export interface HeadlessChromium {
  browser: Browser;
  pid: number | undefined;
  close(): Promise<void>;
}

export async function headlessChromium(): Promise<HeadlessChromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run bash scripts/install-packages.sh as root (it installs Debian's chromium)`);
  // --no-sandbox: the suite runs as root, where Chromium's own sandbox refuses to start.
  const server: BrowserServer = await chromium.launchServer({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  let browser: Browser;
  try {
    browser = await chromium.connect(server.wsEndpoint());
  } catch (err) {
    await server.kill();
    throw err;
  }
  return {
    browser,
    pid: server.process().pid,
    async close() {
      await Promise.race([browser.close().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
      await server.kill();
    },
  };
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
