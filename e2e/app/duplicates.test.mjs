// Duplicates and the idempotent consumer: a message delivered again (the inspector's and the
// Orders panel's "Deliver again", as a redelivery after a lost acknowledgement would look to a
// consumer) is ignored by each consumer that processed it before (`?dedupe=on`, the default),
// and charged twice with the consumers' memory off (`?dedupe=off`); a share of messages
// published twice (`?duplicates=`); Deliver again refused, with the page's sentence, while the
// client that would publish it is crashed (its copy would otherwise vanish with the aborted
// client); a retained orders/created, replayed by the broker at each subscription, processed
// once and only logged afterwards, and its clearing (an empty retained message) only logged. An
// independent witness subscribed to `#` counts what went over the broker.
//
//   node --test e2e/app/duplicates.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';

import { CONNECT_TIMEOUT_MS, FLOW_TIMEOUT_MS, brokerQuery, crashService } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, waitReady, watched, withApp } from '../lib/app-suite.mjs';
import { expectOneOutcome, placeOrder, waitForRow, waitInPage, watchEveryTopic, wireOf } from '../lib/saga.mjs';


const count = (witness, orderId, topic) => wireOf(witness, orderId).filter((t) => t === topic).length;

/** Waits until the witness has seen `n` messages on `topic` for `orderId`. */
const waitForCount = (witness, orderId, topic, n) =>
  witness.waitFor(() => count(witness, orderId, topic) >= n, FLOW_TIMEOUT_MS, `${n} × ${topic} for ${orderId}`);

/** The order's orders/created delivered again from its row of the Orders panel. */
async function deliverAgain(page, orderId) {
  await page.click(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-deliver-again"]`);
}

describeApp('duplicates and the idempotent consumer', () => {
  it('dedupe on (the default): an order delivered again is ignored by every consumer, charged once', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await waitForRow(page, orderId, 'Completed');
      await deliverAgain(page, orderId);
      await waitForCount(witness, orderId, 'orders/created', 2);
      // Each consumer logs the repeat as ignored, naming what it recognised it by, and where it
      // came from: a second PUBLISH (no DUP flag), not the broker's redelivery.
      for (const service of ['payment', 'inventory', 'notification', 'order']) {
        const entry = page.locator(`[data-testid="log-entry"][data-service="${service}"][data-status="duplicate"]`);
        await entry.first().waitFor({ timeout: FLOW_TIMEOUT_MS });
        const line = (await entry.first().textContent()) ?? '';
        assert.match(line, new RegExp(`duplicate ignored: orders/created ${orderId}`));
        assert.match(line, /a second PUBLISH under the same identity \(DUP flag not set\): published again, by its publisher or another client/);
      }
      await expectOneOutcome(witness, orderId, 'orders/confirmed');
      assert.equal(count(witness, orderId, 'payments/processed'), 1, 'charged once');
      assert.equal(count(witness, orderId, 'inventory/reserved'), 1, 'reserved once');
      const row = await waitForRow(page, orderId, 'Completed');
      assert.equal(row.charges, 1);
    }));

  // A newcomer's break-test (42-AL F9): PaymentService crashed with the charge in hand, and
  // Deliver again was ignored as "processed before" though nothing was charged: the order timed
  // out. The copy is done now; the order completes, charged once.
  it('dedupe on: a copy of an order whose charge died with a crash is charged, not ignored as processed before', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=3000&saga_timeout_ms=20000', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await waitForCount(witness, orderId, 'inventory/reserved', 1);
      await crashService(page, 'payment');
      await page.click('[data-testid="restart-payment"]');
      await page.locator('[data-testid="status-payment"][data-state="connected"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
      const lost = page.locator('[data-testid="log-entry"][data-service="payment"]').filter({ hasText: `lost with the crash: its work in hand for order ${orderId}` });
      await lost.first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.match((await lost.first().textContent()) ?? '', /\(its orders\/created, which started it, was acknowledged .*; a copy of that message, by Deliver again on it in the packet inspector or from its publisher, starts the work anew\)/);
      await deliverAgain(page, orderId);
      await waitForCount(witness, orderId, 'orders/created', 2);
      await waitForCount(witness, orderId, 'orders/confirmed', 1);
      await expectOneOutcome(witness, orderId, 'orders/confirmed');
      assert.equal(count(witness, orderId, 'payments/processed'), 1, 'charged once');
      assert.equal(count(witness, orderId, 'inventory/reserved'), 1, 'reserved once: its reservation had a result');
      const row = await waitForRow(page, orderId, 'Completed');
      assert.equal(row.charges, 1);
    }));

  it('dedupe off: the same order delivered again is charged twice, and the Orders panel shows it; switched on, a third copy is ignored', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&dedupe=off', async ({ page, witness }) => {
      assert.equal(await page.inputValue('#dedupe'), 'off', 'the link set the switch');
      const orderId = await placeOrder(page);
      await waitForRow(page, orderId, 'Completed');
      // From the packet inspector this time: OrderService's PUBLISH of the order, among the
      // oldest packets, above the status monitor's first ones (the list draws the rows in
      // view: scrolled up from its end, half a box at a time, until it is drawn).
      await page.$eval('[data-testid="packet-list"]', (list) => { list.scrollTop = list.scrollHeight; });
      await waitInPage(page, "the order's PUBLISH drawn", () => {
        if (document.querySelector('[data-testid="packet-row"][data-kind="PUBLISH"][data-topic="orders/created"][data-direction="out"]') !== null) return true;
        const list = document.querySelector('[data-testid="packet-list"]');
        list.scrollTop = Math.max(0, list.scrollTop - list.clientHeight / 2);
        return false;
      });
      const seq = await page.evaluate((id) => {
        const rows = [...document.querySelectorAll('[data-testid="packet-row"][data-kind="PUBLISH"][data-topic="orders/created"][data-direction="out"]')];
        return rows.map((r) => r.dataset.seq).find(Boolean);
      }, orderId);
      assert.ok(seq, 'the order\'s PUBLISH is in the inspector');
      await page.click(`[data-testid="packet-row"][data-seq="${seq}"] button`);
      await page.click('[data-testid="deliver-again"]');
      await waitForCount(witness, orderId, 'payments/processed', 2);
      const payments = witness.messages.filter((m) => m.topic === 'payments/processed' && m.json?.orderId === orderId);
      assert.equal(new Set(payments.map((m) => m.json.paymentId)).size, 2, 'two charges, each with its own payment id');
      await page.waitForFunction(
        (id) => document.querySelector(`[data-testid="order-row"][data-order-id="${id}"]`)?.dataset.charges === '2',
        orderId,
        { timeout: FLOW_TIMEOUT_MS },
      );
      const doubled = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-double-charge"]`);
      assert.equal((await doubled.textContent())?.trim(), '✕ charged 2 times');
      // The completed order's stream records the second charge too (44-AT F1: refused, its
      // refund by hand was then "not this order's payment"), and a refund of it by hand is
      // recorded beside it, the order still completed.
      const storedCharges = () => witness.messages.filter((m) => m.topic === `eventstore/orders/${orderId}` && m.json?.type === 'PaymentConfirmed').map((m) => m.json.data.paymentId);
      await witness.waitFor(() => storedCharges().length === 2, FLOW_TIMEOUT_MS, 'both charges in the store');
      assert.deepEqual([...storedCharges()].sort(), payments.map((m) => m.json.paymentId).sort());
      const second = payments[1].json.paymentId;
      await witness.publish('payments/refunded', JSON.stringify({ orderId, paymentId: second, amount: 59.98, refundedAt: new Date().toISOString() }), { qos: 1 });
      await witness.waitFor((m) => m.topic === `eventstore/orders/${orderId}` && m.json?.type === 'PaymentRefunded' && m.json.data.paymentId === second, FLOW_TIMEOUT_MS, 'the second charge\'s refund in the store');
      // The row shows the refund, and does not call the order undone: its own charge stands
      // (45-AW F3).
      await page.locator(`[data-testid="order-row"][data-order-id="${orderId}"][data-compensations="1"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.equal(await page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-undone-after"]`).count(), 0);
      // The second reservation is recorded too, and the rewind names both second steps (45-AU
      // F1: the fold at the second charge's version read as the version before it, and a second
      // reservation replaced the first).
      const reservations = witness.messages.filter((m) => m.topic === 'inventory/reserved' && m.json?.orderId === orderId).map((m) => m.json.reservationId);
      assert.equal(new Set(reservations).size, 2, 'two reservations, each with its own id');
      const stored = (type) => witness.messages.filter((m) => m.topic === `eventstore/orders/${orderId}` && m.json?.type === type);
      await witness.waitFor(() => stored('InventoryConfirmed').length === 2, FLOW_TIMEOUT_MS, 'both reservations in the store');
      const version = Math.max(...witness.messages.filter((m) => m.topic === `eventstore/orders/${orderId}`).map((m) => m.json.version));
      const stream = page.locator(`[data-testid="store-stream"][data-stream="${orderId}"]`);
      await stream.scrollIntoViewIfNeeded();
      await page.locator(`[data-testid="store-stream"][data-stream="${orderId}"][data-version="${version}"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await stream.click();
      await page.locator('[data-testid="store-rewind"]').fill(String(version));
      await page.waitForFunction((v) => document.querySelector('[data-testid="store-rewound"]')?.dataset.version === String(v), version);
      const rewound = async (n) => ((await page.textContent(`[data-testid="store-rewound"] dd:nth-of-type(${n})`)) ?? '').trim();
      assert.equal(await rewound(2), `done (${reservations[0]}); also reserved: ${reservations[1]} (not released)`);
      assert.equal(await rewound(3), `done (${payments[0].json.paymentId}); also charged: ${second} (refunded)`);

      // Switched on again, the consumers know the order they processed while it was off (a
      // newcomer's break-test: it was charged and reserved a third time).
      await page.selectOption('#dedupe', 'on');
      await deliverAgain(page, orderId);
      await waitForCount(witness, orderId, 'orders/created', 3);
      for (const service of ['payment', 'inventory', 'notification']) {
        const entry = page.locator(`[data-testid="log-entry"][data-service="${service}"][data-status="duplicate"]`);
        await entry.first().waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.match((await entry.first().textContent()) ?? '', new RegExp(`duplicate ignored: orders/created ${orderId}`));
      }
      await witness.roundTrip();
      assert.equal(count(witness, orderId, 'payments/processed'), 2, 'no third charge');
      assert.equal(count(witness, orderId, 'inventory/reserved'), 2, 'no third reservation');

      // A reload keeps the lesson (break-test 34-I F4): the restored row said "✓ charged 59.98"
      // once, though PaymentService and InventoryService had kept both charges and both
      // reservations in the tab's database.
      await page.reload();
      await waitReady(page);
      const row = `[data-testid="order-row"][data-order-id="${orderId}"]`;
      await page.waitForFunction(
        (sel) => document.querySelector(sel)?.dataset.start === 'restored' && document.querySelector(sel)?.dataset.charges === '2',
        row,
        { timeout: FLOW_TIMEOUT_MS },
      );
      assert.equal((await page.locator(`${row} [data-testid="order-double-charge"]`).textContent())?.trim(), '✕ charged 2 times');
      assert.equal((await page.locator(`${row} [data-testid="order-double-reservation"]`).textContent())?.trim(), '✕ reserved 2 times');
    }));

  // A break-test (44-AS F2): dedupe off, the order delivered again at once and cancelled (out
  // of stock): both charges were refunded on the wire, but OrderService refused the first
  // refund as "not this order's payment", and its store kept one refund of two.
  it('dedupe off, an order charged twice and cancelled: both refunds are recorded in its stream', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&dedupe=off&payment_ms=1500&inventory_ms=2500&stock=P001:1', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await deliverAgain(page, orderId);
      await waitForCount(witness, orderId, 'payments/processed', 2);
      await waitForCount(witness, orderId, 'payments/refunded', 2);
      const stored = () => witness.messages.filter((m) => m.topic === `eventstore/orders/${orderId}` && m.json?.type === 'PaymentRefunded');
      await witness.waitFor(() => stored().length === 2, FLOW_TIMEOUT_MS, 'both refunds in the store');
      const charges = witness.messages.filter((m) => m.topic === 'payments/processed' && m.json?.orderId === orderId).map((m) => m.json.paymentId);
      assert.deepEqual(stored().map((m) => m.json.data.paymentId).sort(), [...charges].sort());
      const refused = page.locator('[data-testid="log-entry"][data-service="order"][data-topic="payments/refunded"][data-status="rejected"]');
      assert.equal(await refused.count(), 0, 'no refund refused');
    }));

  // A newcomer's break-test: at QoS 2 on MQTT 3.1.1 with every message sent twice, a burst put
  // more than Mosquitto's 20 QoS 2 messages of one client in flight; the broker discarded the
  // rest (PUBREC rc151, which 3.1.1 cannot tell the client), and a reservation reached nobody.
  it('qos=2 and duplicates=100 on MQTT 3.1.1, ten orders at once: no QoS 2 message is discarded by the broker, every order completes', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&qos=2&duplicates=100&payment_ms=0&inventory_ms=0&stock=P001:100', async ({ page, witness }) => {
      const before = new Set(witness.messages.filter((m) => m.topic === 'orders/created').map((m) => m.json?.orderId));
      await page.click('[data-testid="place-ten"]');
      // Ten distinct orders: each is published twice, so ten messages may be five orders.
      const created = () => [...new Set(witness.messages.filter((m) => m.topic === 'orders/created' && !before.has(m.json?.orderId)).map((m) => m.json.orderId))];
      await witness.waitFor(() => created().length >= 10, FLOW_TIMEOUT_MS, 'ten orders created');
      const orders = created();
      assert.equal(orders.length, 10);
      for (const id of orders) await witness.waitForOrder('orders/confirmed', id, FLOW_TIMEOUT_MS);
      for (const id of orders) {
        assert.ok(!wireOf(witness, id).includes('orders/cancelled'), `order ${id} not cancelled: ${wireOf(witness, id).join(', ')}`);
      }
      assert.doesNotMatch(broker.log(), /Sending PUBREC to \S+ \(m\d+, rc151\)/, 'the broker discarded no QoS 2 message');
      // The retained stock level is the page's: 10 orders of 2 from 100.
      await witness.waitFor((m) => m.topic === 'inventory/stock/P001' && m.json?.units === 80, FLOW_TIMEOUT_MS, 'the stock level 80');
    }));

  it('duplicates=100: every message goes out twice, each consumer ignores the repeats, one outcome', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&duplicates=100', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      // The order itself too (a newcomer's break-test: every topic but orders/created was doubled).
      await waitForCount(witness, orderId, 'orders/created', 2);
      await waitForCount(witness, orderId, 'payments/processed', 2);
      await waitForCount(witness, orderId, 'orders/confirmed', 2);
      const payments = witness.messages.filter((m) => m.topic === 'payments/processed' && m.json?.orderId === orderId);
      assert.equal(new Set(payments.map((m) => m.payload)).size, 1, 'the same message twice');
      const row = await waitForRow(page, orderId, 'Completed');
      assert.equal(row.charges, 1, 'charged once');
      assert.equal(await page.locator('[data-testid="order-row"]').count(), 1);
      // The logs are reported in batches: wait for the repeats to be logged as ignored.
      await waitInPage(page, 'repeats logged as ignored', () => document.querySelectorAll('[data-testid="log-entry"][data-status="duplicate"]').length >= 4);
    }));

  // The README's Publish twice lesson with the idempotent consumer switched off: the doubled
  // orders/created is charged twice (a newcomer's break-test found it never was: the order was
  // the one message the setting did not double).
  it('duplicates=100 and dedupe off: the order published twice is charged twice, and the Orders panel shows it', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&duplicates=100&dedupe=off', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await waitForCount(witness, orderId, 'orders/created', 2);
      const created = witness.messages.filter((m) => m.topic === 'orders/created' && m.json?.orderId === orderId);
      assert.equal(new Set(created.map((m) => m.payload)).size, 1, 'the same order, byte for byte');
      // Two charges, each with its own payment id (each of their messages doubled too).
      const paymentIds = () => new Set(witness.messages.filter((m) => m.topic === 'payments/processed' && m.json?.orderId === orderId).map((m) => m.json.paymentId));
      await witness.waitFor(() => paymentIds().size >= 2, FLOW_TIMEOUT_MS, 'charged twice, each with its own payment id');
      await page.waitForFunction(
        (id) => Number(document.querySelector(`[data-testid="order-row"][data-order-id="${id}"]`)?.dataset.charges) >= 2,
        orderId,
        { timeout: FLOW_TIMEOUT_MS },
      );
    }));

  // A break-test (43-AN F6): under orchestration the row's Deliver again sends orders/created,
  // which no participant subscribes to; a learner redoing a charge a crash lost saw nothing.
  it('under orchestration the row\'s Deliver again goes out, and the page says it starts no step and which message would', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&saga=orchestration', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await waitForRow(page, orderId, 'Completed');
      await deliverAgain(page, orderId);
      await waitForCount(witness, orderId, 'orders/created', 2);
      const note = page.locator('[data-testid="redelivery-note"]');
      await note.waitFor();
      assert.match(((await note.textContent()) ?? '').trim(), /^Deliver again: orders\/created went out again\. Under orchestration no participant subscribes to it \(OrderService and NotificationService do, and ignore the copy as a duplicate\).*deliver its command again \(commands\/payment\/charge or commands\/inventory\/reserve\) from the packet inspector\.$/);
      await witness.roundTrip();
      assert.equal(count(witness, orderId, 'payments/processed'), 1, 'charged once');
    }));

  it('OrderService crashed: Deliver again is refused with a sentence and nothing is published; the sentence goes after Restart, and then the copy goes and is ignored', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await waitForRow(page, orderId, 'Completed');
      await crashService(page, 'order');

      const refusal = page.locator('[data-testid="redelivery-error"]');
      await deliverAgain(page, orderId);
      await refusal.waitFor({ timeout: 5_000 }).catch(async (error) => {
        await witness.roundTrip();
        throw new Error(`Deliver again with OrderService crashed: the page said nothing; orders/created for the order on the wire: ${count(witness, orderId, 'orders/created')}`, { cause: error });
      });
      assert.match(((await refusal.textContent()) ?? '').trim(),
        /^Deliver again: OrderService is crashed, so the message was not published again\. Press Restart on OrderService, then try again\.$/);
      await witness.roundTrip();
      assert.equal(count(witness, orderId, 'orders/created'), 1, 'nothing published while OrderService is crashed');

      await page.getByRole('button', { name: 'Restart OrderService' }).click();
      await refusal.waitFor({ state: 'detached', timeout: CONNECT_TIMEOUT_MS });
      await page.locator('[data-testid="status-order"][data-state="connected"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
      await witness.roundTrip();
      assert.equal(count(witness, orderId, 'orders/created'), 1, 'the refused copy was not kept for the restart either');

      await deliverAgain(page, orderId);
      await waitForCount(witness, orderId, 'orders/created', 2);
      const entry = page.locator('[data-testid="log-entry"][data-service="payment"][data-status="duplicate"]');
      await entry.first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.match((await entry.first().textContent()) ?? '', new RegExp(`duplicate ignored: orders/created ${orderId}`));
      await witness.roundTrip();
      assert.equal(count(witness, orderId, 'payments/processed'), 1, 'charged once');
    }));

  // A newcomer's break-test: `mosquitto_pub -r -t orders/created -f order-created.json` charged
  // the customer again on every reload (the reloaded PaymentService remembers nothing, and the
  // broker replays a retained message at each subscription); nothing refunded the extra charge.
  it('a retained orders/created: processed once live, and its retained copy after a reload only logged, never charged again; clearing it dead-letters nothing', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, witness }) => {
      // Two orders of the page's own first: the retained one is the newest.
      for (const placed of [await placeOrder(page), await placeOrder(page)]) {
        await witness.waitForOrder('orders/confirmed', placed, FLOW_TIMEOUT_MS);
      }
      const orderId = randomUUID();
      // Stamped long ago, as the README's example is: the rows go by when the page saw them.
      const order = { orderId, customerId: 'C123', items: [{ productId: 'P001', quantity: 2, price: 29.99 }], totalAmount: 59.98, createdAt: '2024-01-15T10:30:00Z' };
      await witness.publish('orders/created', JSON.stringify(order), { qos: 1, retain: true });
      try {
        await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
        await page.reload();
        await waitReady(page);
        // Every consumer of orders/created got the broker's retained copy, and says why it let it be.
        for (const service of ['order', 'payment', 'inventory', 'notification']) {
          const entry = page.locator(`[data-testid="log-entry"][data-service="${service}"][data-topic="orders/created"][data-status="rejected"]`);
          await entry.first().waitFor({ timeout: FLOW_TIMEOUT_MS }).catch(async (error) => {
            const said = await page.$$eval(`[data-testid="log-entry"][data-service="${service}"]`, (els) => els.map((e) => e.textContent?.trim()));
            throw new Error(`${service} should log the retained copy; its log holds ${JSON.stringify(said)}`, { cause: error });
          });
          assert.match((await entry.first().textContent()) ?? '', /a retained copy, sent by the broker to each new subscription: an event happens once, so it is not processed.*mosquitto_pub -r -t orders\/created -n/);
        }
        // The order seen last is still the newest row (drawn first), though its retained copy
        // came before the tab's database was read back (37-U F4: it became the oldest row).
        await page.locator('[data-testid="order-row"]').nth(2).waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.equal(await page.getAttribute('[data-testid="order-row"]', 'data-order-id'), orderId);
        await witness.roundTrip();
        assert.equal(count(witness, orderId, 'payments/processed'), 1, 'charged once, not again after the reload');
        assert.equal(count(witness, orderId, 'inventory/reserved'), 1, 'reserved once');
      } finally {
        // The MQTT way to clear it: an empty retained message, which every subscriber receives.
        await witness.publish('orders/created', '', { qos: 1, retain: true });
      }
      const cleared = page.locator('[data-testid="log-entry"][data-service="payment"][data-topic="orders/created"]', { hasText: 'payload is empty: nothing to process' });
      await cleared.first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      await witness.roundTrip();
      assert.deepEqual(witness.messages.filter((m) => m.topic.startsWith('deadletter/')).map((m) => m.topic), [], 'clearing a retained message is nothing to dead-letter');
    }));
});
