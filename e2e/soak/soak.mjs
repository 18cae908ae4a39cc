// The reliability run ("nothing lost"): orders placed through the real page, in Chromium,
// against a real Mosquitto that persists its sessions, while the broker is restarted and the
// services are crashed and restarted at random (seeded). Then an independent MQTT client's
// record of the wire, and the page, are checked: every order reached exactly one terminal
// state, none was charged twice, no stock went negative or stayed held for a cancelled order,
// and the broker dropped nothing.
//
//   node e2e/soak/soak.mjs [--orders 1000] [--restarts 20] [--seed 1] [--json out.json]
//   (scripts/soak builds the app first; a short run is e2e/app/soak.test.mjs)
//
// The broker uses the limits of static/mosquitto.conf (max_inflight_messages,
// max_queued_messages), so a drop it logs ("Outgoing messages are being dropped") is the
// shipped configuration's, and fails the run.

import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';

import { waitReady } from '../lib/app-page.mjs';
import { startBroker } from '../lib/broker.mjs';
import { launchBrowser, openPage, panics } from '../lib/browser.mjs';
import { serveDir } from '../lib/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const SERVICES = ['OrderService', 'PaymentService', 'InventoryService', 'NotificationService'];
const SLUGS = { OrderService: 'order', PaymentService: 'payment', InventoryService: 'inventory', NotificationService: 'notification' };
const TERMINAL = ['orders/confirmed', 'orders/cancelled'];

/** A small seeded generator (mulberry32): the same seed, the same crashes and outages. */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The queue limits of the shipped static/mosquitto.conf. */
export async function shippedLimits() {
  const text = await readFile(path.join(ROOT, 'static', 'mosquitto.conf'), 'utf8');
  const limits = {};
  for (const key of ['max_inflight_messages', 'max_queued_messages']) {
    const match = text.match(new RegExp(`^${key}\\s+(\\d+)`, 'm'));
    if (!match) throw new Error(`static/mosquitto.conf sets no ${key}: the soak needs it set deliberately`);
    limits[key] = Number(match[1]);
  }
  return limits;
}

/**
 * A witness with a persistent session (QoS 1, clean session off) so it misses nothing across
 * the broker's restarts: every message, in arrival order, with MQTT.js's DUP flag.
 */
async function startWitness(tcpPort) {
  const messages = [];
  const waiters = new Set();
  const client = mqtt.connect(`mqtt://127.0.0.1:${tcpPort}`, {
    clientId: `soak-witness-${process.pid}`,
    clean: false,
    reconnectPeriod: 200,
    protocolVersion: 4,
  });
  client.on('error', () => {});
  client.on('message', (topic, payload, packet) => {
    let json = null;
    try {
      json = JSON.parse(payload.toString());
    } catch {
      json = null;
    }
    messages.push({ topic, payload: payload.toString(), json, dup: packet.dup, at: Date.now() });
    for (const waiter of waiters) waiter();
  });
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  await client.subscribeAsync('#', { qos: 1 });
  /** Resolves once `pred()` holds, checked after each message (and at once). */
  const until = (pred, timeoutMs, what) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${what}: not within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { messages, until, close: () => client.endAsync(true) };
}

/** What the wire says of each order: the checks of the run, and the figures. */
export function audit(messages, { stock, quantity, price }) {
  const orders = new Map();
  const of = (id) => {
    if (!orders.has(id)) orders.set(id, { created: 0, terminal: new Set(), outcome: null, reason: null, charges: new Map(), refunds: new Map(), reserved: new Set(), released: new Set() });
    return orders.get(id);
  };
  const copies = new Map();
  for (const m of messages) {
    const key = `${m.topic}\n${m.payload}`;
    copies.set(key, (copies.get(key) ?? 0) + 1);
    const id = m.json?.orderId;
    if (!id || m.topic.startsWith('commands/') || m.topic.startsWith('deadletter/')) continue;
    const order = of(id);
    if (m.topic === 'orders/created') order.created += 1;
    if (TERMINAL.includes(m.topic)) {
      order.terminal.add(m.payload);
      order.outcome = m.topic === 'orders/confirmed' ? 'confirmed' : 'cancelled';
      order.reason = m.json.reason ?? null;
    }
    if (m.topic === 'payments/processed' && m.json.success) order.charges.set(m.json.paymentId, m.json.amount);
    if (m.topic === 'payments/refunded') order.refunds.set(m.json.paymentId, m.json.amount);
    if (m.topic === 'inventory/reserved' && m.json.success) order.reserved.add(m.json.reservationId);
    if (m.topic === 'inventory/released') order.released.add(m.json.reservationId);
  }
  const problems = [];
  const reasons = {};
  let confirmed = 0;
  let cancelled = 0;
  let unitsSold = 0;
  const total = Math.round(quantity * price * 100) / 100;
  const wire = (id) => messages.filter((m) => m.json?.orderId === id).map((m) => m.topic).join(' ');
  for (const [id, order] of orders) {
    const before = problems.length;
    if (order.created === 0) {
      problems.push(`${id}: results with no orders/created`);
      continue;
    }
    if (order.terminal.size !== 1) {
      problems.push(`${id}: ${order.terminal.size} terminal events`);
      continue;
    }
    const charged = [...order.charges.values()].reduce((a, b) => a + b, 0);
    const refunded = [...order.refunds.values()].reduce((a, b) => a + b, 0);
    const net = Math.round((charged - refunded) * 100) / 100;
    const held = [...order.reserved].filter((r) => !order.released.has(r)).length;
    if (order.charges.size > 1) problems.push(`${id}: charged ${order.charges.size} times`);
    if (order.outcome === 'confirmed') {
      confirmed += 1;
      unitsSold += quantity;
      if (net !== total) problems.push(`${id}: confirmed, charged ${net} not ${total}`);
      if (held !== 1) problems.push(`${id}: confirmed, ${held} reservations held`);
    } else {
      cancelled += 1;
      const kind = (order.reason ?? '').replace(/:.*/, '');
      reasons[kind] = (reasons[kind] ?? 0) + 1;
      if (net !== 0) problems.push(`${id}: cancelled, ${net} still charged`);
      if (held !== 0) problems.push(`${id}: cancelled, ${held} reservations still held`);
    }
    // What the witness saw of it, to tell what went wrong.
    for (let i = before; i < problems.length; i += 1) problems[i] += ` (the wire: ${wire(id)})`;
  }
  if (unitsSold > stock) problems.push(`${unitsSold} units sold of ${stock}: the stock went negative`);
  const redelivered = [...copies.values()].reduce((n, c) => n + (c - 1), 0);
  return {
    orders: [...orders.values()].filter((o) => o.created > 0).length,
    confirmed,
    cancelled,
    cancelledBecause: reasons,
    unitsLeft: stock - unitsSold,
    copiesSeenByWitness: redelivered,
    dupFlagged: messages.filter((m) => m.dup).length,
    problems,
  };
}

/**
 * One run. `orders` placed in bursts of ten through the page's "Place 10 orders"; the broker
 * restarted `restarts` times, evenly over the placing; a random service crashed now and then
 * and restarted a little later. Resolves with the figures and the problems found (none, if
 * nothing was lost); `say` gets a line of progress now and then.
 */
export async function runSoak({ orders = 1000, restarts = 20, seed = 1, dist = path.join(ROOT, 'dist'), say = () => {} } = {}) {
  const random = seeded(seed);
  const limits = await shippedLimits();
  const store = await mkdtemp(path.join(os.tmpdir(), 'eda-soak-'));
  await chmod(store, 0o777); // started as root, Mosquitto writes as the mosquitto user
  const settings = { ...limits, persistence: 'true', persistence_location: `${store}/`, autosave_interval: 1 };
  let broker = await startBroker({ logAll: true, settings });
  const brokerLogs = [];
  const { tcpPort, wsPort } = broker;
  const server = await serveDir(dist);
  const browser = await launchBrowser();
  const witness = await startWitness(tcpPort);
  const stock = orders * 2;
  const started = Date.now();
  const figures = { orders, restarts: 0, crashes: 0, refusedClicks: 0, seed, limits };
  let app = null;
  try {
    const query = `/?broker=ws://127.0.0.1:${wsPort}&saga_timeout_ms=15000&payment_ms=300&inventory_ms=200&decline_pct=10&stock=P001:${stock}`;
    app = await openPage(browser, `${server.url}${query}`, { timeoutMs: 60_000 });
    const { page } = app;
    await waitReady(page, broker);
    const created = () => new Set(witness.messages.filter((m) => m.topic === 'orders/created').map((m) => m.json?.orderId)).size;
    const everyRestart = Math.max(10, Math.floor(orders / Math.max(1, restarts + 1)));
    let nextRestart = everyRestart;
    let crashed = null;
    let crashedFor = 0;
    let lastPlaced = Date.now();

    while (created() < orders) {
      // A service crashed a few bursts ago comes back; now and then another crashes.
      if (crashed && --crashedFor <= 0) {
        await page.getByRole('button', { name: `Restart ${crashed}` }).click();
        crashed = null;
      } else if (!crashed && random() < 0.15) {
        crashed = SERVICES[Math.floor(random() * SERVICES.length)];
        crashedFor = 1 + Math.floor(random() * 3);
        await page.getByRole('button', { name: `Crash ${crashed}` }).click();
        figures.crashes += 1;
      }
      if (figures.restarts < restarts && created() >= nextRestart) {
        nextRestart += everyRestart;
        await broker.stop();
        brokerLogs.push(broker.log());
        // The outage (0.2 to 2 s) is the scenario itself, not a wait for an event.
        await new Promise((resolve) => setTimeout(resolve, 200 + Math.floor(random() * 1800)));
        broker = await startBroker({ logAll: true, settings, tcpPort, wsPort });
        figures.restarts += 1;
        say(`broker restarted (${figures.restarts}/${restarts}) after ${created()} orders`);
      }
      const before = created();
      if (crashed !== 'OrderService') {
        await page.click('[data-testid="place-ten"]');
      }
      // Placed (the witness sees them created), or refused while the broker or OrderService is
      // away: then wait for OrderService to be connected again.
      try {
        await witness.until(() => created() > before, 3_000, 'orders/created');
        lastPlaced = Date.now();
      } catch {
        figures.refusedClicks += 1;
        if (crashed === 'OrderService') {
          crashedFor = 0; // restarted on the next round
        } else {
          await page.locator('[data-testid="status-order"][data-state="connected"]').waitFor({ timeout: 60_000 });
        }
      }
    }
    if (crashed) await page.getByRole('button', { name: `Restart ${crashed}` }).click();
    figures.placingSeconds = Math.round((lastPlaced - started) / 100) / 10;

    // Drain: every order created reaches its outcome, and every cancelled one its compensations.
    const drainStarted = Date.now();
    const settled = () => {
      const report = audit(witness.messages, { stock, quantity: 2, price: 29.99 });
      return report.problems.length === 0 && report.orders >= orders;
    };
    await witness.until(settled, 180_000, 'every order settled').catch(() => {});
    figures.drainSeconds = Math.round((Date.now() - drainStarted) / 100) / 10;

    // The page agrees: the stock it shows, nothing open among the orders it still lists.
    const wire = audit(witness.messages, { stock, quantity: 2, price: 29.99 });
    // The page draws what it received in batches: give it a moment to show the same.
    const pageAgrees = () =>
      page.evaluate((units) => {
        const shown = Number(document.querySelector('[data-testid="stock-level"][data-product="P001"]')?.dataset.units);
        const open = [...document.querySelectorAll('[data-testid="order-row"]')].filter((r) => !['Completed', 'Cancelled'].includes(r.dataset.status));
        return { shown, open: open.map((r) => r.dataset.orderId), agrees: shown === units && open.length === 0 };
      }, wire.unitsLeft);
    await page.waitForFunction(
      (units) => {
        const shown = Number(document.querySelector('[data-testid="stock-level"][data-product="P001"]')?.dataset.units);
        const rows = [...document.querySelectorAll('[data-testid="order-row"]')];
        return shown === units && rows.every((r) => ['Completed', 'Cancelled'].includes(r.dataset.status));
      },
      wire.unitsLeft,
      { timeout: 30_000 },
    ).catch(() => {});
    const seenByPage = await pageAgrees();
    if (seenByPage.shown !== wire.unitsLeft) wire.problems.push(`the page shows ${seenByPage.shown} units left, the wire says ${wire.unitsLeft}`);
    if (seenByPage.open.length) wire.problems.push(`the Orders panel shows ${seenByPage.open.length} open: ${seenByPage.open.slice(0, 3).join(', ')}`);
    figures.duplicatesIgnored = await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="duplicates-ignored"]')].reduce((n, e) => n + Number(e.dataset.count), 0),
    );
    const found = panics(app);
    if (found.length) wire.problems.push(`the page panicked: ${found[0]}`);
    brokerLogs.push(broker.log());
    const drops = brokerLogs.join('\n').split('\n').filter((l) => /dropped/i.test(l));
    figures.brokerDrops = drops.length;
    if (drops.length) wire.problems.push(`the broker dropped messages: ${drops[0]}`);
    figures.totalSeconds = Math.round((Date.now() - started) / 100) / 10;
    return { ...figures, ...wire, ordersPlaced: wire.orders };
  } finally {
    await app?.close().catch(() => {});
    await witness.close().catch(() => {});
    await browser.close().catch(() => {});
    await server.close().catch(() => {});
    await broker.stop().catch(() => {});
    await rm(store, { recursive: true, force: true });
  }
}

function argument(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = {
    orders: Number(argument('orders', 1000)),
    restarts: Number(argument('restarts', 20)),
    seed: Number(argument('seed', 1)),
    say: (line) => console.log(`soak: ${line}`),
  };
  for (const [key, value] of Object.entries(options)) {
    if (key !== 'say' && (!Number.isInteger(value) || value < 0)) {
      console.error(`soak: --${key} must be a whole number, not ${argument(key)}`);
      process.exit(2);
    }
  }
  console.log(`soak: ${options.orders} orders, ${options.restarts} broker restarts, seed ${options.seed}`);
  const report = await runSoak(options);
  const out = argument('json');
  if (out) await (await import('node:fs/promises')).writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
  if (report.problems.length) {
    console.error(`soak: ${report.problems.length} problems`);
    process.exit(1);
  }
  console.log('soak: nothing lost');
}
