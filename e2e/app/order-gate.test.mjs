// When an order cannot reach its consumers it is refused with a reason, never lost: while
// OrderService is crashed, while it is still connecting, and while a service the order flow needs
// has not subscribed yet since the services started (README "Orders while the broker is down").
// The refusal goes away by itself once an order can be placed. An independent MQTT.js witness
// checks that nothing went out meanwhile, and that the next order completes.
//
//   node --test e2e/app/order-gate.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { CONNECT_TIMEOUT_MS, FLOW_TIMEOUT_MS, brokerQuery, crashService, waitDatabaseRead } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, server, waitReady, watched, withApp } from '../lib/app-suite.mjs';
import { freePort, startBroker } from '../lib/broker.mjs';
import { expectOneOutcome, placeOrder, watchEveryTopic } from '../lib/saga.mjs';
import { relay } from '../lib/tcp-relay.mjs';

const formError = (page) => page.locator('[data-testid="form-error"]');

// The refusal while the tab's database is still being read back after the page opened.
const READING = /OrderService is waiting for the browser's database to be read back/;

/**
 * Clicks `button` ('place-order' or 'place-ten') once the tab's database has been read back
 * (before, the refusal would say so) and returns the form's refusal once it matches `pattern`.
 */
async function refusalAfter(page, button, pattern) {
  await waitDatabaseRead(page);
  // Every text the form says from the click on, for the failure message.
  await page.evaluate(() => {
    window.__formErrors = [];
    const seen = () => {
      const text = document.querySelector('[data-testid="form-error"]')?.textContent;
      if (text && window.__formErrors.at(-1) !== text) window.__formErrors.push(text);
    };
    new MutationObserver(seen).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
  await page.click(`[data-testid="${button}"]`);
  await page
    .waitForFunction(
      (source) => new RegExp(source).test(document.querySelector('[data-testid="form-error"]')?.textContent ?? ''),
      pattern.source,
      { timeout: 5_000 },
    )
    .catch(async (error) => {
      const shown = (await page.evaluate(() => window.__formErrors ?? null)) ?? (await formError(page).textContent().catch(() => null));
      throw new Error(`after ${button}, the form should say ${pattern}; it says ${JSON.stringify(shown)}`, { cause: error });
    });
  return ((await formError(page).textContent()) ?? '').trim();
}

/** No orders/created reached the broker (a round trip through it first). */
async function assertNoOrderOnTheWire(witness, what) {
  await witness.roundTrip();
  const created = witness.messages.filter((m) => m.topic === 'orders/created');
  assert.equal(created.length, 0, `${what}: nothing published, yet the witness saw ${created.map((m) => m.payload).join(', ')}`);
}

describeApp('orders refused when nobody could hear them', () => {
  it('OrderService crashed: Place order and Place 10 orders are refused, nothing published; after Restart orders flow', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, witness }) => {
      await crashService(page, 'order');
      assert.equal(await page.getAttribute('[data-testid="place-order"]', 'data-ready'), 'false');

      const one = await refusalAfter(page, 'place-order', /OrderService is crashed, so the order was not placed\. Press Restart on OrderService/);
      assert.doesNotMatch(one, /Start Mosquitto/, 'the broker is running');
      assert.equal(await page.locator('[data-testid="placed-order-id"]').count(), 0, 'no order id shown');
      await refusalAfter(page, 'place-ten', /OrderService is crashed, so none of the 10 orders was placed/);
      assert.equal(await page.locator('[data-testid="placed-order-id"]').count(), 0, 'no order id shown');
      assert.equal(await page.locator('[data-testid="order-row"]').count(), 0, 'no pending row in the Orders panel');
      await assertNoOrderOnTheWire(witness, 'while OrderService is crashed');

      await page.getByRole('button', { name: 'Restart OrderService' }).click();
      // The refusal goes by itself once OrderService is back and subscribed.
      await formError(page).waitFor({ state: 'detached', timeout: CONNECT_TIMEOUT_MS });
      await page.locator('[data-testid="place-order"][data-ready="true"]').waitFor();
      await assertNoOrderOnTheWire(witness, 'after Restart (nothing kept from the refused clicks)');
      const id = await placeOrder(page);
      await witness.waitForOrder('orders/confirmed', id, FLOW_TIMEOUT_MS);
      await expectOneOutcome(witness, id, 'orders/confirmed');
    }));

  it('PaymentService and InventoryService not subscribed yet: refused, naming them; the message goes by itself and the next order completes', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const port = await freePort();
    const late = `ws://127.0.0.1:${port}`;
    const query = `${brokerQuery(broker.wsUrl)}&broker_payment=${late}&broker_inventory=${late}`;
    const witness = await watchEveryTopic(broker);
    let path = null;
    try {
      await withApp(t, query, async ({ page }) => {
        await page.locator('[data-testid="status-order"][data-state="connected"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
        // Nothing listens at PaymentService's and InventoryService's broker yet.
        const text = await refusalAfter(page, 'place-order', /OrderService is waiting for (\w+Service, )*PaymentService, InventoryService(, \w+Service)* to subscribe, so the order was not placed/);
        assert.doesNotMatch(text, /Start Mosquitto/);
        assert.equal(await page.locator('[data-testid="placed-order-id"]').count(), 0, 'no order id shown');
        await refusalAfter(page, 'place-ten', /to subscribe, so none of the 10 orders was placed/);
        await assertNoOrderOnTheWire(witness, 'before the consumers subscribed');

        // Whether the refusal is still there when the button turns ready: it stays readable
        // a while, not flashing away the moment the gate opens (36-R F5).
        await page.evaluate(() => {
          const button = document.querySelector('[data-testid="place-order"]');
          new MutationObserver((_, observer) => {
            if (button.dataset.ready === 'true') {
              window.__refusalAtReady = document.querySelector('[data-testid="form-error"]') !== null;
              observer.disconnect();
            }
          }).observe(button, { attributes: true });
        });
        // Their broker becomes reachable: they connect, subscribe, and the refusal goes by itself.
        path = await relay(port, broker.wsPort);
        await formError(page).waitFor({ state: 'detached', timeout: CONNECT_TIMEOUT_MS });
        assert.equal(await page.evaluate(() => window.__refusalAtReady), true, 'the refusal was still there when orders could be placed');
        await waitReady(page);
        const id = await placeOrder(page);
        await witness.waitForOrder('orders/confirmed', id, FLOW_TIMEOUT_MS);
        await expectOneOutcome(witness, id, 'orders/confirmed');
      });
    } finally {
      await witness.close();
      await path?.close();
    }
  });

  // CI (stop 45): on a busy machine the tab's database was read back after OrderService had
  // connected; the refusal said "waiting for the browser's database to be read back … this
  // message goes once it has been read", and stayed after it had been, while PaymentService had
  // not subscribed yet. The database's answer is slowed here by 3 s (the page's own request,
  // answered late); the consumers' broker is not reachable yet.
  it('a refusal while the database is read back goes once it has been, though a service has not subscribed; the next click names that service', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const port = await freePort();
    const late = `ws://127.0.0.1:${port}`;
    await withApp(t, null, async ({ page }) => {
      await page.addInitScript(() => {
        const open = IDBFactory.prototype.open;
        IDBFactory.prototype.open = function slowOpen(...args) {
          const request = open.apply(this, args);
          let handler = null;
          Object.defineProperty(request, 'onsuccess', { get: () => handler, set: (h) => { handler = h; }, configurable: true });
          request.addEventListener('success', (event) => setTimeout(() => handler?.call(request, event), 3_000));
          return request;
        };
      });
      await page.goto(`${server.url}${brokerQuery(broker.wsUrl)}&broker_payment=${late}`);
      await page.locator('[data-testid="status-order"][data-state="connected"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
      assert.match(await page.getAttribute('[data-testid="place-order"]', 'data-gate'), READING);
      await page.click('[data-testid="place-order"]');
      await formError(page).filter({ hasText: READING }).waitFor({ timeout: 5_000 });
      // Read back (3 s), and readable 4 s: it goes, though PaymentService is still away.
      await formError(page).waitFor({ state: 'detached', timeout: 15_000 });
      assert.equal(await page.getAttribute('[data-testid="place-order"]', 'data-ready'), 'false', 'PaymentService has not subscribed');
      await page.click('[data-testid="place-order"]');
      await formError(page).filter({ hasText: /OrderService is waiting for PaymentService to subscribe, so the order was not placed/ }).waitFor({ timeout: 5_000 });
      assert.equal(await page.locator('[data-testid="placed-order-id"]').count(), 0, 'no order id shown');
    });
  });

  // 40-AF F1/F2: PaymentService crashed, then the coordination switched to orchestration. Its
  // kept session holds the old style's subscriptions: the order's charge command went out to
  // nobody and the order was cancelled, while the gate had opened. Now orders wait for it,
  // saying it is crashed; after Restart (and its SUBACK) they go, orchestrated, and complete.
  it('a service crashed across a coordination switch: orders wait for it, naming the crash and Restart; once restarted and subscribed they complete in the new style', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, witness }) => {
      await crashService(page, 'payment');
      await page.selectOption('#saga-style', 'orchestration');
      // No saga in flight: the services switch at once (the address bar then names the style).
      await page.waitForFunction(() => new URL(location.href).searchParams.get('saga') === 'orchestration', null, { timeout: FLOW_TIMEOUT_MS });
      const one = await refusalAfter(page, 'place-order', /^OrderService is waiting for PaymentService to subscribe, but PaymentService is crashed, so the order was not placed\. Press Restart on PaymentService; this message goes once it has subscribed\.$/);
      assert.doesNotMatch(one, /goes away once they have/);
      await assertNoOrderOnTheWire(witness, 'while PaymentService, crashed, had not subscribed to the new style');
      await page.getByRole('button', { name: 'Restart PaymentService' }).click();
      await formError(page).waitFor({ state: 'detached', timeout: CONNECT_TIMEOUT_MS });
      await page.locator('[data-testid="place-order"][data-ready="true"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
      const id = await placeOrder(page);
      await witness.waitForOrder('commands/payment/charge', id, FLOW_TIMEOUT_MS);
      await witness.waitForOrder('orders/confirmed', id, FLOW_TIMEOUT_MS);
      await expectOneOutcome(witness, id, 'orders/confirmed');
    }));

  // 40-AG F1: NotificationService subscribes to the same topics under every style: crashed
  // across a switch, it held every order back, though its kept session still holds all it needs.
  it('a service whose topics are the same under both styles, crashed across a switch, holds no order back; it catches up on Restart', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, witness }) => {
      await crashService(page, 'notification');
      await page.selectOption('#saga-style', 'orchestration');
      await page.waitForFunction(() => new URL(location.href).searchParams.get('saga') === 'orchestration', null, { timeout: FLOW_TIMEOUT_MS });
      await page.locator('[data-testid="place-order"][data-ready="true"]').waitFor({ timeout: CONNECT_TIMEOUT_MS }).catch(async (error) => {
        throw new Error(`orders held back: ${await page.getAttribute('[data-testid="place-order"]', 'data-gate')}`, { cause: error });
      });
      const id = await placeOrder(page);
      await witness.waitForOrder('commands/payment/charge', id, FLOW_TIMEOUT_MS);
      await witness.waitForOrder('orders/confirmed', id, FLOW_TIMEOUT_MS);
      await expectOneOutcome(witness, id, 'orders/confirmed');
      // Its persistent session kept what it missed: on Restart it is told of the order.
      await page.getByRole('button', { name: 'Restart NotificationService' }).click();
      await page.locator('[data-testid="outage"][data-service="notification"][data-restarted="true"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      await page.locator(`[data-testid="log-entry"][data-service="notification"][data-topic="orders/confirmed"]`).first().waitFor({ timeout: FLOW_TIMEOUT_MS });
    }));

  // A newcomer's break-test: with orders placed every second, a coordination switch waited
  // forever (each new order was one more saga in the old style), and its note kept the count it
  // started with.
  it('a coordination switch: new orders wait for it, the note counts the sagas in flight down, then the switch comes and orders go in the new style', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=3000&inventory_ms=1500&saga_timeout_ms=15000', async ({ page, witness }) => {
      const first = await placeOrder(page);
      // The second order 1.5 s after the first: their sagas end 1.5 s apart.
      await witness.waitForOrder('inventory/reserved', first, FLOW_TIMEOUT_MS);
      const second = await placeOrder(page);
      await witness.waitForOrder('orders/created', second, FLOW_TIMEOUT_MS);
      await page.selectOption('#saga-style', 'orchestration');
      const note = page.locator('[data-testid="style-waiting"]');
      await note.waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.match(await note.textContent(), /switch to orchestration once the 2 sagas in flight end/);

      // Ordering now would put the switch off: refused, saying why, nothing published.
      const one = await refusalAfter(page, 'place-order', /OrderService holds new orders back until the services switch to orchestration \(waiting for the 2 sagas in flight to end\), so the order was not placed\./);
      assert.match(one, /goes away once the services have switched/);
      await refusalAfter(page, 'place-ten', /switch to orchestration \(waiting for the \d sagas? in flight to end\), so none of the 10 orders was placed/);
      assert.equal(await page.getAttribute('[data-testid="place-order"]', 'data-ready'), 'false');

      // The first saga ends: the note counts one left.
      await witness.waitForOrder('orders/confirmed', first, FLOW_TIMEOUT_MS);
      await page.waitForFunction(
        () => /once the 1 saga in flight ends/.test(document.querySelector('[data-testid="style-waiting"]')?.textContent ?? ''),
        null,
        { timeout: FLOW_TIMEOUT_MS },
      );
      // … and so does the form's refusal, still true (40-AF F4: it kept the click's count).
      await page.waitForFunction(
        () => /\(waiting for the 1 saga in flight to end\), so none of the 10 orders was placed\./.test(document.querySelector('[data-testid="form-error"]')?.textContent ?? ''),
        null,
        { timeout: 5_000 },
      );
      // The second ends: the services switch, the note and the refusal go by themselves.
      await witness.waitForOrder('orders/confirmed', second, FLOW_TIMEOUT_MS);
      await note.waitFor({ state: 'detached', timeout: FLOW_TIMEOUT_MS });
      await formError(page).waitFor({ state: 'detached', timeout: FLOW_TIMEOUT_MS });
      await witness.roundTrip();
      const created = witness.messages.filter((m) => m.topic === 'orders/created').map((m) => m.json?.orderId);
      assert.deepEqual(created, [first, second], 'nothing published for the refused clicks');

      // The next order is accepted and orchestrated: OrderService sends commands.
      const next = await placeOrder(page);
      await witness.waitForOrder('commands/payment/charge', next, FLOW_TIMEOUT_MS);
      await witness.waitForOrder('orders/confirmed', next, FLOW_TIMEOUT_MS);
      await expectOneOutcome(witness, next, 'orders/confirmed');
    }));

  // A newcomer's break-test: after Connect to another broker the gate stayed open (the services
  // had subscribed once, on the old broker), and the first order went out before its consumers
  // were on the new one.
  it('the consumers moved to another broker in the broker bar: orders wait until they are subscribed there, then flow', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const port = await freePort();
    // The new broker, 2 s away: the consumers are connecting meanwhile.
    const slow = await relay(port, broker.wsPort, 2_000);
    const witness = await watchEveryTopic(broker);
    try {
      // OrderService keeps a broker of its own, so it stays connected through the move.
      await withApp(t, `${brokerQuery(broker.wsUrl)}&broker_order=${broker.wsUrl}`, async ({ page }) => {
        await waitReady(page);
        await page.fill('#broker-url', `ws://127.0.0.1:${port}`);
        await page.click('[data-testid="apply-broker"]');
        await page.locator('[data-testid="status-payment"][data-state="connecting"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
        assert.equal(await page.getAttribute('[data-testid="status-order"]', 'data-state'), 'connected');
        const text = await refusalAfter(page, 'place-order', /OrderService is waiting for PaymentService, InventoryService, NotificationService to subscribe, so the order was not placed/);
        assert.doesNotMatch(text, /QueryService/, 'the read side does not hold orders back');
        await assertNoOrderOnTheWire(witness, 'while the consumers moved');
        // Through the relay they are back on the same Mosquitto, which kept their sessions:
        // Session Present counts as subscribed, with no SUBACK.
        await formError(page).waitFor({ state: 'detached', timeout: CONNECT_TIMEOUT_MS });
        await page.locator('[data-testid="place-order"][data-ready="true"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
        const id = await placeOrder(page);
        await witness.waitForOrder('orders/confirmed', id, FLOW_TIMEOUT_MS);
        await expectOneOutcome(witness, id, 'orders/confirmed');
      });
    } finally {
      await witness.close();
      await slow.close();
    }
  });

  // A newcomer's break-test: an anonymous broker whose ACL denies only the status topics held
  // every order for good ("check its user under Sign in", with nobody signed in), though every
  // order topic was allowed.
  it('anonymous clients under an ACL that denies only the status topics: each service says why its status is not relayed, without a user to check, and orders go', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    // The witness's own round trips (e2e-witness/#) are allowed too.
    const acl = ['orders/#', 'payments/#', 'inventory/#', 'eventstore/#', 'commands/#', 'deadletter/#', 'e2e-witness/#']
      .map((topic) => `topic readwrite ${topic}`)
      .concat(['topic read services/#', ''])
      .join('\n');
    const own = await startBroker({ acl });
    const witness = await watchEveryTopic(own);
    try {
      await withApp(t, `${brokerQuery(own.wsUrl)}`, async ({ page }) => {
        await page.locator('[data-testid="status-order"][data-state="connected"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
        const note = page.locator('[data-testid="status-unrelayed"][data-service="order"]');
        await note.waitFor({ timeout: CONNECT_TIMEOUT_MS });
        const text = await note.textContent();
        assert.match(text, /No user is signed in for OrderService: the broker's rules for anonymous clients decide/);
        assert.doesNotMatch(text, /user \(under Sign in/);
        await waitReady(page, own);
        const id = await placeOrder(page);
        await witness.waitForOrder('orders/confirmed', id, FLOW_TIMEOUT_MS);
        await expectOneOutcome(witness, id, 'orders/confirmed');
      });
    } finally {
      await witness.close();
      await own.stop();
    }
  });

  // A newcomer's break-test: ?broker_payment= named another, unrelated broker (a typo in a
  // cluster link); every order ended "payment timed out" and nothing said why.
  it('a service on a broker that is no node of the page\'s: its badge says its status never reached the page\'s broker, naming both', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const other = await startBroker();
    try {
      await withApp(t, `${brokerQuery(broker.wsUrl)}&broker_payment=${other.wsUrl}`, async ({ page }) => {
        await page.locator('[data-testid="status-payment"][data-state="connected"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
        const note = page.locator('[data-testid="status-unrelayed"][data-service="payment"]');
        await note.waitFor({ timeout: 20_000 });
        const text = await note.textContent();
        assert.ok(text.includes(`PaymentService is connected to its own broker ${other.wsUrl}, but its online status (services/payment/status) has not reached the page's broker ${broker.wsUrl}`), text);
        assert.match(text, /not nodes of one cluster/);
        assert.match(text, /\(\?broker_payment=\)/);
        // Its badge says so too, not "status not heard yet" (break-test 35-L F1).
        const presence = page.locator('[data-testid="presence-payment"]');
        assert.equal(await presence.getAttribute('data-unrelayed'), 'true');
        assert.equal((await presence.textContent())?.trim(), 'broker: its status did not come back (below)');
        const line = page.locator('[data-testid="log-entry"][data-service="payment"][data-topic="status"]');
        await line.first().waitFor();
        // The other services, on the page's broker, are not blamed.
        assert.equal(await page.locator('[data-testid="status-unrelayed"][data-service="order"]').count(), 0);
      });
    } finally {
      await other.stop();
    }
  });

  it('OrderService still connecting: the refusal says so (not "start Mosquitto") and goes once it is connected', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const port = await freePort();
    const slow = await relay(port, broker.wsPort, 4_000);
    const witness = await watchEveryTopic(broker);
    try {
      const query = `${brokerQuery(broker.wsUrl)}&broker_order=ws://127.0.0.1:${port}`;
      await withApp(t, query, async ({ page }) => {
        await page.locator('[data-testid="status-payment"][data-state="connected"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
        assert.equal(await page.getAttribute('[data-testid="status-order"]', 'data-state'), 'connecting');
        const text = await refusalAfter(page, 'place-order', /OrderService is still connecting to the broker at ws:\/\/127\.0\.0\.1:\d+, so the order was not placed/);
        assert.doesNotMatch(text, /Start Mosquitto|fix the broker URL/);
        await assertNoOrderOnTheWire(witness, 'while OrderService was connecting');
        await formError(page).waitFor({ state: 'detached', timeout: CONNECT_TIMEOUT_MS });
        await waitReady(page);
        const id = await placeOrder(page);
        await witness.waitForOrder('orders/confirmed', id, FLOW_TIMEOUT_MS);
      });
    } finally {
      await witness.close();
      await slow.close();
    }
  });
});
