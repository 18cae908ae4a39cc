// The saga's settings: failure settings carried by a copied link reproduce an order's outcome
// in a fresh page; the style changed in the page changes the address, the text, the
// subscriptions and the next order's wire; bad settings in the link are named and ignored; a
// recording of a declined order replays its saga in the Orders panel with no broker. The wire
// is checked by an independent witness subscribed to `#`. Failures on the wire: saga.test.mjs.
//
//   node --test e2e/app/saga-settings.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, brokerQuery, crashService, escapeRegExp, waitForNotifications, waitForStates } from '../lib/app-page.mjs';
import { ARTIFACTS, CASE_TIMEOUT_MS, broker, describeApp, server, waitReady, withApp } from '../lib/app-suite.mjs';
import { freePort } from '../lib/broker.mjs';
import { HAPPY_WIRE, expectOneOutcome, placeOrder, readRow, stockShown, waitForRow, waitInPage, watchEveryTopic, wireOf } from '../lib/saga.mjs';

const OVER_LIMIT = 'payment declined: the total 59.98 is over the limit of 50.00';

/** Types `text` in a field whose value goes out on change. */
async function typeSetting(page, selector, text) {
  await page.fill(selector, text);
  await page.dispatchEvent(selector, 'change');
}

const linkParam = (page, key) => new URL(page.url()).searchParams.get(key);

const waitForStock = (page, units) =>
  waitInPage(page, `the stock panel shows P001: ${units}`, (n) => document.querySelector('[data-testid="stock-level"][data-product="P001"]')?.dataset.units === n, units, {
    describe: () => stockShown(page, 'P001'),
  });

/**
 * Places the form's order on a ready page and follows it to its outcome on the wire, and then to
 * `last` (a compensation that follows the outcome, e.g. `inventory/released`), if given: the
 * wire returned is then the order's whole story, not as much of it as had come.
 */
async function orderToOutcome(page, outcome, last = null) {
  const witness = await watchEveryTopic(broker);
  try {
    const orderId = await placeOrder(page);
    const message = await witness.waitForOrder(outcome, orderId, FLOW_TIMEOUT_MS);
    if (last) await witness.waitForOrder(last, orderId, FLOW_TIMEOUT_MS);
    await expectOneOutcome(witness, orderId, outcome);
    return { orderId, message, wire: wireOf(witness, orderId) };
  } finally {
    await witness.close();
  }
}

describeApp('saga settings', () => {
  it('shared link: failure settings from the link and from the page, copied and opened in a fresh page, give the same outcome for the same order', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    let link;
    let first;
    await withApp(t, `${brokerQuery(broker.wsUrl)}&saga=choreography`, async ({ page }) => {
      await waitReady(page);
      await typeSetting(page, '#decline-over', '50');
      await typeSetting(page, '#stock-levels', 'P001:5');
      await waitInPage(page, 'the address holds decline_over=50.00 and stock=P001:5', () => {
        const params = new URL(location.href).searchParams;
        return params.get('decline_over') === '50.00' && params.get('stock') === 'P001:5';
      }, null, { describe: () => page.url() });
      await waitForStock(page, '5');

      first = await orderToOutcome(page, 'orders/cancelled', 'inventory/released');
      assert.equal(first.message.json.reason, OVER_LIMIT);
      const row = await waitForRow(page, first.orderId, 'Cancelled', { compensations: 1 });
      assert.equal(row.reason, OVER_LIMIT);
      // Reserved (5 → 3), then released: back to 5.
      await waitForStock(page, '5');

      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      await page.click('[data-testid="copy-link"]');
      await page.locator('[data-testid="link-copied"]').waitFor({ state: 'visible' });
      link = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(link, page.url(), 'the copied link is the address with the settings');
    });

    assert.ok(link.startsWith(server.url), link);
    await withApp(t, link.slice(server.url.length), async ({ page }) => {
      await waitReady(page);
      assert.equal(await page.inputValue('#saga-style'), 'choreography');
      assert.equal(await page.inputValue('#decline-over'), '50.00');
      assert.equal(await page.inputValue('#stock-levels'), 'P001:5');
      assert.equal(await stockShown(page, 'P001'), '5');
      const again = await orderToOutcome(page, 'orders/cancelled', 'inventory/released');
      assert.equal(again.message.json.reason, first.message.json.reason, 'the same reason');
      assert.deepEqual(again.wire, first.wire, 'the same messages, in the same order');
      const row = await waitForRow(page, again.orderId, 'Cancelled', { compensations: 1 });
      assert.equal(row.reason, OVER_LIMIT);
      assert.deepEqual(row.compensations, ['↺ stock released']);
    });
  });

  it('style picked in the page: orchestration goes into the address, its trade-off is shown, the subscriptions change and the next order is orchestrated', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      const ids = await waitReady(page);
      const tradeOff = () => page.textContent('[data-testid="saga-trade-off"]');
      const commandEdges = '[data-testid="flow-edge"][data-topic^="commands/"]';
      const parallelText = await tradeOff();
      assert.equal(await page.locator(commandEdges).count(), 0, 'no command edges in parallel');
      assert.equal(linkParam(page, 'saga'), null);

      await page.selectOption('#saga-style', 'orchestration');
      await waitInPage(page, 'saga=orchestration in the address', () => new URL(location.href).searchParams.get('saga') === 'orchestration', null, {
        describe: () => page.url(),
      });
      const orchestrationText = await tradeOff();
      assert.notEqual(orchestrationText, parallelText, 'the trade-off text follows the style');
      assert.match(orchestrationText, /OrderService tells each service what to do with a command/);
      await page.locator(commandEdges).first().waitFor({ state: 'attached' });

      // PaymentService and InventoryService leave orders/created for their commands.
      for (const [service, command] of [['payment', 'commands/payment/charge'], ['inventory', 'commands/inventory/reserve']]) {
        const id = escapeRegExp(ids[service]);
        await broker.waitForLog(new RegExp(`^\\d+: ${id} [012] ${escapeRegExp(command)}$`, 'm'), 10_000);
        await broker.waitForLog(new RegExp(`Received UNSUBSCRIBE from ${id}\\n(?:\\d+: .*\\n)*?\\d+: ${id} orders/created$`, 'm'), 10_000);
      }

      const { orderId, wire } = await orderToOutcome(page, 'orders/confirmed');
      assert.deepEqual(wire, HAPPY_WIRE.orchestration, 'the order after the change is orchestrated');
      await waitForRow(page, orderId, 'Completed');
    }));

  // A newcomer's break-test: a reload of the tab into another style (its client ids, and so its
  // persistent sessions, are the tab's) left the broker's kept subscriptions of the old style in
  // place: PaymentService went on receiving orders/created and orders/cancelled, each refused in
  // red as a topic it "does not subscribe to".
  it("a reload into another style with persistent sessions: what the kept sessions held of the old style is unsubscribed, and the next order's messages of the old style no longer reach PaymentService", { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&saga=parallel&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      await waitForRow(page, await placeOrder(page), 'Completed');
      // The same tab, another style: the same client ids, sessions kept by the broker.
      await page.goto(`${server.url}${brokerQuery(broker.wsUrl)}&saga=orchestration&payment_ms=0&inventory_ms=0`);
      await waitReady(page);
      const witness = await watchEveryTopic(broker);
      try {
        // orders/created: PaymentService follows it in the parallel style only.
        const stray = await placeOrder(page);
        await witness.waitForOrder('orders/confirmed', stray, FLOW_TIMEOUT_MS);
        await waitForRow(page, stray, 'Completed');
        // No refusal of this order's messages in PaymentService's log. (What the broker had
        // queued for the kept session while the page reloaded still comes, once.)
        const refused = await page.$$eval('[data-testid="log-entry"][data-service="payment"]', (entries, id) =>
          entries.map((e) => e.textContent).filter((text) => text.includes(id) && /does not subscribe to/.test(text)), stray);
        assert.deepEqual(refused, [], 'nothing of the parallel style reached PaymentService');
        assert.deepEqual(wireOf(witness, stray).filter((topic) => topic.startsWith('commands/payment')), ['commands/payment/charge'], 'charged by command');
      } finally {
        await witness.close();
      }
    }));
  // A newcomer's break-test: a reload while the switch waited for a saga started the page in
  // the new style at once, and the saga begun in parallel was finished (cancelled,
  // compensated) with orchestration's commands. Then the link named the style only once the
  // services followed it, and a reload meanwhile dropped the choice without a word (44-AQ F7).
  // Now the link names the choice at once, and a reload finishes the saga in its own style,
  // then switches.
  it('a reload while a style switch waits: the link names the style chosen; the saga in flight ends (cancelled: its payment went with the reload) in its own style, then the services switch', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=3000&inventory_ms=0&saga_timeout_ms=6000`, async ({ page }) => {
      await waitReady(page);
      const witness = await watchEveryTopic(broker);
      try {
        const orderId = await placeOrder(page);
        await witness.waitForOrder('inventory/reserved', orderId, FLOW_TIMEOUT_MS);
        await page.selectOption('#saga-style', 'orchestration');
        await page.locator('[data-testid="style-waiting"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.equal(linkParam(page, 'saga'), 'orchestration', 'the link names the style chosen');
        await page.reload();
        // The choice survives the reload, and waits for the restored saga.
        await page.locator('[data-testid="style-waiting"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.equal(await page.inputValue('#saga-style'), 'orchestration');
        // The payment in hand (work under way, not done) went with the reload, so
        // the deadline cancels the order: in the parallel style, by orders/cancelled, which
        // InventoryService answers with its release, not by orchestration's commands.
        await witness.waitForOrder('inventory/released', orderId, FLOW_TIMEOUT_MS);
        await expectOneOutcome(witness, orderId, 'orders/cancelled');
        assert.deepEqual(wireOf(witness, orderId).filter((topic) => topic.startsWith('commands/')), [], 'no command of orchestration for a parallel saga');
        // Then the switch: the next order is orchestrated, and the link still names it.
        await page.locator('[data-testid="style-waiting"]').waitFor({ state: 'detached', timeout: FLOW_TIMEOUT_MS });
        await waitReady(page);
        const next = await placeOrder(page);
        await witness.waitForOrder('commands/inventory/reserve', next, FLOW_TIMEOUT_MS);
        assert.equal(linkParam(page, 'saga'), 'orchestration');
      } finally {
        await witness.close();
      }
    }));
  // A break-test (45-AV F1): PaymentService charged and crashed, the deadline cancelled the
  // order, OrderService gave up on the refund after its last try, and the style switched to
  // orchestration. Restarted, PaymentService got the orders/cancelled its session had kept and
  // refused it ("does not subscribe"): the charge of a cancelled order was never refunded.
  it('PaymentService crashed holding a charge while the style switches to orchestration: the row names the crash, and restarted, it still refunds the cancelled order from the cancellation its session kept', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=200&inventory_ms=3000&saga_timeout_ms=1500&stock=P001:10`, async ({ page }) => {
      await waitReady(page);
      const witness = await watchEveryTopic(broker);
      try {
        const orderId = await placeOrder(page);
        const charge = await witness.waitForOrder('payments/processed', orderId, FLOW_TIMEOUT_MS);
        await crashService(page, 'payment');
        await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
        await page.selectOption('#saga-style', 'orchestration');
        // The switch goes ahead once OrderService has given up on the refund.
        await page.locator('[data-testid="style-waiting"]').waitFor({ state: 'detached', timeout: 60_000 });
        // The row names the crash as why no try reached PaymentService (45-AV F2: ACLs first).
        await page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-compensating"]`, { hasText: 'refund not confirmed after 4 tries: PaymentService is crashed, so it received none of them' }).waitFor({ timeout: FLOW_TIMEOUT_MS });
        await page.getByRole('button', { name: 'Restart PaymentService' }).click();
        const refund = await witness.waitForOrder('payments/refunded', orderId, FLOW_TIMEOUT_MS);
        assert.equal(refund.json.paymentId, charge.json.paymentId);
        assert.equal(refund.json.amount, 59.98);
        const refused = page.locator('[data-testid="log-entry"][data-service="payment"][data-topic="orders/cancelled"][data-status="rejected"]');
        assert.equal(await refused.count(), 0, 'no cancellation refused as not subscribed');
      } finally {
        await witness.close();
      }
    }));
  // A break-test (45-AW F2): the same crash under clean sessions: the row promised that a
  // Restart would bring the cancellations, and after it blamed the broker's access rules,
  // while the crash line counted them lost.
  it('under clean sessions, PaymentService crashed holding a charge until OrderService gives up: the row says a Restart brings nothing and the charge is left to refund by hand, and after the Restart that the broker had dropped them', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&session=clean&payment_ms=200&inventory_ms=3000&saga_timeout_ms=1500&stock=P001:10`, async ({ page }) => {
      await waitReady(page);
      const witness = await watchEveryTopic(broker);
      try {
        const orderId = await placeOrder(page);
        await witness.waitForOrder('payments/processed', orderId, FLOW_TIMEOUT_MS);
        await crashService(page, 'payment');
        const note = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-compensating"]`);
        await note.filter({ hasText: 'refund not confirmed after 4 tries: PaymentService is crashed, so it received none of them, and its session is clean: the broker keeps none of them for it, so a Restart does not bring them, and the charge is left to refund by hand' }).waitFor({ timeout: 60_000 });
        await page.getByRole('button', { name: 'Restart PaymentService' }).click();
        await note.filter({ hasText: 'PaymentService received none of them: they went out while it was crashed, and it came back without its session' }).waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.doesNotMatch((await note.textContent()) ?? '', /ACL/);
      } finally {
        await witness.close();
      }
    }));
  // A break-test (44-AQ F1): a link naming another style opened mid-saga in the same tab (a
  // lesson link, or Back) started the services in the link's style; the restored parallel
  // saga's cancellation went on orders/cancelled, which an orchestrated PaymentService no
  // longer hears, and its charge was never refunded.
  it('a link naming another style opened while a saga is open: the services follow the restored saga\'s style until it ends (its charge refunded), then the link\'s', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&stock=P001:50&payment_ms=300&inventory_ms=4000&saga_timeout_ms=8000`, async ({ page }) => {
      await waitReady(page);
      const witness = await watchEveryTopic(broker);
      try {
        const orderId = await placeOrder(page);
        const charge = await witness.waitForOrder('payments/processed', orderId, FLOW_TIMEOUT_MS);
        await page.goto(`${server.url}${brokerQuery(broker.wsUrl)}&stock=P001:50&payment_ms=300&inventory_ms=4000&saga_timeout_ms=8000&saga=orchestration`);
        // Said as a switch mid-saga is.
        const waiting = page.locator('[data-testid="style-waiting"]');
        await waiting.waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.match((await waiting.textContent()) ?? '', /switch to orchestration once the 1 saga in flight ends/);
        // The reservation in hand went with the page: the deadline cancels the order, and
        // PaymentService, still following parallel, refunds the charge.
        const refund = await witness.waitForOrder('payments/refunded', orderId, FLOW_TIMEOUT_MS);
        assert.equal(refund.json.paymentId, charge.json.paymentId);
        assert.equal(refund.json.amount, 59.98);
        await expectOneOutcome(witness, orderId, 'orders/cancelled');
        assert.deepEqual(wireOf(witness, orderId).filter((topic) => topic.startsWith('commands/')), [], 'no command of orchestration for a parallel saga');
        // Then the link's style: the next order is orchestrated.
        await waiting.waitFor({ state: 'detached', timeout: FLOW_TIMEOUT_MS });
        await waitInPage(page, 'saga=orchestration in the address', () => new URL(location.href).searchParams.get('saga') === 'orchestration', null, {
          describe: () => page.url(),
        });
        const next = await placeOrder(page);
        await witness.waitForOrder('commands/inventory/reserve', next, FLOW_TIMEOUT_MS);
      } finally {
        await witness.close();
      }
    }));
  it('bad saga settings in the link are named and ignored: the defaults are used and an order completes', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&saga=anarchy&stock=P001&decline_pct=300`, async ({ page }) => {
      const error = page.locator('[data-testid="flow-error"]');
      await error.waitFor({ state: 'visible' });
      const text = (await error.textContent()) ?? '';
      for (const named of ['?saga=', 'anarchy', '?decline_pct=', '300']) {
        assert.ok(text.includes(named), `the message names ${named}: ${text}`);
      }
      // The stock's is by the Stock field, not repeated here.
      assert.ok(!text.includes('?stock='), text);
      const stock = ((await page.locator('[data-testid="stock-error"]').textContent()) ?? '').trim();
      assert.ok(stock.includes('?stock=') && stock.includes('"P001"'), stock);
      await waitReady(page);
      assert.equal(await page.inputValue('#saga-style'), 'parallel');
      assert.equal(await page.inputValue('#decline-pct'), '0');
      assert.equal(await page.inputValue('#stock-levels'), '');
      await page.locator('[data-testid="stock-unlimited"]').waitFor({ state: 'visible' });

      const { orderId, wire } = await orderToOutcome(page, 'orders/confirmed');
      assert.ok(!wire.some((topic) => topic.startsWith('commands/')), `parallel, no commands: ${wire}`);
      await waitForRow(page, orderId, 'Completed');
      await waitForNotifications(page, [`Order ${orderId} confirmed`]);
    }));

  // A newcomer's break-test: *Decline over* "abc" refused, then *Saga deadline* "0": only the
  // deadline's sentence was left, beside a field still showing "abc"; a valid *Stock* then took
  // every sentence and the first screen's pointer away. The same for the two delays.
  it('a refused value stays explained while other fields are set, until its own field is taken', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}`, async ({ page }) => {
      const set = async (selector, text) => {
        await page.fill(selector, text);
        await page.dispatchEvent(selector, 'change');
      };
      const said = async (testid) => ((await page.locator(`[data-testid="${testid}"]`).textContent()) ?? '').trim();
      await set('#decline-over', 'abc');
      await page.locator('[data-testid="flow-error"]').waitFor();
      await set('#saga-timeout', '0');
      await page.waitForFunction(() => /Saga deadline/.test(document.querySelector('[data-testid="flow-error"]')?.textContent ?? ''));
      assert.match(await said('flow-error'), /Decline over: "abc" .*Saga deadline: "0" /);
      await set('#payment-delay', '-5');
      await page.locator('[data-testid="delays-error"]').waitFor();
      // Other fields taken: every refusal stays, and the first screen still points to them.
      await set('#stock-levels', 'P001:5');
      await set('#inventory-delay', '50');
      await waitInPage(page, 'the stock taken', () => document.querySelector('[data-testid="stock-level"][data-product="P001"]') !== null);
      assert.match(await said('flow-error'), /Decline over: "abc" .*Saga deadline: "0" /);
      assert.match(await said('delays-error'), /Payment/);
      await page.locator('[data-testid="settings-refused"]').waitFor();
      // Its own field taken: that sentence goes, the other stays.
      await set('#decline-over', '100');
      await page.waitForFunction(() => !/Decline over/.test(document.querySelector('[data-testid="flow-error"]')?.textContent ?? ''));
      assert.match(await said('flow-error'), /^Saga deadline: "0" /);
      await set('#saga-timeout', '5000');
      await set('#payment-delay', '10');
      await page.locator('[data-testid="flow-error"]').waitFor({ state: 'detached' });
      await page.locator('[data-testid="delays-error"]').waitFor({ state: 'detached' });
      await page.locator('[data-testid="settings-refused"]').waitFor({ state: 'detached' });
    }));
  it('recording: a declined order, downloaded and replayed with no broker, fills the Orders panel as it plays and ends cancelled with the reason and the release', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    let orderId;
    const recordingPath = path.join(ARTIFACTS, 'saga-recording.json');
    await withApp(t, `${brokerQuery(broker.wsUrl)}&payment=decline`, async ({ page }) => {
      await waitReady(page);
      orderId = await placeOrder(page);
      await waitForRow(page, orderId, 'Cancelled', { compensations: 1 });
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download-recording"]')]);
      await mkdir(ARTIFACTS, { recursive: true });
      await download.saveAs(recordingPath);
    });

    const nowhere = `ws://127.0.0.1:${await freePort()}`;
    await withApp(t, `${brokerQuery(nowhere)}&speed=0.25`, async ({ page }) => {
      await waitForStates(page, 'disconnected');
      await page.setInputFiles('[data-testid="load-recording"]', recordingPath);
      await page.locator('[data-testid="replaying"]').waitFor({ state: 'visible' });
      // At 0.25× the order is on screen before its outcome is.
      const status = '[data-testid="playback-status"]';
      const replayNow = async () => `${JSON.stringify(await readRow(page, orderId))}; ${await page.textContent(status)}`;
      await waitInPage(page, 'the replayed order shown before it is cancelled', (id) => {
        const row = document.querySelector(`[data-testid="order-row"][data-order-id="${id}"]`);
        return row && row.dataset.status !== 'Cancelled';
      }, orderId, { describe: replayNow });
      await waitInPage(page, 'the replay finished', (sel) => /^Replay finished/.test(document.querySelector(sel).textContent), status, {
        describe: replayNow,
      });
      const row = await readRow(page, orderId);
      assert.equal(row?.status, 'Cancelled', `the replayed row: ${JSON.stringify(row)}`);
      assert.equal(row.reason, 'payment declined');
      assert.deepEqual(row.compensations, ['↺ stock released']);
      assert.equal(await page.locator('[data-testid="order-row"]').count(), 1, 'one order in the recording');
    });
  });
});
