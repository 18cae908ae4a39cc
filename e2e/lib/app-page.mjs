// The app's page as the end-to-end cases read and drive it (selectors: docs/dom-contract.md):
// the four services' states and client ids, the form's order followed through the page and an
// independent witness, notifications, rejected log entries, the sequence diagram's arrows.
//
//   await waitReady(page, broker);                    // connected, and subscribed per the log
//   const orderId = await placeWatchedOrder(page, { onBroker: broker });
//   await waitForNotifications(page, notificationTexts(orderId));
//
// In a case of e2e/app/, use the suite's waitReady and placeWatchedOrder (lib/app-suite.mjs):
// they default to the suite's broker.

import assert from 'node:assert/strict';

import { startWitness } from './mqtt-witness.mjs';
import { UUID_V4, checkInventoryReserved, checkOrderCreated, checkPaymentProcessed } from './seed.mjs';

export const SERVICES = ['order', 'payment', 'inventory', 'notification', 'query'];
const CLIENT_ID = /^eda-[0-9a-f]+-(order|payment|inventory|notification|query)$/;
// What each service subscribes to under each saga style (ServiceId::subscriptions in
// core/src/services/mod.rs): all of it must be in place before an order can run its saga.
const ORDER_SUBSCRIPTIONS = ['orders/created', 'inventory/reserved', 'payments/processed', 'inventory/released', 'payments/refunded'];
const NOTIFICATION_SUBSCRIPTIONS = ['orders/created', 'payments/processed', 'inventory/reserved', 'orders/confirmed', 'orders/cancelled', 'payments/refunded'];
// QueryService follows every order's stream (eventstore/orders/+): one order's topic stands for all.
const QUERY_SUBSCRIPTIONS = ['eventstore/orders/any-order'];
const SUBSCRIPTIONS = {
  parallel: {
    order: ORDER_SUBSCRIPTIONS,
    payment: ['orders/created', 'orders/confirmed', 'orders/cancelled'],
    inventory: ['orders/created', 'orders/confirmed', 'orders/cancelled'],
    notification: NOTIFICATION_SUBSCRIPTIONS,
    query: QUERY_SUBSCRIPTIONS,
  },
  choreography: {
    order: ORDER_SUBSCRIPTIONS,
    payment: ['orders/created', 'inventory/reserved', 'orders/confirmed', 'orders/cancelled'],
    inventory: ['orders/created', 'orders/confirmed', 'orders/cancelled'],
    notification: NOTIFICATION_SUBSCRIPTIONS,
    query: QUERY_SUBSCRIPTIONS,
  },
  orchestration: {
    order: ORDER_SUBSCRIPTIONS,
    payment: ['commands/payment/charge', 'commands/payment/refund'],
    inventory: ['commands/inventory/reserve', 'commands/inventory/release'],
    notification: NOTIFICATION_SUBSCRIPTIONS,
    query: QUERY_SUBSCRIPTIONS,
  },
};

export const CONNECT_TIMEOUT_MS = 30_000; // also the reconnect bound of "broker down, then up"
export const FLOW_TIMEOUT_MS = 20_000; // the seed's services take ~1 s

export const SEED_ITEMS = [{ productId: 'P001', quantity: 2, price: 29.99 }];

/** In the page: whether the outbox of its database is empty (OrderService owes the wire nothing). */
export const outboxEmpty = async () => {
  const named = (await indexedDB.databases()).find((d) => d.name.startsWith('eda-playground-'));
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open(named.name);
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  try {
    return await new Promise((resolve, reject) => {
      const count = db.transaction('outbox').objectStore('outbox').count();
      count.onsuccess = () => resolve(count.result === 0);
      count.onerror = () => reject(count.error);
    });
  } finally {
    db.close();
  }
};

/**
 * In the page (for `page.evaluate`): from the object store `name` of its database, the row at
 * `key`, or every key when `key` is not given. `{ name: 'participants' }` lists the rows.
 */
export const tabStoreRead = async ({ name, key }) => {
  const named = (await indexedDB.databases()).find((d) => d.name.startsWith('eda-playground-'));
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open(named.name);
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  try {
    return await new Promise((resolve, reject) => {
      const store = db.transaction(name).objectStore(name);
      const read = key === undefined ? store.getAllKeys() : store.get(key);
      read.onsuccess = () => resolve(read.result);
      read.onerror = () => reject(read.error);
    });
  } finally {
    db.close();
  }
};

/**
 * Waits until the tab's database has been read back: until the "Place order" button's
 * `data-gate` (why no order can be placed) says neither that the services are starting nor that
 * the database is being read. A click before that is refused for the database, not for the cause
 * a case looks for; on a busy machine the read can outlast the connects (CI, stop 45).
 */
export async function waitDatabaseRead(page, timeout = CONNECT_TIMEOUT_MS) {
  await page.waitForFunction(
    () => {
      const gate = document.querySelector('[data-testid="place-order"]')?.dataset.gate;
      return gate === undefined || !/^the services are starting$|database to be read back/.test(gate);
    },
    null,
    { timeout },
  );
}

/**
 * Waits until the row at `key` of the tab's object store `name` passes `test` (read again after
 * each of the page's frames, [`tabStoreRead`]); fails naming `what` after FLOW_TIMEOUT_MS.
 * Returns the row.
 */
export async function waitForTabRow(page, { name, key }, test, what) {
  const deadline = Date.now() + FLOW_TIMEOUT_MS;
  for (;;) {
    const row = await page.evaluate(tabStoreRead, { name, key });
    if (test(row)) return row;
    assert.ok(Date.now() < deadline, `${what} within ${FLOW_TIMEOUT_MS} ms`);
    await page.evaluate(() => new Promise(requestAnimationFrame));
  }
}

/**
 * The text of `selector` once it matches `want` (a string: equal; a RegExp: matches), read from
 * the page with the element scrolled into view: each panel is a part drawn at most once a second
 * while out of sight (docs/dom-contract.md, `data-on-screen`), so a panel read right after
 * another one changed may not be drawn yet. Fails with the last text read.
 */
export async function waitPartText(page, selector, want, timeout = 5_000) {
  await page.locator(selector).first().scrollIntoViewIfNeeded();
  const pattern = want instanceof RegExp ? { source: want.source, flags: want.flags } : null;
  await page
    .waitForFunction(
      ({ selector, pattern, want }) => {
        const text = document.querySelector(selector)?.textContent ?? '';
        return pattern ? new RegExp(pattern.source, pattern.flags).test(text) : text === want;
      },
      { selector, pattern, want: pattern ? null : want },
      { timeout },
    )
    .catch(async () => assert.fail(`${selector}: want ${want}, have ${JSON.stringify(await page.textContent(selector))}`));
  return page.textContent(selector);
}

export const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
export const brokerQuery = (wsUrl) => `/?broker=${wsUrl}`;
export const notificationTexts = (orderId, customerId = 'C123') => [
  `Order confirmation email sent to ${customerId}`,
  `Payment confirmation for Order ${orderId}`,
  `Inventory confirmation for Order ${orderId}`,
];

// MQTT topic filter matching (+ and #), for subscriptions seen in the broker log. A shared
// subscription ($share/<group>/<filter>, PaymentService's instances) matches as its filter.
function filterMatches(filter, topic) {
  const shared = /^\$share\/[^/]+\/(.+)$/.exec(filter);
  const f = (shared ? shared[1] : filter).split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
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

export async function waitForStates(page, state, timeout = CONNECT_TIMEOUT_MS, services = SERVICES) {
  try {
    await page.waitForFunction(
      ({ services, state }) =>
        services.every(
          (s) =>
            document.querySelector(`[data-testid="status-${s}"]`)?.getAttribute('data-state') ===
            state,
        ),
      { services, state },
      { timeout },
    );
  } catch (error) {
    const now = await statusStates(page).catch(() => 'unknown');
    throw new Error(
      `not all of ${services.join(', ')} became "${state}" within ${timeout} ms; now: ${JSON.stringify(now)}`,
      { cause: error },
    );
  }
}

/** PaymentService's further instances the page runs (`payment-2`, `payment-3`), from its control. */
export async function extraInstances(page) {
  const count = Number(await page.evaluate(() => document.querySelector('#payment-instances')?.value || '1'));
  return Array.from({ length: Math.max(0, count - 1) }, (_, i) => `payment-${i + 2}`);
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
  assert.equal(new Set(Object.values(ids)).size, SERVICES.length, `${SERVICES.length} distinct client ids: ${JSON.stringify(ids)}`);
  return ids;
}

const SERVICE_NAMES = { order: 'OrderService', payment: 'PaymentService', inventory: 'InventoryService', notification: 'NotificationService', query: 'QueryService' };

/**
 * Presses *Crash* on `service` (`'payment'`, …: one of [`SERVICES`]) and waits until its status
 * says crashed: its client is gone without DISCONNECT, so the broker publishes its Will.
 */
export async function crashService(page, service) {
  await page.getByRole('button', { name: `Crash ${SERVICE_NAMES[service]}` }).click();
  await page.locator(`[data-testid="status-${service}"][data-crashed="true"]`).waitFor();
}

/** The saga style the page shows in `#saga-style` (parallel if it has none). */
export const sagaStyle = (page) =>
  page.evaluate(() => document.querySelector('#saga-style')?.value || 'parallel');

/**
 * All four services (and PaymentService's further instances) connected, and (from the broker's
 * log) every client's SUBSCRIBE for the page's saga style processed: only then can an order run
 * its saga through all of them. Resolves with the client ids by service (and instance).
 */
export async function waitReady(page, onBroker) {
  await waitForStates(page, 'connected');
  const ids = await clientIds(page);
  const extra = await extraInstances(page);
  if (extra.length > 0) await waitForStates(page, 'connected', CONNECT_TIMEOUT_MS, extra);
  for (const instance of extra) {
    const text = await page.locator(`[data-testid="status-${instance}"] [data-testid="client-id"]`).textContent();
    ids[instance] = (text ?? '').trim();
    assert.equal(ids[instance], ids.payment.replace(/-payment$/, `-${instance}`), `client id of ${instance}`);
  }
  const style = await sagaStyle(page);
  // Under a topic namespace (?ns=, shown by the broker bar) every filter carries it.
  const namespace = await page.evaluate(() => document.querySelector('[data-testid="namespace"]')?.dataset.namespace ?? null);
  const under = (topics) => (namespace ? topics.map((t) => `${namespace}/${t}`) : topics);
  const wanted = Object.fromEntries(
    Object.entries({ ...SUBSCRIPTIONS[style], ...Object.fromEntries(extra.map((i) => [i, SUBSCRIPTIONS[style].payment])) })
      .map(([service, topics]) => [service, under(topics)]),
  );
  for (const [service, topics] of Object.entries(wanted)) {
    const line = new RegExp(`^\\d+: ${escapeRegExp(ids[service])} [012] (\\S+)$`, 'gm');
    await onBroker
      .waitForLog((log) => {
        const filters = [...log.matchAll(line)].map((m) => m[1]);
        return topics.every((topic) => filters.some((f) => filterMatches(f, topic)));
      }, 10_000)
      .catch((error) => {
        throw new Error(
          `the ${service} service (${ids[service]}) is "connected" but the broker saw no ` +
            `subscription to ${topics.join(', ')} (saga style ${style}) within 10 s`,
          { cause: error },
        );
      });
  }
  // The broker saw the SUBSCRIBEs; the page takes orders once their SUBACKs are in.
  await waitOrdersAccepted(page, 10_000);
  return ids;
}

/**
 * Until the form takes orders (`data-ready` on Place order): OrderService connected and every
 * service subscribed once since the services started; before that a click is refused.
 */
export async function waitOrdersAccepted(page, timeout = CONNECT_TIMEOUT_MS) {
  await page.locator('[data-testid="place-order"][data-ready="true"]').waitFor({ timeout });
}

export async function placedOrderId(page) {
  const locator = page.locator('[data-testid="placed-order-id"]');
  await locator.waitFor({ state: 'visible', timeout: FLOW_TIMEOUT_MS });
  const id = ((await locator.textContent()) ?? '').trim();
  assert.match(id, UUID_V4, `placed-order-id should show a v4 UUID, got "${id}"`);
  return id;
}

export async function waitForNotifications(page, texts, timeout = FLOW_TIMEOUT_MS) {
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
export async function waitForRejected(page, { service, topic, payload, reason }, timeout = FLOW_TIMEOUT_MS) {
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
export async function expectDownstreamEvents(witness, orderId, amount) {
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
export async function expectSeedForm(page) {
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
export async function placeSeedOrderAndExpectFlow(page, witness) {
  await waitOrdersAccepted(page);
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
export async function placeWatchedOrder(page, { onBroker, protocolVersion = 4 }) {
  const witness = await startWitness({ tcpPort: onBroker.tcpPort, protocolVersion });
  try {
    return await placeSeedOrderAndExpectFlow(page, witness);
  } finally {
    await witness.close();
  }
}

/**
 * The sequence diagram's arrows for one order: "From->To LABEL", in the diagram's order, once
 * the count is reached. Read from the view's Mermaid export, which holds every arrow of the view
 * (the diagram itself puts in the page only the arrows near its scroll box).
 */
export async function orderArrows(page, orderId, count) {
  await page.selectOption('#sequence-order', orderId);
  const drawn = () => page.$eval('#sequence-title .muted', (e) => Number(/(\d+) arrows/.exec(e.textContent)?.[1] ?? 0));
  try {
    await page.waitForFunction(
      (n) => Number(/(\d+) arrows/.exec(document.querySelector('#sequence-title .muted')?.textContent ?? '')?.[1] ?? 0) >= n,
      count,
      { timeout: FLOW_TIMEOUT_MS },
    );
  } catch (error) {
    const shown = await page.$$eval('[data-testid="seq-arrow"]', (els) => els.map((e) => e.dataset.label));
    throw new Error(`expected ${count} arrows for order ${orderId}, saw ${await drawn()}: ${shown.join(' | ')}`, { cause: error });
  }
  const toggle = page.locator('[data-testid="show-mermaid"]');
  const wasOpen = (await toggle.getAttribute('aria-expanded')) === 'true';
  if (!wasOpen) await toggle.click();
  const mermaid = await page.inputValue('[data-testid="mermaid-text"]');
  if (!wasOpen) await toggle.click();
  return mermaid
    .split('\n')
    .map((line) => /^\s+(\w+)--?>>(\w+): \[\+\d+ ms\] (.*)$/.exec(line))
    .filter(Boolean)
    .map(([, from, to, label]) => `${from}->${to} ${label}`);
}

/**
 * Holds the tab's IndexedDB busy for `ms` milliseconds from the start of the page's next load
 * (a reload), once, before the page's scripts run: another holder's write transaction over every
 * store (a long write of another tab of the site, or a slow disk), so the page reads its
 * database back late. The database must exist: load the page once before.
 */
export async function holdDatabaseAtNextLoad(page, ms) {
  await page.addInitScript((ms) => {
    if (sessionStorage.getItem('held-once')) return;
    sessionStorage.setItem('held-once', '1');
    indexedDB.databases().then((all) => {
      const name = all.map((d) => d.name).find((n) => n?.startsWith('eda-playground-'));
      const open = indexedDB.open(name);
      open.onsuccess = () => {
        const db = open.result;
        const tx = db.transaction([...db.objectStoreNames], 'readwrite');
        const store = tx.objectStore(db.objectStoreNames[0]);
        const until = Date.now() + ms;
        const spin = () => { if (Date.now() < until) store.count().onsuccess = spin; };
        spin();
        tx.oncomplete = () => db.close();
      };
    });
  }, ms);
}

/**
 * Holds the page's IndexedDB busy with a write transaction of the test's own over every store,
 * so that what waits for the tab's database (OrderService's appends and what it decided with
 * them, the participants' memory and the answers that wait for it) waits; returns `release()`,
 * after which the transaction commits and the page's writes follow. (Chromium runs one write
 * transaction of a database at a time, even over other stores: a hold of one store holds all.)
 */
export async function holdDatabase(page) {
  await page.evaluate(async () => {
    const ask = (request) => new Promise((done, fail) => {
      request.onsuccess = () => done(request.result);
      request.onerror = () => fail(request.error);
    });
    const name = (await indexedDB.databases()).map((d) => d.name).find((n) => n?.startsWith('eda-playground'));
    const db = await ask(indexedDB.open(name));
    // Kept alive by a request always pending: the page's own writes queue behind it.
    const store = db.transaction([...db.objectStoreNames], 'readwrite').objectStore(db.objectStoreNames[0]);
    let held = true;
    window.__releaseDatabase = () => { held = false; };
    const spin = () => { if (held) store.count().onsuccess = spin; };
    // Held once its first request succeeds: the transaction runs, the page's writes queue.
    await new Promise((done) => { store.count().onsuccess = () => { done(); spin(); }; });
  });
  return () => page.evaluate(() => window.__releaseDatabase());
}
