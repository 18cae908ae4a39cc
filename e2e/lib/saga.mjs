// The saga as the end-to-end cases watch it: every topic of the flow through an independent
// witness, each order's messages in the order the broker delivered them, and the page's Orders
// panel and stock (selectors: docs/dom-contract.md; topics and payloads: docs/wire-contract/).
//
//   const witness = await watchEveryTopic(broker);
//   const orderId = await placeOrder(page);
//   const cancelled = await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
//   await expectOneOutcome(witness, orderId, 'orders/cancelled');
//   const row = await waitForRow(page, orderId, 'Cancelled');   // { reason, steps, compensations … }

import assert from 'node:assert/strict';

import { FLOW_TIMEOUT_MS, escapeRegExp, placedOrderId, waitOrdersAccepted } from './app-page.mjs';
import { startWitness } from './mqtt-witness.mjs';

export const OUTCOMES = ['orders/confirmed', 'orders/cancelled'];

/** The topics one order travels, per style, when every step succeeds. */
export const HAPPY_WIRE = {
  choreography: ['orders/created', 'inventory/reserved', 'payments/processed', 'orders/confirmed'],
  orchestration: [
    'orders/created',
    'commands/inventory/reserve',
    'inventory/reserved',
    'commands/payment/charge',
    'payments/processed',
    'orders/confirmed',
  ],
};

/** A witness of everything published on the broker (`#`). */
export const watchEveryTopic = (broker) => startWitness({ tcpPort: broker.tcpPort, topics: ['#'] });

/** The messages the witness saw for `orderId`, in arrival order. */
export const messagesOf = (witness, orderId) => witness.messages.filter((m) => m.json?.orderId === orderId);

/** The topics the witness saw for `orderId`, in arrival order. */
export const wireOf = (witness, orderId) => messagesOf(witness, orderId).map((m) => m.topic);

/** Places the form's order; resolves with its id. */
export async function placeOrder(page) {
  await waitOrdersAccepted(page);
  const before = await page.evaluate(() => document.querySelector('[data-testid="placed-order-id"]')?.textContent ?? null);
  await page.click('[data-testid="place-order"]');
  if (before !== null) {
    await page.waitForFunction(
      (old) => document.querySelector('[data-testid="placed-order-id"]')?.textContent !== old,
      before,
    );
  }
  return placedOrderId(page);
}

/**
 * After the broker has routed everything published so far to the witness (a round trip),
 * exactly one outcome for `orderId` went out, and it is `topic`. A copy of `orders/cancelled`
 * (the same bytes, sent again while a compensation is awaited: docs/wire-contract/) is the same
 * outcome.
 */
export async function expectOneOutcome(witness, orderId, topic) {
  await witness.roundTrip();
  const outcomes = messagesOf(witness, orderId).filter((m) => OUTCOMES.includes(m.topic));
  const distinct = [...new Map(outcomes.map((m) => [`${m.topic} ${m.payload}`, m.topic])).values()];
  assert.deepEqual(distinct, [topic], `one outcome for order ${orderId}; its wire: ${wireOf(witness, orderId).join(', ')}`);
}

/** `topics` appear in this order among the order's messages (others may come between). */
export function assertInOrder(witness, orderId, topics) {
  const wire = wireOf(witness, orderId);
  let from = 0;
  for (const topic of topics) {
    const at = wire.indexOf(topic, from);
    assert.ok(at >= 0, `${topics.join(' → ')} in this order for ${orderId}; the wire: ${wire.join(', ')}`);
    from = at + 1;
  }
}

/** The Orders panel's row of `orderId` as the user sees it, or null. */
export const readRow = (page, orderId) =>
  page.evaluate((id) => {
    const row = document.querySelector(`[data-testid="orders-panel"] [data-testid="order-row"][data-order-id="${id}"]`);
    if (!row) return null;
    const texts = (testid) => [...row.querySelectorAll(`[data-testid="${testid}"]`)].map((e) => e.textContent.trim());
    return {
      status: row.dataset.status,
      charges: Number(row.dataset.charges),
      compensationCount: Number(row.dataset.compensations),
      reason: texts('order-reason')[0] ?? '',
      steps: texts('order-step'),
      compensations: texts('order-compensation'),
      text: row.textContent.replace(/\s+/g, ' ').trim(),
    };
  }, orderId);

/**
 * Waits until the Orders panel's row of `orderId` has `status` and, if given, at least
 * `compensations` compensations listed; resolves with the row (readRow).
 */
export async function waitForRow(page, orderId, status, { compensations = 0, timeout = FLOW_TIMEOUT_MS } = {}) {
  try {
    await page.waitForFunction(
      ({ id, status, compensations }) => {
        const row = document.querySelector(`[data-testid="order-row"][data-order-id="${id}"]`);
        return row?.dataset.status === status && Number(row.dataset.compensations) >= compensations;
      },
      { id: orderId, status, compensations },
      { timeout },
    );
  } catch (error) {
    const row = await readRow(page, orderId).catch(() => null);
    throw new Error(
      `the Orders panel's row of ${orderId} did not become ${status} with ${compensations} compensations ` +
        `within ${timeout} ms; now: ${JSON.stringify(row)}`,
      { cause: error },
    );
  }
  return readRow(page, orderId);
}

/** The units of `product` the stock panel shows, or null when it is not counted. */
export const stockShown = (page, product) =>
  page.evaluate(
    (p) => document.querySelector(`[data-testid="stock-level"][data-product="${p}"]`)?.dataset.units ?? null,
    product,
  );

/** The topic filters the broker's log shows `clientId` subscribing to. */
export function subscribedFilters(log, clientId) {
  const line = new RegExp(`^\\d+: ${escapeRegExp(clientId)} [012] (\\S+)$`, 'gm');
  return [...log.matchAll(line)].map((m) => m[1]);
}

/** The topics the broker's log shows it delivering to `clientId`. */
export function deliveredTopics(log, clientId) {
  const line = new RegExp(`^\\d+: Sending PUBLISH to ${escapeRegExp(clientId)} \\(d\\d, q\\d, r\\d, m\\d+, '([^']+)'`, 'gm');
  return [...log.matchAll(line)].map((m) => m[1]);
}

/**
 * page.waitForFunction(fn, arg), failing with `what` (and `describe()`'s answer, read from the
 * page when it fails) instead of a bare timeout.
 */
export async function waitInPage(page, what, fn, arg, { timeout = FLOW_TIMEOUT_MS, describe = () => '' } = {}) {
  try {
    await page.waitForFunction(fn, arg, { timeout });
  } catch (error) {
    const now = await Promise.resolve(describe()).catch(() => '(unreadable)');
    throw new Error(`${what}: not within ${timeout} ms${now ? `; now: ${now}` : ''}`, { cause: error });
  }
}
