// A broker down mid-saga, the longer outages: back from an older save, down past the deadline
// with 60 orders in flight, the page reloaded while it is down (what the reload found owed goes
// out first, each stream in version order), and each cancellation decided meanwhile reaching
// the wire once, not again by its compensation check. Each order ends with exactly one outcome,
// and nothing charged or held for a cancelled one, as an independent witness sees the wire (a
// Mosquitto of the case's own that keeps sessions across a restart: lib/restartable.mjs). Split
// from mid-saga.test.mjs, whose file came near the suite's 240 s limit per file.
//
//   node --test e2e/app/broker-outage.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';
import mqtt from 'mqtt';

import { CONNECT_TIMEOUT_MS, FLOW_TIMEOUT_MS, outboxEmpty, waitPartText } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, describeApp, waitReady } from '../lib/app-suite.mjs';
import { DEADLINE_MS, cancelledWhileDown, netCharge, netHeld, reloadWhileDown, withRestartableBroker } from '../lib/restartable.mjs';
import { placeOrder, waitForRow, waitInPage } from '../lib/saga.mjs';

describeApp('a broker down mid-saga, the longer outages', () => {
  it('the broker back from an older save that holds the sessions without their subscriptions: every service subscribes again, and orders flow', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withRestartableBroker(t, '', async ({ page, stop, start, aside }) => {
      const ids = await page.$$eval('[data-testid="client-id"]', (els) => els.map((e) => e.textContent.trim()));
      assert.ok(ids.length >= 5, JSON.stringify(ids));
      await stop();
      const older = await aside();
      try {
        for (const clientId of ids) {
          // Discard the session, then open an empty persistent one: Session Present 1 next
          // time, and no subscription in it.
          for (const clean of [true, false]) {
            const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${older.tcpPort}`, { clientId, clean, reconnectPeriod: 0, protocolVersion: 4 });
            await client.endAsync();
          }
        }
      } finally {
        await older.stop();
      }
      const back = await start();
      // Every service subscribes again: the broker's log shows each filter asked for.
      await waitReady(page, back);
      const orderId = await placeOrder(page);
      await waitForRow(page, orderId, 'Completed');
    }));

  // A newcomer's break-test: 100 orders in flight, the broker down past the deadline. Each
  // cancellation is two publishes (orders/cancelled and the event store's copy); the client's
  // offline queue took 100 and refused the rest, so 50 orders stayed open for good, cancelled
  // only in OrderService's store.
  it('the broker down past the deadline with 60 orders in flight: every one is cancelled on the wire', { timeout: CASE_TIMEOUT_MS }, (t) =>
    // The payment takes the longest a link allows (10 s), past the deadline (8 s), so no
    // order can be confirmed before the broker stops (with a payment shorter than the deadline,
    // a slow machine confirmed some first); the deadline leaves the broker time to stop first
    // (at 4 s, a loaded machine cancelled the first order before the sixtieth was stored).
    withRestartableBroker(t, '&payment_ms=10000&saga_timeout_ms=8000', async ({ page, seen, waitSeen, stop, start }) => {
      const ORDERS = 60;
      for (let i = 0; i < ORDERS / 10; i++) await page.click('[data-testid="place-ten"]');
      await waitSeen((m) => m.topic === 'orders/created', 'orders/created', ORDERS);
      // In flight at OrderService: each saga started and stored (its OrderCreated on the
      // wire). OrderService takes its orders at most 20 unanswered at a time and answers once
      // stored (decision 0022); those still queued at a broker that forgets them on restart
      // would never start.
      await waitSeen((m) => m.topic.startsWith('eventstore/orders/') && m.json?.type === 'OrderCreated', 'OrderCreated', ORDERS);
      await stop();
      assert.deepEqual(seen.filter((m) => ['orders/cancelled', 'orders/confirmed'].includes(m.topic)), [], 'the broker stopped before the first outcome');
      // Down until OrderService has cancelled every order in its store (the panel draws the 50
      // newest streams; the deadlines pass in the order the orders were placed).
      await page.waitForFunction(
        (drawn) => {
          const streams = [...document.querySelectorAll('[data-testid="store-stream"]')];
          return streams.length === drawn && streams.every((s) => s.dataset.status === 'Cancelled');
        },
        Math.min(ORDERS, 50),
        { timeout: FLOW_TIMEOUT_MS * 2 },
      );
      await start();
      // Counted by order: a cancellation is sent again, the same bytes, while its compensation
      // is awaited, so 60 messages may be fewer than 60 orders.
      const firstCancellation = (m, i, all) =>
        m.topic === 'orders/cancelled' && all.findIndex((o) => o.topic === m.topic && o.json?.orderId === m.json?.orderId) === i;
      await waitSeen(firstCancellation, 'orders cancelled', ORDERS);
      const created = new Set(seen.filter((m) => m.topic === 'orders/created').map((m) => m.json?.orderId));
      const cancelled = new Set(seen.filter((m) => m.topic === 'orders/cancelled').map((m) => m.json?.orderId));
      assert.deepEqual([...created].filter((id) => !cancelled.has(id)), [], 'every order created was cancelled');
      assert.equal(seen.filter((m) => m.topic === 'orders/confirmed').length, 0, 'none confirmed past its deadline');
    }));
  // The outbox: OrderService stores each cancellation before publishing it, and while the broker
  // is down the publish waits in its client's queue, in memory. A reload then lost that queue: the
  // restored store said Cancelled, the wire never did. Now the database remembers what was not
  // acknowledged, and the reloaded page publishes it again once OrderService is connected.
  it('a reload while the broker is down, a reservation made before it: the events decided after the reload reach the wire after the ones it found owed, each stream in version order', { timeout: CASE_TIMEOUT_MS }, (t) =>
    // The stock is reserved before the broker stops (version 2), the payment (8 s) outlasts the
    // deadline (4 s: long enough that no order is cancelled before the broker stops, on a slow
    // machine too), so each order is cancelled in the store while the broker is away (version
    // 3, owed). After the reload the restored compensation check asks for the release again, and
    // the reloaded InventoryService, which kept the reservation in the tab's database (decision
    // 0021), releases it: version 4. (When it forgot, a reload emptying its memory, its answer
    // "nothing to release" went out before version 3, which waited for every consumer to
    // subscribe.)
    withRestartableBroker(t, '&payment_ms=8000&saga_timeout_ms=4000', async ({ page, seen, waitSeen, stop, start }) => {
      const ORDERS = 3;
      const orders = [];
      for (let i = 0; i < ORDERS; i++) orders.push(await placeOrder(page));
      for (const id of orders) {
        await waitSeen((m) => m.topic === `eventstore/orders/${id}` && m.json?.type === 'InventoryConfirmed', `the stock reserved for ${id}`);
      }
      const stoppedAt = seen.length;
      await reloadWhileDown(page, orders, { stop, start });
      const early = seen.slice(0, stoppedAt).filter((m) => m.topic === 'orders/cancelled').map((m) => m.json?.orderId);
      assert.deepEqual(early, [], 'the case needs each order cancelled while the broker is down (the machine was too slow for its deadline)');
      for (const id of orders) {
        await waitSeen((m) => m.topic === `eventstore/orders/${id}` && m.json?.type === 'InventoryReleased', `the release answered for ${id}`);
      }
      for (const id of orders) {
        // A break-test saw each cancellation go out twice at once after the reload: the outbox
        // published the owed one, and the restored compensation check, already due, sent it
        // again. The check now counts from the owed one's publication, and the answer to that
        // one ends it. (Before the stop, on a slow machine, an order may already have been
        // cancelled on the wire; the outbox may then send it once more, at least once.)
        const again = seen.slice(stoppedAt).filter((m) => m.topic === 'orders/cancelled' && m.json?.orderId === id).length;
        assert.ok(again <= 1, `orders/cancelled of ${id} ${again} times after the restart, not again by the check beside it: ${seen.filter((m) => m.json?.orderId === id || m.topic.endsWith(id)).map((m) => `${m.topic} ${m.json?.type ?? ''}`).join(' / ')}`);
      }
      for (const id of orders) {
        const versions = seen.filter((m) => m.topic === `eventstore/orders/${id}`).map((m) => m.json?.version);
        const firsts = versions.filter((v, i) => versions.indexOf(v) === i);
        assert.deepEqual(firsts, [...firsts].sort((a, b) => a - b), `eventstore/orders/${id} in version order: ${versions.join(', ')}`);
        // The outcome goes out before what follows from it.
        const topics = seen.filter((m) => m.json?.orderId === id || m.json?.stream === id).map((m) => m.topic);
        assert.ok(topics.indexOf('orders/cancelled') < topics.indexOf('inventory/released'), `orders/cancelled before the release: ${topics.join(', ')}`);
        // The reloaded InventoryService kept the reservation the wire shows: its release carries
        // its id, and the row waits for nothing more and says nothing was forgotten.
        const storeEvent = (type) => seen.find((m) => m.topic === `eventstore/orders/${id}` && m.json?.type === type)?.json.data;
        assert.equal(storeEvent('InventoryReleased').reservationId, storeEvent('InventoryConfirmed').reservationId, `the release of ${id} carries the reservation made before the reload`);
        const row = page.locator(`[data-testid="order-row"][data-order-id="${id}"]`);
        await waitForRow(page, id, 'Cancelled', { compensations: 1 });
        await waitInPage(page, `nothing awaited for ${id}`, (id) => !document.querySelector(`[data-testid="order-row"][data-order-id="${id}"] [data-testid="order-compensating"]`), id);
        assert.equal(await row.locator('[data-testid="order-forgotten"]').count(), 0, 'nothing forgotten');
      }
    }));
  it('a reload while the broker is down: the cancellations stored meanwhile reach the wire once it is back', { timeout: CASE_TIMEOUT_MS }, (t) =>
    // The payment and the reservation (6 s) outlast the deadline (4 s): the broker is stopped
    // before either is due, so neither reaches the wire, and the reload drops them.
    withRestartableBroker(t, '&payment_ms=6000&inventory_ms=6000&saga_timeout_ms=4000', async ({ page, seen, waitSeen, stop, start }) => {
      const ORDERS = 3;
      const orders = [];
      for (let i = 0; i < ORDERS; i++) orders.push(await placeOrder(page));
      await waitSeen((m) => m.topic === 'orders/created' && orders.includes(m.json?.orderId), 'orders/created', ORDERS);
      await reloadWhileDown(page, orders, { stop, start });
      for (const id of orders) {
        await waitSeen((m) => m.topic === 'orders/cancelled' && m.json?.orderId === id, `orders/cancelled of ${id}`);
        await waitSeen((m) => m.topic === `eventstore/orders/${id}` && m.json?.type === 'OrderCancelled', `the event store's OrderCancelled of ${id}`);
      }
      for (const id of orders) {
        // Each stream's events reach the wire in version order: what the reload found owed
        // goes out before what OrderService decided after it (a projector reads them in order).
        const versions = seen.filter((m) => m.topic === `eventstore/orders/${id}`).map((m) => m.json?.version);
        const firsts = versions.filter((v, i) => versions.indexOf(v) === i);
        assert.deepEqual(firsts, [...firsts].sort((a, b) => a - b), `eventstore/orders/${id} in version order: ${versions.join(', ')}`);
        const outcomes = seen.filter((m) => m.json?.orderId === id && ['orders/confirmed', 'orders/cancelled'].includes(m.topic));
        assert.deepEqual([...new Set(outcomes.map((m) => m.topic))], ['orders/cancelled'], `one outcome for ${id}`);
        // Nothing was charged or held on the wire, so nothing is left to undo.
        assert.equal(netCharge(seen, id), 0, 'nothing left charged');
        assert.equal(netHeld(seen, id), 0, 'nothing left held');
        // The Orders panel draws the order restored from the store (marked so, not as an order
        // nobody created), cancelled, and its cancellation then seen on the wire.
        await page.waitForFunction(
          (id) => {
            const row = document.querySelector(`[data-testid="order-row"][data-order-id="${id}"]`);
            return row?.dataset.status === 'Cancelled' && row.dataset.start === 'restored'
              && row.querySelector('[data-testid="order-restored"]') !== null;
          },
          id,
          { timeout: CONNECT_TIMEOUT_MS },
        );
      }
      assert.equal(await page.getAttribute('[data-testid="orders-count"]', 'data-unknown'), '0');
      // The read model, rebuilt from the restored store, counts them cancelled, as the wire now says.
      await waitPartText(page, '[data-testid="query-totals"]', new RegExp(`^${ORDERS} orders: 0 completed, ${ORDERS} cancelled, 0 open`));
      // The page says what it published again.
      assert.match(
        await page.textContent('[data-testid="store-note"][data-kind="restored"]'),
        new RegExp(`; none was open; .* ${ORDERS * 2} messages that followed from them were never acknowledged by the broker: OrderService publishes them again once it is connected \\(its event log says when\\)\\.$`),
      );
      // … and OrderService's log says when it did (the note alone kept saying "will").
      const logged = page.locator('[data-testid="log-entry"][data-service="order"][data-topic="outbox"]');
      await logged.waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.match(await logged.textContent(), new RegExp(`published again ${ORDERS * 2} messages a reload found unacknowledged in the browser's database \\(eventstore/orders/`));
      // The participants answer each cancellation (nothing to refund or release: the reload
      // dropped their work), and OrderService stores each answer, whose copy it owes the wire.
      // (Waiting for the outbox alone, a CI run reloaded between two answers: the outbox was
      // empty for a moment, and the reload found the copies of the later ones owed.)
      for (const id of orders) {
        for (const type of ['PaymentRefunded', 'InventoryReleased']) {
          await waitSeen((m) => m.topic === `eventstore/orders/${id}` && m.json?.type === type, `the event store's ${type} of ${id}`);
        }
      }
      // Their acknowledgements are recorded: the database owes nothing more, and another reload
      // publishes nothing again, nor checks a compensation again.
      await page.waitForFunction(outboxEmpty, null, { timeout: CONNECT_TIMEOUT_MS });
      await page.reload();
      const again = page.locator('[data-testid="store-note"][data-kind="restored"]');
      await again.waitFor({ timeout: CONNECT_TIMEOUT_MS });
      assert.doesNotMatch(await again.textContent(), /never acknowledged|not seen done/);
    }));
  // A break-test: each of 10 cancellations decided while the broker was down went out twice,
  // 0.7 s apart, once it was back: the first from OrderService's client, where it had waited, and
  // a copy from its compensation check, due a deadline after the cancellation, long before.
  it('the broker down and the page reloaded before the deadline, the participants back after OrderService: each cancellation decided meanwhile reaches the wire once, not again by its compensation check beside it', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withRestartableBroker(t, `&payment_ms=10000&saga_timeout_ms=${DEADLINE_MS}`, (app) => cancelledWhileDown(app, { reload: true })));
  it('the broker down past the deadline and the compensation check\'s due time, no reload, the participants back after OrderService: each cancellation reaches the wire once', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withRestartableBroker(t, `&payment_ms=10000&saga_timeout_ms=${DEADLINE_MS}`, (app) => cancelledWhileDown(app, { reload: false })));
});
