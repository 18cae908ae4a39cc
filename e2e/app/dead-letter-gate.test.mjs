// A dead letter's Retry and the poison-message button publish only when what they publish can
// reach its consumers, as the order gate does for orders (README "Things to try: dead letters").
// Otherwise the page says why, nothing goes on the wire, the dead letter stays listed with the
// learner's edits, and the refusal goes by itself once a retry can be delivered:
// (a) the publisher (OrderService) crashed; (b) the consumer whose dead letter it is crashed with
// clean sessions (the broker would keep nothing for it); (c) the services still connecting, right
// after load and after moving to another broker. An independent MQTT.js witness checks the wire.
//
//   node --test e2e/app/dead-letter-gate.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { CONNECT_TIMEOUT_MS, FLOW_TIMEOUT_MS, brokerQuery } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, watched, withApp } from '../lib/app-suite.mjs';
import { freePort } from '../lib/broker.mjs';
import { OUTCOMES, expectOneOutcome, waitForRow, watchEveryTopic } from '../lib/saga.mjs';
import { relay } from '../lib/tcp-relay.mjs';

const CONSUMERS_OF_ORDERS = 4;
const refusal = (page) => page.locator('[data-testid="redelivery-error"]');
const letterCount = (page) => page.$$eval('[data-testid="dead-letter"]', (els) => els.length);
const paymentLetter = (page) => page.locator('[data-testid="dead-letter"][data-service="payment"]');
const created = (witness, customerId) =>
  witness.messages.filter((m) => m.topic === 'orders/created' && m.json?.customerId === customerId);

/** Presses *Send a poison message*; resolves with its order id once every consumer dead-lettered it. */
async function poisonEveryone(page, witness) {
  await page.click('[data-testid="send-poison"]');
  const poison = await witness.waitFor((m) => m.topic === 'orders/created' && m.json?.customerId === 'POISON', FLOW_TIMEOUT_MS);
  await witness.waitFor(() => witness.messages.filter((m) => m.topic.startsWith('deadletter/')).length >= CONSUMERS_OF_ORDERS, FLOW_TIMEOUT_MS, 'four dead letters');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="dead-letter"]').length === n, CONSUMERS_OF_ORDERS);
  return poison.json.orderId;
}

/** Fixes PaymentService's dead letter (customer C123); resolves with the payload left in the field. */
async function fixPaymentLetter(page) {
  const field = paymentLetter(page).locator('[data-testid="dead-letter-payload"]');
  const fixed = (await field.inputValue()).replace('"POISON"', '"C123"');
  await field.fill(fixed);
  return fixed;
}

/**
 * Clicks `selector`, then expects the page's refusal to match `pattern`. On failure, says what
 * the learner saw instead and what became of the message: the panel, the wire, and (waiting up
 * to the saga's deadline) whether order `orderId` ended.
 */
async function expectRefusal(page, witness, selector, pattern, { orderId = null, customerId = 'C123' } = {}) {
  const lettersBefore = await letterCount(page);
  await page.click(selector);
  try {
    await page.waitForFunction(
      (source) => new RegExp(source).test(document.querySelector('[data-testid="redelivery-error"]')?.textContent ?? ''),
      pattern.source,
      { timeout: 5_000 },
    );
  } catch (error) {
    const said = await refusal(page).textContent({ timeout: 100 }).catch(() => null);
    const letters = await letterCount(page);
    await witness.roundTrip();
    let outcome = '(no order to follow)';
    if (orderId) {
      outcome = await witness
        .waitFor((m) => OUTCOMES.includes(m.topic) && m.json?.orderId === orderId, FLOW_TIMEOUT_MS)
        .then((m) => `${m.topic}${m.json?.reason ? ` (${m.json.reason})` : ''}`, () => `none within ${FLOW_TIMEOUT_MS} ms`);
    }
    throw new Error(
      `the page should refuse with ${pattern}; it said ${JSON.stringify(said)}. Dead letters listed: ` +
        `${lettersBefore} before the click, ${letters} after. orders/created for ${customerId} on the wire: ` +
        `${created(witness, customerId).length}. The order's outcome: ${outcome}`,
      { cause: error },
    );
  }
  return ((await refusal(page).textContent()) ?? '').trim();
}

/** The refused Retry left everything as it was: the letter listed with its edit, nothing on the wire. */
async function assertNothingLost(page, witness, fixed, what) {
  assert.equal(await letterCount(page), CONSUMERS_OF_ORDERS, `${what}: the dead letter stays listed`);
  assert.equal(await paymentLetter(page).locator('[data-testid="dead-letter-payload"]').inputValue(), fixed, `${what}: the edit is kept`);
  await witness.roundTrip();
  assert.equal(created(witness, 'C123').length, 0, `${what}: nothing published`);
}

/** Retries the fixed dead letter: the order completes, once, and the letter goes. */
async function retryCompletes(page, witness, orderId) {
  await paymentLetter(page).locator('[data-testid="dead-letter-retry"]').click();
  await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
  await expectOneOutcome(witness, orderId, 'orders/confirmed');
  await waitForRow(page, orderId, 'Completed');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="dead-letter"]').length === n, CONSUMERS_OF_ORDERS - 1);
  assert.equal(await refusal(page).count(), 0, 'no refusal left');
}

describeApp('dead letters: Retry and the poison message wait until they can be delivered', () => {
  it('(a) OrderService crashed: Retry and the poison message are refused, the letter stays with its edit; after Restart the refusal goes and Retry completes the order', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&saga_timeout_ms=20000', async ({ page, witness }) => {
      const orderId = await poisonEveryone(page, witness);
      const fixed = await fixPaymentLetter(page);
      await page.getByRole('button', { name: 'Crash OrderService' }).click();
      await page.locator('[data-testid="status-order"][data-crashed="true"]').waitFor();

      const text = await expectRefusal(page, witness, '[data-testid="dead-letter"][data-service="payment"] [data-testid="dead-letter-retry"]',
        /^Retry: OrderService is crashed, so the message was not published again\. Press Restart on OrderService/, { orderId });
      assert.match(text, /The dead letter stays listed/);
      await assertNothingLost(page, witness, fixed, 'Retry while OrderService is crashed');
      await expectRefusal(page, witness, '[data-testid="send-poison"]', /^Poison message: OrderService is crashed, so it was not sent/);
      await witness.roundTrip();
      assert.equal(created(witness, 'POISON').length, 1, 'no second poison message published');

      await page.getByRole('button', { name: 'Restart OrderService' }).click();
      await refusal(page).waitFor({ state: 'detached', timeout: CONNECT_TIMEOUT_MS });
      await retryCompletes(page, witness, orderId);
    }));

  // A newcomer's break-test: with OrderService crashed, a change of MQTT version brought its
  // client back, but the badge kept saying crashed, Restart did nothing, and the refusal
  // sentence stayed for good (the new connections' gate knew nothing of it).
  it('(a′) OrderService crashed, then the MQTT version changed: the crash is over on the badge too, the refusal goes, and Retry completes the order', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&saga_timeout_ms=20000', async ({ page, witness }) => {
      const orderId = await poisonEveryone(page, witness);
      await fixPaymentLetter(page);
      await page.getByRole('button', { name: 'Crash OrderService' }).click();
      await page.locator('[data-testid="status-order"][data-crashed="true"]').waitFor();
      await expectRefusal(page, witness, '[data-testid="dead-letter"][data-service="payment"] [data-testid="dead-letter-retry"]',
        /^Retry: OrderService is crashed/, { orderId });

      await page.selectOption('#mqtt-version', '5');
      await page.locator('[data-testid="status-order"][data-state="connected"][data-crashed="false"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
      await page.getByRole('button', { name: 'Crash OrderService' }).waitFor();
      await refusal(page).waitFor({ state: 'detached', timeout: CONNECT_TIMEOUT_MS });
      await retryCompletes(page, witness, orderId);
    }));

  it('(b) clean sessions, PaymentService crashed: Retry of its dead letter is refused (the broker would keep nothing for it); after Restart the refusal goes and Retry completes the order', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&session=clean&saga_timeout_ms=20000', async ({ page, witness }) => {
      const orderId = await poisonEveryone(page, witness);
      const fixed = await fixPaymentLetter(page);
      await page.getByRole('button', { name: 'Crash PaymentService' }).click();
      await page.locator('[data-testid="status-payment"][data-crashed="true"]').waitFor();

      const text = await expectRefusal(page, witness, '[data-testid="dead-letter"][data-service="payment"] [data-testid="dead-letter-retry"]',
        /^Retry: PaymentService, whose dead letter this is, is crashed and its session is clean/, { orderId });
      assert.match(text, /so the message was not published again\. Press Restart on PaymentService/);
      await assertNothingLost(page, witness, fixed, 'Retry while PaymentService is crashed with a clean session');

      await page.getByRole('button', { name: 'Restart PaymentService' }).click();
      // Only once PaymentService has subscribed again (a clean session starts with none).
      await refusal(page).waitFor({ state: 'detached', timeout: CONNECT_TIMEOUT_MS });
      await retryCompletes(page, witness, orderId);
    }));

  // A newcomer's break-test: a payload edited to 300 KB was retried, left the list without a
  // word, and the consumers logged "exceeds this page's 256 KiB limit" seconds later.
  it('a Retry larger than the page\'s 256 KiB limit is refused at once, the letter stays with its edit; shortened, Retry completes the order', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&saga_timeout_ms=20000', async ({ page, witness }) => {
      const orderId = await poisonEveryone(page, witness);
      const fixed = await fixPaymentLetter(page);
      const field = paymentLetter(page).locator('[data-testid="dead-letter-payload"]');
      const large = fixed.replace(/}\s*$/, `,"note":"${'x'.repeat(300_000)}"}`);
      await field.fill(large);

      const text = await expectRefusal(page, witness, '[data-testid="dead-letter"][data-service="payment"] [data-testid="dead-letter-retry"]',
        /^Retry: a message of 30\d KB on orders\/created exceeds this page's 256 KiB limit: its consumers here would skip it unread, so the message was not published again\. Shorten the payload, then press Retry\. The dead letter stays listed, with your edits\.$/, { orderId });
      assert.ok(text.length < 400, 'the sentence does not quote the payload');
      await assertNothingLost(page, witness, large, 'Retry of a message over the limit');

      await field.fill(fixed);
      await retryCompletes(page, witness, orderId);
    }));

  // Not refused: with persistent sessions the broker keeps the retry for PaymentService.
  it('persistent sessions, PaymentService crashed: Retry goes at once and waits at the broker; after Restart PaymentService gets it and the order completes', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&session=persistent&saga_timeout_ms=20000', async ({ page, witness }) => {
      const orderId = await poisonEveryone(page, witness);
      await fixPaymentLetter(page);
      await page.getByRole('button', { name: 'Crash PaymentService' }).click();
      await page.locator('[data-testid="status-payment"][data-crashed="true"]').waitFor();
      await paymentLetter(page).locator('[data-testid="dead-letter-retry"]').click();
      await witness.waitFor((m) => m.topic === 'orders/created' && m.json?.orderId === orderId && m.json?.customerId === 'C123', FLOW_TIMEOUT_MS);
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="dead-letter"]').length === n, CONSUMERS_OF_ORDERS - 1);
      assert.equal(await refusal(page).count(), 0, 'not refused');
      await witness.roundTrip();
      assert.equal(witness.messages.filter((m) => m.topic === 'payments/processed' && m.json?.orderId === orderId).length, 0, 'no charge while PaymentService is down');
      await page.getByRole('button', { name: 'Restart PaymentService' }).click();
      await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
      await expectOneOutcome(witness, orderId, 'orders/confirmed');
      await waitForRow(page, orderId, 'Completed');
    }));

  it('(c) right after load, PaymentService and InventoryService not subscribed yet: the poison message is refused, naming them; the refusal goes by itself and the poison reaches all four', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const port = await freePort();
    const late = `ws://127.0.0.1:${port}`;
    const witness = await watchEveryTopic(broker);
    let path = null;
    try {
      await withApp(t, `${brokerQuery(broker.wsUrl)}&broker_payment=${late}&broker_inventory=${late}`, async ({ page }) => {
        await page.locator('[data-testid="status-order"][data-state="connected"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
        await page.locator('[data-testid="status-notification"][data-state="connected"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
        await expectRefusal(page, witness, '[data-testid="send-poison"]',
          /^Poison message: OrderService is waiting for PaymentService, InventoryService to subscribe, so it was not sent/, { customerId: 'POISON' });
        await witness.roundTrip();
        assert.equal(created(witness, 'POISON').length, 0, 'nothing published before its consumers subscribed');

        path = await relay(port, broker.wsPort);
        await refusal(page).waitFor({ state: 'detached', timeout: CONNECT_TIMEOUT_MS });
        await poisonEveryone(page, witness);
        const from = witness.messages.filter((m) => m.topic.startsWith('deadletter/')).map((m) => m.topic).sort();
        assert.deepEqual(from, ['deadletter/inventory', 'deadletter/notification', 'deadletter/order', 'deadletter/payment']);
      });
    } finally {
      await witness.close();
      await path?.close();
    }
  });

  it('(c) after moving to another broker (clean sessions), Retry while the services are connecting there is refused; once they are subscribed the refusal goes and Retry completes the order', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const port = await freePort();
    // The other broker is the same Mosquitto behind a relay, 2 s away: the services are
    // "connecting" meanwhile.
    const slow = await relay(port, broker.wsPort, 2_000);
    try {
      await watched(t, '&session=clean&saga_timeout_ms=30000', async ({ page, witness }) => {
        const orderId = await poisonEveryone(page, witness);
        const fixed = await fixPaymentLetter(page);
        await page.fill('#broker-url', `ws://127.0.0.1:${port}`);
        await page.click('[data-testid="apply-broker"]');
        await page.locator('[data-testid="status-order"][data-state="connecting"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });

        await expectRefusal(page, witness, '[data-testid="dead-letter"][data-service="payment"] [data-testid="dead-letter-retry"]',
          /^Retry: OrderService is (still connecting to the broker at ws:\/\/127\.0\.0\.1:\d+|waiting for [\w, ]+ to subscribe), so the message was not published again/, { orderId });
        await assertNothingLost(page, witness, fixed, 'Retry while the services move');

        await refusal(page).waitFor({ state: 'detached', timeout: CONNECT_TIMEOUT_MS });
        await page.locator('[data-testid="place-order"][data-ready="true"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
        await retryCompletes(page, witness, orderId);
      });
    } finally {
      await slow.close();
    }
  });
});
