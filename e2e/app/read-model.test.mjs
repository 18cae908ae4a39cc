// The read side (CQRS): QueryService, its own MQTT client, subscribes to eventstore/orders/+ and
// projects OrderService's events into a read model. With a projection delay its answers are
// stale right after an order (the page shows the lag), then caught up; a rebuild from the event
// store equals the live model, and a rebuild up to a position shows the past. An independent
// witness and the broker's log check the wire.
//
//   node --test e2e/app/read-model.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, brokerQuery, crashService, waitDatabaseRead } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, waitReady, withApp } from '../lib/app-suite.mjs';
import { freePort } from '../lib/broker.mjs';
import { placeOrder, subscribedFilters, waitInPage, watchEveryTopic } from '../lib/saga.mjs';
import { relay } from '../lib/tcp-relay.mjs';

const answerCount = (page) => page.getAttribute('[data-testid="query-answer"]', 'data-count').then(Number);

describeApp('read model', () => {
  it('with ?projection_ms=2000 the answer is stale right after an order and the lag is shown, then it catches up; a rebuild equals the live model, and one up to position 1 shows the past', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&projection_ms=2000&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      const ids = await waitReady(page);
      assert.equal(await page.inputValue('#projection-ms'), '2000', 'the link set the delay');
      const witness = await watchEveryTopic(broker);
      try {
        // QueryService's own client follows the store on the broker.
        assert.deepEqual(subscribedFilters(broker.log(), ids.query), ['eventstore/orders/+']);

        assert.equal(await answerCount(page), 0, 'no order yet');
        const orderId = await placeOrder(page);
        await witness.waitFor((m) => m.topic === `eventstore/orders/${orderId}` && m.json?.type === 'OrderCompleted', FLOW_TIMEOUT_MS, 'the order completed in the store');
        // The store has the order; the read model does not yet: stale, and the lag says so.
        await waitInPage(page, 'the lag shown', () => Number(document.querySelector('[data-testid="query-lag"]')?.dataset.eventsBehind) > 0);
        assert.equal(await answerCount(page), 0, 'stale: the read model has not projected the order yet');
        // A rebuild now differs, but the read model is behind, not wrong: it is left to catch
        // up (a newcomer's break-test: the rebuild "repaired" it and the lag line said caught up).
        await page.click('[data-testid="rebuild"]');
        const behind = page.locator('[data-testid="rebuild-not-replaced"]');
        await behind.waitFor();
        assert.ok(Number(await behind.getAttribute('data-pending')) >= 1, 'events held in the delay');
        assert.match(await behind.textContent(), /^It differs from the live read model because QueryService is still behind: \d+ events? it received wait out its projection delay\. Nothing is missing yet/);
        assert.equal(await answerCount(page), 0, 'still stale: nothing replaced');
        assert.ok(Number(await page.getAttribute('[data-testid="query-lag"]', 'data-events-behind')) > 0, 'the lag line still says behind');
        // Then it catches up: the order, completed, and no lag.
        await waitInPage(page, 'caught up', () => document.querySelector('[data-testid="query-lag"]')?.dataset.eventsBehind === '0', undefined, { timeout: FLOW_TIMEOUT_MS });
        assert.equal(await answerCount(page), 1);
        assert.equal(await page.getAttribute('[data-testid="query-answer-row"]', 'data-order-id'), orderId);
        assert.equal(await page.getAttribute('[data-testid="query-answer-row"]', 'data-status'), 'Completed');
        const totals = await page.textContent('[data-testid="query-totals"]');
        assert.equal(totals, '1 order: 1 completed, 0 cancelled, 0 open; revenue 59.98');

        // Rebuild from the store: equal to the live model.
        await page.click('[data-testid="rebuild"]');
        const result = page.locator('[data-testid="rebuild-result"][data-equals-live="true"]');
        await result.waitFor();
        assert.equal(await page.textContent('[data-testid="rebuild-totals"]'), totals);
        // Dated by its positions, so it stays true as the store grows beside it.
        assert.match(await result.textContent(), /^Rebuilt from the event store, positions 1 to 4 \(the whole store then\): .*It equalled the live read model at that position/);
        // Time travel: up to position 1, the order only just created.
        await page.fill('[data-testid="rebuild-up-to"]', '1');
        await page.click('[data-testid="rebuild"]');
        await page.locator('[data-testid="rebuild-result"][data-position="1"]').waitFor();
        assert.equal(await page.textContent('[data-testid="rebuild-totals"]'), '1 order: 0 completed, 0 cancelled, 1 open; revenue 0.00');
        // A bad position is explained, nothing else changes.
        await page.fill('[data-testid="rebuild-up-to"]', 'soon');
        await page.click('[data-testid="rebuild"]');
        assert.match(await page.textContent('[data-testid="rebuild-error"]'), /"soon" is not a position/);
      } finally {
        await witness.close();
      }
    }));
  // A newcomer's break-test: the first order, placed the moment Place order was enabled, went
  // out before QueryService's SUBSCRIBE reached the broker, and the read model missed it for good.
  it('QueryService slow to subscribe at start-up: the first order waits for it, saying so, and the read model has it', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const port = await freePort();
    // QueryService's way to the same Mosquitto, 4 s late (on a busy machine the tab's
    // database can take 2 s to be read back).
    const slow = await relay(port, broker.wsPort, 4_000);
    const witness = await watchEveryTopic(broker);
    try {
      await withApp(t, `${brokerQuery(broker.wsUrl)}&broker_query=ws://127.0.0.1:${port}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
        for (const service of ['order', 'payment', 'inventory', 'notification']) {
          await page.locator(`[data-testid="status-${service}"][data-state="connected"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
        }
        assert.equal(await page.getAttribute('[data-testid="status-query"]', 'data-state'), 'connecting', 'QueryService is still on its way');
        await waitDatabaseRead(page);
        assert.match(await page.getAttribute('[data-testid="place-order"]', 'data-gate'), /waiting for QueryService to subscribe/, 'QueryService still on its way once the database was read');
        await page.click('[data-testid="place-order"]');
        const said = /OrderService is waiting for QueryService to subscribe, so the order was not placed/;
        await waitInPage(page, `the form says ${said}`, (source) => new RegExp(source).test(document.querySelector('[data-testid="form-error"]')?.textContent ?? ''), said.source);
        // The moment the form takes orders, one goes out: its events reach the read model.
        const orderId = await placeOrder(page);
        await witness.waitFor((m) => m.topic === `eventstore/orders/${orderId}` && m.json?.type === 'OrderCompleted', FLOW_TIMEOUT_MS, 'the order completed in the store');
        const projected = () =>
          document.querySelector('[data-testid="query-lag"]')?.dataset.eventsBehind === '0' &&
          document.querySelector('[data-testid="query-answer"]')?.dataset.count === '1' &&
          document.querySelector('[data-testid="query-answer-row"]')?.dataset.status === 'Completed';
        await waitInPage(page, 'the read model has the first order, completed, and no lag', projected, undefined, {
          timeout: FLOW_TIMEOUT_MS,
          describe: () => page.textContent('[data-testid="query-lag"]'),
        });
      });
    } finally {
      await witness.close();
      await slow.close();
    }
  });
  it('QueryService whose broker never answers does not hold orders back for long: the order goes out and completes', { timeout: CASE_TIMEOUT_MS }, (t) =>
    freePort().then((port) =>
      withApp(t, `${brokerQuery(broker.wsUrl)}&broker_query=ws://127.0.0.1:${port}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
        const orderId = await placeOrder(page);
        await page.locator(`[data-testid="store-stream"][data-stream="${orderId}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.notEqual(await page.getAttribute('[data-testid="status-query"]', 'data-state'), 'connected');
      })));
  it('QueryService crashed: the store grows and the read model does not, the lag grows; restarted with a persistent session, the broker delivers what it queued and the read model catches up', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      await page.click('[data-testid="crash-query"]');
      await page.locator('[data-testid="status-query"][data-crashed="true"]').waitFor();
      const orderId = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${orderId}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      const behind = Number(await page.getAttribute('[data-testid="query-lag"]', 'data-events-behind'));
      assert.ok(behind >= 4, `the read model is behind the store by the order's events (${behind})`);
      assert.equal(await answerCount(page), 0);
      await page.click('[data-testid="restart-query"]');
      await waitInPage(page, 'caught up after the restart', () => document.querySelector('[data-testid="query-lag"]')?.dataset.eventsBehind === '0', undefined, { timeout: FLOW_TIMEOUT_MS });
      assert.equal(await answerCount(page), 1);
      assert.equal(await page.getAttribute('[data-testid="query-answer-row"]', 'data-status'), 'Completed');
      // The outage line counts the store's events published while it was down, and caught up.
      const outage = page.locator('[data-testid="outage"][data-service="query"][data-restarted="true"]');
      await outage.waitFor();
      assert.equal(await outage.getAttribute('data-missed'), String(behind));
      await page.locator(`[data-testid="outage"][data-service="query"][data-caught-up="${behind}"][data-lost="0"]`).waitFor();
    }));
  // A newcomer's break-test: the events QueryService held for its projection delay survived
  // its crash, though each was acknowledged to the broker on arrival.
  it('QueryService crashed while events wait out its projection delay: they are lost with it, its crash line counts them, and a rebuild projects them', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&projection_ms=5000&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      const orderId = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${orderId}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await waitInPage(page, 'QueryService holds the order\'s events', () => Number(document.querySelector('[data-testid="query-lag"]')?.dataset.eventsBehind) >= 4);
      await page.click('[data-testid="crash-query"]');
      await page.click('[data-testid="restart-query"]');
      const line = page.locator('[data-testid="outage"][data-service="query"][data-restarted="true"]');
      await line.waitFor();
      assert.equal(await line.getAttribute('data-work-lost'), '4', 'the four events held for the delay');
      assert.match(await line.textContent(), /The 4 events of the store it held for its projection delay died with it \(acknowledged when they arrived, so the broker does not send them again\): Rebuild projects them from the event store\./);
      // The lag line agrees (a newcomer's break-test, 33-H F2: it said "4 events … not
      // projected yet" for good).
      const held = page.locator('[data-testid="query-lost-in-crash"]');
      await held.waitFor({ timeout: 5_000 });
      assert.match(await held.textContent(), /^ Of the events not projected, 4 were held for its projection delay when QueryService crashed, and died with it \(acknowledged when they arrived, so the broker does not send them again\): they will not come\. Rebuild projects them from the event store\.$/);
      // Not "not projected yet" before "they will not come" (43-AO F5).
      assert.match(await page.textContent('[data-testid="query-lag"]'), /^Behind: 4 events \(\d+ ms\) not projected; at position/);
      // Past the delay, nothing came: the read model does not have the order.
      await page.waitForTimeout(6_000); // the 5 s projection delay, which nothing signals when it passes without a projection
      assert.equal(await answerCount(page), 0, 'lost with the crash');
      // A newer order projected past them (41-AJ F5): the four are missing now, and the line
      // does not say QueryService has not received them; it did, and they died with it.
      await page.fill('#projection-ms', '0');
      await page.dispatchEvent('#projection-ms', 'change');
      const next = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${next}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await waitInPage(page, 'the newer order projected past the four', () => document.querySelector('[data-testid="query-lag"]')?.dataset.skipped === '4' && document.querySelector('[data-testid="query-lag"]')?.dataset.eventsBehind === '4');
      const lagText = (await page.textContent('[data-testid="query-lag"]')) ?? '';
      assert.match(lagText, /^Missing 4 events \(\d+ (ms|s)\) older than position \d+, which it has projected \(the store is at \d+\)\. Of the events not projected, 4 were held for its projection delay when QueryService crashed, and died with it/, lagText);
      assert.doesNotMatch(lagText, /has not received/, lagText);
      await page.click('[data-testid="rebuild"]');
      await page.locator('[data-testid="rebuild-replaced"]').waitFor();
      await waitInPage(page, 'repaired', () => document.querySelector('[data-testid="query-answer"]')?.dataset.count === '2' && document.querySelector('[data-testid="query-lag"]')?.dataset.eventsBehind === '0');
    }));
  it('a loss repaired: with clean sessions QueryService loses what was published while it was down, stays behind, and a rebuild from the store replaces its read model', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&session=clean&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      await page.click('[data-testid="crash-query"]');
      await page.locator('[data-testid="status-query"][data-crashed="true"]').waitFor();
      const orderId = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${orderId}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      // A newcomer's break-test: Rebuild while QueryService was crashed replaced its read model,
      // and the crashed service answered up to date.
      await page.click('[data-testid="rebuild"]');
      await page.locator('[data-testid="rebuild-result"][data-equals-live="false"]').waitFor();
      const crashedThen = /QueryService was crashed, so its read model was left as it is\. Restart it if it still is, then Rebuild again/;
      assert.match(await page.textContent('[data-testid="rebuild-not-replaced"]'), crashedThen);
      assert.equal(await answerCount(page), 0, 'the crashed service\'s read model is as it was');
      await page.click('[data-testid="restart-query"]');
      await page.locator('[data-testid="outage"][data-service="query"][data-restarted="true"][data-caught-up="0"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      // The result keeps the reason it had (40-AD F2: after Restart it said "a recording is
      // shown", with none shown).
      assert.match(await page.textContent('[data-testid="rebuild-not-replaced"]'), crashedThen);
      assert.ok(Number(await page.getAttribute('[data-testid="query-lag"]', 'data-events-behind')) >= 4, 'lost: still behind');
      // Once the crash line says they are lost, so does the lag line (a newcomer's break-test:
      // it said "not projected yet" beside a crash line saying "4 lost").
      await page.locator('[data-testid="outage"][data-service="query"][data-settled="true"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      const lostLine = page.locator('[data-testid="query-lost-in-crash"]');
      await lostLine.waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.match(await lostLine.textContent(), /^ Of the events not projected, \d+ were appended while QueryService was down, and its crash lost what was published for it meanwhile \(\d+, its crash line says\): they will not come\. Rebuild projects them from the event store\.$/);
      assert.equal(await answerCount(page), 0);
      await page.click('[data-testid="rebuild"]');
      await page.locator('[data-testid="rebuild-result"][data-equals-live="false"]').waitFor();
      assert.match(await page.textContent('[data-testid="rebuild-replaced"]'), /QueryService now answers from the rebuilt one/);
      await waitInPage(page, 'caught up after the repair', () => document.querySelector('[data-testid="query-lag"]')?.dataset.eventsBehind === '0');
      assert.equal(await lostLine.count(), 0, 'repaired: nothing said lost');
      assert.equal(await answerCount(page), 1);
      assert.equal(await page.textContent('[data-testid="query-totals"]'), '1 order: 1 completed, 0 cancelled, 0 open; revenue 59.98');
    }));

  // 41-AH F4: the delay lowered while an order's events waited out the old one: the next
  // order, projected at once, left them older than its position, and the lag line called them
  // missing ("will not come") though they came by themselves.
  it('a projection delay lowered while events wait out the old one: the lag line says they wait, not that they are missing, and they come', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&projection_ms=6000&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      const first = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${first}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await page.fill('#projection-ms', '0');
      await page.dispatchEvent('#projection-ms', 'change');
      const second = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${second}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await waitInPage(page, 'the second order projected past the first', () => /^Not projected: 4 events/.test(document.querySelector('[data-testid="query-lag"]')?.textContent ?? ''));
      const text = (await page.textContent('[data-testid="query-lag"]')) ?? '';
      assert.match(text, /; they wait out the projection delay they arrived with, longer than that of the events after them, and come by themselves\./, text);
      assert.doesNotMatch(text, /Missing|will not/, text);
      await waitInPage(page, 'caught up once the old delay is over', () => /^Caught up: projected to position 8 of 8\.$/.test(document.querySelector('[data-testid="query-lag"]')?.textContent ?? ''), undefined, { timeout: 15_000 });
    }));

  // 41-AH F5: events lost in a clean-session crash, and one order waiting out the delay: Rebuild
  // said "Nothing is missing yet … it catches up by itself" beside a lag line saying the lost
  // ones will not come, and left the read model without them.
  it('Rebuild while events wait out the delay but others were lost: the read model is replaced, not left to catch up', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&session=clean&projection_ms=8000&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      await crashService(page, 'query');
      const lost = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${lost}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await page.click('[data-testid="restart-query"]');
      await page.locator('[data-testid="outage"][data-service="query"][data-restarted="true"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      await waitReady(page);
      const waiting = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${waiting}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await page.click('[data-testid="rebuild"]');
      await page.locator('[data-testid="rebuild-result"][data-equals-live="false"]').waitFor();
      assert.equal(await page.locator('[data-testid="rebuild-not-replaced"]').count(), 0, 'not left as it was');
      assert.match(await page.textContent('[data-testid="rebuild-replaced"]'), /QueryService now answers from the rebuilt one/);
      await waitInPage(page, 'both orders in the read model', () => document.querySelector('[data-testid="query-totals"]')?.textContent === '2 orders: 2 completed, 0 cancelled, 0 open; revenue 119.96');
    }));

  it('events skipped for good are said as such: after a loss, a newer order projected leaves the lost ones older than its position, and the lag line says they may never come', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&session=clean&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      await page.click('[data-testid="crash-query"]');
      await page.locator('[data-testid="status-query"][data-crashed="true"]').waitFor();
      const lost = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${lost}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await page.click('[data-testid="restart-query"]');
      await page.locator('[data-testid="outage"][data-service="query"][data-restarted="true"][data-caught-up="0"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      await waitReady(page);
      const next = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${next}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      // The newer order's events are projected; the lost one's are older than them.
      await waitInPage(page, 'the newer order projected', () => {
        const lag = document.querySelector('[data-testid="query-lag"]')?.dataset;
        return lag && lag.skipped === lag.eventsBehind && Number(lag.skipped) >= 4;
      });
      const text = (await page.textContent('[data-testid="query-lag"]')) ?? '';
      const [, position, head] = text.match(/older than position (\d+), which it has projected \(the store is at (\d+)\)/) ?? [];
      assert.ok(position, `the lag line says which events are skipped: "${text}"`);
      assert.equal(position, head, 'the newest event is projected');
      assert.match(text, /^Missing \d+ events \(\d+ ms\) older than position/);
      assert.match(text, /will not if it was not subscribed when they were published\. Rebuild projects them/);
      assert.doesNotMatch(text, /not projected yet; at position/, 'not the self-contradicting "Behind … at position N of N"');
      // Its crash line has counted them lost: the lag line says they will not come, missing or
      // not (33-H F2: nothing was said once a newer order made them "missing").
      await page.locator('[data-testid="outage"][data-service="query"][data-settled="true"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      await page.locator('[data-testid="query-lost-in-crash"]').waitFor({ timeout: 5_000 });
      assert.match(await page.textContent('[data-testid="query-lost-in-crash"]'), /^ Of the events not projected, \d+ were appended while QueryService was down, and its crash lost what was published for it meanwhile \(\d+, its crash line says\): they will not come\./);
    }));

  // A newcomer's break-test: version 2 of a stream published by hand before its version 1.
  // QueryService held it and applied it when version 1 came; the panel's copy of the read model
  // never held it: "Caught up" with nothing held, then the order Pending at version 1 for good.
  it('an event that arrives before the version it follows is held, the lag line says which, and it is applied when the gap fills', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      const orderId = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${orderId}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await waitInPage(page, 'caught up at 4', () => /^Caught up: projected to position 4 of 4\.$/.test(document.querySelector('[data-testid="query-lag"]')?.textContent ?? ''));
      const stream = '55555555-5555-5555-5555-555555555555';
      const event = (position, version, type, data) => JSON.stringify({ position, stream, version, type, schema: 3, recordedAt: '2026-12-02T09:20:01.000Z', data });
      const witness = await watchEveryTopic(broker);
      try {
        await witness.publish(`eventstore/orders/${stream}`, event(6, 2, 'OrderCancelled', { reason: 'payment declined' }), { qos: 1 });
        const held = page.locator('[data-testid="query-lag"][data-held="1"]');
        await held.waitFor();
        assert.equal(
          ((await held.textContent()) ?? '').trim(),
          `Caught up: projected to position 4 of 4. Holding 1 event that arrived before the version it follows: OrderCancelled (version 2 of order-${stream}, position 6) waits for version 1. Each is projected as soon as the version it waits for arrives. If that never comes (published while QueryService was not subscribed, lost by a broker that restarted, or dropped by the broker, e.g. over its message size limit: the broker's log says so), Rebuild projects the order from the event store.`,
        );
        assert.equal(await page.textContent('[data-testid="query-totals"]'), '1 order: 1 completed, 0 cancelled, 0 open; revenue 59.98', 'nothing applied yet');

        await witness.publish(`eventstore/orders/${stream}`, event(5, 1, 'OrderCreated', { customerId: 'FAKE', items: [], totalAmount: 7 }), { qos: 1 });
        await page.locator('[data-testid="query-lag"][data-held="0"]').waitFor();
        assert.equal(await page.textContent('[data-testid="query-totals"]'), '2 orders: 1 completed, 1 cancelled, 0 open; revenue 59.98', 'the held cancellation applied with its creation');
        await page.fill('[data-testid="query-customer"]', 'FAKE');
        const row = page.locator(`[data-testid="query-answer-row"][data-order-id="${stream}"]`);
        await row.waitFor();
        assert.equal(await row.getAttribute('data-status'), 'Cancelled');
        assert.equal(((await row.locator('td').last().textContent()) ?? '').trim(), '2', 'at version 2');
        // No id typed: a hint, not "0 orders" (a newcomer's break-test read it as an answer).
        await page.fill('[data-testid="query-customer"]', '');
        await page.locator('[data-testid="query-hint"]').waitFor();
        assert.equal(await page.locator('[data-testid="query-answer"]').count(), 0);
        // Events the store does not hold: the lag line says so, naming both (44-AS F4).
        assert.match((await page.textContent('[data-testid="query-lag"]')) ?? '', /^The read model holds events the store does not \(positions 5, 6; the store is at 4\)/);

        // 41-AH F11: a later version at a lower position, held until its version 1 came, was
        // projected; no store appends an order's versions like that. Refused, and said.
        const low = '12121212-0000-4000-8000-000000000001';
        const at = (position, version, type, data) => JSON.stringify({ position, stream: low, version, type, schema: 3, recordedAt: '2026-12-02T09:20:02.000Z', data });
        await witness.publish(`eventstore/orders/${low}`, at(49, 2, 'OrderCancelled', { reason: 'by hand' }), { qos: 1 });
        await page.locator('[data-testid="query-lag"][data-held="1"]').waitFor();
        await witness.publish(`eventstore/orders/${low}`, at(50, 1, 'OrderCreated', { customerId: 'LOW', items: [], totalAmount: 3 }), { qos: 1 });
        const refused = page.locator('[data-testid="query-lag"][data-held="0"][data-not-projected="1"]');
        await refused.waitFor();
        assert.match((await refused.textContent()) ?? '', new RegExp(`OrderCancelled \\(version 2 of order-${low}, position 49\\): refused: version 2 at position 49, not after version 1 of that order at position 50, and a store appends an order's versions at rising positions`));
        assert.equal(await page.textContent('[data-testid="query-totals"]'), '3 orders: 1 completed, 1 cancelled, 1 open; revenue 59.98', 'the made-up order at version 1, open');
      } finally {
        await witness.close();
      }
    }));

  // A break-test (43-AN F1): one event forged far past the store, then a real order whose
  // events wait out the projection delay: the line said only that the read model held events
  // the store does not, and counted the 4 waiting as skipped.
  it('an event forged far past the store: the lag line still says how far the read model is behind the store\'s own events', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0&projection_ms=3000`, async ({ page }) => {
      await waitReady(page);
      const stream = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
      const witness = await watchEveryTopic(broker);
      try {
        await witness.publish(`eventstore/orders/${stream}`, JSON.stringify({ position: 999999, stream, version: 1, type: 'OrderCreated', schema: 3, recordedAt: '2026-12-07T10:00:00.000Z', data: { customerId: 'EVIL', items: [{ productId: 'P001', quantity: 1, price: 1000 }], totalAmount: 1000, saga: 'parallel' } }), { qos: 1 });
        const ahead = /^The read model holds events the store does not \(position 999999; the store is at (\d+)\)/;
        await waitInPage(page, 'the forged event projected', (pattern) => new RegExp(pattern).test(document.querySelector('[data-testid="query-lag"]')?.textContent ?? ''), ahead.source);
        const id = await placeOrder(page);
        await page.locator(`[data-testid="store-stream"][data-stream="${id}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
        // Its 4 events wait out the 3 s delay: behind, not skipped.
        const behind = page.locator('[data-testid="query-lag"][data-events-behind="4"]');
        await behind.waitFor();
        const text = ((await behind.textContent()) ?? '').trim();
        assert.match(text, ahead, text);
        assert.match(text, /Of the store's own events: Behind: 4 events \(\d+ ms\) not projected yet; at position 0 of 4\./, text);
        assert.equal(await behind.getAttribute('data-skipped'), '0', 'waiting out the delay, not skipped');
        // Then projected: caught up with the store's own.
        await waitInPage(page, 'caught up with the store', () => /Of the store's own events: Caught up: projected to position 4 of 4\.$/.test(document.querySelector('[data-testid="query-lag"]')?.textContent?.trim() ?? ''));
      } finally {
        await witness.close();
      }
    }));

  // A newcomer's break-test: a made-up order published at the positions the store uses next,
  // then a real order at those positions: the panel said "Caught up: projected to position 8 of
  // 8" with the made-up order's 1000.00 in the read model's revenue, and no word.
  it('a made-up order at the positions the store uses next: the store\'s own events there are refused, and the lag line says the read model took a stranger at their place', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      const first = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${first}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await waitInPage(page, 'caught up at 4', () => /^Caught up: projected to position 4 of 4\.$/.test(document.querySelector('[data-testid="query-lag"]')?.textContent ?? ''));
      const stream = '11111111-2222-4333-8444-555555555555';
      const event = (position, version, type, data) => JSON.stringify({ position, stream, version, type, schema: 3, recordedAt: '2026-12-03T07:20:00.000Z', data });
      const witness = await watchEveryTopic(broker);
      try {
        await witness.publish(`eventstore/orders/${stream}`, event(5, 1, 'OrderCreated', { customerId: 'FORGED', items: [{ productId: 'P001', quantity: 1, price: 1000 }], totalAmount: 1000 }), { qos: 1 });
        await witness.publish(`eventstore/orders/${stream}`, event(6, 2, 'OrderCompleted', {}), { qos: 1 });
        await waitInPage(page, 'the stranger projected', () => /^The read model holds events the store does not \(positions 5, 6; the store is at 4\)/.test(document.querySelector('[data-testid="query-lag"]')?.textContent ?? ''));
        const second = await placeOrder(page);
        await page.locator(`[data-testid="store-stream"][data-stream="${second}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
        // The store's events at positions 5 and 6 are refused: the line says whose they are.
        const line = page.locator('[data-testid="query-lag"][data-not-projected="2"]');
        await line.waitFor({ timeout: FLOW_TIMEOUT_MS });
        const text = ((await line.textContent()) ?? '').trim();
        // 43-AP F2: the stranger's positions are not the store's own: it is at position 4 of 8,
        // 4 behind (it said "at position 6 of 8", 2 behind), and the two refused are not "not
        // projected yet".
        assert.match(text, /^The read model holds events the store does not \(positions 5, 6, where the store holds other events\)/, text);
        assert.match(text, /Of the store's own events: Behind: 4 events \(\d+ ms\) not projected; at position 4 of 8\. Of the events after position 4, 2 arrived at positions where the read model applied another event, and were refused/, text);
        assert.equal(await line.getAttribute('data-events-behind'), '4', text);
        assert.doesNotMatch(text, /^Caught up/, text);
        assert.match(text, new RegExp(`OrderCreated \\(version 1 of order-${second}, position 5\\): refused: position 5 was projected before, from another event \\(version 1 of order-${stream}\\)`), text);
        assert.match(text, /This page's event store holds the event refused: what the read model took at its place before is in no store of this page/, text);
        assert.doesNotMatch(text, /This page's event store does not hold (it|them)/, 'the refused events are the store\'s own');
        // Rebuild projects the store's own events: both real orders, no stranger.
        await page.click('[data-testid="rebuild"]');
        await waitInPage(page, 'rebuilt', () => document.querySelector('[data-testid="query-totals"]')?.textContent === '2 orders: 2 completed, 0 cancelled, 0 open; revenue 119.96');
        // And the line no longer says the store's events are not projected: they are now.
        await page.locator('[data-testid="query-lag"][data-not-projected="0"]').waitFor();
        const after = ((await page.textContent('[data-testid="query-lag"]')) ?? '').trim();
        assert.equal(after, 'Caught up: projected to position 8 of 8.');
        // 41-AH F1: a version the second order has, at a position the read model applied
        // another event at (the first order's version 2): no redelivery, refused and named
        // (it was ignored without a word as a duplicate, the line still "Caught up").
        const forged = JSON.stringify({ position: 2, stream: second, version: 2, type: 'PaymentFailed', schema: 3, recordedAt: '2026-12-07T04:20:00.000Z', data: { paymentId: 'aaaaaaaa-0000-4000-8000-0000000000aa', reason: 'forged decline' } });
        await witness.publish(`eventstore/orders/${second}`, forged, { qos: 1 });
        const refused = page.locator('[data-testid="query-lag"][data-not-projected="1"]');
        await refused.waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.match(
          ((await refused.textContent()) ?? '').trim(),
          new RegExp(`PaymentFailed \\(version 2 of order-${second}, position 2\\): refused: version 2 of that order was projected before, from another event \\(position 2 is not the one it had\\)`),
        );
      } finally {
        await witness.close();
      }
    }));

  // A newcomer's break-test: "500 orders, answered from the read model" above a table of 50
  // rows, and nothing said of the rest.
  // And the Event store panel listed the newest 50 streams, the rest only counted: the first
  // order of a class could not be opened to rewind.
  it('an answer longer than the table says how many rows it draws; a stream older than the store\'s list opens by its order id', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      const first = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${first}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      for (let burst = 0; burst < 6; burst++) {
        await page.click('[data-testid="place-ten"]');
        await page.locator('[data-testid="place-ten"][data-ready="true"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      }
      await waitInPage(page, '61 orders completed in the read model', () => /^61 orders: 61 completed/.test(document.querySelector('[data-testid="query-totals"]')?.textContent ?? ''));
      await page.selectOption('[data-testid="query-kind"]', 'Completed');
      await page.locator('[data-testid="query-answer"][data-count="61"]').waitFor();
      assert.equal(await page.textContent('[data-testid="query-answer-shown"]'), 'The table shows the newest 50; the other 11 are in the count above.');
      assert.equal(await page.locator('[data-testid="query-answer-row"]').count(), 50);

      // The panel, out of sight, is drawn again at most once a second: awaited.
      await waitInPage(page, 'the store list drawn', () => document.querySelector('[data-testid="store-older"]')?.textContent === 'and 11 older streams: open one by its order id below.');
      assert.equal(await page.locator(`[data-testid="store-stream"][data-stream="${first}"]`).count(), 0, 'the first order is past the list');
      await page.fill('[data-testid="store-open"]', 'not-an-id');
      await page.dispatchEvent('[data-testid="store-open"]', 'change');
      await page.locator('[data-testid="store-open-error"]').waitFor();
      await page.fill('[data-testid="store-open"]', `order-${first}`);
      await page.dispatchEvent('[data-testid="store-open"]', 'change');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="store-event"]').length === 4);
      assert.equal(await page.locator('[data-testid="store-open-error"]').count(), 0, 'the error goes');
      // An id the store does not hold: the error, and not the stream shown before under it as
      // if it were the answer (43-AO F8).
      await page.fill('[data-testid="store-open"]', 'aaaaaaaa-1111-4222-8333-444444444444');
      await page.dispatchEvent('[data-testid="store-open"]', 'change');
      await page.locator('[data-testid="store-open-error"]').waitFor();
      assert.equal(await page.locator('[data-testid="store-event"]').count(), 0, 'no stream under the error');
    }));

  // A tester's break-test: with the store at position 4 (one order, completed), a version 5 of
  // the order (an OrderCancelled after its OrderCompleted) published by hand at position 9999,
  // then at 5, then one of 240 KB and one of 400 KB (over the page's 256 KiB limit): the panel
  // still said "Caught up: projected to position 4 of 4.", with no dead letter and nothing on
  // the page. QueryService refused the first three and skipped the last unread, in its own log,
  // which the page does not show.
  it('events QueryService does not project say why in the lag line: a version after the order\'s end, at any position and any size, and one over the page\'s size limit', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      const orderId = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${orderId}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await waitInPage(page, 'caught up at 4', () => /^Caught up: projected to position 4 of 4\.$/.test(document.querySelector('[data-testid="query-lag"]')?.textContent ?? ''));
      const topic = `eventstore/orders/${orderId}`;
      const event = (position, reason = 'by hand') => JSON.stringify({ position, stream: orderId, version: 5, type: 'OrderCancelled', schema: 3, recordedAt: '2026-12-02T09:37:10.000Z', data: { reason } });
      const lagLine = async (count) => {
        const lag = page.locator(`[data-testid="query-lag"][data-not-projected="${count}"]`);
        await lag.waitFor();
        return ((await lag.textContent()) ?? '').trim();
      };
      const witness = await watchEveryTopic(broker);
      try {
        await witness.publish(topic, event(9999), { qos: 1 });
        await witness.publish(topic, event(5), { qos: 1 });
        const refused = (position) => `OrderCancelled (version 5 of order-${orderId}, position ${position}): refused: the order is already Completed`;
        assert.equal(
          await lagLine(2),
          `Caught up: projected to position 4 of 4. Not projected, 2 events: ${refused(9999)}; ${refused(5)}. This page's event store does not hold them: something other than this page's OrderService published them on eventstore/orders/… (another page on the same topics, or a client by hand), and the read model ignores them.`,
        );
        assert.ok(await page.locator('[data-testid="query-lag"].behind').count(), 'marked as the lag is');

        // Large ones: 240 KB is read and refused as the others; 400 KB is skipped unread.
        await witness.publish(topic, event(6, 'x'.repeat(240_000)), { qos: 1 });
        await witness.publish(topic, event(7, 'x'.repeat(400_000)), { qos: 1 });
        const line = await lagLine(4);
        assert.ok(line.startsWith(`Caught up: projected to position 4 of 4. Not projected, 4 events: 1 older not named; ${refused(5)}; ${refused(6)}; a message of 400 KB on ${topic} exceeds this page's 256 KiB limit: skipped unread.`), line);
        assert.ok(line.endsWith('OrderService never publishes an event that large: publish a smaller one.'), line);
        assert.equal(await page.textContent('[data-testid="query-totals"]'), '1 order: 1 completed, 0 cancelled, 0 open; revenue 59.98', 'nothing of them applied');
      } finally {
        await witness.close();
      }
    }));

  // A newcomer's break-test: an OrderCancelled at version 7 of an order completed at version 4
  // was held, "waits for version 5. Each is projected as soon as the version it waits for
  // arrives", but version 5 of an ended order is refused: a promise nothing could keep.
  it('an event that would end an ended order again, past a gap in its versions, is not held but refused, and the lag line names it', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      const orderId = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${orderId}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      await waitInPage(page, 'caught up at 4', () => /^Caught up: projected to position 4 of 4\.$/.test(document.querySelector('[data-testid="query-lag"]')?.textContent ?? ''));
      const witness = await watchEveryTopic(broker);
      try {
        const stray = JSON.stringify({ position: 10001, stream: orderId, version: 7, type: 'OrderCancelled', schema: 3, recordedAt: '2026-12-02T10:00:00.000Z', data: { reason: 'evil' } });
        await witness.publish(`eventstore/orders/${orderId}`, stray, { qos: 1 });
        const lag = page.locator('[data-testid="query-lag"][data-not-projected="1"]');
        await lag.waitFor();
        assert.equal(await lag.getAttribute('data-held'), '0', 'nothing held');
        assert.equal(
          ((await lag.textContent()) ?? '').trim(),
          `Caught up: projected to position 4 of 4. Not projected, 1 event: OrderCancelled (version 7 of order-${orderId}, position 10001): refused: the order is already Completed at version 4, and an ended order does not end again, whatever versions come between. This page's event store does not hold it: something other than this page's OrderService published it on eventstore/orders/… (another page on the same topics, or a client by hand), and the read model ignores it.`,
        );
        assert.equal(await page.textContent('[data-testid="query-totals"]'), '1 order: 1 completed, 0 cancelled, 0 open; revenue 59.98', 'nothing of it applied');
      } finally {
        await witness.close();
      }
    }));

  it('a bad projection delay is explained next to its field, and the delay in use stays', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&projection_ms=500`, async ({ page }) => {
      await waitReady(page);
      await page.fill('#projection-ms', '-5');
      await page.dispatchEvent('#projection-ms', 'change');
      const error = page.locator('[data-testid="read-model"] [data-testid="projection-error"]');
      await error.waitFor();
      // Two sentences: the reason ends with its full stop (it read "…from 0 to 60000 The delay…").
      assert.equal(((await error.textContent()) ?? '').trim(), 'Projection delay: "-5" is not a projection delay: use whole milliseconds from 0 to 60000. The delay in use is still 500 ms.');
    }));

  // A newcomer's break-test: up to position 99999 with 4 events in the store rebuilt the whole
  // store and said only "Rebuilt from the event store, from position 0".
  it('a rebuild up to a position past the store\'s end says how many events the store holds and that it rebuilt up to the last', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      const orderId = await placeOrder(page);
      await page.locator(`[data-testid="store-stream"][data-stream="${orderId}"][data-status="Completed"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      const head = await page.getAttribute('[data-testid="store-summary"]', 'data-head');
      assert.equal(head, '4', 'one completed order: four events');
      await page.fill('[data-testid="rebuild-up-to"]', '99999');
      await page.click('[data-testid="rebuild"]');
      const result = page.locator('[data-testid="rebuild-result"]');
      await result.waitFor();
      assert.equal(await result.getAttribute('data-position'), '4');
      assert.equal(
        ((await result.locator('p').first().textContent()) ?? '').trim(),
        'The store holds 4 events, so position 99999 is past its end: rebuilt from the event store up to position 4, the whole store: 1 order: 1 completed, 0 cancelled, 0 open; revenue 59.98.',
      );
      assert.equal(await result.getAttribute('data-equals-live'), 'true', 'the whole store: compared with the live model');
    }));

  // A newcomer's link: the Read model's message repeated, word for word, every saga, payment
  // and decline error the Saga and failures panel already showed. Each panel names its own.
  it('a link with several bad values: the projection delay is explained in the Read model alone, the saga\'s values under Saga and failures alone', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&saga=chaos&payment=sometimes&decline_pct=150&projection_ms=NaN`, async ({ page }) => {
      await waitReady(page);
      const projection = page.locator('[data-testid="read-model"] [data-testid="projection-error"]');
      const flow = page.locator('[data-testid="flow-error"]');
      await projection.waitFor();
      await flow.waitFor();
      const own = ((await projection.textContent()) ?? '').trim();
      assert.equal(own, 'Ignored ?projection_ms= in the link: "NaN" is not a projection delay: use whole milliseconds from 0 to 60000. The delay in use is still 0 ms.');
      const saga = ((await flow.textContent()) ?? '').trim();
      for (const key of ['?saga=', '?payment=', '?decline_pct=']) assert.ok(saga.includes(key), `${key} under Saga and failures: ${saga}`);
      assert.ok(!saga.includes('projection'), `the Read model's field is not repeated under Saga and failures: ${saga}`);
      assert.equal(await page.inputValue('#projection-ms'), '0', 'the default delay in use');
    }));
});
