// End-to-end: the built app (Trunk's dist/) in Debian's Chromium, its four services talking to
// a private Mosquitto, watched by an independent MQTT.js client and by the broker's own log.
//
//   trunk build && npm test            (EDA_DIST=<dir> to test another build)
//
// Selectors: docs/dom-contract.md. Payloads: the seed's "Data Flow" (e2e/lib/seed.mjs).
// On failure, a screenshot, the page console and the broker log go to e2e/artifacts/.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { freePort, startBroker } from './lib/broker.mjs';
import { assertNoPanics, launchBrowser, openPage } from './lib/browser.mjs';
import { startWitness } from './lib/mqtt-witness.mjs';
import {
  SEED_ORDER_CREATED_JSON,
  SEED_ORDER_ID,
  UUID_V4,
  checkInventoryReserved,
  checkOrderCreated,
  checkPaymentProcessed,
  orderCreatedJson,
} from './lib/seed.mjs';
import { serveDir } from './lib/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.resolve(ROOT, process.env.EDA_DIST ?? 'dist');
const ARTIFACTS = path.join(ROOT, 'e2e', 'artifacts');

const SERVICES = ['order', 'payment', 'inventory', 'notification'];
const CLIENT_ID = /^eda-[0-9a-f]+-(order|payment|inventory|notification)$/;
// What each service must have subscribed before an order can flow through all of them.
const SUBSCRIPTIONS = {
  payment: ['orders/created'],
  inventory: ['orders/created'],
  notification: ['orders/created', 'payments/processed', 'inventory/reserved'],
};

const CASE_TIMEOUT_MS = 120_000;
const CONNECT_TIMEOUT_MS = 30_000; // also the reconnect bound of "broker down, then up"
const FLOW_TIMEOUT_MS = 20_000; // the seed's services take ~1 s

const SEED_ITEMS = [{ productId: 'P001', quantity: 2, price: 29.99 }];

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const brokerQuery = (wsUrl) => `/?broker=${wsUrl}`;
const notificationTexts = (orderId, customerId = 'C123') => [
  `Order confirmation email sent to ${customerId}`,
  `Payment confirmation for Order ${orderId}`,
  `Inventory confirmation for Order ${orderId}`,
];

// MQTT topic filter matching (+ and #), for subscriptions seen in the broker log.
function filterMatches(filter, topic) {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

describe('order flow: the app in Chromium against a real Mosquitto', () => {
  if (!existsSync(path.join(DIST, 'index.html'))) {
    it('needs the built app', () => {
      throw new Error(
        `${path.join(DIST, 'index.html')} missing: build the app first (\`trunk build\` at the ` +
          'repository root), or set EDA_DIST to a directory holding a built app',
      );
    });
    return;
  }

  let broker;
  let server;
  let browser;
  let lateBroker = null; // the broker that appears mid-case in "broker down, then up"

  before(async () => {
    broker = await startBroker({ logAll: true });
    server = await serveDir(DIST);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await broker?.stop();
  });

  // ---------------------------------------------------------------------------------------
  // Helpers (closures over the suite's broker/server/browser)

  /**
   * Runs one case on its own page (fresh browser context). Afterwards the console must hold no
   * Rust panic. On failure, saves a screenshot, the console and the broker log.
   */
  async function withApp(t, query, body, contextOptions = {}) {
    const app = await openPage(browser, null, { contextOptions });
    try {
      if (query !== null) await app.page.goto(`${server.url}${query}`);
      await body(app);
      assertNoPanics(app);
    } catch (error) {
      const saved = await saveArtifacts(t.name, app).catch((e) => `(could not save: ${e.message})`);
      const tail = app.console.slice(-30).join('\n') || '(empty)';
      throw new Error(
        `${error.message}\n--- page console (last 30) ---\n${tail}\n--- artifacts: ${saved}`,
        { cause: error },
      );
    } finally {
      await app.close();
    }
  }

  async function saveArtifacts(name, app) {
    const slug = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
    await mkdir(ARTIFACTS, { recursive: true });
    const base = path.join(ARTIFACTS, slug);
    await writeFile(`${base}.console.txt`, app.console.join('\n'));
    await writeFile(path.join(ARTIFACTS, 'mosquitto.log'), broker.log());
    if (lateBroker) await writeFile(path.join(ARTIFACTS, 'mosquitto-late.log'), lateBroker.log());
    await app.page.screenshot({ path: `${base}.png`, fullPage: true }).catch(() => {});
    return `${base}.{png,console.txt}, ${path.join(ARTIFACTS, 'mosquitto.log')}`;
  }

  const statusStates = (page) =>
    page.evaluate(
      (services) =>
        Object.fromEntries(
          services.map((s) => [
            s,
            document.querySelector(`[data-testid="status-${s}"]`)?.getAttribute('data-state') ??
              '(no element)',
          ]),
        ),
      SERVICES,
    );

  async function waitForStates(page, state, timeout = CONNECT_TIMEOUT_MS) {
    try {
      await page.waitForFunction(
        ({ services, state }) =>
          services.every(
            (s) =>
              document.querySelector(`[data-testid="status-${s}"]`)?.getAttribute('data-state') ===
              state,
          ),
        { services: SERVICES, state },
        { timeout },
      );
    } catch (error) {
      const now = await statusStates(page).catch(() => 'unknown');
      throw new Error(
        `not all four services became "${state}" within ${timeout} ms; now: ${JSON.stringify(now)}`,
        { cause: error },
      );
    }
  }

  /** The client id each service shows, checked against the contract's pattern. */
  async function clientIds(page) {
    const ids = {};
    for (const service of SERVICES) {
      const text = await page
        .locator(`[data-testid="status-${service}"] [data-testid="client-id"]`)
        .textContent();
      const id = (text ?? '').trim();
      const match = CLIENT_ID.exec(id);
      assert.ok(match, `client id of ${service} should look like eda-<hex>-${service}, got "${id}"`);
      assert.equal(match[1], service, `client id "${id}" shown for the ${service} service`);
      ids[service] = id;
    }
    assert.equal(new Set(Object.values(ids)).size, 4, `four distinct client ids: ${JSON.stringify(ids)}`);
    return ids;
  }

  /**
   * All four services connected, and (from the broker's log) every subscribing service's
   * SUBSCRIBE processed: only then can an order flow through all of them.
   */
  async function waitReady(page, onBroker = broker) {
    await waitForStates(page, 'connected');
    const ids = await clientIds(page);
    for (const [service, topics] of Object.entries(SUBSCRIPTIONS)) {
      const line = new RegExp(`^\\d+: ${escapeRegExp(ids[service])} [012] (\\S+)$`, 'gm');
      await onBroker
        .waitForLog((log) => {
          const filters = [...log.matchAll(line)].map((m) => m[1]);
          return topics.every((topic) => filters.some((f) => filterMatches(f, topic)));
        }, 10_000)
        .catch((error) => {
          throw new Error(
            `the ${service} service (${ids[service]}) is "connected" but the broker saw no ` +
              `subscription to ${topics.join(', ')} within 10 s`,
            { cause: error },
          );
        });
    }
    return ids;
  }

  async function placedOrderId(page) {
    const locator = page.locator('[data-testid="placed-order-id"]');
    await locator.waitFor({ state: 'visible', timeout: FLOW_TIMEOUT_MS });
    const id = ((await locator.textContent()) ?? '').trim();
    assert.match(id, UUID_V4, `placed-order-id should show a v4 UUID, got "${id}"`);
    return id;
  }

  async function waitForNotifications(page, texts, timeout = FLOW_TIMEOUT_MS) {
    try {
      await page.waitForFunction(
        (texts) => {
          const shown = new Set(
            [...document.querySelectorAll('[data-testid="notification"]')].map((e) =>
              e.textContent.trim(),
            ),
          );
          return texts.every((t) => shown.has(t));
        },
        texts,
        { timeout },
      );
    } catch (error) {
      const shown = await page
        .locator('[data-testid="notification"]')
        .allTextContents()
        .catch(() => []);
      throw new Error(
        `notifications ${JSON.stringify(texts)} not all shown within ${timeout} ms; shown: ` +
          JSON.stringify(shown.map((s) => s.trim())),
        { cause: error },
      );
    }
  }

  /**
   * Waits for a rejected event-log entry of `service` on `topic` that contains `payload` and
   * whose text, with the payload removed, matches `reason`. Resolves with the entry's text.
   */
  async function waitForRejected(page, { service, topic, payload, reason }, timeout = FLOW_TIMEOUT_MS) {
    const selector =
      `[data-testid="log-entry"][data-status="rejected"]` +
      `[data-service="${service}"][data-topic="${topic}"]`;
    try {
      const handle = await page.waitForFunction(
        ({ selector, payload, source, flags }) => {
          const reason = new RegExp(source, flags);
          for (const entry of document.querySelectorAll(selector)) {
            const text = entry.textContent;
            if (text.includes(payload) && reason.test(text.split(payload).join(' '))) return text;
          }
          return null;
        },
        { selector, payload, source: reason.source, flags: reason.flags },
        { timeout },
      );
      return handle.jsonValue();
    } catch (error) {
      const entries = await page
        .evaluate(() =>
          [...document.querySelectorAll('[data-testid="log-entry"]')].map(
            (e) =>
              `[${e.getAttribute('data-service')} ${e.getAttribute('data-topic')} ` +
              `${e.getAttribute('data-status')}] ${e.textContent.trim()}`,
          ),
        )
        .catch(() => []);
      throw new Error(
        `no rejected log entry of the ${service} service on ${topic} containing ` +
          `${JSON.stringify(payload)} with a reason matching ${reason} within ${timeout} ms; ` +
          `log entries:\n${entries.join('\n') || '(none)'}`,
        { cause: error },
      );
    }
  }

  /** Payment and inventory events for `orderId`, shape-checked, both successful. */
  async function expectDownstreamEvents(witness, orderId, amount) {
    const payment = await witness.waitForOrder('payments/processed', orderId, FLOW_TIMEOUT_MS);
    assert.ok(payment.json, `payments/processed is not JSON: ${payment.payload}`);
    checkPaymentProcessed(payment.json);
    assert.equal(payment.json.amount, amount, 'PaymentProcessed.amount');
    assert.equal(payment.json.success, true, 'PaymentProcessed.success');

    const inventory = await witness.waitForOrder('inventory/reserved', orderId, FLOW_TIMEOUT_MS);
    assert.ok(inventory.json, `inventory/reserved is not JSON: ${inventory.payload}`);
    checkInventoryReserved(inventory.json);
    assert.equal(inventory.json.success, true, 'InventoryReserved.success');
  }

  /** The form as the page opens it: the seed's example order. */
  async function expectSeedForm(page) {
    const values = {
      customerId: await page.inputValue('#customer-id'),
      productId: await page.inputValue('#product-id-0'),
      quantity: await page.inputValue('#quantity-0'),
      price: await page.inputValue('#price-0'),
    };
    const message = `the form should open with the seed's example order (C123, P001 × 2 at 29.99): ${JSON.stringify(values)}`;
    assert.equal(values.customerId.trim(), 'C123', message);
    assert.equal(values.productId.trim(), 'P001', message);
    assert.equal(Number(values.quantity), 2, message);
    assert.equal(Number(values.price), 29.99, message);
  }

  /** Places the form's order and follows it through the witness and the page. */
  async function placeSeedOrderAndExpectFlow(page, witness) {
    await page.click('[data-testid="place-order"]');
    const orderId = await placedOrderId(page);

    const created = await witness.waitForOrder('orders/created', orderId, FLOW_TIMEOUT_MS);
    assert.ok(created.json, `orders/created is not JSON: ${created.payload}`);
    checkOrderCreated(created.json);
    assert.equal(created.json.customerId, 'C123');
    assert.deepEqual(created.json.items, SEED_ITEMS);
    assert.equal(created.json.totalAmount, 59.98);

    await expectDownstreamEvents(witness, orderId, 59.98);
    await waitForNotifications(page, notificationTexts(orderId));
    return orderId;
  }

  /** Places the form's order with an independent witness watching, and follows it through. */
  async function placeWatchedOrder(page, { onBroker = broker, protocolVersion = 4 } = {}) {
    const witness = await startWitness({ tcpPort: onBroker.tcpPort, protocolVersion });
    try {
      return await placeSeedOrderAndExpectFlow(page, witness);
    } finally {
      await witness.close();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Cases

  it('form order: the order flows through all four services', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      const ids = await waitReady(page);

      // The broker saw four distinct app clients connect, with the ids the page shows.
      const connected = new Set(
        [
          ...broker
            .log()
            .matchAll(
              /New client connected from \S+ as (eda-[0-9a-f]+-(?:order|payment|inventory|notification)) /g,
            ),
        ].map((m) => m[1]),
      );
      assert.ok(connected.size >= 4, `four app clients in the broker log, saw ${[...connected]}`);
      for (const service of SERVICES) {
        assert.ok(connected.has(ids[service]), `the broker log shows ${ids[service]} connecting`);
      }

      await expectSeedForm(page);
      await placeWatchedOrder(page);

      // On the wire, each event came from the service that owns it.
      const published = (service, topic) =>
        new RegExp(
          `Received PUBLISH from ${escapeRegExp(ids[service])} \\(d\\d, q\\d, r\\d, m\\d+, '${escapeRegExp(topic)}'`,
        );
      await broker.waitForLog(published('order', 'orders/created'), 5_000);
      await broker.waitForLog(published('payment', 'payments/processed'), 5_000);
      await broker.waitForLog(published('inventory', 'inventory/reserved'), 5_000);
    }));

  it('external order: an OrderCreated from outside the page is processed', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      await waitReady(page);
      const witness = await startWitness({ tcpPort: broker.tcpPort });
      try {
        await witness.publish('orders/created', SEED_ORDER_CREATED_JSON, { qos: 1 });
        await expectDownstreamEvents(witness, SEED_ORDER_ID, 59.98);
        await waitForNotifications(page, notificationTexts(SEED_ORDER_ID));
      } finally {
        await witness.close();
      }
    }));

  it('garbage then valid: bad payloads are rejected and the services keep working', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      await waitReady(page);
      const witness = await startWitness({ tcpPort: broker.tcpPort });
      try {
        const garbage = 'this is not json {';
        await witness.publish('orders/created', garbage, { qos: 1 });
        await waitForRejected(page, {
          service: 'payment',
          topic: 'orders/created',
          payload: garbage,
          reason: /not (valid )?JSON|invalid JSON|malformed JSON/i,
        });

        const wrongShape = '{"hello":1}';
        await witness.publish('orders/created', wrongShape, { qos: 1 });
        await waitForRejected(page, {
          service: 'payment',
          topic: 'orders/created',
          payload: wrongShape,
          reason: /missing field/i,
        });

        const orderId = randomUUID();
        await witness.publish('orders/created', orderCreatedJson({ orderId }), { qos: 1 });
        await expectDownstreamEvents(witness, orderId, 59.98);
        await waitForNotifications(page, notificationTexts(orderId));
      } finally {
        await witness.close();
      }
    }));

  it('bad form input: field errors, and nothing is published', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      await waitReady(page);
      const witness = await startWitness({ tcpPort: broker.tcpPort });
      try {
        await page.fill('#customer-id', '');
        await page.fill('#quantity-0', '2.5');
        await page.click('[data-testid="place-order"]');

        await page.locator('[data-testid="error-customer-id"]').waitFor({ state: 'visible' });
        await page.locator('[data-testid="error-quantity-0"]').waitFor({ state: 'visible' });

        // Anything published before the sentinel has reached the witness once it is back.
        await witness.roundTrip();
        assert.equal(await page.locator('[data-testid="placed-order-id"]').count(), 0, 'no order id shown');
        const created = witness.messages.filter((m) => m.topic === 'orders/created');
        assert.deepEqual(created.map((m) => m.payload), [], 'nothing published to orders/created');
      } finally {
        await witness.close();
      }
    }));

  it('broker down, then up: the page says so, refuses orders, and reconnects by itself', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const tcpPort = await freePort();
    let wsPort = await freePort();
    while (wsPort === tcpPort) wsPort = await freePort();
    const wsUrl = `ws://127.0.0.1:${wsPort}`;
    let late = null;
    try {
      await withApp(t, brokerQuery(wsUrl), async ({ page }) => {
        await waitForStates(page, 'disconnected');

        const help = page.locator('[data-testid="broker-help"]');
        await help.waitFor({ state: 'visible' });
        const helpText = (await help.textContent()) ?? '';
        assert.ok(helpText.includes(wsUrl), `broker-help names ${wsUrl}: "${helpText.trim()}"`);
        assert.match(helpText, /mosquitto/i, 'broker-help says how to start Mosquitto');

        await page.click('[data-testid="place-order"]');
        const formError = page.locator('[data-testid="form-error"]');
        await formError.waitFor({ state: 'visible' });
        assert.match((await formError.textContent()) ?? '', /connect/i, 'form-error says why');
        assert.equal(await page.locator('[data-testid="placed-order-id"]').count(), 0, 'no order id shown');

        // Now the broker appears on that very port; the page must reconnect without a reload.
        late = await startBroker({ logAll: true, tcpPort, wsPort });
        lateBroker = late;
        await waitReady(page, late);
        assert.equal(
          await page.locator('[data-testid="broker-help"]').count(),
          0,
          'broker-help disappears once every service is connected',
        );

        await placeWatchedOrder(page, { onBroker: late });
      });
    } finally {
      lateBroker = null;
      await late?.stop();
    }
  });

  it('broker lost mid-session: the services re-subscribe on their own and orders flow again', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    let first = await startBroker({ logAll: true });
    const { tcpPort, wsPort } = first;
    let second = null;
    try {
      await withApp(t, brokerQuery(first.wsUrl), async ({ page }) => {
        await waitReady(page, first);
        await first.stop();
        first = null;
        await waitForStates(page, 'disconnected');

        second = await startBroker({ logAll: true, tcpPort, wsPort });
        lateBroker = second;
        // waitReady also checks, in the new broker's log, that every subscription was made again.
        await waitReady(page, second);
        await placeWatchedOrder(page, { onBroker: second });
      });
    } finally {
      lateBroker = null;
      await first?.stop();
      await second?.stop();
    }
  });

  it('QoS 2 chosen in the link: the four-packet handshake on both legs, in the broker log', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&qos=2`, async ({ page }) => {
      const ids = await waitReady(page);
      assert.equal(await page.inputValue('#flow-qos'), '2', 'the selector shows the QoS from the link');
      await placeWatchedOrder(page);
      const id = (service) => escapeRegExp(ids[service]);
      // Publisher leg: the service's PUBLISH at QoS 2, then PUBREC, PUBREL, PUBCOMP with its mid.
      const publisherLeg = (service, topic) => {
        const publish = new RegExp(`Received PUBLISH from ${id(service)} \\(d0, q2, r0, m(\\d+), '${escapeRegExp(topic)}'`).exec(log);
        assert.ok(publish, `${service} published ${topic} at QoS 2`);
        const mid = publish[1];
        for (const line of [
          `Sending PUBREC to ${id(service)} \\(m${mid}, rc0\\)`,
          `Received PUBREL from ${id(service)} \\(Mid: ${mid}\\)`,
          `Sending PUBCOMP to ${id(service)} \\(m${mid}\\)`,
        ]) {
          assert.match(log, new RegExp(line), `publisher leg of ${topic}: ${line}`);
        }
      };
      // Subscriber leg: the broker's PUBLISH at QoS 2, then PUBREC, PUBREL, PUBCOMP.
      const subscriberLeg = (service, topic) => {
        const publish = new RegExp(`Sending PUBLISH to ${id(service)} \\(d0, q2, r0, m(\\d+), '${escapeRegExp(topic)}'`).exec(log);
        assert.ok(publish, `the broker delivered ${topic} to ${service} at QoS 2`);
        const mid = publish[1];
        for (const line of [
          `Received PUBREC from ${id(service)} \\(Mid: ${mid}\\)`,
          `Sending PUBREL to ${id(service)} \\(m${mid}\\)`,
          `Received PUBCOMP from ${id(service)} \\(Mid: ${mid}, RC:0\\)`,
        ]) {
          assert.match(log, new RegExp(line), `subscriber leg of ${topic} to ${service}: ${line}`);
        }
      };
      // NotificationService receives three messages; the last handshake ends with its PUBCOMP.
      const pubcompsFromNotification = (log) =>
        log.split('\n').filter((l) => l.includes(`Received PUBCOMP from ${ids.notification} `)).length;
      await broker.waitForLog((log) => pubcompsFromNotification(log) >= 3, 5_000);
      const log = broker.log();
      publisherLeg('order', 'orders/created');
      publisherLeg('payment', 'payments/processed');
      publisherLeg('inventory', 'inventory/reserved');
      for (const service of ['payment', 'inventory', 'notification']) subscriberLeg(service, 'orders/created');
      subscriberLeg('notification', 'payments/processed');
      subscriberLeg('notification', 'inventory/reserved');
      // The page shows the QoS each message arrived with.
      const qos = await page.evaluate(() =>
        [...document.querySelectorAll('[data-testid="log-entry"][data-status="accepted"]')].map((e) => e.dataset.qos),
      );
      assert.ok(qos.length >= 5 && qos.every((q) => q === '2'), `accepted entries at QoS 2: ${qos}`);
    }));

  it('QoS changed in the page: subscriptions are made again and the link holds ?qos=', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      const ids = await waitReady(page);
      assert.equal(await page.inputValue('#flow-qos'), '1', 'QoS 1 by default');
      await page.selectOption('#flow-qos', '0');
      await broker.waitForLog(new RegExp(`^\\d+: ${escapeRegExp(ids.payment)} 0 orders/created$`, 'm'), 10_000);
      assert.equal(new URL(page.url()).searchParams.get('qos'), '0', 'the address bar holds qos=0');
      const witness = await startWitness({ tcpPort: broker.tcpPort });
      try {
        const orderId = await (async () => {
          await page.click('[data-testid="place-order"]');
          return placedOrderId(page);
        })();
        await broker.waitForLog(new RegExp(`Received PUBLISH from ${escapeRegExp(ids.order)} \\(d0, q0, r0, m0, 'orders/created'`), 5_000);
        await expectDownstreamEvents(witness, orderId, 59.98);
        await waitForNotifications(page, notificationTexts(orderId));
      } finally {
        await witness.close();
      }
    }));

  it('QoS per topic, from the link and from the page: each topic is published and subscribed at its own QoS', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&qos=0&qos_payments=2`, async ({ page }) => {
      const ids = await waitReady(page);
      assert.equal(await page.inputValue('#flow-qos'), 'mixed', 'the shared selector says the topics differ');
      const levels = async () => Promise.all(['orders', 'payments', 'inventory'].map((t) => page.inputValue(`#qos-${t}`)));
      assert.deepEqual(await levels(), ['0', '2', '0'], 'each topic shows its QoS from the link');
      const subscribed = (client, qos, topic) =>
        broker.waitForLog(new RegExp(`^\\d+: ${escapeRegExp(client)} ${qos} ${escapeRegExp(topic)}$`, 'm'), 10_000);
      await subscribed(ids.notification, 2, 'payments/processed');
      await subscribed(ids.notification, 0, 'inventory/reserved');
      await subscribed(ids.payment, 0, 'orders/created');
      await page.click('[data-testid="place-order"]');
      const orderId = await placedOrderId(page);
      const published = (client, qos, topic) =>
        broker.waitForLog(new RegExp(`Received PUBLISH from ${escapeRegExp(client)} \\(d0, q${qos}, r0, m\\d+, '${escapeRegExp(topic)}'`), 10_000);
      await published(ids.order, 0, 'orders/created');
      await published(ids.payment, 2, 'payments/processed');
      await published(ids.inventory, 0, 'inventory/reserved');
      await waitForNotifications(page, notificationTexts(orderId));

      // One topic changed in the page: its subscription is made again and the link names it alone.
      await page.selectOption('#qos-inventory', '1');
      await subscribed(ids.notification, 1, 'inventory/reserved');
      let params = new URL(page.url()).searchParams;
      assert.deepEqual(
        [params.get('qos'), params.get('qos_orders'), params.get('qos_payments'), params.get('qos_inventory')],
        [null, '0', '2', '1'],
        'the address bar holds one QoS per topic',
      );
      // One QoS for every topic again: one parameter.
      await page.selectOption('#flow-qos', '2');
      await subscribed(ids.notification, 2, 'inventory/reserved');
      await subscribed(ids.notification, 2, 'orders/created');
      assert.deepEqual(await levels(), ['2', '2', '2']);
      params = new URL(page.url()).searchParams;
      assert.deepEqual([params.get('qos'), params.get('qos_orders'), params.get('qos_inventory')], ['2', null, null]);
    }));

  it('bad ?qos= in the link: explained and ignored', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&qos=7`, async ({ page }) => {
      const error = page.locator('[data-testid="flow-qos-error"]');
      await error.waitFor({ state: 'visible' });
      assert.match((await error.textContent()) ?? '', /0, 1 or 2/);
      assert.equal(await page.inputValue('#flow-qos'), '1', 'falls back to QoS 1');
      await waitReady(page);
    }));

  it('MQTT 5 chosen in the link: four v5 clients, each event carrying its orderId as a user property', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&mqtt=5`, async ({ page }) => {
      const ids = await waitReady(page);
      assert.equal(await page.inputValue('#mqtt-version'), '5', 'the selector shows MQTT 5 from the link');
      for (const service of SERVICES) {
        await broker.waitForLog(new RegExp(`New client connected from \\S+ as ${escapeRegExp(ids[service])} \\(p5,`), 5_000);
      }
      // An independent MQTT 5 client sees the user property on every event of the order.
      const witness = await startWitness({ tcpPort: broker.tcpPort, protocolVersion: 5 });
      try {
        const orderId = await placeSeedOrderAndExpectFlow(page, witness);
        for (const topic of ['orders/created', 'payments/processed', 'inventory/reserved']) {
          const message = await witness.waitForOrder(topic, orderId, FLOW_TIMEOUT_MS);
          assert.equal(message.userProperties.correlationId, orderId, `${topic} carries correlationId`);
        }
        // And the page shows what it received with it.
        const correlations = await page.evaluate(() =>
          [...document.querySelectorAll('[data-testid="log-entry"][data-status="accepted"]')].map((e) => e.dataset.correlation),
        );
        assert.ok(correlations.length >= 5 && correlations.every((c) => c === orderId), `log entries: ${correlations}`);
      } finally {
        await witness.close();
      }
    }));

  it('MQTT version changed in the page: the services reconnect with it', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      const ids = await waitReady(page);
      await page.selectOption('#mqtt-version', '5');
      await broker.waitForLog(new RegExp(`New client connected from \\S+ as ${escapeRegExp(ids.payment)} \\(p5,`), 10_000);
      assert.equal(new URL(page.url()).searchParams.get('mqtt'), '5', 'the address bar holds mqtt=5');
      await waitForStates(page, 'connected');
      const witness = await startWitness({ tcpPort: broker.tcpPort, protocolVersion: 5 });
      try {
        const orderId = await placeSeedOrderAndExpectFlow(page, witness);
        const created = await witness.waitForOrder('orders/created', orderId, FLOW_TIMEOUT_MS);
        assert.equal(created.userProperties.correlationId, orderId);
      } finally {
        await witness.close();
      }
    }));

  /** The sequence diagram's arrows for one order: "From->To LABEL", once the count is reached. */
  async function orderArrows(page, orderId, count) {
    await page.selectOption('#sequence-order', orderId);
    try {
      await page.waitForFunction(
        (n) => document.querySelectorAll('[data-testid="seq-arrow"]').length >= n,
        count,
        { timeout: FLOW_TIMEOUT_MS },
      );
    } catch (error) {
      const shown = await page.$$eval('[data-testid="seq-arrow"]', (els) => els.map((e) => e.dataset.label));
      throw new Error(`expected ${count} arrows for order ${orderId}, saw ${shown.length}: ${shown.join(' | ')}`, { cause: error });
    }
    return page.$$eval('[data-testid="seq-arrow"]', (els) =>
      els.map((e) => `${e.dataset.from}->${e.dataset.to} ${e.dataset.label}`),
    );
  }

  const PUBLISHER_LEGS = [
    ['OrderService', 'orders/created'],
    ['PaymentService', 'payments/processed'],
    ['InventoryService', 'inventory/reserved'],
  ];
  const SUBSCRIBER_LEGS = [
    ['PaymentService', 'orders/created'],
    ['InventoryService', 'orders/created'],
    ['NotificationService', 'orders/created'],
    ['NotificationService', 'payments/processed'],
    ['NotificationService', 'inventory/reserved'],
  ];

  it('sequence diagram, QoS 0: one order gives its PUBLISH arrows on both legs and no acks', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&qos=0`, async ({ page }) => {
      await waitReady(page);
      const orderId = await placeWatchedOrder(page);
      const arrows = await orderArrows(page, orderId, 10);
      const expected = [
        'Client->OrderService Place order',
        `OrderService->Client orderId ${orderId.slice(0, 8)}…`,
        ...PUBLISHER_LEGS.map(([s, topic]) => `${s}->Broker PUBLISH ${topic} (QoS 0)`),
        ...SUBSCRIBER_LEGS.map(([s, topic]) => `Broker->${s} PUBLISH ${topic} (QoS 0)`),
      ];
      assert.deepEqual([...arrows].sort(), [...expected].sort(), 'exactly the order\'s arrows');
      assert.equal(arrows[0], 'Client->OrderService Place order', 'the click comes first');
    }));

  it('sequence diagram, QoS 2: the four-packet handshake on both legs; an arrow opens its packet; exports', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&qos=2`, async ({ page }) => {
      await waitReady(page);
      const orderId = await placeWatchedOrder(page);
      const arrows = await orderArrows(page, orderId, 34);
      const has = (line) => assert.ok(arrows.some((a) => a.startsWith(line)), `missing arrow "${line}" in:\n${arrows.join('\n')}`);
      for (const [s, topic] of PUBLISHER_LEGS) {
        has(`${s}->Broker PUBLISH ${topic} (QoS 2`);
        has(`Broker->${s} PUBREC`);
        has(`${s}->Broker PUBREL`);
        has(`Broker->${s} PUBCOMP`);
      }
      for (const [s, topic] of SUBSCRIBER_LEGS) {
        has(`Broker->${s} PUBLISH ${topic} (QoS 2`);
        has(`${s}->Broker PUBREC`);
        has(`Broker->${s} PUBREL`);
        has(`${s}->Broker PUBCOMP`);
      }
      for (const kind of ['PUBREC', 'PUBREL', 'PUBCOMP']) {
        assert.equal(arrows.filter((a) => a.split(' ')[1] === kind).length, 8, `${kind} on all 8 legs`);
      }

      // Clicking an arrow opens that packet in the inspector, with its bytes.
      await page.click('[data-testid="seq-arrow"][data-label^="PUBREC"][data-from="Broker"][data-to="OrderService"]');
      const detail = page.locator('[data-testid="packet-detail"]');
      await detail.waitFor({ state: 'visible' });
      const open = page.locator('[data-testid="packet-row"].open');
      assert.equal(await open.getAttribute('data-kind'), 'PUBREC');
      assert.equal(await open.getAttribute('data-service'), 'order');
      assert.match((await page.locator('[data-testid="packet-hex"]').textContent()) ?? '', /^50 02 /, 'PUBREC bytes in hex');

      // Mermaid text of the current view.
      await page.click('[data-testid="show-mermaid"]');
      const mermaid = await page.inputValue('[data-testid="mermaid-text"]');
      assert.match(mermaid, /^sequenceDiagram\n/);
      assert.match(mermaid, /OrderService->>Broker: \[\+\d+ ms\] PUBLISH orders\/created \(QoS 2, id \d+\)/);
      assert.match(mermaid, /Broker-->>OrderService: \[\+\d+ ms\] PUBREC/);

      // SVG file of the current view.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click('[data-testid="download-svg"]'),
      ]);
      assert.equal(download.suggestedFilename(), 'sequence-diagram.svg');
      const file = await download.path();
      const svg = await import('node:fs/promises').then((fs) => fs.readFile(file, 'utf8'));
      assert.match(svg, /^<\?xml/);
      assert.equal((svg.match(/<g class="arrow"/g) ?? []).length, 34, 'the file holds the view\'s 34 arrows');
    }));

  // ---------------------------------------------------------------------------------------
  // The flow diagram

  /** Every edge of the flow diagram, as data-edge: `<from>-<to>-<topic>`. */
  const FLOW_EDGES = [
    'client-order-place-order',
    'order-broker-orders/created',
    'broker-payment-orders/created',
    'payment-broker-payments/processed',
    'broker-inventory-orders/created',
    'inventory-broker-inventory/reserved',
    'broker-notification-orders/created',
    'broker-notification-payments/processed',
    'broker-notification-inventory/reserved',
  ];

  /**
   * Records in the page, from now on, every flow-pulse element added (dots are removed once
   * their trip is over, so they are counted as they appear) and every change of a flow node's
   * state, activity or text. Read with `flowRecord(page)`.
   */
  const recordFlow = async (page) => {
    // Off screen the diagram is drawn once a second at most: watch it where it is seen.
    await page.locator('[data-testid="flow-svg"]').scrollIntoViewIfNeeded();
    await page.evaluate(() => {
      const record = { pulses: [], nodes: [] };
      window.__flowRecord = record;
      const seen = new WeakSet();
      const takePulse = (el) => {
        if (seen.has(el)) return;
        seen.add(el);
        record.pulses.push({
          seq: el.getAttribute('data-seq'),
          edge: el.getAttribute('data-edge'),
          order: el.getAttribute('data-order'),
          motion: el.getAttribute('data-motion'),
          t: performance.now(),
        });
      };
      const last = {};
      const sampleNodes = () => {
        for (const node of document.querySelectorAll('[data-testid^="flow-node-"]')) {
          const slug = node.getAttribute('data-testid').slice('flow-node-'.length);
          const sample = {
            slug,
            state: node.getAttribute('data-state'),
            activity: node.getAttribute('data-activity'),
            text: node.querySelector('.activity')?.textContent ?? '',
            label: node.getAttribute('aria-label'),
          };
          const key = `${sample.state}|${sample.activity}|${sample.text}`;
          if (last[slug] === key) continue;
          last[slug] = key;
          record.nodes.push({ ...sample, t: performance.now() });
        }
      };
      new MutationObserver((mutations) => {
        for (const mutation of mutations) {
          for (const added of mutation.addedNodes) {
            if (added.nodeType !== Node.ELEMENT_NODE) continue;
            if (added.matches('[data-testid="flow-pulse"]')) takePulse(added);
            added.querySelectorAll('[data-testid="flow-pulse"]').forEach(takePulse);
          }
        }
        sampleNodes();
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      sampleNodes();
    });
  };

  const flowRecord = (page) => page.evaluate(() => window.__flowRecord);

  /** Waits until `count` dots of `orderId` were recorded, then a little longer for strays. */
  async function flowPulsesOf(page, orderId, count) {
    try {
      await page.waitForFunction(
        ({ orderId, count }) => window.__flowRecord.pulses.filter((p) => p.order === orderId).length >= count,
        { orderId, count },
        { timeout: FLOW_TIMEOUT_MS },
      );
    } catch (error) {
      const { pulses } = await flowRecord(page);
      throw new Error(`expected ${count} flow dots for ${orderId}, saw: ${JSON.stringify(pulses)}`, { cause: error });
    }
    await page.waitForTimeout(400);
    return (await flowRecord(page)).pulses.filter((p) => p.order === orderId);
  }

  const countByEdge = (pulses) => {
    const counts = Object.fromEntries(FLOW_EDGES.map((e) => [e, 0]));
    for (const p of pulses) counts[p.edge] = (counts[p.edge] ?? 0) + 1;
    return counts;
  };

  it('flow diagram: one order is one dot per PUBLISH packet on its edge, and payment counts down to done', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      await waitReady(page);
      const edges = await page.$$eval('[data-testid="flow-edge"]', (els) =>
        els.map((e) => `${e.dataset.from}-${e.dataset.to}-${e.dataset.topic ?? 'place-order'}`),
      );
      assert.deepEqual(edges, FLOW_EDGES, 'one edge per topic published or subscribed, and the form\'s request');
      await recordFlow(page);

      const witness = await startWitness({ tcpPort: broker.tcpPort });
      let orderId;
      try {
        orderId = await placeSeedOrderAndExpectFlow(page, witness);
      } finally {
        await witness.close();
      }

      // Fan-out: one PUBLISH into the broker, three deliveries out; then each answer in and
      // out to NotificationService. Nothing else, nothing twice.
      const pulses = await flowPulsesOf(page, orderId, 9);
      assert.deepEqual(countByEdge(pulses), {
        'client-order-place-order': 1,
        'order-broker-orders/created': 1,
        'broker-payment-orders/created': 1,
        'broker-inventory-orders/created': 1,
        'broker-notification-orders/created': 1,
        'payment-broker-payments/processed': 1,
        'inventory-broker-inventory/reserved': 1,
        'broker-notification-payments/processed': 1,
        'broker-notification-inventory/reserved': 1,
      });

      // Each dot is a traced PUBLISH packet (its seq opens it in the packet inspector), on the
      // leg that packet crossed.
      for (const pulse of pulses.filter((p) => p.edge !== 'client-order-place-order')) {
        assert.match(pulse.seq ?? '', /^\d+$/, `dot on ${pulse.edge} names its packet`);
        const [from, to, ...topic] = pulse.edge.split('-');
        // The inspector draws only the rows in view: selecting the packet (its arrow) brings its row in.
        await page.click(`[data-testid="seq-arrow"][data-seq="${pulse.seq}"]`);
        const row = await page.locator(`[data-testid="packet-row"][data-seq="${pulse.seq}"].open`).evaluate((r) => ({ ...r.dataset }));
        const service = from === 'broker' ? to : from;
        assert.deepEqual(
          [row.kind, row.service, row.direction, row.topic, row.qos],
          ['PUBLISH', service, from === 'broker' ? 'in' : 'out', topic.join('-'), '1'],
          `packet ${pulse.seq} behind the dot on ${pulse.edge}`,
        );
      }

      // Dots start with their packets, not on a guessed schedule: the answers left ~1 s and
      // ~0.8 s after the order, when payment's and inventory's work was over.
      const at = Object.fromEntries(pulses.map((p) => [p.edge, p.t]));
      const sent = at['order-broker-orders/created'];
      assert.ok(at['payment-broker-payments/processed'] - sent >= 800, `payments/processed dot ${at['payment-broker-payments/processed'] - sent} ms after the order`);
      assert.ok(at['inventory-broker-inventory/reserved'] - sent >= 600, `inventory/reserved dot ${at['inventory-broker-inventory/reserved'] - sent} ms after the order`);
      assert.ok(at['broker-payment-orders/created'] - sent < 600, 'the deliveries follow the PUBLISH at once');

      // PaymentService worked, counting its second down, then was done.
      const payment = (await flowRecord(page)).nodes.filter((n) => n.slug === 'payment');
      const working = payment.filter((n) => n.activity === 'working');
      assert.ok(working.length >= 3, `payment showed its countdown: ${JSON.stringify(payment)}`);
      const left = working.map((n) => {
        const match = /working (\d+\.\d) s/.exec(n.text);
        assert.ok(match, `countdown text: "${n.text}"`);
        assert.match(n.label, /working on 1 order, next done in \d+\.\d s/);
        return Number(match[1]);
      });
      assert.ok(left[0] <= 1.0 && left[0] >= 0.5, `starts near 1 s: ${left}`);
      assert.ok(left.every((s, i) => i === 0 || s <= left[i - 1]), `counts down: ${left}`);
      assert.ok(left.at(-1) < left[0], `and moves: ${left}`);
      const done = payment.findIndex((n) => n.activity === 'done');
      assert.ok(done > payment.indexOf(working.at(-1)), `done after working: ${JSON.stringify(payment)}`);
      assert.ok(payment[done].t - working[0].t >= 800, 'done once the simulated second is over');
      assert.equal(payment[done].state, 'connected');
      assert.equal(await page.getAttribute('[data-testid="flow-node-payment"]', 'data-activity'), 'done');
      assert.equal(await page.getAttribute('[data-testid="flow-node-client"]', 'data-activity'), 'done');

      // A second order, with reduced motion: new dots with new keys, shown at their edge's head.
      await page.emulateMedia({ reducedMotion: 'reduce' });
      await page.locator('[data-testid="flow-svg"]').scrollIntoViewIfNeeded();
      const witness2 = await startWitness({ tcpPort: broker.tcpPort });
      let second;
      try {
        second = await placeSeedOrderAndExpectFlow(page, witness2);
      } finally {
        await witness2.close();
      }
      const again = await flowPulsesOf(page, second, 9);
      assert.deepEqual(countByEdge(again), countByEdge(pulses), 'the same dots for the second order');
      const firstSeqs = new Set(pulses.map((p) => p.seq).filter(Boolean));
      assert.ok(again.every((p) => !firstSeqs.has(p.seq)), 'each dot is keyed by its own packet');
      assert.ok(again.every((p) => p.motion === 'arrive'), `reduced motion: ${again.map((p) => p.motion)}`);
      assert.ok(pulses.every((p) => p.motion === 'travel'), `motion: ${pulses.map((p) => p.motion)}`);
      // Their trips over, the dots are gone from the page.
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="flow-pulse"]').length === 0, null, { timeout: 5_000 });
      // A tall window: the form clicked and the diagram watched are on screen together (off
      // screen the diagram is drawn once a second, and a 600 ms dot could be missed).
    }, { viewport: { width: 1280, height: 2400 } }));

  it('flow diagram: with the broker down every node says so, and it is readable by keyboard and at phone width', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const nowhere = `ws://127.0.0.1:${await freePort()}`;
    await withApp(t, brokerQuery(nowhere), async ({ page }) => {
      await waitForStates(page, 'disconnected');
      await page.waitForFunction(() => document.querySelector('[data-testid="flow-node-broker"]')?.dataset.state === 'disconnected');
      const nodes = await page.$$eval('[data-testid^="flow-node-"]', (els) =>
        Object.fromEntries(els.map((e) => [e.dataset.testid.slice('flow-node-'.length), {
          state: e.dataset.state ?? null,
          classes: e.getAttribute('class'),
          text: e.textContent,
          tabindex: e.getAttribute('tabindex'),
          label: e.getAttribute('aria-label'),
          title: e.querySelector('title')?.textContent,
        }])),
      );
      assert.deepEqual(Object.keys(nodes), ['client', 'order', 'broker', 'payment', 'inventory', 'notification']);
      for (const service of SERVICES) {
        const node = nodes[service];
        assert.equal(node.state, 'disconnected', `${service}: ${JSON.stringify(node)}`);
        assert.match(node.classes, /\bdisconnected\b/, `${service} is drawn as disconnected`);
        assert.ok(node.text.includes('✕ disconnected'), `${service} says so with a symbol: ${node.text}`);
      }
      assert.equal(nodes.broker.state, 'disconnected');
      assert.ok(nodes.broker.text.includes('✕ unreachable') && nodes.broker.text.includes(nowhere.slice('ws://'.length)), nodes.broker.text);

      // Every node and edge is a tab stop with words for screen readers.
      const edges = await page.$$eval('[data-testid="flow-edge"]', (els) =>
        els.map((e) => ({ tabindex: e.getAttribute('tabindex'), label: e.getAttribute('aria-label') })),
      );
      for (const item of [...Object.values(nodes), ...edges]) {
        assert.equal(item.tabindex, '0');
        assert.ok(item.label && item.label.length > 10, `aria-label: ${item.label}`);
      }
      assert.match(nodes.payment.label, /^PaymentService, disconnected: idle$/);
      assert.equal(nodes.payment.title, nodes.payment.label);
      await page.focus('[data-testid="flow-node-payment"]');
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'flow-node-payment');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'flow-node-inventory', 'Tab moves to the next node');

      // A refused order shows on the form's node.
      await page.click('[data-testid="place-order"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="flow-node-client"]')?.dataset.activity === 'failed');
      assert.match((await page.textContent('[data-testid="flow-node-client"]')) ?? '', /⚠ refused/);

      // Phone width: one column beside the broker, within the screen.
      await page.setViewportSize({ width: 390, height: 800 });
      await page.waitForFunction(() => document.querySelector('[data-testid="flow-svg"]')?.dataset.layout === 'narrow');
      const box = await page.locator('[data-testid="flow-svg"]').boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= 390, `the diagram fits: ${JSON.stringify(box)}`);
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.waitForFunction(() => document.querySelector('[data-testid="flow-svg"]')?.dataset.layout === 'wide');
    });
  });

  it('recording: downloaded after an order, it replays progressively in a page with no broker, and steps; older and newer formats are refused', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    let recordingPath;
    let recordedArrows;
    let orderId;
    await withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      await waitReady(page);
      orderId = await placeWatchedOrder(page);
      recordedArrows = await orderArrows(page, orderId, 18);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click('[data-testid="download-recording"]'),
      ]);
      assert.equal(download.suggestedFilename(), 'playground-recording.json');
      recordingPath = path.join(ARTIFACTS, 'recording.json');
      await mkdir(ARTIFACTS, { recursive: true });
      await download.saveAs(recordingPath);
    });

    const nowhere = `ws://127.0.0.1:${await freePort()}`;
    await withApp(t, `${brokerQuery(nowhere)}&speed=0.25`, async ({ page }) => {
      await waitForStates(page, 'disconnected');
      await page.setInputFiles('[data-testid="load-recording"]', recordingPath);
      await page.locator('[data-testid="replaying"]').waitFor({ state: 'visible' });
      assert.equal(await page.locator('[data-testid="broker-help"]').count(), 0, 'no broker help while replaying');
      // At 0.25× (from the link) the order's second of packets plays over about four: the
      // picture fills in as it goes, then says it is done.
      const status = '[data-testid="playback-status"]';
      await page.waitForFunction(
        (sel) => /^Replaying at 0\.25×: packet \d+ of \d+/.test(document.querySelector(sel).textContent) &&
          Number(document.querySelector(sel).dataset.waiting) > 0,
        status,
      );
      const total = Number(/of (\d+)/.exec(await page.textContent(status))[1]);
      const partway = await page.$$eval('[data-testid="seq-arrow"]', (els) => els.length);
      assert.ok(partway < recordedArrows.length, `part of the replay first (${partway} arrows of ${recordedArrows.length})`);
      await page.waitForFunction((sel) => /^Replay finished/.test(document.querySelector(sel).textContent), status, { timeout: FLOW_TIMEOUT_MS });
      const replayed = await orderArrows(page, orderId, recordedArrows.length);
      assert.deepEqual(replayed, recordedArrows, 'the recording draws the same arrows');
      // The nodes tell the recording's story, not the disconnected page's.
      const payment = await page.$eval('[data-testid="flow-node-payment"]', (e) => [e.dataset.state, e.dataset.activity]);
      assert.deepEqual(payment, ['connected', 'done'], 'PaymentService as the recording left it');

      // From the start again, paused: each step shows one more packet and opens it.
      await page.click('[data-testid="replay-restart"]');
      await page.click('[data-testid="pause"]');
      const waitingBefore = Number(await page.getAttribute(status, 'data-waiting'));
      assert.ok(waitingBefore > 0 && waitingBefore <= total, `paused near the start (${waitingBefore} of ${total} waiting)`);
      await page.click('[data-testid="step"]');
      await page.waitForFunction(({ sel, n }) => Number(document.querySelector(sel).dataset.waiting) === n, { sel: status, n: waitingBefore - 1 });
      await page.locator('[data-testid="packet-detail"]').waitFor({ state: 'visible' });
      await page.selectOption('#speed', '4');
      await page.click('[data-testid="pause"]'); // play on to the end, at 4×
      await page.waitForFunction((sel) => /^Replay finished/.test(document.querySelector(sel).textContent), status, { timeout: FLOW_TIMEOUT_MS });
      assert.ok((await page.locator('[data-testid="packet-row"]').count()) >= 18, 'the inspector lists the packets');

      await page.setInputFiles('[data-testid="load-recording"]', {
        name: 'future.json',
        mimeType: 'application/json',
        buffer: Buffer.from('{"format":"eda-playground-recording","version":2,"packets":[]}'),
      });
      const error = page.locator('[data-testid="recording-error"]');
      await error.waitFor({ state: 'visible' });
      assert.match((await error.textContent()) ?? '', /future\.json: .*newer playground \(format version 2\)/);
      await page.setInputFiles('[data-testid="load-recording"]', {
        name: 'ancient.json',
        mimeType: 'application/json',
        buffer: Buffer.from('{"format":"eda-playground-recording","version":0,"packets":[]}'),
      });
      await page.waitForFunction(() => /ancient\.json: .*format version 0/.test(document.querySelector('[data-testid="recording-error"]')?.textContent ?? ''));

      // Dropped on the page instead of picked: the same recording replays again.
      const text = await readFile(recordingPath, 'utf8');
      const dataTransfer = await page.evaluateHandle((text) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
        return dt;
      }, text);
      await page.dispatchEvent('[data-testid="recording-drop"]', 'drop', { dataTransfer });
      await page.waitForFunction(() => /dropped\.json/.test(document.querySelector('[data-testid="replaying"]')?.textContent ?? ''));
      await page.selectOption('#speed', '4');
      await page.waitForFunction(() => /^Replay finished/.test(document.querySelector('[data-testid="playback-status"]').textContent), null, { timeout: FLOW_TIMEOUT_MS });
      assert.deepEqual(await orderArrows(page, orderId, recordedArrows.length), recordedArrows, 'the dropped recording draws the same arrows');
      assert.deepEqual(await orderArrows(page, orderId, recordedArrows.length), recordedArrows, 'the shown recording is kept');
    });
  });

  it('playback: paused, an order waits; step shows one packet at a time and opens it; jump to live; speed and view in the link', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&speed=0.5&view=sequence`, async ({ page }) => {
      await waitReady(page);
      assert.equal(await page.inputValue('#speed'), '0.5', 'speed from the link');
      assert.equal(await page.getAttribute('[data-testid="show-sequence"]', 'aria-pressed'), 'true', 'view from the link');
      assert.equal(await page.locator('[data-testid="flow-svg"]').count(), 0, 'view=sequence: no flow diagram');
      assert.equal(await page.locator('.packet-inspector').count(), 0, 'view=sequence: no inspector');
      await page.click('[data-testid="show-all"]');
      await page.selectOption('#speed', '1');
      const params = new URL(page.url()).searchParams;
      assert.deepEqual([params.get('view'), params.get('speed')], ['all', '1'], 'the link follows the page');
      await page.locator('[data-testid="flow-svg"]').waitFor();
      const status = '[data-testid="playback-status"]';
      const waiting = async () => Number(await page.getAttribute(status, 'data-waiting'));

      // Jump to live (1× can follow the wire), then pause: the order flows, the picture waits.
      await page.click('[data-testid="jump-live"]');
      await page.waitForFunction((sel) => /^Live/.test(document.querySelector(sel).textContent), status);
      await page.click('[data-testid="pause"]');
      await page.click('[data-testid="place-order"]');
      const orderId = await placedOrderId(page);
      await waitForNotifications(page, notificationTexts(orderId));
      assert.equal(await page.locator(`[data-testid="flow-pulse"][data-order="${orderId}"]`).count(), 0, 'no dot while paused');
      assert.equal(await page.locator('[data-testid="seq-arrow"][data-label^="PUBLISH orders/created"]').count(), 0, 'no arrow while paused');
      const held = await waiting();
      assert.ok(held >= 16, `the order's 16 packets wait (${held})`);

      // Each step shows exactly one more packet, opens it in the inspector, and leaves the dots still.
      const stepped = [];
      for (let i = 1; i <= 4; i++) {
        await page.click('[data-testid="step"]');
        await page.waitForFunction(({ sel, n }) => Number(document.querySelector(sel).dataset.waiting) === n, { sel: status, n: held - i });
        await page.locator('[data-testid="packet-row"].open').waitFor();
        stepped.push(Number(await page.getAttribute('[data-testid="packet-row"].open', 'data-seq')));
      }
      assert.deepEqual(stepped, [...stepped].sort((a, b) => a - b), `steps go forward: ${stepped}`);
      assert.equal(new Set(stepped).size, 4, 'one new packet per step');
      const dots = () => page.$$eval('[data-testid="flow-pulse"]', (els) => els.map((e) => `${e.dataset.seq}@${e.getAttribute('cx')},${e.getAttribute('cy')}`).join(' '));
      const still = await dots();
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      assert.equal(await dots(), still, 'paused: the dots do not move');

      // Jump to live: everything held back is drawn at once.
      await page.click('[data-testid="jump-live"]');
      await page.waitForFunction((sel) => document.querySelector(sel).dataset.waiting === '0', status);
      await orderArrows(page, orderId, 18);
    }));

  it('controls: delays from the link, ten orders at once, clear, a delay changed and a bad one', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      assert.equal(await page.inputValue('#payment-delay'), '0');
      assert.equal(await page.inputValue('#inventory-delay'), '0');
      const witness = await startWitness({ tcpPort: broker.tcpPort });
      try {
        await page.click('[data-testid="place-ten"]');
        const paid = await witness.waitFor(
          () => new Set(witness.messages.filter((m) => m.topic === 'payments/processed').map((m) => m.json?.orderId)).size >= 10,
          FLOW_TIMEOUT_MS,
        ).then(() => new Set(witness.messages.filter((m) => m.topic === 'orders/created').map((m) => m.json?.orderId)));
        assert.equal(paid.size, 10, 'ten distinct orders were created');
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="notification"]').length >= 30, null, { timeout: FLOW_TIMEOUT_MS });
      } finally {
        await witness.close();
      }
      // A long sequence diagram puts only the rows near its scroll box in the page, and keeps
      // the newest in view. (Off screen it is drawn once a second: look at it.)
      await page.locator('[data-testid="sequence-scroll"]').scrollIntoViewIfNeeded();
      await page.waitForFunction(() => Number(/— (\d+) arrows/.exec(document.querySelector('#sequence-title').textContent)[1]) >= 150);
      const total = Number(/— (\d+) arrows/.exec(await page.textContent('#sequence-title'))[1]);
      const inPage = await page.locator('[data-testid="seq-arrow"]').count();
      assert.ok(total >= 150 && inPage < total, `${inPage} of ${total} arrows in the page`);
      await page.waitForFunction(() => {
        const box = document.querySelector('[data-testid="sequence-scroll"]');
        return box.scrollTop > 0 && box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
      });

      await page.click('[data-testid="clear"]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="notification"]').length === 0);
      assert.equal(await page.locator('[data-testid="seq-arrow"]').count(), 0, 'no arrows after Clear');
      assert.equal(await page.locator('[data-testid="log-entry"]').count(), 0, 'no log entries after Clear');

      // What is typed stays while the page redraws around it (ten more orders), then applies on change.
      await page.click('#payment-delay');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('300');
      await page.evaluate(() => document.querySelector('[data-testid="place-ten"]').click());
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="notification"]').length >= 30, null, { timeout: FLOW_TIMEOUT_MS });
      assert.equal(await page.inputValue('#payment-delay'), '300', 'the typed delay survived the redraws');
      await page.keyboard.press('Tab');
      await page.waitForFunction(() => new URL(location.href).searchParams.get('payment_ms') === '300');
      await page.fill('#inventory-delay', '99999');
      await page.dispatchEvent('#inventory-delay', 'change');
      const error = page.locator('[data-testid="delays-error"]');
      await error.waitFor({ state: 'visible' });
      assert.match((await error.textContent()) ?? '', /Inventory delay .*0 to 10000/);
    }));

  it('share: a copied link opened in a new page restores the settings (broker, QoS per topic, delay, MQTT version, speed, view); unknown parameters are reported', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    let link;
    await withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      await waitReady(page);
      await page.selectOption('#flow-qos', '2');
      await page.selectOption('#qos-payments', '0');
      await page.fill('#payment-delay', '250');
      await page.dispatchEvent('#payment-delay', 'change');
      await page.selectOption('#speed', '0.5');
      await page.click('[data-testid="show-sequence"]');
      await page.selectOption('#mqtt-version', '5');
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      await page.click('[data-testid="copy-link"]');
      await page.locator('[data-testid="link-copied"]').waitFor({ state: 'visible' });
      link = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(link, page.url(), 'the copied link is the page with its settings');
    });
    assert.ok(link.startsWith(server.url), link);
    await withApp(t, `${link.slice(server.url.length)}&bogus=1`, async ({ page }) => {
      await waitReady(page);
      assert.equal(await page.inputValue('#flow-qos'), 'mixed', 'QoS per topic restored');
      assert.deepEqual(
        await Promise.all(['orders', 'payments', 'inventory'].map((t) => page.inputValue(`#qos-${t}`))),
        ['2', '0', '2'],
      );
      assert.equal(await page.inputValue('#speed'), '0.5', 'speed restored');
      assert.equal(await page.getAttribute('[data-testid="show-sequence"]', 'aria-pressed'), 'true', 'view restored');
      assert.equal(await page.locator('[data-testid="flow-svg"]').count(), 0, 'only the sequence diagram shown');
      assert.equal(await page.inputValue('#mqtt-version'), '5', 'MQTT version restored');
      assert.equal(await page.inputValue('#payment-delay'), '250', 'payment delay restored');
      assert.equal(await page.inputValue('#broker-url'), broker.wsUrl, 'broker restored');
      const notice = page.locator('[data-testid="link-notice"]');
      await notice.waitFor({ state: 'visible' });
      assert.match((await notice.textContent()) ?? '', /Ignored in the link: bogus/);
    });
  });

  it('broker URL changed in the page: reconnects there and the address bar holds the link', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const nowhere = `ws://127.0.0.1:${await freePort()}`;
    await withApp(t, brokerQuery(nowhere), async ({ page }) => {
      await waitForStates(page, 'disconnected');

      // A URL that is not ws:// is refused with a message; nothing else changes.
      await page.fill('#broker-url', 'localhost:9001');
      await page.click('[data-testid="apply-broker"]');
      const error = page.locator('[data-testid="broker-error"]');
      await error.waitFor({ state: 'visible' });
      assert.match((await error.textContent()) ?? '', /ws:\/\//, 'the message shows the expected form');
      assert.equal(new URL(page.url()).searchParams.get('broker'), nowhere, 'address bar unchanged');

      // The real broker's URL: all four reconnect there, without a reload.
      await page.fill('#broker-url', broker.wsUrl);
      await page.click('[data-testid="apply-broker"]');
      await waitReady(page);
      assert.equal(await error.count(), 0, 'the error is gone once a valid URL is used');
      assert.equal(
        new URL(page.url()).searchParams.get('broker'),
        broker.wsUrl,
        'the address bar now links to the broker in use',
      );

      await placeWatchedOrder(page);
    });
  });

  it('item lines: added and removed lines are what gets ordered', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      await waitReady(page);
      await page.click('[data-testid="add-item"]');
      await page.fill('#product-id-1', 'P002');
      await page.fill('#quantity-1', '3');
      await page.fill('#price-1', '10.05');
      await page.click('[data-testid="add-item"]');
      await page.fill('#product-id-2', 'P003');
      await page.click('[data-testid="remove-item-2"]');
      assert.equal(await page.locator('[data-testid="item-row"]').count(), 2, 'two item rows left');

      const witness = await startWitness({ tcpPort: broker.tcpPort });
      try {
        await page.click('[data-testid="place-order"]');
        const orderId = await placedOrderId(page);
        const created = await witness.waitForOrder('orders/created', orderId, FLOW_TIMEOUT_MS);
        checkOrderCreated(created.json);
        assert.deepEqual(created.json.items, [
          ...SEED_ITEMS,
          { productId: 'P002', quantity: 3, price: 10.05 },
        ]);
        assert.equal(created.json.totalAmount, 90.13, '2 × 29.99 + 3 × 10.05');
        await expectDownstreamEvents(witness, orderId, 90.13);
        await waitForNotifications(page, notificationTexts(orderId));
      } finally {
        await witness.close();
      }
    }));

  it('bad broker URL: an error message, no panic, the form still renders', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, '/?broker=http://nope', async ({ page }) => {
      await page.locator('[data-testid="broker-error"]').waitFor({ state: 'visible' });
      await page.locator('#customer-id').waitFor({ state: 'visible' });
      await page.locator('[data-testid="place-order"]').waitFor({ state: 'visible' });
    }));
});
