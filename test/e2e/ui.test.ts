// End to end: the dashboard at /ui in Debian's headless Chromium against a
// real coordinator process. An org token's page follows machines live, never
// shows another org (checked in the page and in the raw stream bytes), a bad
// token gets a clear message, and the page resumes after the coordinator
// restarts. Screenshots land in test-artifacts/. The steps build on each other.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Machine } from '../../src/model/types.js';
import { artifactPath, headlessChromium, type HeadlessChromium } from '../../testkit/browser.js';
import { KEY_A, KEY_B, KEY_C } from '../../testkit/coordinator.js';
import { sixpn, type Proc } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';

/** axe-core's WCAG 2 A/AA rules (contrast, labels, names, landmarks), evaluated in the page. */
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

async function accessibilityViolations(p: Page): Promise<string[]> {
  await p.evaluate(AXE);
  const r = await p.evaluate(() =>
    (
      window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }
    ).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
  );
  return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** "Live" means within a second of the API's answer, without a reload. */
const LIVE_MS = 1000;

describe('dashboard /ui (e2e: headless Chromium, a real coordinator)', function () {
  this.timeout(120_000);
  const dir = tempDir('sixpn-ui-');
  let coord: Proc | null = null;
  let chrome: HeadlessChromium | null = null;
  let url = '';
  let admin = '';
  const tokens: Record<string, string> = {};
  let gatewayCredential = '';
  let gatewayId = 0;
  let sydId = 0;
  let page: Page;

  async function api(token: string, method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  const orgToken = async (org: string, scope = 'org'): Promise<string> => (await api(admin, 'POST', '/v1/tokens', { scope, org })).token;
  const createMachine = async (app: string, region: string): Promise<Machine> => (await api(tokens.acme!, 'POST', '/v1/machines', { app, region })).machine;
  /**
   * Arm a MutationObserver in the page for `selector` appearing (or going);
   * `seen()` then answers how long after `since` (Node's clock, the same
   * system clock as the page's) the page showed it. The bound is checked on
   * that figure, not on a polling loop's.
   */
  async function watchFor(p: Page, selector: string, gone = false): Promise<{ seen(since: number): Promise<number> }> {
    await p.evaluate(
      ([sel, g]) => {
        const w = window as unknown as { seenAt: Promise<number> };
        w.seenAt = new Promise<number>((resolve) => {
          const check = (): boolean => {
            if ((document.querySelector(sel) === null) !== g) return false;
            resolve(Date.now());
            return true;
          };
          if (check()) return;
          const obs = new MutationObserver(() => {
            if (check()) obs.disconnect();
          });
          obs.observe(document.body, { childList: true, subtree: true, attributes: true });
        });
      },
      [selector, gone] as const,
    );
    return {
      async seen(since) {
        let timer: NodeJS.Timeout | undefined;
        const at = await Promise.race([
          p.evaluate(() => (window as unknown as { seenAt: Promise<number> }).seenAt),
          new Promise<never>((_, rej) => {
            timer = setTimeout(() => rej(new Error(`${selector} not ${gone ? 'gone' : 'shown'} within 10 s`)), 10_000);
          }),
        ]).finally(() => clearTimeout(timer));
        const ms = at - since;
        assert.ok(ms <= LIVE_MS, `${selector} ${gone ? 'went' : 'showed'} ${ms} ms after the API answered (bound ${LIVE_MS} ms)`);
        return Math.max(0, ms);
      },
    };
  }
  /** Arm, act, and answer how long after the action's answer the page showed it. */
  async function live(p: Page, selector: string, act: () => Promise<unknown>, gone = false): Promise<number> {
    const w = await watchFor(p, selector, gone);
    await act();
    return w.seen(Date.now());
  }

  before(async () => {
    // Pick a port by letting the first coordinator choose it; the restart reuses it.
    coord = sixpn(['coordinator', '--data', dir.path, '--listen', '127.0.0.1:0', '--log-level', 'info']);
    url = (await coord.waitFor(/"url":"(http:\/\/[^"]+)"/))[1]!;
    admin = readFileSync(join(dir.path, 'admin.token'), 'utf8').trim();
    for (const org of ['acme', 'rivalcorp', 'quiet']) await api(admin, 'POST', '/v1/orgs', { name: org });
    const gw = await api(admin, 'POST', '/v1/hosts', { region: 'ams', endpoint: '127.0.0.1:51820', public_key: KEY_A, gateway: true });
    gatewayId = gw.host.id;
    gatewayCredential = gw.credential;
    sydId = (await api(admin, 'POST', '/v1/hosts', { region: 'syd', endpoint: '127.0.0.1:51821', public_key: KEY_B })).host.id;
    tokens.acme = await orgToken('acme');
    tokens.rival = await orgToken('rivalcorp');
    tokens.quiet = await orgToken('quiet');
    tokens.ci = await orgToken('acme', 'wireguard');
    await api(tokens.acme, 'POST', '/v1/apps', { name: 'web', org: 'acme' });
    await api(tokens.rival, 'POST', '/v1/apps', { name: 'rivalvault', org: 'rivalcorp' });
    await api(tokens.rival, 'POST', '/v1/machines', { app: 'rivalvault', region: 'syd' });
    await createMachine('web', 'ams');
    await createMachine('web', 'syd');
    await api(tokens.acme, 'POST', '/v1/orgs/acme/peers', { name: 'laptop', region: 'ams', public_key: KEY_C });
    await api(gatewayCredential, 'PUT', `/v1/hosts/${gatewayId}/peer-status`, {
      peers: [
        {
          org: 'acme',
          name: 'laptop',
          latest_handshake: Math.floor(Date.now() / 1000) - 12,
          rx_bytes: 1_234_567,
          tx_bytes: 98_765,
          endpoint: '127.0.0.1:40000',
        },
      ],
    });
    // The gateway's agent reports its handshake with syd along with its heartbeat.
    await api(gatewayCredential, 'PUT', `/v1/hosts/${gatewayId}/heartbeat`, {
      agent: { rev: 1, last_change_ms: null },
      dns: null,
      peers: [{ host_id: sydId, handshake_age_s: 20, endpoint: '127.0.0.1:51821', rx_bytes: 1, tx_bytes: 1, sending: false }],
    });
    chrome = await headlessChromium();
  });

  after(async () => {
    await chrome?.close();
    await coord?.kill();
    dir.remove();
  });

  it('a bad token gets a clear message on the sign-in form', async () => {
    const p = await chrome!.browser.newPage();
    try {
      await p.goto(`${url}/ui#token=sixpn_org_not-a-real-token`);
      const alert = await p.waitForSelector('[role=alert]', { timeout: 15_000 });
      const text = (await alert.textContent()) ?? '';
      assert.match(text, /Sign-in failed/);
      assert.match(text, /unknown or revoked token/);
      assert.equal(await p.evaluate(() => sessionStorage.getItem('sixpn.token')), null, 'a refused token is not kept');
      assert.ok(await p.isVisible('label[for=token]'), 'the form is there to try again');
      assert.deepEqual(await accessibilityViolations(p), [], 'the sign-in form passes WCAG 2 AA checks');

      // A token of the wrong kind is told why, too.
      await p.fill('#token', tokens.ci!);
      await p.click('button[type=submit]');
      await p.waitForFunction(() => /wireguard token cannot/.test(document.querySelector('[role=alert]')?.textContent ?? ''), undefined, { timeout: 15_000 });
    } finally {
      await p.close();
    }
  });

  it('an org with no apps says how to create the first one', async () => {
    const p = await chrome!.browser.newPage();
    try {
      await p.goto(`${url}/ui#token=${tokens.quiet}`);
      const empty = await p.waitForSelector('[data-testid=empty-state]', { timeout: 15_000 });
      assert.match((await empty.textContent()) ?? '', /sixpn apps create NAME --org quiet/);
    } finally {
      await p.close();
    }
  });

  it('an org token sees its mesh, and machines created, stopped and destroyed show up live', async () => {
    page = await chrome!.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${url}/ui#token=${tokens.acme}`);
    await page.waitForSelector('[data-testid=link]:has-text("Live")', { timeout: 15_000 });
    assert.equal(await page.evaluate(() => location.hash), '', 'the token is wiped from the address bar');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('sixpn.token')), tokens.acme);
    assert.match((await page.textContent('[data-testid=who]')) ?? '', /org acme/);
    assert.ok(await page.isVisible('[data-testid=map] [data-region=ams].on'), 'the map marks ams');
    assert.match((await page.textContent('[data-testid=networks]')) ?? '', /fdaa:[0-9a-f:]+::\/48/);
    const peerRow = (await page.textContent('tr[data-peer=laptop]')) ?? '';
    assert.match(peerRow, /s ago/, 'the peer shows its last handshake');
    assert.match(peerRow, /1\.2 MiB/, 'and its bytes');
    const links = (await (await page.waitForSelector(`tr[data-host="${gatewayId}"] [data-testid=host-links]`, { timeout: 5000 })).textContent()) ?? '';
    assert.match(links, new RegExp(`host ${sydId} \\(syd\\): \\d+ s ago`), 'the gateway shows its last handshake with syd, as its agent reported it');
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 1;
    });

    // A machine not on the page yet: its id is known only once the API answers.
    const before = await page.$$eval('tr[data-machine]', (trs) => trs.map((t) => t.getAttribute('data-machine')!));
    const made: { m?: Machine } = {};
    const seen = await live(page, `tr[data-machine]${before.map((id) => `:not([data-machine="${id}"])`).join('')}`, async () => {
      made.m = await createMachine('web', 'ams');
    });
    const m = made.m!;
    assert.ok(await page.isVisible(`tr[data-machine="${m.id}"]`), 'the new row is the machine just created');
    const stopped = await live(page, `tr[data-machine="${m.id}"] [data-state=stopped]`, () => api(tokens.acme!, 'POST', `/v1/machines/${m.id}/stop`));
    const gone = await live(page, `tr[data-machine="${m.id}"]`, () => api(tokens.acme!, 'DELETE', `/v1/machines/${m.id}`), true);
    const changes = (await page.textContent('[data-testid=changes]')) ?? '';
    assert.match(changes, new RegExp(`machine ${m.id} \\(web, ams\\) created`));
    assert.match(changes, new RegExp(`machine ${m.id} \\(web, ams\\) stopped → destroyed`));
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'no reload happened');
    console.log(`      live: created ${seen} ms, stopped ${stopped} ms, destroyed ${gone} ms after the API answered`);
  });

  it("another org's entities never appear in the page or in the stream's bytes", async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${url}/v1/ui/stream`, { headers: { authorization: `Bearer ${tokens.acme}` }, signal: ctrl.signal });
    assert.equal(res.status, 200);
    let raw = '';
    const reading = (async () => {
      const dec = new TextDecoder();
      try {
        for await (const chunk of res.body!) raw += dec.decode(chunk as Uint8Array, { stream: true });
      } catch {
        /* aborted */
      }
    })();
    const rivalMachine: Machine = (await api(tokens.rival!, 'POST', '/v1/machines', { app: 'rivalvault', region: 'ams' })).machine;
    await api(tokens.rival!, 'POST', `/v1/machines/${rivalMachine.id}/stop`);
    await api(tokens.rival!, 'POST', '/v1/apps', { name: 'rivalledger', org: 'rivalcorp' });
    await api(tokens.rival!, 'POST', '/v1/orgs/rivalcorp/peers', {
      name: 'rivalphone',
      region: 'ams',
      public_key: 'Cm8xIXzLxmPQ+fLKLkKw3fvVm2Nl3Cq0uS8wIPjtkmU=',
    });
    await api(tokens.rival!, 'DELETE', '/v1/orgs/rivalcorp/peers/rivalphone');
    // A sentinel of our own org after all of that: once it is seen, the rival's changes have gone by.
    const sentinel = await createMachine('web', 'syd');
    await page.waitForSelector(`tr[data-machine="${sentinel.id}"]`, { timeout: 10_000 });
    for (let i = 0; i < 100 && !raw.includes(sentinel.id); i++) await new Promise((r) => setTimeout(r, 20));
    ctrl.abort();
    await reading;
    assert.ok(raw.includes(sentinel.id), 'the raw stream carries our own machine');
    assert.ok(raw.includes('"type":"snapshot"'));
    for (const secret of ['rival', rivalMachine.id, rivalMachine.address]) {
      assert.ok(!raw.includes(secret), `the raw stream must not carry ${secret}`);
    }
    const html = await page.content();
    const text = await page.evaluate(() => document.body.innerText);
    for (const secret of ['rival', rivalMachine.id]) {
      assert.ok(!html.includes(secret) && !text.includes(secret), `the page must not show ${secret}`);
    }
  });

  it('is keyboard navigable: Tab reaches the labelled filter, which narrows the tables', async () => {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    let id = '';
    for (let i = 0; i < 10 && id !== 'filter'; i++) {
      await page.keyboard.press('Tab');
      id = await page.evaluate(() => document.activeElement?.id ?? '');
    }
    assert.equal(id, 'filter', 'the filter box is reachable with Tab');
    assert.equal(await page.evaluate(() => document.querySelector('label[for=filter]')?.textContent), 'Filter');
    const rows = await page.$$eval('tr[data-machine]', (trs) => trs.map((t) => t.getAttribute('data-machine')));
    assert.ok(rows.length >= 2);
    await page.keyboard.type(rows[0]!);
    await page.waitForFunction((n) => document.querySelectorAll('tr[data-machine]').length === n, 1, { timeout: 5000 });
    await page.fill('#filter', '');
    await page.waitForFunction((n) => document.querySelectorAll('tr[data-machine]').length === n, rows.length, { timeout: 5000 });
  });

  it('fits 1280×800 and a phone width, with WCAG 2 AA checks passing (screenshots in test-artifacts/)', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: artifactPath('ui-1280x800.png') });
    assert.deepEqual(await accessibilityViolations(page), [], 'the dashboard passes WCAG 2 AA checks (contrast, labels, names)');
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling of the page at phone width (overflow ${overflow}px)`);
    await page.screenshot({ path: artifactPath('ui-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('reconnects and resumes after the coordinator restarts', async () => {
    await coord!.kill('SIGTERM');
    await page.waitForSelector('[data-testid=link]:has-text("Reconnecting")', { timeout: 15_000 });
    coord = sixpn(['coordinator', '--data', dir.path, '--listen', new URL(url).host, '--log-level', 'info']);
    await coord.waitFor(/coordinator listening/);
    await page.waitForSelector('[data-testid=link]:has-text("Live")', { timeout: 15_000 });
    const ids = await page.$$eval('tr[data-machine]', (trs) => trs.map((t) => t.getAttribute('data-machine')!));
    const ms = await live(page, `tr[data-machine]${ids.map((id) => `:not([data-machine="${id}"])`).join('')}`, () => createMachine('web', 'ams'));
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'the same page, not a reload');
    console.log(`      after the restart: a new machine shown ${ms} ms after the API answered`);
    await page.screenshot({ path: artifactPath('ui-after-restart.png') });
    await page.close();
  });
});
