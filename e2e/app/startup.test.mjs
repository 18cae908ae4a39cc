// The start-up's hand-offs on the main thread (docs/benchmarks.md, "Start-up"): a CONNACK shows
// on its badge in the render that follows it, with no report timer in between, and the first
// render waits for the answers to the CONNECTs sent before it, so it draws those services
// connected. Asserted by order of events, not by speed: the first zero-delay timer after the
// CONNACK that finds the page done drawing must find the badge connected, and the first drawing
// must show connected what was answered before the render began. The first
// render draws the top of the page (the broker's section, with the badges) and the rest follows
// one task later, below it, moving nothing.
//
//   node --test e2e/app/startup.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { SERVICES } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, server, waitReady, withApp } from '../lib/app-suite.mjs';

/**
 * Runs before the page's scripts. Per WebSocket (in creation order: the five services', then
 * the status monitor's): its first `message` (the CONNACK), and its service's badge as found by
 * zero-delay timers queued from that event, one after the other while the page is still drawing
 * (it changed the document since the last look: Yew splits a long render into tasks of ~16 ms,
 * and a CONNACK that comes between two of them is drawn by a later one), and no further. Also
 * how many sockets opened, when the first bytes left, when the first render put its first node
 * in <body>, and each badge's state when first drawn.
 */
function probe(services) {
  const t = { sockets: [], firstDrawn: {}, firstSend: null, opened: 0, renderStart: null, formWithFirstBadge: null, shifts: [], changes: 0 };
  window.__startup = t;
  // Anything that moves on the page while it loads, unasked (as Chromium counts a layout shift).
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.hadRecentInput) continue;
      // Whether a moved node is one the first render drew (the header, the broker's section
      // with the badges): the rest of the page, drawn later, changes as it should (a log's
      // subscription loses its "(asked)" when the SUBACK comes, and the text after it moves).
      const firstRender = e.sources.some((x) => {
        const el = x.node?.nodeType === Node.ELEMENT_NODE ? x.node : x.node?.parentElement;
        return Boolean(el?.closest('header.page-header, section.broker'));
      });
      t.shifts.push({ value: e.value, at: e.startTime, firstRender, moved: e.sources.map((x) => `${x.node?.nodeName}.${x.node?.className ?? ''} in ${(x.node?.nodeType === Node.ELEMENT_NODE ? x.node : x.node?.parentElement)?.className ?? ''}`) });
    }
  }).observe({ type: 'layout-shift', buffered: true });
  const badge = (service) => document.querySelector(`[data-testid="status-${service}"]`);
  // The zero-delay timers queued and not yet run or cleared. Yew's scheduler yields to the
  // browser in the middle of a long piece of work with one (yew 0.23, scheduler.rs), and picks
  // up what was dispatched meanwhile when it fires; Chromium holds a timer queued from a chain
  // of timers at least 4 ms, so a look queued later, from an event, can run before it. A timer
  // queued before the CONNACK came is not one the CONNACK waited for.
  const zeroTimers = new Map();
  const { setTimeout: nativeSet, clearTimeout: nativeClear } = window;
  window.setTimeout = function (handler, delay, ...rest) {
    if (Number(delay) > 0 || typeof handler !== 'function') return nativeSet.call(window, handler, delay, ...rest);
    const entry = {};
    const id = nativeSet.call(window, function (...a) {
      zeroTimers.delete(id);
      return handler.apply(this, a);
    }, delay, ...rest);
    zeroTimers.set(id, entry);
    return id;
  };
  window.clearTimeout = function (id) {
    zeroTimers.delete(id);
    return nativeClear.call(window, id);
  };
  // The badge once the page is done drawing what it was drawing: a look again, a task later,
  // while the document keeps changing between looks, or a zero-delay timer queued before the
  // CONNACK has yet to run (at most 100 looks).
  const look = (s, service, changes, earlier, looks) =>
    nativeSet.call(window, () => {
      const state = badge(service)?.dataset.state ?? 'not drawn';
      s.looks = looks;
      const waiting = earlier.some((entry) => [...zeroTimers.values()].includes(entry));
      if (state === 'connected' || state === 'not drawn' || (t.changes === changes && !waiting) || looks >= 100) {
        s.badgeAfterConnack = state;
      } else {
        look(s, service, t.changes, earlier, looks + 1);
      }
    });
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      const service = services[t.sockets.length];
      const s = { badgeAfterConnack: null };
      t.sockets.push(s);
      this.addEventListener('open', () => t.opened++);
      this.addEventListener('message', () => {
        if (s.badgeAfterConnack !== null || !service) return;
        s.badgeAfterConnack = 'pending';
        look(s, service, t.changes, [...zeroTimers.values()], 1);
      });
    }

    send(data) {
      t.firstSend ??= performance.now();
      return super.send(data);
    }
  };
  // The first render's first node put in <body>: when it started, near enough (Yew puts the
  // page's outer elements in before it draws the components inside them).
  for (const name of ['insertBefore', 'appendChild']) {
    const native = Node.prototype[name];
    Node.prototype[name] = function (...args) {
      if (this === document.body && document.readyState !== 'loading') t.renderStart ??= performance.now();
      return native.apply(this, args);
    };
  }
  document.addEventListener('DOMContentLoaded', () =>
    new MutationObserver(() => {
      t.changes++;
      for (const service of services) {
        const state = badge(service)?.dataset.state;
        if (state && !(service in t.firstDrawn)) {
          t.firstDrawn[service] = { state, at: performance.now() };
          t.formWithFirstBadge ??= document.querySelector('[data-testid="place-order"]') !== null;
        }
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true }),
  );
}

const load = async (page, before = async () => {}) => {
  await page.addInitScript(probe, SERVICES);
  await before(page);
  await page.goto(`${server.url}/?broker=${broker.wsUrl}`);
  await waitReady(page, broker);
  return page.evaluate(() => window.__startup);
};

describeApp('start-up', () => {
  it("a service's badge says connected once the page has drawn what follows its CONNACK, with no timer in between", { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, null, async ({ page }) => {
      await load(page);
      await page.waitForFunction(() => !window.__startup.sockets.some((s) => s.badgeAfterConnack === 'pending'));
      const seen = await page.evaluate(() => window.__startup);
      const drawn = seen.sockets.slice(0, SERVICES.length).filter((s) => s.badgeAfterConnack !== 'not drawn');
      assert.ok(drawn.length >= 1, `a CONNACK came after the first render: ${JSON.stringify(seen.sockets)}`);
      for (const s of drawn) assert.equal(s.badgeAfterConnack, 'connected', JSON.stringify(seen.sockets));
      t.diagnostic(`${drawn.length} CONNACKs came after the first render`);
    }));

  it('the first render waits for the answers to the CONNECTs sent before it, and draws those services connected', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, null, async ({ page }) => {
      // The wasm held back until two sockets are open, so their CONNECTs leave as it starts.
      const seen = await load(page, (p) =>
        p.route('**/eda-playground-*_bg.wasm', async (route) => {
          await p.waitForFunction(() => window.__startup?.opened >= 2);
          await route.continue();
        }),
      );
      // The render waits at most 100 ms (frontend/src/boot.rs, ANSWERS_WAIT) from a check made
      // just before the first CONNECT left (from the client's flush timer, a task later); one
      // that started well within that had its answers.
      const waited = seen.renderStart - seen.firstSend;
      t.diagnostic(`render started ${waited.toFixed(0)} ms after the first CONNECT; drawn first: ${JSON.stringify(seen.firstDrawn)}`);
      if (waited < 80) {
        // The first two sockets are OrderService's and PaymentService's.
        for (const service of ['order', 'payment']) {
          assert.equal(seen.firstDrawn[service].state, 'connected', JSON.stringify(seen));
        }
      }
    }));

  it("the first render draws the broker's section with the badges; the rest of the page follows below, moving nothing drawn", { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, null, async ({ page }) => {
      const seen = await load(page);
      // The badges came without the form (drawn one task later, below them) …
      assert.equal(seen.formWithFirstBadge, false, JSON.stringify(seen.firstDrawn));
      // … and the whole page is there now: the form, the picture, the orders.
      for (const id of ['place-order', 'orders-panel', 'event-store', 'read-model']) {
        assert.equal(await page.locator(`[data-testid="${id}"]`).count(), 1, `${id} drawn`);
      }
      // Nothing moved while the rest came (a shift would be the badges or the broker's
      // section pushed by what was drawn after them).
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const shifts = await page.evaluate(() => window.__startup.shifts);
      assert.deepEqual(shifts.filter((s) => s.firstRender), [], `no layout shift of what the first render drew while the page loaded (all shifts: ${JSON.stringify(shifts)})`);
    }));
});
