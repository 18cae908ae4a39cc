// Analytics: AnalyticsService's figures over OrderService's event store, and the broker round
// trip over the page's packets. Five orders with known outcomes (two declined over a limit of
// 50.00, two cheap ones completed, one declined over a limit of 5.00); an independent witness
// subscribed to `#` reads the store's events on eventstore/orders/<id>, and the panel's
// figures, its charts' text equivalents and its CSV must be what the witness computes from them.
// An outside order of 1e300 (beyond the largest amount, 9999999999999.99) is dead-lettered and
// leaves revenue exact; so are amounts that are not whole cents, a total that is not its items'
// sum, and an amount in quotes, each with its reason in words, on the wire and on the page.
//
//   node --test e2e/app/analytics.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, brokerQuery } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, waitReady, withApp } from '../lib/app-suite.mjs';
import { placeOrder, waitInPage, watchEveryTopic } from '../lib/saga.mjs';

const TERMINAL = ['OrderCompleted', 'OrderCancelled'];
const OVER_50 = 'payment declined: the total 59.98 is over the limit of 50.00';
const OVER_5 = 'payment declined: the total 12.34 is over the limit of 5.00';
/** The decline-over rule's kind, by which the panel counts both: one bar, not one per total. */
const OVER_LIMIT = 'payment declined: total over the limit';

/** A cancellation's reason as the panel groups it, for the reasons this test causes. */
const kindOf = (reason) =>
  /^payment declined: the total [\d.]+ is over the limit of [\d.]+$/.test(reason) ? OVER_LIMIT : reason;

/** The store's events the witness saw, by position. */
const storeEvents = (witness) =>
  witness.messages
    .filter((m) => m.topic.startsWith('eventstore/orders/') && m.json)
    .map((m) => m.json)
    .sort((a, b) => a.position - b.position);

/** The nearest-rank percentile (rank ⌈p·n/100⌉), as the page computes it. */
const nearestRank = (sorted, p) => sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1];

/** Per thousand, rounded half up, as a percentage with one decimal. */
const percent = (part, whole) => {
  const permille = Math.floor((part * 2000 + whole) / (2 * whole));
  return `${Math.floor(permille / 10)}.${permille % 10}`;
};

/** Every figure, worked out from the store's events as the witness saw them. */
function figuresOf(events) {
  const orders = new Map();
  for (const e of events) {
    if (e.type === 'OrderCreated') orders.set(e.stream, { created: e, end: null });
    const order = orders.get(e.stream);
    if (order && !order.end && TERMINAL.includes(e.type)) order.end = e;
  }
  const all = [...orders.values()];
  const ended = all.filter((o) => o.end);
  const completed = ended.filter((o) => o.end.type === 'OrderCompleted');
  const cancelled = ended.filter((o) => o.end.type === 'OrderCancelled');
  const count = (key) => {
    const counts = new Map();
    for (const o of cancelled) counts.set(key(o.end.data.reason), (counts.get(key(o.end.data.reason)) ?? 0) + 1);
    return [...counts].sort(([ra, a], [rb, b]) => b - a || (ra < rb ? -1 : 1));
  };
  const byReason = count(kindOf);
  const perMinute = new Map();
  for (const o of all) {
    const minute = `${o.created.recordedAt.slice(0, 16)}:00.000Z`;
    perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
  }
  const cents = completed.reduce((sum, o) => sum + Math.round(o.created.data.totalAmount * 100), 0);
  const times = ended.map((o) => Date.parse(o.end.recordedAt) - Date.parse(o.created.recordedAt)).sort((a, b) => a - b);
  return {
    orders: all.length,
    completed: completed.length,
    cancelled: cancelled.length,
    open: all.length - ended.length,
    revenue: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
    rate: percent(cancelled.length, ended.length),
    byReason: byReason.map(([reason, n]) => [reason, String(n), percent(n, ended.length)]),
    reasonsAsRecorded: count((reason) => reason).map(([reason, n]) => [reason, n]),
    perMinute: [...perMinute].sort(),
    p50: String(nearestRank(times, 50)),
    p95: String(nearestRank(times, 95)),
    times,
  };
}

/** The headline figures: { key: [data-value, text shown] }. */
const headlines = (page) =>
  page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('[data-testid="analytics-panel"] [data-testid^="analytics-"][data-value]')].map((el) => [
        el.dataset.testid.replace(/^analytics-/, ''),
        [el.dataset.value, el.querySelector('dd').textContent.trim()],
      ]),
    ),
  );

/** Each chart's accessible name, its <title>, and its table (caption, headings, rows of cell texts). */
const chartsShown = (page) =>
  page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('[data-testid^="analytics-chart-"]')]
        .filter((el) => el.tagName === 'FIGURE')
        .map((figure) => {
          const svg = figure.querySelector('[data-testid="analytics-svg"]');
          const table = figure.querySelector('[data-testid="analytics-table"]');
          const cells = (row, tag) => [...row.querySelectorAll(tag)].map((c) => c.textContent.trim());
          return [
            figure.dataset.testid.replace(/^analytics-chart-/, ''),
            {
              role: svg?.getAttribute('role') ?? null,
              label: svg?.getAttribute('aria-label') ?? null,
              title: svg?.querySelector(':scope > title')?.textContent ?? null,
              bars: svg ? svg.querySelectorAll('rect.bar').length : 0,
              caption: table?.querySelector('caption')?.textContent ?? null,
              headings: table ? cells(table.querySelector('thead tr'), 'th') : [],
              rows: table ? [...table.querySelectorAll('tbody tr')].map((r) => cells(r, 'td')) : [],
            },
          ];
        }),
    ),
  );

async function typeSetting(page, selector, text) {
  await page.fill(selector, text);
  await page.dispatchEvent(selector, 'change');
}

/** Places the form's order and waits until its completion is in the store and the witness has all of it. */
async function placeCompletedOrder(page, witness) {
  const orderId = await placeOrder(page);
  await witness.waitFor(
    (m) => m.topic === `eventstore/orders/${orderId}` && m.json?.type === 'OrderCompleted',
    FLOW_TIMEOUT_MS,
    `the completion of ${orderId} in the store`,
  );
  await witness.roundTrip();
  return orderId;
}

/** Waits until the Analytics panel counts one completed order. */
const panelCountsOneCompleted = (page) =>
  waitInPage(page, 'the panel counts the order', () =>
    document.querySelector('[data-testid="analytics-completed"]')?.dataset.value === '1', null, {
    describe: () => headlines(page).then(JSON.stringify),
  });

describeApp('analytics', () => {
  it('the panel\'s figures, charts and CSV are those of the store\'s events on the wire, live as orders end', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0&decline_over=50`, async ({ page }) => {
      await waitReady(page);
      const witness = await watchEveryTopic(broker);
      try {
        const panel = page.locator('[data-testid="analytics-panel"]');
        await panel.waitFor();
        let shown = await headlines(page);
        assert.deepEqual([shown.orders, shown.revenue, shown['cancellation-rate']], [['0', '0'], ['0.00', '0.00'], ['', '—']], 'nothing yet');

        /** Places the form's order and waits for its end in the store, on the wire. */
        const orderToEnd = async () => {
          const orderId = await placeOrder(page);
          await witness.waitFor(
            (m) => m.topic === `eventstore/orders/${orderId}` && TERMINAL.includes(m.json?.type),
            FLOW_TIMEOUT_MS,
            `the end of ${orderId} in the store`,
          );
          return orderId;
        };

        // The seed's 59.98 over a limit of 50.00: declined. The panel follows at once.
        await orderToEnd();
        await waitInPage(page, 'the panel counts the first cancellation', () =>
          document.querySelector('[data-testid="analytics-cancelled"]')?.dataset.value === '1', null, {
          describe: () => headlines(page).then(JSON.stringify),
        });
        await orderToEnd();
        // Two cheap ones under the limit: completed.
        await page.fill('#quantity-0', '1');
        await page.fill('#price-0', '10');
        await orderToEnd();
        await page.fill('#price-0', '12.34');
        await orderToEnd();
        // And 12.34 over a new limit of 5.00: another total, another limit, the same rule.
        await typeSetting(page, '#decline-over', '5');
        await waitInPage(page, 'the address holds decline_over=5.00', () => new URL(location.href).searchParams.get('decline_over') === '5.00', null, {
          describe: () => page.url(),
        });
        await orderToEnd();
        await witness.roundTrip();

        const events = storeEvents(witness);
        const expected = figuresOf(events);
        // What the witness saw is what the five orders were meant to do.
        assert.deepEqual(
          [expected.orders, expected.completed, expected.cancelled, expected.open, expected.revenue, expected.rate],
          [5, 2, 3, 0, '22.34', '60.0'],
        );
        assert.deepEqual(expected.reasonsAsRecorded, [[OVER_50, 2], [OVER_5, 1]]);
        assert.deepEqual(expected.byReason, [[OVER_LIMIT, '3', '60.0']], 'one rule, one bar');

        // The headline figures equal the witness's, live: waited for, never reloaded.
        await waitInPage(page, 'the panel counts five ended orders', () =>
          document.querySelector('[data-testid="analytics-completed"]')?.dataset.value === '2' &&
          document.querySelector('[data-testid="analytics-cancelled"]')?.dataset.value === '3', null, {
          describe: () => headlines(page).then(JSON.stringify),
        });
        shown = await headlines(page);
        assert.deepEqual(shown.orders, ['5', '5']);
        assert.deepEqual(shown.completed, ['2', '2']);
        assert.deepEqual(shown.cancelled, ['3', '3']);
        assert.deepEqual(shown.open, ['0', '0']);
        assert.deepEqual(shown.revenue, ['22.34', '22.34'], 'exact to the cent');
        assert.deepEqual(shown['cancellation-rate'], ['60.0', '60.0 %']);
        assert.deepEqual(shown['time-to-end-p50'], [expected.p50, `${expected.p50} ms`]);
        assert.deepEqual(shown['time-to-end-p95'], [expected.p95, `${expected.p95} ms`]);
        // The round trip: every event OrderService published on eventstore/orders/… was a QoS 1
        // PUBLISH answered by a PUBACK, so at least that many samples (the last PUBACK may still
        // be on its way); a median no longer than the 95th percentile, both in milliseconds with
        // one decimal.
        await waitInPage(page, `at least ${events.length} answered publishes, one per store event`, (n) =>
          Number(document.querySelector('[data-testid="analytics-round-trip-samples"]')?.dataset.value) >= n, events.length, {
          describe: () => headlines(page).then((h) => JSON.stringify(h['round-trip-samples'])),
        });
        shown = await headlines(page);
        const [p50, p95] = [shown['round-trip-p50'][0], shown['round-trip-p95'][0]];
        assert.match(p50, /^\d+\.\d$/);
        assert.match(p95, /^\d+\.\d$/);
        assert.ok(Number(p50) <= Number(p95) && Number(p95) < FLOW_TIMEOUT_MS, `p50 ${p50} ms, p95 ${p95} ms`);
        assert.equal(shown['round-trip-p50'][1], `${p50} ms`);

        // Each chart is an image named by a sentence, and has the same numbers as a table.
        const charts = await chartsShown(page);
        for (const [name, chart] of Object.entries(charts)) {
          assert.equal(chart.role, 'img', `${name}: role="img"`);
          assert.ok(chart.label && chart.label === chart.title, `${name}: aria-label and <title> say what it shows`);
          assert.ok(chart.bars > 0, `${name}: drawn`);
          assert.ok(chart.rows.length > 0, `${name}: a table of its numbers`);
        }
        const reasons = charts.reasons;
        assert.deepEqual(reasons.headings, ['Reason', 'Orders', 'Share of ended orders']);
        assert.deepEqual(reasons.rows, expected.byReason.map(([r, n, p]) => [r, n, `${p} %`]));
        assert.equal(reasons.label, `Cancellations by reason: 3 orders for ${OVER_LIMIT}.`);
        assert.equal(reasons.bars, 1, 'one bar for the decline rule, whatever the totals');
        const perMinute = charts['per-minute'];
        assert.deepEqual(
          perMinute.rows.filter(([, n]) => n !== '0'),
          expected.perMinute.map(([minute, n]) => [`${minute.slice(0, 10)} ${minute.slice(11, 16)}`, String(n)]),
        );
        const timeToEnd = charts['time-to-end'];
        assert.equal(timeToEnd.rows.reduce((sum, [, n]) => sum + Number(n), 0), 5, 'every ended order in a bin');
        assert.ok(timeToEnd.label.startsWith(`Time from order to end of 5 ended orders: p50 ${expected.p50} ms, p95 ${expected.p95} ms;`), timeToEnd.label);
        // Screen readers reach them: images and tables by name in the accessibility tree.
        for (const name of ['Orders per minute', 'Cancellations by reason', 'Time from order to end']) {
          assert.equal(await page.getByRole('img', { name: new RegExp(`^${name}`) }).count(), 1, `an image named "${name}…"`);
        }
        assert.equal(await page.getByRole('table', { name: 'Cancellations by reason' }).count(), 1);

        // Export: analytics.csv, row for row the figures the witness computed and the round trip shown.
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="analytics-export"]')]);
        assert.equal(download.suggestedFilename(), 'analytics.csv');
        const csv = await readFile(await download.path(), 'utf8');
        shown = await headlines(page);
        const rows = [
          'figure,key,value',
          'orders,,5',
          ...expected.perMinute.map(([minute, n]) => `orders_per_minute,${minute},${n}`),
          'completed,,2',
          'cancelled,,3',
          ...expected.byReason.map(([r, n]) => `cancelled,${r},${n}`),
          'open,,0',
          'revenue,,22.34',
          'cancellation_rate_percent,,60.0',
          ...expected.byReason.map(([r, , p]) => `cancellation_rate_percent,${r},${p}`),
          `time_to_end_p50_ms,,${expected.p50}`,
          `time_to_end_p95_ms,,${expected.p95}`,
          `broker_round_trip_p50_ms,,${shown['round-trip-p50'][0]}`,
          `broker_round_trip_p95_ms,,${shown['round-trip-p95'][0]}`,
          `broker_round_trip_samples,,${shown['round-trip-samples'][0]}`,
          '',
        ];
        assert.equal(csv, rows.join('\r\n'));
      } finally {
        await witness.close();
      }
    }));

  it('an outside order of 1e300 is dead-lettered by each consumer naming the limit; revenue stays exact for the next order', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      const witness = await watchEveryTopic(broker);
      try {
        // The newcomer's break-test: it once stuck revenue at 184467440737095516.15 (2^64 − 1
        // cents) in the panel and the read model, for the rest of the session.
        const huge = '11111111-1111-4111-8111-111111111111';
        await witness.publish('orders/created', JSON.stringify({
          orderId: huge,
          customerId: 'C1',
          items: [{ productId: 'P001', quantity: 1, price: 1e300 }],
          totalAmount: 1e300,
          createdAt: '2026-12-01T10:30:00.000Z',
        }), { qos: 1 });
        const reason = 'payload is not a valid OrderCreated event: `items[0].price` is 1e300, more than 9999999999999.99, '
          + 'the largest amount a message may carry exactly to the cent; send an amount of at most 9999999999999.99';
        const lettersOf = () => witness.messages.filter((m) => m.topic.startsWith('deadletter/') && m.json?.payload?.includes(huge));
        await witness.waitFor(() => lettersOf().length >= 4, FLOW_TIMEOUT_MS, 'the order dead-lettered by its four consumers');
        const letters = lettersOf();
        assert.deepEqual(letters.map((m) => m.topic).sort(), ['deadletter/inventory', 'deadletter/notification', 'deadletter/order', 'deadletter/payment']);
        for (const letter of letters) {
          assert.equal(letter.json.reason, reason, letter.topic);
          assert.equal(letter.json.attempts, 1, 'malformed: not tried again');
        }
        await waitInPage(page, 'four dead letters listed', () => document.querySelectorAll('[data-testid="dead-letter"]').length === 4);
        const shownReasons = await page.$$eval('[data-testid="dead-letter-reason"]', (els) => els.map((e) => e.textContent.trim()));
        assert.ok(shownReasons.every((r) => r.includes('more than 9999999999999.99')), `reasons shown: ${JSON.stringify(shownReasons)}`);

        // A normal order afterwards: revenue is its total, exact, in the panel and the read model.
        const orderId = await placeCompletedOrder(page, witness);
        // No service acted on the huge order: nothing but its own message and the dead letters.
        const acted = witness.messages.filter((m) => (m.json?.orderId === huge || m.topic === `eventstore/orders/${huge}`) && m.topic !== 'orders/created');
        assert.deepEqual(acted, [], 'no service acted on the 1e300 order');
        await panelCountsOneCompleted(page);
        const shown = await headlines(page);
        assert.deepEqual(shown.orders, ['1', '1'], 'the dead-lettered order was never recorded');
        assert.deepEqual(shown.revenue, ['59.98', '59.98'], 'exact to the cent');
        await waitInPage(page, 'the read model answers for the order', () =>
          document.querySelector('[data-testid="query-totals"]')?.textContent === '1 order: 1 completed, 0 cancelled, 0 open; revenue 59.98', null, {
          describe: () => page.textContent('[data-testid="query-totals"]'),
        });
      } finally {
        await witness.close();
      }
    }));

  it('outside amounts that are not whole cents, a total that is not its items\' sum and an amount in quotes are dead-lettered with a reason in words; orders and revenue unchanged', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      const witness = await watchEveryTopic(broker);
      try {
        // The newcomer's break-test: 0.005 was shown as "charged 0.01" and added to revenue
        // rounded; 2 × 10 with a total of 5 completed as "Total 5.00"; and "12.00" in quotes got
        // serde's "invalid type: string "12.00", expected f64".
        const order = (orderId, quantity, price, totalAmount) => JSON.stringify({
          orderId,
          customerId: 'C1',
          items: [{ productId: 'P001', quantity, price }],
          totalAmount,
          createdAt: '2026-12-01T10:30:00.000Z',
        });
        const fraction = '22222222-2222-4222-8222-222222222222';
        const mismatch = '33333333-3333-4333-8333-333333333333';
        const quoted = '44444444-4444-4444-8444-444444444444';
        const payment = JSON.stringify({
          orderId: quoted,
          paymentId: '55555555-5555-4555-8555-555555555555',
          amount: '12.00',
          success: true,
          processedAt: '2026-12-01T10:30:01.000Z',
        });
        const cases = [
          {
            id: fraction,
            topic: 'orders/created',
            payload: order(fraction, 1, 0.005, 0.005),
            consumers: ['inventory', 'notification', 'order', 'payment'],
            reason: 'payload is not a valid OrderCreated event: `items[0].price` is 0.005, not a whole number of cents: send at most two decimals',
          },
          {
            id: mismatch,
            topic: 'orders/created',
            payload: order(mismatch, 2, 10, 5),
            consumers: ['inventory', 'notification', 'order', 'payment'],
            reason: 'payload is not a valid OrderCreated event: `totalAmount` is 5.00, but the items add up to 20.00 '
              + '(quantity × price of each item); send a total equal to that sum',
          },
          {
            id: quoted,
            topic: 'payments/processed',
            payload: payment,
            consumers: ['notification', 'order'],
            reason: 'payload is not a PaymentProcessed event: the text "12.00" where a number is expected (write it without quotes) '
              + `at line 1 column ${payment.indexOf('"12.00"') + '"12.00"'.length}`,
          },
        ];
        for (const c of cases) await witness.publish(c.topic, c.payload, { qos: 1 });

        // On the wire: each consumer's dead letter, at once (malformed), with the reason in words.
        const lettersOf = (id) => witness.messages.filter((m) => m.topic.startsWith('deadletter/') && m.json?.payload?.includes(id));
        for (const c of cases) {
          await witness.waitFor(() => lettersOf(c.id).length >= c.consumers.length, FLOW_TIMEOUT_MS, `${c.topic} ${c.id} dead-lettered by ${c.consumers.join(', ')}`);
          const letters = lettersOf(c.id);
          assert.deepEqual(letters.map((m) => m.topic).sort(), c.consumers.map((s) => `deadletter/${s}`), c.id);
          for (const letter of letters) {
            assert.equal(letter.json.reason, c.reason, `${letter.topic} for ${c.id}`);
            assert.equal(letter.json.attempts, 1, 'malformed: not tried again');
          }
        }
        // On the page: the same reasons, each under its message.
        const total = cases.reduce((n, c) => n + c.consumers.length, 0);
        await waitInPage(page, `${total} dead letters listed`, (n) => document.querySelectorAll('[data-testid="dead-letter"]').length === n, total, {
          describe: () => page.$$eval('[data-testid="dead-letter-reason"]', (els) => JSON.stringify(els.map((e) => e.textContent))),
        });
        const shown = await page.$$eval('[data-testid="dead-letter"]', (els) => els.map((el) => ({
          service: el.dataset.service,
          topic: el.dataset.topic,
          reason: el.querySelector('[data-testid="dead-letter-reason"]').textContent.trim(),
          payload: el.querySelector('[data-testid="dead-letter-payload"]').value,
        })));
        for (const c of cases) {
          const mine = shown.filter((l) => l.payload.includes(c.id));
          assert.deepEqual(mine.map((l) => l.service).sort(), c.consumers, `the page lists ${c.id}'s dead letters`);
          for (const l of mine) {
            assert.equal(l.topic, c.topic);
            assert.equal(l.reason, c.reason, `shown for ${l.service}`);
          }
        }

        // A normal order afterwards: the only row in the Orders panel, and revenue is its total.
        const orderId = await placeCompletedOrder(page, witness);
        const ids = cases.map((c) => c.id);
        const acted = witness.messages.filter((m) => ids.some((id) => m.json?.orderId === id || m.topic === `eventstore/orders/${id}`)
          && !cases.some((c) => c.topic === m.topic && c.payload === m.payload));
        assert.deepEqual(acted.map((m) => m.topic), [], 'no service acted on the three messages');
        await panelCountsOneCompleted(page);
        const figures = await headlines(page);
        assert.deepEqual(figures.orders, ['1', '1'], 'the refused orders were never recorded');
        assert.deepEqual(figures.revenue, ['59.98', '59.98'], 'exact to the cent, nothing rounded added');
        const rows = await page.$$eval('[data-testid="order-row"]', (els) => els.map((el) => el.dataset.orderId));
        assert.deepEqual(rows, [orderId], 'the Orders panel lists the normal order only');
        await waitInPage(page, 'the read model answers for the order', () =>
          document.querySelector('[data-testid="query-totals"]')?.textContent === '1 order: 1 completed, 0 cancelled, 0 open; revenue 59.98', null, {
          describe: () => page.textContent('[data-testid="query-totals"]'),
        });
      } finally {
        await witness.close();
      }
    }));
});
