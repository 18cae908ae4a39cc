// The Orders panel with what the wire can throw at it: results for orders nobody created (shown
// as unknown orders, counted neither open nor completed), Clear while orders are in flight (their
// rows come back with "—" for what the page forgot, and no made-up time), and the largest total and a
// 20,000-character customer id from outside (cut or wrapped, the whole in a title; the panel does
// not grow sideways).
//
//   node --test e2e/app/orders-panel.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, brokerQuery } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, waitReady, watched, withApp } from '../lib/app-suite.mjs';
import { placeOrder, waitForRow, watchEveryTopic } from '../lib/saga.mjs';
import { orderCreatedJson } from '../lib/seed.mjs';

const NOW = '2024-01-15T10:30:01.000Z';


/** The panel's counts as its heading's data attributes give them. */
const counts = (page) =>
  page.$eval('[data-testid="orders-count"]', (e) => ({
    completed: Number(e.dataset.completed),
    cancelled: Number(e.dataset.cancelled),
    open: Number(e.dataset.open),
    unknown: Number(e.dataset.unknown),
    text: e.textContent.trim(),
  }));

/** A cell of the row of `orderId`: its text and title. */
const cell = (page, orderId, testid) =>
  page.$eval(
    `[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="${testid}"]`,
    (e) => ({ text: e.textContent.trim(), title: e.querySelector('[title]')?.getAttribute('title') ?? '' }),
  );

describeApp('orders panel', () => {
  it('results for an order nobody created: an unknown order, neither open nor completed', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=0&inventory_ms=0', async ({ page, witness }) => {
      const placed = await placeOrder(page);
      await waitForRow(page, placed, 'Completed');

      const paid = randomUUID();
      const confirmed = randomUUID();
      await witness.publish('payments/processed', JSON.stringify({
        orderId: paid, paymentId: randomUUID(), amount: 12.5, success: true, processedAt: NOW,
      }), { qos: 1 });
      await witness.publish('orders/confirmed', JSON.stringify({ orderId: confirmed, confirmedAt: NOW }), { qos: 1 });
      await waitForRow(page, paid, 'Unknown');
      await waitForRow(page, confirmed, 'Unknown');

      for (const id of [paid, confirmed]) {
        const row = await page.$eval(`[data-testid="order-row"][data-order-id="${id}"]`, (e) => e.dataset.start);
        assert.equal(row, 'unknown', `${id} starts nowhere`);
        assert.match((await cell(page, id, 'order-state')).text, /Unknown order: not seen created on the wire \(before this page loaded, not yet, or never\)/);
        assert.equal((await cell(page, id, 'order-total')).text, '—', 'no total made up');
        assert.equal((await cell(page, id, 'order-customer')).text, '—', 'no customer made up');
      }
      assert.match((await cell(page, confirmed, 'order-state')).text, /an orders\/confirmed for it was seen/);
      assert.equal((await cell(page, confirmed, 'order-time')).text, '—', 'no time to an outcome from nothing');
      const seen = await counts(page);
      assert.deepEqual(
        { completed: seen.completed, cancelled: seen.cancelled, open: seen.open, unknown: seen.unknown },
        { completed: 1, cancelled: 0, open: 0, unknown: 2 },
        seen.text,
      );
      assert.match(seen.text, /1 completed, 0 cancelled, 0 open, 2 unknown \(not seen created on the wire\)/);
    }));

  // A newcomer copied a row and read "✕ Cancelledrestored from the browser's database after a
  // reloadcompensating: …": the status and its notes are separate spans with nothing between
  // them, so innerText (copy and paste, screen readers) joins their words.
  it('a restored row reads as separate words: its status, then each note', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=0&inventory_ms=0', async ({ page }) => {
      const orderId = await placeOrder(page);
      await waitForRow(page, orderId, 'Completed');
      await page.reload();
      await waitReady(page);
      const row = `[data-testid="order-row"][data-order-id="${orderId}"][data-start="restored"]`;
      await page.locator(row).waitFor();
      const seen = await page.$eval(row, (r) => {
        const cell = r.querySelector('[data-testid="order-state"]').innerText;
        // Each note's words, and what innerText puts just before them.
        const joins = [...r.querySelectorAll('.note')].map((note) => {
          const words = note.innerText.trim();
          const at = r.innerText.indexOf(words);
          return { words, before: at > 0 ? r.innerText[at - 1] : '(start)' };
        });
        return { cell, row: r.innerText, joins };
      });
      assert.match(seen.cell, /^✓ Completed\W+restored from the browser's database after a reload\W*$/, JSON.stringify(seen));
      assert.ok(seen.joins.length >= 1, JSON.stringify(seen));
      for (const { words, before } of seen.joins) {
        assert.match(before, /[\s;:,.·—()]/, `"${words}" is not joined to the word before it: ${JSON.stringify(seen.row)}`);
      }
    }));

  it('Clear while orders are in flight: their rows come back with "—" for what was forgotten, and no made-up time', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=1500&inventory_ms=200', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await witness.waitForOrder('orders/created', orderId, FLOW_TIMEOUT_MS);
      await page.click('[data-testid="clear"]');
      await waitForRow(page, orderId, 'Completed');
      const start = await page.$eval(`[data-testid="order-row"][data-order-id="${orderId}"]`, (e) => e.dataset.start);
      assert.equal(start, 'forgotten');
      for (const testid of ['order-customer', 'order-total', 'order-time']) {
        const shown = await cell(page, orderId, testid);
        assert.equal(shown.text, '—', `${testid} after Clear: ${JSON.stringify(shown)}`);
        assert.match(shown.title, /started before Clear/);
      }
      const seen = await counts(page);
      assert.deepEqual([seen.completed, seen.open, seen.unknown], [1, 0, 0], seen.text);
    }));

  // A newcomer's break-test: after Clear, the orders/created of an order that had completed,
  // published again from a terminal, made a row open for ever: "its orders/confirmed is not on
  // the wire yet: it waits for the broker", with the broker up, and "1 open".
  it('after Clear, a replayed orders/created of an order that ended: ignored as a duplicate, its row takes the outcome from the store, nothing open', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=0&inventory_ms=0', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await waitForRow(page, orderId, 'Completed');
      const created = await witness.waitForOrder('orders/created', orderId, FLOW_TIMEOUT_MS);
      await page.click('[data-testid="clear"]');
      await page.locator('[data-testid="order-row"]').first().waitFor({ state: 'detached' });
      await witness.publish('orders/created', created.payload, { qos: 1 });
      const row = `[data-testid="order-row"][data-order-id="${orderId}"]`;
      await page.locator(`${row}[data-start="replayed"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.equal(await page.locator(`${row} [data-testid="order-decided"]`).count(), 0, 'nothing waits for the broker');
      assert.match((await cell(page, orderId, 'order-state')).text, /Completed\W+ended before this copy of its orders\/created \(a replay, ignored as a duplicate\)/);
      const seen = await counts(page);
      assert.deepEqual([seen.completed, seen.open], [1, 0], seen.text);
      // Every consumer ignored it: nothing more on the wire for the order.
      await witness.roundTrip();
      assert.equal(witness.messages.filter((m) => m.topic === 'orders/confirmed' && m.json?.orderId === orderId).length, 1);
    }));

  it('the largest total and a 20,000-character customer id from outside do not push the panel sideways', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=0&inventory_ms=0', async ({ page, witness }) => {
      const orderId = randomUUID();
      const customerId = 'W'.repeat(20_000);
      // The largest total a message may carry (a larger one is dead-lettered, never a row), as
      // one item's price, so the total is its items' sum.
      const largest = 9999999999999.99;
      const payload = orderCreatedJson({ orderId, customerId, items: [{ productId: 'P001', quantity: 1, price: largest }], totalAmount: largest });
      await witness.publish('orders/created', payload, { qos: 1 });
      await page.waitForSelector(`[data-testid="order-row"][data-order-id="${orderId}"]`, { timeout: FLOW_TIMEOUT_MS });

      const total = await cell(page, orderId, 'order-total');
      assert.equal(total.text, '9999999999999.99', 'the total, exact to the cent');
      const customer = await cell(page, orderId, 'order-customer');
      assert.ok(customer.text.length < 100, `the customer id cut (${customer.text.length} characters shown)`);
      assert.equal(customer.title, customerId, 'the whole customer id in the title');

      const layout = await page.evaluate((id) => {
        const scroll = document.querySelector('[data-testid="orders-panel"] .table-scroll');
        const row = document.querySelector(`[data-testid="order-row"][data-order-id="${id}"]`);
        const state = row.querySelector('[data-testid="order-state"]').getBoundingClientRect();
        const panel = document.querySelector('[data-testid="orders-panel"]').getBoundingClientRect();
        return { scrollWidth: scroll.scrollWidth, clientWidth: scroll.clientWidth, stateRight: state.right, panelRight: panel.right };
      }, orderId);
      assert.ok(layout.scrollWidth <= layout.clientWidth + 1, `no sideways scrolling in the panel: ${JSON.stringify(layout)}`);
      assert.ok(layout.stateRight <= layout.panelRight, `the State column in view: ${JSON.stringify(layout)}`);

      // The same text in the other panels that show it wraps instead of widening the page.
      const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(wide <= 1, `the page is ${wide} px wider than the window`);
    }, { viewport: { width: 1280, height: 900 } }));
  // A newcomer's break-test: the poison message's row said Pending for good (no order exists in
  // OrderService's store, so no deadline ends it) and counted it open; after a fixed Retry, a
  // Retry of another service's unedited dead letter, or a second orders/created from outside
  // with another customer and total, rewrote the row although every service ignored it as a
  // duplicate.
  it('a dead-lettered order: its row says so (not open) until a fixed Retry makes it the order; later copies of its orders/created change nothing', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=0&inventory_ms=0&saga_timeout_ms=20000', async ({ page, witness }) => {
      await page.click('[data-testid="send-poison"]');
      const poison = await witness.waitFor((m) => m.topic === 'orders/created' && m.json?.customerId === 'POISON', FLOW_TIMEOUT_MS);
      const orderId = poison.json.orderId;
      await witness.waitFor((m) => m.topic === 'deadletter/order' && JSON.parse(m.json?.payload ?? '{}').orderId === orderId, FLOW_TIMEOUT_MS);
      await waitForRow(page, orderId, 'DeadLettered');
      assert.match((await cell(page, orderId, 'order-state')).text, /^✕ Dead-lettered OrderService could not process its orders\/created \(.*poison.*\), so no order exists and no deadline will end it: fix and Retry it under Dead letters$/);
      await page.waitForFunction(() => document.querySelector('[data-testid="orders-count"]').dataset.deadLettered === '1');
      const before = await counts(page);
      assert.equal(before.open, 0, 'not counted open');
      assert.match(before.text, /1 dead-lettered \(its orders\/created is in OrderService's dead letters\)/);

      // Fixed and retried: this creation is the order.
      const letter = (service) => page.locator(`[data-testid="dead-letter"][data-service="${service}"]`);
      const field = letter('order').locator('[data-testid="dead-letter-payload"]');
      await field.fill((await field.inputValue()).replace('"POISON"', '"C123"'));
      await letter('order').locator('[data-testid="dead-letter-retry"]').click();
      await waitForRow(page, orderId, 'Completed');
      assert.equal((await cell(page, orderId, 'order-customer')).text, 'C123');

      // PaymentService's unedited dead letter retried, and another creation from outside: both
      // duplicates, ignored by every service.
      await letter('payment').locator('[data-testid="dead-letter-retry"]').click();
      await witness.publish('orders/created', orderCreatedJson({ orderId, customerId: 'EVIL', totalAmount: 1, items: [{ productId: 'P001', quantity: 1, price: 1 }] }), { qos: 1 });
      // Both went through the broker before a new order's creation, on the same topic, so the
      // page and the witness have them once they have that one.
      const next = await placeOrder(page);
      await waitForRow(page, next, 'Completed');
      await witness.waitForOrder('orders/created', next, FLOW_TIMEOUT_MS);
      assert.equal(witness.messages.filter((m) => m.topic === 'orders/created' && m.json?.orderId === orderId).length, 4, 'poison, fixed, the unedited copy, the outside one');
      assert.equal((await cell(page, orderId, 'order-customer')).text, 'C123', 'the customer of the order that ran');
      assert.equal((await cell(page, orderId, 'order-total')).text, '59.98');
      assert.equal(await page.$eval(`[data-testid="order-row"][data-order-id="${orderId}"]`, (e) => e.dataset.status), 'Completed');
    }));
});
