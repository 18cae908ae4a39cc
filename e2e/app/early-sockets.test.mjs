// The WebSockets index.html opens at navigation (frontend/src/early_sockets.rs): opened before
// the wasm runs, one per client and no more, all taken over by the clients (none closed), each
// client connecting once under its usual id; none for the in-page broker.
//
//   node --test e2e/app/early-sockets.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { waitForStates } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, server, waitReady, withApp } from '../lib/app-suite.mjs';

/** Runs before the page's scripts: every WebSocket made, and when the wasm was instantiated. */
function recordSockets() {
  const seen = { sockets: [], instantiated: null };
  window.__seen = seen;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      const s = { url: String(args[0]), at: performance.now(), closed: false };
      seen.sockets.push(s);
      this.addEventListener('close', () => (s.closed = true));
    }
  };
  const instantiate = WebAssembly.instantiateStreaming;
  WebAssembly.instantiateStreaming = (...args) =>
    instantiate(...args).then((r) => ((seen.instantiated ??= performance.now()), r));
}

const open = async (page, query) => {
  await page.addInitScript(recordSockets);
  await page.goto(`${server.url}${query}`);
};

describeApp('early sockets', () => {
  it('the page script opens one socket per client before the wasm runs, and the clients take them all', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, null, async ({ page }) => {
      await open(page, `/?broker=${broker.wsUrl}&payment_instances=2`);
      const ids = await waitReady(page, broker);
      const seen = await page.evaluate(() => window.__seen);
      // Five services, PaymentService's second instance, the status monitor.
      assert.equal(seen.sockets.length, 7, JSON.stringify(seen.sockets));
      for (const s of seen.sockets) {
        assert.equal(s.url, broker.wsUrl);
        assert.ok(s.at < seen.instantiated, `socket opened at ${s.at} ms, before the wasm (${seen.instantiated} ms)`);
        assert.equal(s.closed, false, 'no socket was left unclaimed and closed');
      }
      for (const id of Object.values(ids)) {
        const connects = broker.log().match(new RegExp(`New client connected from .* as ${id} `, 'g')) ?? [];
        assert.equal(connects.length, 1, `${id} connected once`);
      }
    }));

  // A newcomer's break-test (46-AY F4): the page said it ignored ?broker=ws://…/%zz (a broken
  // percent escape) and used ws://localhost:9001, yet the page script had opened six sockets to
  // the ignored address.
  it('a ?broker= the page ignores (a broken percent escape): no socket to it', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, null, async ({ page }) => {
      await open(page, `/?broker=${broker.wsUrl}/%25zz`);
      await page.waitForFunction(() => document.body.innerText.includes('Ignored ?broker= in the link'));
      const sockets = await page.evaluate(() => window.__seen.sockets.map((s) => s.url));
      assert.deepEqual(sockets.filter((url) => url.includes('%zz')), [], sockets.join(', '));
    }));

  it('?broker=inpage: no WebSocket at all', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, null, async ({ page }) => {
      await open(page, '/?broker=inpage');
      await waitForStates(page, 'connected');
      assert.deepEqual(await page.evaluate(() => window.__seen.sockets), []);
    }));
});
