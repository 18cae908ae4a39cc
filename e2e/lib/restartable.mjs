// The e2e helpers of a broker that goes down and comes back mid-saga: a Mosquitto of its own
// that keeps sessions across a restart, an independent witness that misses nothing across it,
// and what the wire says is left charged or held. Used by mid-saga.test.mjs and
// broker-outage.test.mjs.

import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';

import { CONNECT_TIMEOUT_MS, FLOW_TIMEOUT_MS, brokerQuery } from './app-page.mjs';
import { setLateBroker, waitReady, withApp } from './app-suite.mjs';
import { startBroker } from './broker.mjs';

/**
 * The messages on `topic` for `orderId` that `pick` keeps, each counted once by the id it carries
 * (`key`): a participant asked again for a compensation answers again with the same message
 * (a refund of the same payment), which undoes nothing twice.
 */
export function distinct(messages, orderId, topic, key, pick = () => true) {
  const seen = new Map();
  for (const m of messages) {
    if (m.topic === topic && m.json?.orderId === orderId && pick(m)) seen.set(m.json[key], m);
  }
  return [...seen.values()];
}

/** Charged minus refunded for `orderId`, from what `messages` hold (each payment once). */
export function netCharge(messages, orderId) {
  const charged = distinct(messages, orderId, 'payments/processed', 'paymentId', (m) => m.json.success);
  const refunded = distinct(messages, orderId, 'payments/refunded', 'paymentId');
  const sum = (ms) => ms.reduce((total, m) => total + m.json.amount, 0);
  return Math.round((sum(charged) - sum(refunded)) * 100) / 100;
}

/** Reservations minus releases for `orderId` (each reservation once). */
export function netHeld(messages, orderId) {
  const reserved = distinct(messages, orderId, 'inventory/reserved', 'reservationId', (m) => m.json.success);
  // A release of the nil id is a compensation before the step: it gives back nothing.
  const released = distinct(messages, orderId, 'inventory/released', 'reservationId', (m) => m.json.reservationId !== '00000000-0000-0000-0000-000000000000');
  return reserved.length - released.length;
}

/**
 * Runs `body({ page, seen, waitSeen, outage })` on the app against a Mosquitto of its own that
 * keeps sessions across a restart (persistence on, same ports), watched by a witness with a
 * persistent session of its own, so it misses nothing across the restart. `outage(ms)` stops
 * the broker, keeps it down `ms` (the scenario, not a wait for an event), and starts it again;
 * `stop()` and `start()` do each half, for a scenario that acts in between.
 */
export async function withRestartableBroker(t, query, body) {
  const store = await mkdtemp(path.join(os.tmpdir(), 'eda-persist-'));
  await chmod(store, 0o777); // started as root, Mosquitto writes as the mosquitto user
  const settings = { persistence: 'true', persistence_location: `${store}/`, autosave_interval: 1 };
  let restartable = await startBroker({ settings });
  setLateBroker(restartable);
  const seen = [];
  const waiters = new Set();
  const witness = mqtt.connect(`mqtt://127.0.0.1:${restartable.tcpPort}`, {
    clientId: 'e2e-outage-witness', clean: false, reconnectPeriod: 200, protocolVersion: 4,
  });
  witness.on('error', () => {});
  witness.on('message', (topic, payload) => {
    let json = null;
    try { json = JSON.parse(payload.toString()); } catch { json = null; }
    seen.push({ topic, json, text: payload.toString() });
    for (const waiter of waiters) waiter();
  });
  await new Promise((resolve) => witness.once('connect', resolve));
  await witness.subscribeAsync('#', { qos: 1 });
  /** Resolves once `seen` holds `count` messages matching `pred`. */
  const waitSeen = (pred, what, count = 1) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (seen.filter(pred).length < count) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`never saw ${count} × ${what} (saw ${seen.filter(pred).length}); saw: ${[...new Set(seen.map((m) => m.topic.replace(/^eventstore\/orders\/.*/, 'eventstore/orders/…')))].join(', ')}`));
      }, FLOW_TIMEOUT_MS * 2);
      waiters.add(check);
      check();
    });
  const { tcpPort, wsPort } = restartable;
  const stop = () => restartable.stop();
  const start = async () => {
    restartable = await startBroker({ settings, tcpPort, wsPort });
    setLateBroker(restartable);
    return restartable;
  };
  const outage = async (ms) => {
    await stop();
    await new Promise((resolve) => setTimeout(resolve, ms));
    await start();
  };
  try {
    await withApp(t, `${brokerQuery(restartable.wsUrl)}${query}`, async ({ page }) => {
      await waitReady(page, restartable);
      // A second broker on the same store, on ports the page does not use.
      const aside = () => startBroker({ settings });
      await body({ page, seen, waitSeen, outage, stop, start, aside });
    });
  } finally {
    witness.end(true);
    await restartable.stop();
    setLateBroker(null);
    await rm(store, { recursive: true, force: true });
  }
}

/**
 * The broker stopped; once the deadline has cancelled each of `orders` in OrderService's store
 * (the Event store panel), the page reloaded and its store restored; then the broker started.
 */
export async function reloadWhileDown(page, orders, { stop, start }) {
  await stop();
  for (const id of orders) {
    await page.locator(`[data-testid="store-stream"][data-stream="${id}"][data-status="Cancelled"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
  }
  await page.reload();
  await page.locator('[data-testid="store-note"][data-kind="restored"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
  // The Orders count says the open orders ended in OrderService's store already, their
  // cancellations not on the wire yet (45-AV F4: "1 open" beside the store's "none was open").
  await page.waitForFunction(
    (n) => document.querySelector('[data-testid="orders-count"]')?.dataset.decided === String(n),
    orders.length,
    { timeout: FLOW_TIMEOUT_MS },
  );
  await start();
}

/**
 * The break-test of a cancellation sent twice: *Place 10 orders*, the broker stopped before their
 * deadline (`DEADLINE_MS`; the payment takes 10 s, the longest the page allows), the page
 * reloaded then if `reload`, each order cancelled in OrderService's store while the broker is
 * away, the broker kept down past the compensation check's due time (a deadline after the
 * cancellation), then started. OrderService is back
 * before the participants (crashed meanwhile, restarted 2 s after it is connected: in the
 * break-test their clients' backoff brought them back later), so no answer ends the check
 * before it is due. Each order's `orders/cancelled` reaches the wire once: the check counts from
 * when it went out, and the participants' answers to it end it.
 */
export async function cancelledWhileDown({ page, seen, waitSeen, stop, start }, { reload }) {
  const ORDERS = 10;
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  await page.click('[data-testid="place-ten"]');
  await waitSeen((m) => m.topic === 'orders/created', 'orders/created', ORDERS);
  const orders = seen.filter((m) => m.topic === 'orders/created').map((m) => m.json?.orderId);
  for (const id of orders) {
    // In OrderService's store (its copy goes out once the tab's database holds it).
    await waitSeen((m) => m.topic === `eventstore/orders/${id}` && m.json?.type === 'OrderCreated', `OrderCreated of ${id} stored`);
  }
  await stop();
  const stoppedAt = seen.length;
  assert.deepEqual(seen.filter((m) => m.topic === 'orders/cancelled'), [], 'the case needs each order cancelled while the broker is down (the machine was too slow for its deadline)');
  if (reload) {
    await page.reload();
    await page.locator('[data-testid="store-note"][data-kind="restored"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
  }
  // Each cancelled in OrderService's store (the Event store panel, drawn or not).
  await page.waitForFunction(
    (ids) => ids.every((id) => document.querySelector(`[data-testid="store-stream"][data-stream="${id}"][data-status="Cancelled"]`)),
    orders,
    { timeout: FLOW_TIMEOUT_MS },
  );
  const decided = page.locator(`[data-testid="order-row"][data-order-id="${orders[0]}"] [data-testid="order-decided"]`);
  assert.match(await decided.textContent({ timeout: FLOW_TIMEOUT_MS }), /^cancelled by OrderService \(.*timed out\); its orders\/cancelled is not on the wire yet: it waits for the broker$/);
  const participants = ['payment', 'inventory'];
  for (const slug of participants) {
    await page.click(`[data-testid="crash-${slug}"]`);
    await page.locator(`[data-testid="status-${slug}"][data-crashed="true"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
  }
  // The scenario, not a wait for an event: down past each check's due time (a deadline after
  // its cancellation), as the break-test's 15 s were.
  await pause(DEADLINE_MS + 1000);
  await start();
  await page.locator('[data-testid="status-order"][data-state="connected"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
  // The participants back 2 s after OrderService (the scenario): a check acting at once has
  // acted by then; one counting from the first copy is still most of a deadline from due.
  await pause(2000);
  for (const slug of participants) await page.click(`[data-testid="restart-${slug}"]`);
  for (const id of orders) {
    // The answers, in OrderService's store: the check finds them once due, and ends.
    for (const type of ['InventoryReleased', 'PaymentRefunded']) {
      await waitSeen((m) => m.topic === `eventstore/orders/${id}` && m.json?.type === type, `${type} for ${id}`);
    }
  }
  // The scenario: past each check's due time (a deadline after the first copy went out).
  await pause(DEADLINE_MS);
  for (const id of orders) {
    const copies = seen.slice(stoppedAt).filter((m) => m.topic === 'orders/cancelled' && m.json?.orderId === id).length;
    assert.equal(copies, 1, `orders/cancelled of ${id} ${copies} times, not again by its compensation check beside the first: ${seen.filter((m) => m.json?.orderId === id || m.topic.endsWith(id)).map((m) => `${m.topic} ${m.json?.type ?? ''}`).join(' / ')}`);
  }
}

/**
 * The saga deadline of `cancelledWhileDown`, ms (also its compensation checks' deadline). The
 * participants, restarted 2 s after OrderService, must answer the ten cancellations within it
 * of the first copy, or the check rightly sends a second: 8 s was too short once, under three
 * browsers on two cores.
 */
export const DEADLINE_MS = 12_000;
