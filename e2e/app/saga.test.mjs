// Sagas, failures and compensation on the wire and in the page: a declined payment in each
// style, missing stock, a deadline passed and the late success undone, an order published from
// outside, and orchestration's commands one step after the other. An independent witness
// subscribed to `#` checks what went over the broker; the Orders panel, the stock and the
// notifications check what the learner sees. The settings themselves (the link, the page's
// fields, a replayed recording): saga-settings.test.mjs.
//
//   node --test e2e/app/saga.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, brokerQuery, crashService, waitForNotifications } from '../lib/app-page.mjs';
import { startBroker } from '../lib/broker.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, setLateBroker, waitReady, watched, withApp } from '../lib/app-suite.mjs';
import {
  HAPPY_WIRE,
  assertInOrder,
  deliveredTopics,
  expectOneOutcome,
  placeOrder,
  stockShown,
  subscribedFilters,
  waitForRow,
  watchEveryTopic,
  wireOf,
} from '../lib/saga.mjs';
import { orderCreatedJson } from '../lib/seed.mjs';

const OUT_OF_STOCK = 'out of stock: P001 (2 asked, 1 left)';


// The wire of a declined order, after its orders/created: sequential styles in one order; in
// parallel the two results may come either way round.
const DECLINED_WIRE = {
  parallel: ['orders/created', 'payments/processed', 'orders/cancelled', 'inventory/released'],
  choreography: ['orders/created', 'inventory/reserved', 'payments/processed', 'orders/cancelled', 'inventory/released'],
  orchestration: [
    'orders/created',
    'commands/inventory/reserve',
    'inventory/reserved',
    'commands/payment/charge',
    'payments/processed',
    'orders/cancelled',
    'commands/inventory/release',
    'inventory/released',
  ],
};

describeApp('saga', () => {
  for (const style of ['parallel', 'choreography', 'orchestration']) {
    it(`declined payment (${style}): cancelled with the reason, the reservation released, never confirmed; the Orders panel and a notification say so`, { timeout: CASE_TIMEOUT_MS }, (t) =>
      watched(t, `&payment=decline&saga=${style}`, async ({ page, witness }) => {
        const orderId = await placeOrder(page);
        const cancelled = await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
        assert.equal(cancelled.json.reason, 'payment declined');
        const released = await witness.waitForOrder('inventory/released', orderId, FLOW_TIMEOUT_MS);
        const reserved = await witness.waitForOrder('inventory/reserved', orderId, 0);
        assert.equal(reserved.json.success, true, 'the stock was reserved first');
        assert.equal(released.json.reservationId, reserved.json.reservationId, 'the reservation made is the one released');
        const payment = await witness.waitForOrder('payments/processed', orderId, 0);
        assert.equal(payment.json.success, false);
        assert.equal(payment.json.reason, 'payment declined');

        await expectOneOutcome(witness, orderId, 'orders/cancelled');
        const wire = wireOf(witness, orderId);
        if (style === 'parallel') assertInOrder(witness, orderId, DECLINED_WIRE.parallel);
        else assert.deepEqual(wire, DECLINED_WIRE[style], `the ${style} wire of a declined order`);
        assert.ok(!wire.includes('payments/refunded'), `nothing was charged, so nothing refunded: ${wire}`);

        const row = await waitForRow(page, orderId, 'Cancelled', { compensations: 1 });
        assert.equal(row.reason, 'payment declined');
        assert.deepEqual(row.compensations, ['↺ stock released']);
        assert.ok(row.steps.includes('✕ payment failed: payment declined'), `the failed step is listed: ${row.steps}`);
        assert.equal(row.charges, 0);
        await waitForNotifications(page, [`Order ${orderId} cancelled: payment declined`]);

        // The inspector marks the failure and the compensation (newest rows are in view).
        const marked = (mark, topic) =>
          page.locator(`[data-testid="packet-row"][data-mark="${mark}"][data-topic="${topic}"]`).first().waitFor({ state: 'attached' });
        await marked('failure', 'orders/cancelled');
        await marked('compensation', 'inventory/released');
      }));
  }

  it('missing stock (parallel, ?stock=P001:1): the two-unit order fails naming P001, the charge taken meanwhile is refunded, the stock still shows 1', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&stock=P001:1', async ({ page, witness }) => {
      assert.equal(await stockShown(page, 'P001'), '1', 'the stock panel shows the link\'s level');
      const orderId = await placeOrder(page);
      const reserved = await witness.waitForOrder('inventory/reserved', orderId, FLOW_TIMEOUT_MS);
      assert.equal(reserved.json.success, false);
      assert.equal(reserved.json.reason, OUT_OF_STOCK);
      const cancelled = await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
      assert.equal(cancelled.json.reason, OUT_OF_STOCK);
      // Payment worked in parallel and succeeded after the cancellation: it is refunded.
      const refunded = await witness.waitForOrder('payments/refunded', orderId, FLOW_TIMEOUT_MS);
      const payment = await witness.waitForOrder('payments/processed', orderId, 0);
      assert.equal(payment.json.success, true);
      assert.equal(refunded.json.paymentId, payment.json.paymentId, 'the charge taken is the one refunded');
      assert.equal(refunded.json.amount, 59.98);
      await expectOneOutcome(witness, orderId, 'orders/cancelled');
      assert.ok(!wireOf(witness, orderId).includes('inventory/released'), 'nothing was reserved, so nothing released');

      const row = await waitForRow(page, orderId, 'Cancelled', { compensations: 1 });
      assert.equal(row.reason, OUT_OF_STOCK);
      assert.deepEqual(row.compensations, ['↺ refunded 59.98']);
      assert.ok(row.steps.includes(`✕ reservation failed: ${OUT_OF_STOCK}`), `${row.steps}`);
      assert.equal(await stockShown(page, 'P001'), '1', 'a failed reservation takes nothing');
      await waitForNotifications(page, [`Order ${orderId} cancelled: ${OUT_OF_STOCK}`, `Refund issued for Order ${orderId}: 59.98`]);
    }));

  it('stock taken (?stock=P001:5): a completed order of two leaves 3, and the stock panel shows what is left', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&stock=P001:5&payment_ms=0&inventory_ms=0', async ({ page, witness }) => {
      assert.equal(await stockShown(page, 'P001'), '5');
      const orderId = await placeOrder(page);
      await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      // Confirmed: the 2 units are sold, no longer held.
      await page.waitForFunction(
        () => {
          const level = document.querySelector('[data-testid="stock-level"][data-product="P001"]')?.dataset;
          return level?.units === '3' && level?.held === '0';
        },
        null,
        { timeout: FLOW_TIMEOUT_MS },
      ).catch(async (error) => {
        throw new Error(`the stock panel shows P001: ${await stockShown(page, 'P001')}, not the 3 left`, { cause: error });
      });
      const shown = await page.textContent('[data-testid="stock-level"][data-product="P001"]');
      assert.equal(shown.trim(), 'P001: 3 left');
      assert.equal(await page.inputValue('#stock-levels'), 'P001:5', 'the field keeps the stock set');
    }));

  // A newcomer's break-test (C7): two orders reserved (1 left), the stock set to 10 mid-saga,
  // both time out. The panel then said "P001: 14 left" under a title of "10 at the start", with
  // nothing saying 4 units had been held by the reservations whose releases gave them back.
  it('stock edited mid-saga (?stock=P001:5, then 10): the panel shows the units held by open reservations apart, and their releases give them back on top of the 10 set', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&stock=P001:5&payment_ms=3000&inventory_ms=200&saga_timeout_ms=2000', async ({ page, witness }) => {
      const level = page.locator('[data-testid="stock-level"][data-product="P001"]');
      const first = await placeOrder(page);
      const second = await placeOrder(page);
      await page.locator('[data-testid="stock-level"][data-product="P001"][data-units="1"][data-held="4"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.equal(((await level.textContent()) ?? '').trim(), 'P001: 1 left, 4 held');
      await page.fill('#stock-levels', 'P001:10');
      await page.dispatchEvent('#stock-levels', 'change');
      await page.locator('[data-testid="stock-level"][data-product="P001"][data-units="10"][data-held="4"]').waitFor();
      assert.equal(((await level.textContent()) ?? '').trim(), 'P001: 10 left, 4 held');
      assert.equal(
        await level.getAttribute('title'),
        "10 set in the Stock field (units on hand then). A reservation takes from what is left; a release gives its units back, also one made before the last edit of the stock; a confirmed order's units are sold. 4 units are held by open reservations (open as InventoryService knows: it has heard neither the order confirmed nor the reservation released; one whose outcome it never heard, lost with its session by a broker restarted, stays held: see its log).",
      );
      for (const orderId of [first, second]) await witness.waitForOrder('inventory/released', orderId, FLOW_TIMEOUT_MS);
      await page.locator('[data-testid="stock-level"][data-product="P001"][data-units="14"][data-held="0"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.equal(((await level.textContent()) ?? '').trim(), 'P001: 14 left');
      assert.doesNotMatch((await level.getAttribute('title')) ?? '', /held by/);
      // The broker's retained level says the same.
      await witness.waitFor(() => witness.messages.filter((m) => m.topic === 'inventory/stock/P001').at(-1)?.payload === '{"productId":"P001","units":14}', FLOW_TIMEOUT_MS, 'the retained level 14');
    }));

  // A break-test: under orchestration InventoryService hears no outcome, and every completed
  // order's units stayed "held" for good (P001: 952 left, 48 held after 24 orders).
  it('orchestration with a stock: a completed order\'s units are taken, not held', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&stock=P001:10&saga=orchestration&payment_ms=0&inventory_ms=0', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      await witness.waitFor(() => witness.messages.filter((m) => m.topic === 'inventory/stock/P001').at(-1)?.json?.units === 8, FLOW_TIMEOUT_MS, 'the retained level 8');
      await waitForRow(page, orderId, 'Completed');
      const level = page.locator('[data-testid="stock-level"][data-product="P001"]');
      await page.locator('[data-testid="stock-level"][data-product="P001"][data-units="8"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.equal(await level.getAttribute('data-held'), '0');
      assert.equal(((await level.textContent()) ?? '').trim(), 'P001: 8 left');
    }));

  it('missing stock (choreography): the order fails at the reservation and payment never starts', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&stock=P001:1&saga=choreography', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      const cancelled = await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
      assert.equal(cancelled.json.reason, OUT_OF_STOCK);
      await expectOneOutcome(witness, orderId, 'orders/cancelled');
      assert.deepEqual(wireOf(witness, orderId), ['orders/created', 'inventory/reserved', 'orders/cancelled']);
      const row = await waitForRow(page, orderId, 'Cancelled');
      assert.equal(row.reason, OUT_OF_STOCK);
      assert.deepEqual(row.compensations, [], 'nothing to undo');
      assert.equal(await stockShown(page, 'P001'), '1');
    }));

  it('deadline (parallel, payment 2.5 s, deadline 1 s): cancelled as "payment timed out", then the late charge is refunded and the reservation released', { timeout: CASE_TIMEOUT_MS }, (t) =>
    // Inventory at 300 ms keeps the reservation well inside the deadline.
    watched(t, '&payment_ms=2500&saga_timeout_ms=1000&inventory_ms=300', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      const cancelled = await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
      assert.equal(cancelled.json.reason, 'payment timed out');
      await witness.waitForOrder('inventory/released', orderId, FLOW_TIMEOUT_MS);
      const refunded = await witness.waitForOrder('payments/refunded', orderId, FLOW_TIMEOUT_MS);
      const late = await witness.waitForOrder('payments/processed', orderId, 0);
      assert.equal(late.json.success, true, 'the payment itself went through, late');
      assert.equal(refunded.json.paymentId, late.json.paymentId);
      assertInOrder(witness, orderId, ['orders/created', 'inventory/reserved', 'orders/cancelled', 'payments/processed', 'payments/refunded']);
      assert.ok(
        Date.parse(late.json.processedAt) - Date.parse(cancelled.json.cancelledAt) > 1000,
        `the charge completed well after the cancellation: ${cancelled.json.cancelledAt} then ${late.json.processedAt}`,
      );
      await expectOneOutcome(witness, orderId, 'orders/cancelled');

      const row = await waitForRow(page, orderId, 'Cancelled', { compensations: 2 });
      assert.equal(row.reason, 'payment timed out');
      assert.deepEqual([...row.compensations].sort(), ['↺ refunded 59.98', '↺ stock released']);
      assert.equal(row.charges, 1, 'one charge, refunded: no double charge');
      await waitForNotifications(page, [`Order ${orderId} cancelled: payment timed out`]);
    }));

  // A newcomer's break-test: a 0.01 payment published before PaymentService's own charge
  // completed the order, and the real 59.98 charge was refused ("already completed") and never
  // refunded.
  it('a payment of another amount than the total, from outside, is refused: the order completes on its own charge', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=1500', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await witness.waitForOrder('orders/created', orderId, FLOW_TIMEOUT_MS);
      const forged = { orderId, paymentId: 'cccccccc-0000-4000-8000-000000000001', amount: 0.01, success: true, processedAt: new Date().toISOString() };
      await witness.publish('payments/processed', JSON.stringify(forged), { qos: 1 });
      const confirmed = await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      // Confirmed after PaymentService's own charge, not on the forged one.
      const charges = witness.messages.filter((m) => m.topic === 'payments/processed' && m.json?.orderId === orderId);
      const own = charges.find((m) => m.json.amount === 59.98);
      assert.ok(own, 'PaymentService charged 59.98');
      assert.ok(witness.messages.indexOf(confirmed) > witness.messages.indexOf(own), 'confirmed after its own charge');
      await expectOneOutcome(witness, orderId, 'orders/confirmed');
      const refusal = page.locator('[data-testid="log-entry"][data-service="order"][data-topic="payments/processed"][data-status="rejected"]');
      await refusal.first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.match(await refusal.first().textContent(), /its amount 0\.01 is not the order's total 59\.98/);
      // The event store records the payment of 59.98, by PaymentService's paymentId.
      await page.locator(`[data-testid="store-stream"][data-stream="${orderId}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      // The Orders panel names the forged payment as not the order's charge: no double charge.
      const row = await waitForRow(page, orderId, 'Completed');
      assert.match(row.text, /✕ a payment of 0\.01, not the order's total: not its charge/, row.text);
      assert.equal(row.charges, 1, row.text);
      assert.doesNotMatch(row.text, /charged 2 times/, row.text);
    }));

  // A newcomer's break-test: a 0.01 refund from outside, for an order whose 59.98 charge was
  // to be refunded while PaymentService was crashed (clean session: it missed orders/cancelled),
  // was taken as the compensation done; OrderService stopped asking, and after the Restart
  // nobody ever refunded the charge.
  // A newcomer's break-test too: a refund under a made-up payment id, of the full amount, ended
  // OrderService's requests the same way.
  for (const [what, forge, refusal] of [
    ['of another amount than the charge', (charge) => ({ paymentId: charge.paymentId, amount: 0.01 }), /refund refused: its amount 0\.01 is not the order's total 59\.98/],
    ['under another payment id than the charge', () => ({ paymentId: '44444444-2222-4333-8444-555555555555', amount: 59.98 }), /refund refused: payment 44444444-2222-4333-8444-555555555555 is not this order's payment \([0-9a-f-]{36}\), so it undoes nothing of it/],
  ]) {
    it(`a refund ${what} is refused as the compensation: OrderService keeps asking, and the charge is refunded after the Restart`, { timeout: CASE_TIMEOUT_MS }, (t) =>
      watched(t, '&session=clean&payment_ms=500&inventory_ms=3000&saga_timeout_ms=2000', async ({ page, witness }) => {
        const orderId = await placeOrder(page);
        const charge = await witness.waitForOrder('payments/processed', orderId, FLOW_TIMEOUT_MS);
        assert.equal(charge.json.success, true);
        await crashService(page, 'payment');
        const cancelled = await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
        assert.equal(cancelled.json.reason, 'inventory timed out');
        const forged = { orderId, ...forge(charge.json), refundedAt: new Date().toISOString() };
        await witness.publish('payments/refunded', JSON.stringify(forged), { qos: 1 });
        const refused = page.locator('[data-testid="log-entry"][data-service="order"][data-topic="payments/refunded"][data-status="rejected"]');
        await refused.first().waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.match(await refused.first().textContent(), refusal);
        // The late reservation is released at once (InventoryService heard the cancellation).
        await witness.waitForOrder('inventory/released', orderId, FLOW_TIMEOUT_MS);
        await page.getByRole('button', { name: 'Restart PaymentService' }).click();
        await witness.waitFor((m) => m.topic === 'payments/refunded' && m.json?.orderId === orderId && m.json.paymentId === charge.json.paymentId && m.json.amount === 59.98, FLOW_TIMEOUT_MS, 'the charge refunded in full');
        const row = await waitForRow(page, orderId, 'Cancelled', { compensations: 3 });
        assert.ok(row.compensations.includes('↺ refunded 59.98'), row.text);
        await page.locator(`[data-testid="order-row"][data-order-id="${orderId}"]:not(:has([data-testid="order-compensating"]))`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      }));
  }

  // A newcomer's break-test: a 5000.00 refund from outside of a completed 59.98 order was
  // stored in its stream (revenue hidden at 0.00), and a repeat refund of the same payment id,
  // which OrderService ignored, was listed as one more refund.
  it('a refund of more than the total is refused and never stored; a second refund of one payment is marked as ignored', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      const charge = await witness.waitForOrder('payments/processed', orderId, FLOW_TIMEOUT_MS);
      const refund = (amount) => JSON.stringify({ orderId, paymentId: charge.json.paymentId, amount, refundedAt: new Date().toISOString() });
      await witness.publish('payments/refunded', refund(5000), { qos: 1 });
      const refusal = page.locator('[data-testid="log-entry"][data-service="order"][data-topic="payments/refunded"][data-status="rejected"]');
      await refusal.first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.match(await refusal.first().textContent(), /refund refused: its amount 5000\.00 is more than the order's total 59\.98/);
      // 41-AH F2: a refund of 0.00 is refused too (stored, it used up the payment's one
      // refund and the real one after it was ignored).
      await witness.publish('payments/refunded', refund(0), { qos: 1 });
      await refusal.filter({ hasText: /refund refused: its amount is 0\.00, so it undoes nothing of the charge/ }).waitFor({ timeout: FLOW_TIMEOUT_MS });
      // A refund of the charge by hand is recorded; the store's events go out in order, so a
      // stored 5000.00 would be on the wire before it.
      await witness.publish('payments/refunded', refund(59.98), { qos: 1 });
      const stored = (m) => m.topic === `eventstore/orders/${orderId}` && m.json?.type === 'PaymentRefunded';
      await witness.waitFor(stored, FLOW_TIMEOUT_MS, 'the refund by hand stored');
      assert.deepEqual(witness.messages.filter(stored).map((m) => m.json.data.amount), [59.98]);
      await witness.publish('payments/refunded', refund(10), { qos: 1 });
      const row = await waitForRow(page, orderId, 'Completed', { compensations: 4 });
      assert.deepEqual(row.compensations.map((c) => c.replace(/ by \S+/, '')), [
        "↺ refunded 5000.00 (more than the order's total 59.98: OrderService refuses it)",
        '↺ refunded 0.00 (a refund of 0.00 of a completed order undoes nothing: OrderService refuses it)',
        '↺ refunded 59.98',
        `↺ refunded 10.00 (payment ${charge.json.paymentId.slice(0, 8)}… refunded again: OrderService records one refund per payment and ignores this one)`,
      ]);
      await page.locator('[data-testid="log-entry"][data-service="order"][data-topic="payments/refunded"][data-status="duplicate"]').first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      // 43-AO F9: the same amount again, refunded later, is a second refund too (it was taken
      // for a copy of the first and not listed).
      await witness.publish('payments/refunded', refund(59.98), { qos: 1 });
      const again = await waitForRow(page, orderId, 'Completed', { compensations: 5 });
      assert.equal(again.compensations[4].replace(/ by \S+/, ''), `↺ refunded 59.98 (payment ${charge.json.paymentId.slice(0, 8)}… refunded again: OrderService records one refund per payment and ignores this one)`);
      assert.equal(witness.messages.filter(stored).length, 1, 'one refund stored');
      // 41-AJ F1: the customer is told of the real refund, not of the 0.00 one.
      await waitForNotifications(page, [`Refund issued for Order ${orderId}: 59.98`]);
      const told = await page.$$eval('[data-testid="notification"]', (es) => es.map((e) => e.textContent));
      assert.ok(!told.some((t) => t.includes(`Refund issued for Order ${orderId}: 0.00`)), told.join(' | '));
    }));

  // A newcomer's break-test: a charge forged for a declined order, which PaymentService then
  // had nothing to refund for, was blamed on a reload that never happened ("it forgot it").
  it('a charge from outside for a declined order: the row says it is not PaymentService\'s own, not that PaymentService forgot it', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment=decline', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
      const forged = { orderId, paymentId: '77777777-2222-4333-8444-555555555555', amount: 59.98, success: true, processedAt: new Date().toISOString() };
      await witness.publish('payments/processed', JSON.stringify(forged), { qos: 1 });
      await witness.waitFor((m) => m.topic === 'payments/refunded' && m.json?.orderId === orderId, FLOW_TIMEOUT_MS, "PaymentService's answer");
      const note = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-forgotten"]`);
      await note.waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.equal(
        (await note.textContent()).trim(),
        'PaymentService answered that it charged nothing: the charge on the wire is not its own (no client of this page published it: another client\'s, by hand?), so nobody refunded it',
      );
    }));

  // A newcomer's break-test (addendum to C2): a "nothing to refund" answer (the nil payment id)
  // published by hand while PaymentService was crashed ended OrderService's requests; the
  // charge stays, and the row blamed PaymentService forgetting it in a reload.
  it('a "nothing to refund" answer from outside while PaymentService is crashed: the row says the answer is not its own, not that PaymentService forgot its charge', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&stock=P001:1&payment_ms=0&inventory_ms=1000', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      const charge = await witness.waitForOrder('payments/processed', orderId, FLOW_TIMEOUT_MS);
      assert.equal(charge.json.success, true);
      await crashService(page, 'payment');
      await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
      const nothing = { orderId, paymentId: '00000000-0000-0000-0000-000000000000', amount: 0, refundedAt: new Date().toISOString() };
      await witness.publish('payments/refunded', JSON.stringify(nothing), { qos: 1 });
      const note = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-forgotten"]`);
      await note.waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.equal(
        (await note.textContent()).trim(),
        'PaymentService\'s charge is on the wire, and the answer that nothing was charged is not its own (no client of this page published it: another client\'s, by hand?): OrderService took it as the end of the compensation, so the charge was never refunded',
      );
    }));

  // Two newcomers' break-tests. A release published from outside mid-saga was appended to the
  // running order, which then could not complete and was cancelled "payment timed out" after
  // its payment was confirmed; the rule that followed refused such a release, and then one
  // orders/cancelled from outside had the stock released and the charge refunded while
  // OrderService confirmed the order all the same (two outcomes on the wire, revenue counted
  // for refunded money). OrderService cannot tell a forger from its participants on an open
  // broker; it now cancels an order a participant says it undid, with its own reason, and the
  // cancellation has the rest undone.
  const UNASKED_RELEASE = 'inventory released before the order completed';
  const undoneAndCancelled = async (page, witness, orderId) => {
    const own = await witness.waitFor(
      (m) => m.topic === 'orders/cancelled' && m.json?.orderId === orderId && m.json.reason === UNASKED_RELEASE,
      FLOW_TIMEOUT_MS,
      "OrderService's own orders/cancelled",
    );
    assert.ok(own);
    // The charge, made after (payment 1.5 s), is refunded in full; never confirmed.
    const charge = await witness.waitFor((m) => m.topic === 'payments/processed' && m.json?.orderId === orderId, FLOW_TIMEOUT_MS, 'the charge');
    assert.equal(charge.json.success, true);
    const refund = await witness.waitFor((m) => m.topic === 'payments/refunded' && m.json?.orderId === orderId, FLOW_TIMEOUT_MS, 'the refund');
    assert.equal(refund.json.paymentId, charge.json.paymentId);
    assert.equal(refund.json.amount, 59.98);
    await witness.roundTrip();
    assert.ok(!wireOf(witness, orderId).includes('orders/confirmed'), `never confirmed: ${wireOf(witness, orderId).join(', ')}`);
    const row = await waitForRow(page, orderId, 'Cancelled', { compensations: 2 });
    assert.ok(row.compensations.includes('↺ refunded 59.98'), row.text);
    const log = page.locator('[data-testid="log-entry"][data-service="order"]', { hasText: `order ${orderId} cancelled: InventoryService released its reservation` });
    await log.first().waitFor({ timeout: FLOW_TIMEOUT_MS });
    assert.match(await log.first().textContent(), /OrderService asked for no compensation: someone else published orders\/cancelled for it/);
    // The event store agrees: the stream ends cancelled, with the reason.
    await page.locator(`[data-testid="store-stream"][data-stream="${orderId}"][data-status="Cancelled"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
    await page.waitForFunction(() => document.querySelector('[data-testid="stock-level"][data-product="P001"]')?.dataset.units === '10', null, { timeout: FLOW_TIMEOUT_MS });
  };

  it('a release nobody asked for, from outside, of a running order cancels it: OrderService says why, and the charge made after is refunded', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=1500&inventory_ms=200&stock=P001:10', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      const reserved = await witness.waitForOrder('inventory/reserved', orderId, FLOW_TIMEOUT_MS);
      const forged = { orderId, reservationId: reserved.json.reservationId, releasedAt: new Date().toISOString() };
      await witness.publish('inventory/released', JSON.stringify(forged), { qos: 1 });
      await undoneAndCancelled(page, witness, orderId);
      // InventoryService, which never released, does so on OrderService's cancellation.
      const released = witness.messages.filter((m) => m.topic === 'inventory/released' && m.json?.orderId === orderId);
      assert.equal(released.length, 2, 'the forged release and InventoryService\'s own');
    }));

  it('an orders/cancelled from outside mid-saga: the participants undo, OrderService cancels with its own reason instead of confirming, and the row names both cancellations', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=1500&inventory_ms=200&stock=P001:10', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await witness.waitForOrder('inventory/reserved', orderId, FLOW_TIMEOUT_MS);
      const forged = { orderId, reason: 'by hand', cancelledAt: new Date().toISOString() };
      await witness.publish('orders/cancelled', JSON.stringify(forged), { qos: 1 });
      await undoneAndCancelled(page, witness, orderId);
      // The row shows OrderService's outcome, though the forged one reached the wire first,
      // and names the other.
      const row = await waitForRow(page, orderId, 'Cancelled', { compensations: 2 });
      assert.equal(row.reason, UNASKED_RELEASE);
      const note = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-other-outcome"]`);
      await note.waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.equal(
        await note.textContent(),
        'also on the wire: orders/cancelled ("by hand"): two outcomes for one order, so more than OrderService published one (on an open broker any client may)',
      );
    }));

  it('orchestration: an orders/cancelled from outside changes nothing (no participant listens to it); the row shows OrderService\'s confirmation and names the forged outcome', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&saga=orchestration&payment_ms=1000', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await witness.waitForOrder('inventory/reserved', orderId, FLOW_TIMEOUT_MS);
      const forged = { orderId, reason: 'by hand', cancelledAt: new Date().toISOString() };
      await witness.publish('orders/cancelled', JSON.stringify(forged), { qos: 1 });
      await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      const row = await waitForRow(page, orderId, 'Completed');
      assert.equal(row.compensations.length, 0, row.text);
      const state = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"]`);
      assert.equal(await state.locator('[data-testid="order-compensating"]').count(), 0, 'nothing awaited');
      assert.match(await state.locator('[data-testid="order-other-outcome"]').textContent(), /^also on the wire: orders\/cancelled \("by hand"\): two outcomes for one order/);
    }));

  // A newcomer's break-test (C6): NotificationService told the customer "cancelled: forged"
  // after "confirmed", and "Refund issued" for a refund under a made-up payment id, though the
  // participants refused the cancellation and no charge was undone.
  it('a completed order, then a forged orders/cancelled and a refund under a made-up payment id: NotificationService refuses both and the customer is told neither; the row marks the refund refused', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      await waitForNotifications(page, [`Order ${orderId} confirmed`]);
      const forged = { orderId, reason: 'forged', cancelledAt: new Date().toISOString() };
      await witness.publish('orders/cancelled', JSON.stringify(forged), { qos: 1 });
      const madeUp = '99999999-9999-4999-8999-999999999999';
      const refund = { orderId, paymentId: madeUp, amount: 59.98, refundedAt: new Date().toISOString() };
      await witness.publish('payments/refunded', JSON.stringify(refund), { qos: 1 });
      const refused = (topic) => page.locator(`[data-testid="log-entry"][data-service="notification"][data-topic="${topic}"][data-status="rejected"]`).filter({ hasText: orderId });
      await refused('orders/cancelled').first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.match(await refused('orders/cancelled').first().textContent(), /was told confirmed already: an order has one outcome, so the customer is not told it is cancelled/);
      await refused('payments/refunded').first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.match(await refused('payments/refunded').first().textContent(), new RegExp(`refund under payment id ${madeUp}, which is none of the order's charges told to the customer`));
      const told = await page.$$eval('[data-testid="notification"]', (items) => items.map((e) => e.textContent.trim()));
      assert.deepEqual(told.filter((n) => n.includes(orderId) && /cancelled|Refund/.test(n)), [], told.join('\n'));
      // The row marks the refund refused, not a charge of its id lost (44-AT F6).
      const row = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"]`);
      await row.locator('[data-testid="order-not-taken"]').first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.deepEqual(await row.locator('[data-testid="order-not-taken"]').allTextContents(), [' (payment 99999999… is not the charge this row shows: it undoes nothing of this order\'s, and OrderService refuses it)']);
      assert.equal(await row.locator('[data-testid="order-unseen-step"]').count(), 0, (await row.textContent()) ?? '');
    }));

  // A newcomer's break-test (35-M F3): an orders/confirmed from outside before the order's
  // creation: the row read "✓ Completed … 0 ms", with no mark of the two confirmations.
  it('an orders/confirmed from outside before the order is created: the row names a second outcome, and its time runs to OrderService\'s own', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, witness }) => {
      const orderId = randomUUID();
      await witness.publish('orders/confirmed', JSON.stringify({ orderId, confirmedAt: new Date().toISOString() }), { qos: 1 });
      await page.locator(`[data-testid="order-row"][data-order-id="${orderId}"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await witness.publish('orders/created', orderCreatedJson({ orderId }), { qos: 1 });
      const own = await witness.waitFor((m) => m.topic === 'orders/confirmed' && m.json?.orderId === orderId && witness.messages.filter((x) => x.topic === 'orders/confirmed' && x.json?.orderId === orderId).length >= 2, FLOW_TIMEOUT_MS, 'OrderService\'s own confirmation');
      assert.ok(own);
      const row = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"]`);
      await row.locator('[data-testid="order-other-outcome"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.match((await row.locator('[data-testid="order-other-outcome"]').textContent()) ?? '', /also on the wire: orders\/confirmed: two outcomes for one order/);
      const time = ((await row.locator('[data-testid="order-time"]').textContent()) ?? '').trim();
      assert.notEqual(time, '0 ms', 'the time runs to OrderService\'s own confirmation');
    }));

  // A newcomer's break-test (35-M F11): a release from outside under a made-up reservation id,
  // refused by OrderService as undoing nothing, made the completed order's row say it was
  // "undone after completion".
  it('a release from outside under another reservation id, mid-saga: refused as undoing nothing, and the completed row says nothing was undone and marks the release refused', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=1500', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await witness.waitForOrder('inventory/reserved', orderId, FLOW_TIMEOUT_MS);
      const madeUp = '2ffc4243-0000-4000-8000-000000000001';
      await witness.publish('inventory/released', JSON.stringify({ orderId, reservationId: madeUp, releasedAt: new Date().toISOString() }), { qos: 1 });
      await page.locator('[data-testid="log-entry"][data-service="order"][data-topic="inventory/released"][data-status="rejected"]').filter({ hasText: 'undoes nothing of it' }).first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      await waitForRow(page, orderId, 'Completed', { compensations: 1 });
      const row = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"]`);
      assert.equal(await row.locator('[data-testid="order-undone-after"]').count(), 0, (await row.textContent()) ?? '');
      assert.deepEqual(await row.locator('[data-testid="order-not-taken"]').allTextContents(), [' (reservation 2ffc4243… is not the reservation this row shows: it undoes nothing of this order\'s, and OrderService refuses it)']);
    }));

  // A break-test (44-AS F1): a refund of part of the charge by hand while the order ran was
  // refused but remembered as processed under the charge's id, so each real refund of the
  // cancellation was a "duplicate" and the store never held one.
  it('a partial refund from outside mid-saga is refused and does not block the real refund: the store holds the cancellation\'s refund of the whole charge', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&stock=P001:1&payment_ms=300&inventory_ms=3000', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      const charge = await witness.waitForOrder('payments/processed', orderId, FLOW_TIMEOUT_MS);
      await witness.publish('payments/refunded', JSON.stringify({ orderId, paymentId: charge.json.paymentId, amount: 10.0, refundedAt: new Date().toISOString() }), { qos: 1 });
      await page.locator('[data-testid="log-entry"][data-service="order"][data-topic="payments/refunded"][data-status="rejected"]').filter({ hasText: 'the order is still running' }).first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      const stored = await witness.waitFor((m) => m.topic === `eventstore/orders/${orderId}` && m.json?.type === 'PaymentRefunded', FLOW_TIMEOUT_MS, 'the refund in the store');
      assert.equal(stored.json.data.amount, 59.98);
      assert.equal(stored.json.data.paymentId, charge.json.paymentId);
      // The row lists both refunds, and says OrderService refused the first.
      const row = await waitForRow(page, orderId, 'Cancelled', { compensations: 2 });
      assert.ok(row.compensations[0].startsWith('↺ refunded 10.00'), row.text);
      assert.equal(row.compensations[1], '↺ refunded 59.98', row.text);
      const notTaken = await page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-not-taken"]`).allTextContents();
      assert.equal(notTaken.length, 1, row.text);
      assert.match(notTaken[0], /a refund of less than the order's total while the order ran: OrderService asked for none, and refuses it/);
    }));

  // A newcomer's break-test (35-M F7): "nothing to undo" answers (the nil ids) from outside for
  // a completed order went into its stream, and its row read "✓ charged 59.98 … ↺ nothing to
  // refund: never charged".
  it('a completed order, then "nothing to undo" answers from outside (nil release and refund): OrderService refuses both, and the row marks them not taken', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      await waitForRow(page, orderId, 'Completed');
      const nil = '00000000-0000-0000-0000-000000000000';
      const at = new Date().toISOString();
      await witness.publish('inventory/released', JSON.stringify({ orderId, reservationId: nil, releasedAt: at }), { qos: 1 });
      await witness.publish('payments/refunded', JSON.stringify({ orderId, paymentId: nil, amount: 0.0, refundedAt: at }), { qos: 1 });
      const refused = (topic) => page.locator(`[data-testid="log-entry"][data-service="order"][data-topic="${topic}"][data-status="rejected"]`).filter({ hasText: 'no compensation was asked' });
      for (const topic of ['inventory/released', 'payments/refunded']) {
        await refused(topic).first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      }
      const row = await waitForRow(page, orderId, 'Completed', { compensations: 2 });
      const notes = await page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-not-taken"]`).allTextContents();
      assert.equal(notes.length, 2, row.text);
      for (const note of notes) assert.match(note, /a "nothing to undo" answer for a completed order, whose step was done: OrderService asked none, and refuses it/);
      // Its stream holds no compensation: nothing was recorded, so nothing went to the store's
      // topic (OrderCreated, InventoryConfirmed, PaymentConfirmed, OrderCompleted).
      const stored = witness.messages.filter((m) => m.topic === `eventstore/orders/${orderId}`).map((m) => m.json?.type);
      assert.ok(!stored.some((type) => /Released|Refunded/.test(type ?? '')), `${stored}`);
      assert.equal(stored.length, 4, `${stored}`);
    }));

  // A newcomer's break-test: under orchestration a refund command published by hand for a
  // completed order is carried out by PaymentService (anyone may send a command); the row
  // went on saying "Completed" with the charge refunded and nothing to tell why.
  it('orchestration: a refund command from outside for a completed order is carried out, and the row says OrderService asked for none', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&saga=orchestration', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      await waitForRow(page, orderId, 'Completed');
      const command = { orderId, reason: 'by hand', requestedAt: new Date().toISOString() };
      await witness.publish('commands/payment/refund', JSON.stringify(command), { qos: 1 });
      const refunded = await witness.waitForOrder('payments/refunded', orderId, FLOW_TIMEOUT_MS);
      assert.equal(refunded.json.amount, 59.98);
      const note = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-undone-after"]`);
      await note.waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.match(await note.textContent(), /undone after completion: OrderService asked for no compensation/);
      const row = await waitForRow(page, orderId, 'Completed');
      assert.ok(row.compensations.includes('↺ refunded 59.98'), row.text);
    }));

  // A newcomer's break-test: results published before the order's creation completed it at
  // once; PaymentService and InventoryService, hearing orders/confirmed with their steps under
  // way, charged and reserved all the same, and nobody undid it ("charged 2 times").
  it('results from outside before the order is created complete it; the participants, their steps under way, charge and reserve nothing more', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=1500&inventory_ms=1500', async ({ page, witness }) => {
      const orderId = randomUUID();
      const now = () => new Date().toISOString();
      const forged = {
        payment: { orderId, paymentId: 'dddddddd-0000-4000-8000-000000000001', amount: 59.98, success: true, processedAt: now() },
        reservation: { orderId, reservationId: 'dddddddd-0000-4000-8000-000000000002', success: true, reservedAt: now() },
      };
      await witness.publish('payments/processed', JSON.stringify(forged.payment), { qos: 1 });
      await witness.publish('inventory/reserved', JSON.stringify(forged.reservation), { qos: 1 });
      // OrderService keeps both for when the order's creation arrives.
      for (const topic of ['payments/processed', 'inventory/reserved']) {
        await page.locator(`[data-testid="log-entry"][data-service="order"][data-topic="${topic}"][data-status="kept"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      }
      await witness.publish('orders/created', orderCreatedJson({ orderId, customerId: 'LATE' }), { qos: 1 });
      await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      // Each participant finishes its step refused: the one success on the wire is the forged.
      const refused = /^order already confirmed without this step \(orders\/confirmed came while it was under way\): not done a second time$/;
      for (const [topic, label] of [['payments/processed', 'charge'], ['inventory/reserved', 'reservation']]) {
        const answer = await witness.waitFor((m) => m.topic === topic && m.json?.orderId === orderId && m.json?.success === false, FLOW_TIMEOUT_MS, `the ${label} refused`);
        assert.match(answer.json.reason, refused);
        const successes = witness.messages.filter((m) => m.topic === topic && m.json?.orderId === orderId && m.json?.success);
        assert.equal(successes.length, 1, `one ${label} on the wire, the forged one: ${successes.map((m) => m.payload).join(' | ')}`);
      }
      await witness.roundTrip();
      await expectOneOutcome(witness, orderId, 'orders/confirmed');
      const row = await waitForRow(page, orderId, 'Completed');
      assert.doesNotMatch(row.text, /charged 2 times/, row.text);
    }));

  // A newcomer's break-test (33-H F3): the same results kept, then the page reloaded before the
  // creation came. OrderService had acknowledged them on arrival and kept them in memory only:
  // after the reload they were gone, and the order waited for (and took) the participants' own
  // charge and reservation. They are kept in the tab's database now, before their PUBACK.
  it('results from outside before the order is created, kept across a reload: the order completes on them once its creation arrives', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=1500&inventory_ms=1500', async ({ page, witness }) => {
      const orderId = randomUUID();
      const now = () => new Date().toISOString();
      const forged = {
        payment: { orderId, paymentId: 'eeeeeeee-0000-4000-8000-000000000001', amount: 59.98, success: true, processedAt: now() },
        reservation: { orderId, reservationId: 'eeeeeeee-0000-4000-8000-000000000002', success: true, reservedAt: now() },
      };
      await witness.publish('payments/processed', JSON.stringify(forged.payment), { qos: 1 });
      await witness.publish('inventory/reserved', JSON.stringify(forged.reservation), { qos: 1 });
      for (const topic of ['payments/processed', 'inventory/reserved']) {
        await page.locator(`[data-testid="log-entry"][data-service="order"][data-topic="${topic}"][data-status="kept"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      }
      await page.reload();
      await waitReady(page);
      // Taken back from the tab's database (or, had the reload come before their PUBACK, sent
      // again by the broker and kept anew).
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="log-entry"][data-service="order"]')]
        .some((e) => e.textContent.includes("2 messages kept until their order's creation arrives") || e.dataset.status === 'kept'), null, { timeout: FLOW_TIMEOUT_MS });
      await witness.publish('orders/created', orderCreatedJson({ orderId, customerId: 'LATE' }), { qos: 1 });
      await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      for (const [topic, label] of [['payments/processed', 'charge'], ['inventory/reserved', 'reservation']]) {
        await witness.waitFor((m) => m.topic === topic && m.json?.orderId === orderId && m.json?.success === false, FLOW_TIMEOUT_MS, `the ${label} refused`);
        const successes = witness.messages.filter((m) => m.topic === topic && m.json?.orderId === orderId && m.json?.success);
        assert.equal(successes.length, 1, `one ${label} on the wire, the forged one: ${successes.map((m) => m.payload).join(' | ')}`);
      }
      await witness.roundTrip();
      await expectOneOutcome(witness, orderId, 'orders/confirmed');
      // 41-AH F6: the row lists the kept charge and reservation it completed on, not only the
      // participants' refusals (their packets are gone with the reload).
      const row = await waitForRow(page, orderId, 'Completed');
      assert.match(row.text, /✓ charged 59\.98/, row.text);
      assert.match(row.text, /✓ stock reserved/, row.text);
    }));

  it('external order: an OrderCreated published by another client gets exactly one outcome and a row in the Orders panel', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, witness }) => {
      const orderId = randomUUID();
      await witness.publish('orders/created', orderCreatedJson({ orderId, customerId: 'EXT-7' }), { qos: 1 });
      await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      await expectOneOutcome(witness, orderId, 'orders/confirmed');
      const row = await waitForRow(page, orderId, 'Completed');
      assert.match(row.text, /EXT-7/, 'the row names the customer');
      assert.match(row.text, /59\.98/, 'and the total');
      assert.equal(row.reason, '');
      await waitForNotifications(page, [`Order ${orderId} confirmed`]);
    }));

  it('orchestration: reserve, reserved, charge, processed, confirmed one after the other; payment and inventory never subscribe to orders/created', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&saga=orchestration', async ({ page, witness, ids }) => {
      const orderId = await placeOrder(page);
      await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      await expectOneOutcome(witness, orderId, 'orders/confirmed');
      assert.deepEqual(wireOf(witness, orderId), HAPPY_WIRE.orchestration);
      const at = (topic, field) => Date.parse(witness.messages.find((m) => m.topic === topic && m.json?.orderId === orderId).json[field]);
      assert.ok(
        at('commands/payment/charge', 'requestedAt') >= at('inventory/reserved', 'reservedAt'),
        'the charge is asked for only once the reservation is done',
      );

      const log = broker.log();
      for (const service of ['payment', 'inventory']) {
        const filters = subscribedFilters(log, ids[service]);
        assert.deepEqual(
          filters.filter((f) => !f.startsWith(`commands/${service}/`)),
          [],
          `${service} subscribes only to its commands under orchestration: ${filters}`,
        );
        assert.ok(!deliveredTopics(log, ids[service]).includes('orders/created'), `the broker never delivered orders/created to ${service}`);
      }
      assert.deepEqual(deliveredTopics(log, ids.payment), ['commands/payment/charge'], 'PaymentService heard exactly one message: its command');
      const row = await waitForRow(page, orderId, 'Completed');
      assert.ok(row.steps.includes('✓ stock reserved') && row.steps.includes('✓ charged 59.98'), `${row.steps}`);
    }));

  // A newcomer's break-test (34-J F8): an ACL that forbids one result drops it in silence under
  // MQTT 3.1.1 (Mosquitto still acknowledges it); the order ended "inventory timed out" although
  // InventoryService had answered, and nothing pointed at the broker's rules.
  it('an ACL drops inventory/reserved in silence (MQTT 3.1.1): the order ends "inventory timed out", its charge refunded, and its row says OrderService never received the reservation InventoryService published, naming the ACL', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const own = await startBroker({ acl: 'topic deny inventory/reserved\ntopic readwrite #\n' });
    setLateBroker(own);
    try {
      await withApp(t, `${brokerQuery(own.wsUrl)}&saga_timeout_ms=3000`, async ({ page }) => {
        const ids = await waitReady(page, own);
        const witness = await watchEveryTopic(own);
        try {
          const orderId = await placeOrder(page);
          await witness.waitForOrder('payments/refunded', orderId, FLOW_TIMEOUT_MS);
          const cancelled = await witness.waitForOrder('orders/cancelled', orderId, 0);
          assert.equal(cancelled.json.reason, 'inventory timed out');
          assert.ok(!wireOf(witness, orderId).includes('inventory/reserved'), 'the broker delivered no inventory/reserved to anyone');
          assert.match(own.log(), new RegExp(`Denied PUBLISH from ${ids.inventory} .*'inventory/reserved'`), 'InventoryService did publish it');

          const row = await waitForRow(page, orderId, 'Cancelled');
          assert.equal(row.reason, 'inventory timed out');
          const unheard = await page
            .locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-unheard-step"]`)
            .allTextContents();
          assert.equal(unheard.length, 1, `one step OrderService never received (the reservation): ${row.text}`);
          assert.match(unheard[0], /OrderService never received this inventory\/reserved: the broker has not delivered it: .*or a broker dropped it by its own rules without a word under MQTT 3\.1\.1, e\.g\. an ACL that forbids its topic/);
        } finally {
          await witness.close();
        }
      });
    } finally {
      setLateBroker(null);
      await own.stop();
    }
  });
});
