// Competing consumers: PaymentService as two instances, each its own MQTT client in one shared
// subscription ($share/<group>/…), on MQTT 3.1.1 and 5.0. An independent witness counts the
// payments per order (each charged exactly once), the broker's log says which instance each
// order went to (both get some, none gets one twice), and the page says it too (the Orders
// panel's "by payment-2", PaymentService's box). A crashed instance's share goes to the other
// with clean sessions, and waits for it with persistent ones (Mosquitto keeps it in the
// group); every order still ends exactly once. A broker that refuses shared subscriptions is
// named in the page.
//
//   node --test e2e/app/competing-consumers.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, brokerQuery, escapeRegExp, waitDatabaseRead, waitOrdersAccepted } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, waitReady, watched, withApp } from '../lib/app-suite.mjs';
import { startTamperingProxy, subAckCodes } from '../lib/misbehaving-broker.mjs';
import { OUTCOMES, deliveredTopics, messagesOf, placeOrder, readRow, subscribedFilters, waitInPage, watchEveryTopic, wireOf } from '../lib/saga.mjs';

const BURST = 10;


/** Clicks "Place 10 orders"; resolves with the ids of the orders the witness saw created. */
async function placeBurst(page, witness) {
  const before = new Set(witness.messages.filter((m) => m.topic === 'orders/created').map((m) => m.json?.orderId));
  await waitOrdersAccepted(page);
  await page.click('[data-testid="place-ten"]');
  await witness.waitFor(
    () => witness.messages.filter((m) => m.topic === 'orders/created' && !before.has(m.json?.orderId)).length >= BURST,
    FLOW_TIMEOUT_MS,
    `${BURST} orders created`,
  );
  return witness.messages.filter((m) => m.topic === 'orders/created' && !before.has(m.json?.orderId)).map((m) => m.json.orderId);
}

/** Waits until every order in `orders` has an outcome on the wire; then each has exactly one. */
async function expectOneOutcomeEach(witness, orders, timeout = FLOW_TIMEOUT_MS) {
  await witness.waitFor(
    () => orders.every((id) => wireOf(witness, id).some((topic) => OUTCOMES.includes(topic))),
    timeout,
    `an outcome for each of ${orders.length} orders`,
  );
  await witness.roundTrip();
  for (const id of orders) {
    // One outcome: the same orders/cancelled sent again while OrderService awaits the refund
    // (its compensation check, by design) is the same message, counted once.
    const outcomes = new Set(messagesOf(witness, id).filter((m) => OUTCOMES.includes(m.topic)).map((m) => `${m.topic} ${m.payload}`));
    assert.equal(outcomes.size, 1, `one outcome for ${id}; its wire: ${wireOf(witness, id).join(', ')}`);
  }
}

/** How many `orders/created` the broker's log shows it sending to `clientId`. */
const ordersDeliveredTo = (clientId) => deliveredTopics(broker.log(), clientId).filter((t) => t === 'orders/created').length;

/** The payments/processed of `orderId` the witness saw (a charge or a decline). */
const paymentsOf = (witness, orderId) => witness.messages.filter((m) => m.topic === 'payments/processed' && m.json?.orderId === orderId);

/** Ten orders, shared by the two instances: each charged once, by one of them; both had some. */
async function burstIsShared({ page, ids, witness }) {
  // Both instances subscribe through the page's group, to every topic of PaymentService's.
  const group = `$share/${ids.payment.replace(/^eda-([0-9a-f]+)-payment$/, 'eda-$1-payment')}/`;
  for (const id of [ids.payment, ids['payment-2']]) {
    const filters = subscribedFilters(broker.log(), id);
    for (const topic of ['orders/created', 'orders/confirmed', 'orders/cancelled']) {
      assert.ok(filters.includes(`${group}${topic}`), `${id} subscribes to ${group}${topic}: ${filters.join(', ')}`);
    }
    assert.ok(!filters.includes('orders/created'), `${id} has no plain subscription to orders/created`);
  }
  const orders = await placeBurst(page, witness);
  await expectOneOutcomeEach(witness, orders);
  for (const id of orders) {
    assert.equal(paymentsOf(witness, id).length, 1, `order ${id} charged exactly once`);
    assert.ok(wireOf(witness, id).includes('orders/confirmed'), `order ${id} confirmed`);
  }
  // The broker gave each order to one instance: both had some, and together exactly the ten.
  const first = ordersDeliveredTo(ids.payment);
  const second = ordersDeliveredTo(ids['payment-2']);
  assert.ok(first > 0 && second > 0, `both instances handled orders: ${first} and ${second}`);
  assert.equal(first + second, BURST, 'each order delivered to one instance, none twice');

  // The page says who charged each order, and the counts in PaymentService's box agree.
  const handlers = [];
  for (const id of orders) {
    await waitInPage(page, `the row of ${id} names who charged it`, (orderId) =>
      [...document.querySelectorAll(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-step"]`)]
        .some((step) => step.textContent.startsWith('✓ charged') && step.querySelector('[data-testid="order-handler"]')), id);
    const row = await readRow(page, id);
    const charged = row.steps.filter((s) => s.startsWith('✓ charged'));
    assert.equal(charged.length, 1, `one charge in the row: ${row.steps}`);
    const by = /by (payment(?:-2)?)$/.exec(charged[0])?.[1];
    assert.ok(by, `the charge names its instance: ${charged[0]}`);
    handlers.push(by);
  }
  const count = (label) => handlers.filter((h) => h === label).length;
  assert.deepEqual([count('payment'), count('payment-2')], [first, second], `the page agrees with the broker's log: ${handlers}`);
  await waitInPage(page, "PaymentService's box counts each instance's payments", (expected) =>
    document.querySelector('[data-testid="flow-node-payment"]')?.dataset.handled === expected, `payment:${first} payment-2:${second}`);
  // The sequence diagram names the second instance on its arrows (they share PaymentService's
  // lifeline), as many orders/created as the broker gave it; the packet inspector names it
  // as the client (37-U F3: every instance read "PaymentService").
  // (Its Mermaid text holds every arrow of the view; the diagram draws the rows in view.)
  await page.click('[data-testid="show-mermaid"]');
  await waitInPage(page, 'the sequence diagram names PaymentService 2 on its deliveries', (n) =>
    (document.querySelector('[data-testid="mermaid-text"]')?.value ?? '').split('\n')
      .filter((line) => /Broker->>PaymentService: \[\+\d+ ms\] PUBLISH orders\/created .* · PaymentService 2$/.test(line.trim())).length === n, second);
  await page.locator('[data-testid="packet-list"]').scrollIntoViewIfNeeded();
  await waitInPage(page, 'the packet inspector names PaymentService 2 as a client', () =>
    [...document.querySelectorAll('[data-testid="packet-row"] td.client')].some((c) => c.textContent === 'PaymentService 2'));
}

describeApp('competing consumers', () => {
  it('two instances on MQTT 3.1.1: ten orders, each charged exactly once, shared between both', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_instances=2', async (app) => {
      assert.equal(await app.page.inputValue('#payment-instances'), '2');
      await burstIsShared(app);
    }));

  it('two instances on MQTT 5.0: the same', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_instances=2&mqtt=5', burstIsShared));

  it('clean sessions: one instance crashes mid-burst, every order still ends once, and the other takes every later order', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_instances=2&session=clean&saga_timeout_ms=2500', async ({ page, ids, witness }) => {
      const orders = await placeBurst(page, witness);
      // Mid-burst: the orders are delivered and being charged (1 s of work each).
      await page.getByRole('button', { name: 'Crash PaymentService 2', exact: true }).click();
      await page.locator('[data-testid="status-payment-2"][data-crashed="true"]').waitFor();
      await expectOneOutcomeEach(witness, orders, 30_000);
      for (const id of orders) {
        assert.ok(paymentsOf(witness, id).length <= 1, `order ${id} charged at most once`);
      }
      // Its session ended with the crash: the next orders all go to the first instance.
      const before = ordersDeliveredTo(ids['payment-2']);
      const later = await placeBurst(page, witness);
      await expectOneOutcomeEach(witness, later);
      for (const id of later) {
        assert.equal(paymentsOf(witness, id).length, 1, `order ${id} charged once`);
        assert.ok(wireOf(witness, id).includes('orders/confirmed'), `order ${id} confirmed by the instance still running`);
      }
      assert.equal(ordersDeliveredTo(ids['payment-2']), before, 'nothing more for the crashed instance');
    }));

  it('persistent sessions: Mosquitto keeps the crashed instance in the group and queues its share until it restarts', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_instances=2&saga_timeout_ms=2500', async ({ page, ids, witness }) => {
      await page.getByRole('button', { name: 'Crash PaymentService 2', exact: true }).click();
      await page.locator('[data-testid="status-payment-2"][data-crashed="true"]').waitFor();
      await broker.waitForLog(new RegExp(`Client ${escapeRegExp(ids['payment-2'])} closed its connection|Socket error on client ${escapeRegExp(ids['payment-2'])}|Client ${escapeRegExp(ids['payment-2'])} disconnected`), 5_000);
      const orders = await placeBurst(page, witness);
      await expectOneOutcomeEach(witness, orders);
      // The first instance charged its share; the crashed one's share timed out, unpaid. (On a
      // loaded machine the running instance may also charge one of its own after the
      // deadline: that order is cancelled too, charged, and refunded below.)
      const timedOut = orders.filter((id) => wireOf(witness, id).includes('orders/cancelled'));
      for (const id of timedOut) {
        assert.equal(witness.messages.find((m) => m.topic === 'orders/cancelled' && m.json?.orderId === id).json.reason, 'payment timed out');
      }
      const queued = timedOut.filter((id) => paymentsOf(witness, id).length === 0);
      assert.ok(queued.length > 0 && queued.length < BURST, `some orders waited for the crashed instance: ${queued.length}`);
      // Back: the broker delivers what it queued to the crashed instance (its share of the
      // orders, and perhaps of their cancellations). An order the shared memory already heard
      // cancelled is not charged; one whose cancellation was queued behind it is charged late
      // and refunded at once. No order ends twice, none stays charged.
      await page.getByRole('button', { name: 'Restart PaymentService 2', exact: true }).click();
      await broker.waitForLog(() => ordersDeliveredTo(ids['payment-2']) === queued.length, FLOW_TIMEOUT_MS);
      await page.locator('[data-testid="status-payment-2"][data-state="connected"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      // A charge started on those deliveries would be out before one started later: an order
      // placed now and confirmed is the sentinel.
      const sentinel = await placeOrder(page);
      await witness.waitForOrder('orders/confirmed', sentinel, FLOW_TIMEOUT_MS);
      for (const id of timedOut) {
        const charged = paymentsOf(witness, id).filter((m) => m.json.success).length;
        const NIL = '00000000-0000-0000-0000-000000000000';
        if (charged > 0) await witness.waitFor((m) => m.topic === 'payments/refunded' && m.json?.orderId === id && m.json.paymentId !== NIL, FLOW_TIMEOUT_MS, `the refund of ${id}`);
        // A refund of the nil paymentId says nothing was charged (a compensation before the
        // step: the cancellation reached the group before the order did): it undoes no charge.
        // Each refund once: a compensation asked again is answered again with the same message.
        const refunded = new Set(witness.messages.filter((m) => m.topic === 'payments/refunded' && m.json?.orderId === id && m.json.paymentId !== NIL).map((m) => m.json.paymentId)).size;
        assert.ok(charged <= 1, `order ${id} charged at most once, late`);
        assert.equal(refunded, charged, `order ${id}: every late charge refunded`);
      }
      await expectOneOutcomeEach(witness, orders);
    }));

  it('persistent sessions: lowering the instances while one is crashed ends its session, so raising them again charges no order twice', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_instances=2&saga_timeout_ms=1500&dedupe=off', async ({ page, ids, witness }) => {
      await page.getByRole('button', { name: 'Crash PaymentService 2', exact: true }).click();
      await page.locator('[data-testid="status-payment-2"][data-crashed="true"]').waitFor();
      await broker.waitForLog(new RegExp(`Client ${escapeRegExp(ids['payment-2'])} closed its connection|Socket error on client ${escapeRegExp(ids['payment-2'])}|Client ${escapeRegExp(ids['payment-2'])} disconnected`), 5_000);
      // Its share of a burst is queued for it in its kept session (the case above).
      const crashed = await placeBurst(page, witness);
      await expectOneOutcomeEach(witness, crashed);
      assert.ok(crashed.some((id) => wireOf(witness, id).includes('orders/cancelled')), 'some orders waited for the crashed instance');

      // Lowered to one instance while the second is crashed: the page ends its session with a
      // clean CONNECT under its client id (the broker's log says c1), and PaymentService's log
      // says so.
      await page.selectOption('#payment-instances', '1');
      await page.locator('[data-testid="status-payment-2"]').waitFor({ state: 'detached' });
      const connected = new RegExp(`New client connected from \\S+ as ${escapeRegExp(ids['payment-2'])} \\(p\\d, c1,`);
      await broker.waitForLog(connected, FLOW_TIMEOUT_MS);
      const note = page.locator('[data-testid="log-entry"][data-service="payment"][data-topic="session"][data-status="note"]');
      await note.waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.match(await note.textContent(), /PaymentService 2 is not run now: the page ended the session it had on the broker/);
      // Its crash's line: no longer run, not restarted (a newcomer's break-test read "0 caught
      // up on restart" for an instance never run again).
      const outage = page.locator('[data-testid="outage"][data-service="payment-2"][data-removed="true"]').last();
      await outage.waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.equal(await outage.getAttribute('data-restarted'), 'false');
      assert.match(await outage.textContent(), /^PaymentService 2 was down [\d.]+ s, then no longer run \(the page ended its session, and what the broker had queued for it went with it\): .* meanwhile; \d+ lost\./);
      assert.doesNotMatch(await outage.textContent(), /caught up on restart/);

      // One instance takes the next burst: each order charged once, nothing queued beside it.
      const lowered = await placeBurst(page, witness);
      await expectOneOutcomeEach(witness, lowered);
      // Two again: a fresh second instance. Before, its kept session still held the group's
      // share of every order of the meantime and charged each a second time (dedupe off).
      await page.selectOption('#payment-instances', '2');
      await page.locator('[data-testid="status-payment-2"][data-state="connected"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      // A burst shared by both instances: what was queued for the second would reach it before
      // its share of these, so once each of these ends, anything queued has been charged.
      const raised = await placeBurst(page, witness);
      await expectOneOutcomeEach(witness, raised);
      for (const id of [...lowered, ...raised]) {
        assert.equal(paymentsOf(witness, id).length, 1, `order ${id} charged once; its wire: ${wireOf(witness, id).join(', ')}`);
      }
      for (const id of crashed) {
        assert.ok(paymentsOf(witness, id).length <= 1, `order ${id} charged at most once`);
      }
    }));

  // A newcomer's break-test: three instances, two crashed, ten orders, lowered to one. Each
  // crash line read "8 of the 14 published on its shared subscriptions were its share … 8
  // lost": 16 of 14, where 8 went to the two crashed instances together.
  it('two instances crashed at once, then no longer run: what neither got is counted once, as shared, not twice as lost', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_instances=3&saga_timeout_ms=1500', async ({ page, ids, witness }) => {
      for (const n of [2, 3]) {
        await page.getByRole('button', { name: `Crash PaymentService ${n}`, exact: true }).click();
        await page.locator(`[data-testid="status-payment-${n}"][data-crashed="true"]`).waitFor();
      }
      const orders = await placeBurst(page, witness);
      await expectOneOutcomeEach(witness, orders);
      await page.selectOption('#payment-instances', '1');
      const lines = {};
      for (const n of [2, 3]) {
        const line = page.locator(`[data-testid="outage"][data-service="payment-${n}"][data-removed="true"]`).last();
        await line.waitFor({ timeout: FLOW_TIMEOUT_MS });
        const read = async (name) => Number(await line.getAttribute(`data-${name}`));
        lines[n] = { published: await read('published'), missed: await read('missed'), shared: await read('shared'), lost: await read('lost'), text: await line.textContent() };
      }
      const [two, three] = [lines[2], lines[3]];
      // The broker gave PaymentService (the one running) some of the burst; the rest went to
      // the two crashed instances' kept sessions, and the page cannot tell whose.
      const untaken = orders.length - ordersDeliveredTo(ids.payment);
      assert.ok(untaken > 0, `the running instance took ${orders.length - untaken} of ${orders.length}: none left for the crashed ones`);
      assert.equal(two.published, three.published, 'both were down over the same messages');
      assert.equal(two.shared, three.shared, `both lines count the shared ones alike: ${two.text} | ${three.text}`);
      assert.ok(two.shared >= untaken, `at least the ${untaken} orders/created no running instance took are shared: ${two.text}`);
      assert.ok(two.missed + three.missed + two.shared <= two.published, `counted once: ${two.text} | ${three.text}`);
      assert.ok(two.lost + three.lost + two.shared <= two.published, `lost at most once: ${two.text} | ${three.text}`);
      assert.match(two.text, new RegExp(`${two.shared} its share or PaymentService 3's \\(down at the same time: the broker does not say whose\\)`));
      // "as well" only beside a count of its own lost (it said "0 lost. … were lost as well").
      const also = three.lost > 0 ? ' as well' : '';
      assert.match(three.text, new RegExp(`The ${three.shared} its share or PaymentService 2's were lost${also}: no instance they could go to runs now\\.`));
    }));
  // A newcomer's break-test (35-N F1): every instance crashed under clean sessions, an order
  // placed, all three restarted: each line said "0 lost", and that what was not its share "comes
  // on restart if the broker queued" it, though every CONNACK said Session Present 0.
  it('clean sessions: every instance crashed, an order placed, all restarted without their sessions: what none got is lost, counted once, in PaymentService\'s line', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_instances=3&session=clean&saga_timeout_ms=1500', async ({ page, witness }) => {
      const names = ['PaymentService', 'PaymentService 2', 'PaymentService 3'];
      const slugs = ['payment', 'payment-2', 'payment-3'];
      for (const [i, name] of names.entries()) {
        await page.getByRole('button', { name: `Crash ${name}`, exact: true }).click();
        await page.locator(`[data-testid="status-${slugs[i]}"][data-crashed="true"]`).waitFor();
      }
      const orderId = await placeOrder(page);
      const cancelled = await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
      assert.equal(cancelled.json.reason, 'payment timed out');
      for (const name of names) {
        await page.getByRole('button', { name: `Restart ${name}`, exact: true }).click();
      }
      // Each instance accepted again (without its session): then the lines know the group
      // lost what none of them got.
      for (const slug of slugs) {
        await page.locator(`[data-testid="status-${slug}"][data-state="connected"]`).waitFor({ timeout: FLOW_TIMEOUT_MS });
      }
      const lineOf = (slug) => page.locator(`[data-testid="outage"][data-service="${slug}"][data-restarted="true"]`).last();
      await lineOf('payment').filter({ hasText: 'lost for the whole group' }).waitFor({ timeout: 5_000 }).catch(() => {});
      const lines = [];
      for (const slug of slugs) {
        const line = lineOf(slug);
        lines.push({ lost: Number(await line.getAttribute('data-lost')), text: (await line.textContent()) ?? '' });
      }
      const [first, second, third] = lines;
      assert.ok(first.lost >= 1, `the order is lost, in the first's line: ${first.text}`);
      assert.deepEqual([second.lost, third.lost], [0, 0], `counted once: ${second.text} | ${third.text}`);
      assert.match(first.text, new RegExp(`${first.lost} lost\\. The ${first.lost} published while PaymentService 2 and PaymentService 3 were down too reached no instance, and none came back with its session .*lost for the whole group, counted here once\\.`));
      for (const other of [second, third]) {
        assert.match(other.text, /lost for the whole group, counted once, in PaymentService's line\./);
        assert.doesNotMatch(other.text, /come to .* on restart if the broker queued them/);
      }
    }));
  // A break-test: the number of instances (or the session mode) changed right after Place 10
  // orders charged and reserved 19 of the 20 orders twice, each with two payment ids. What
  // PaymentService and InventoryService decided waited for the tab's database (their memory is
  // kept before their decision goes out), the new runtime armed the charges and reservations
  // it was handed, and the decisions carried out late armed them again. The page's own writes
  // are slow enough: no database held here (mqtt-version holds it across an MQTT switch).
  for (const [what, select, value] of [['the number of instances', '#payment-instances', '2'], ['the session mode', '#session-mode', 'clean']]) {
    it(`${what} changed right after Place 10 orders: each order charged once and reserved once`, { timeout: CASE_TIMEOUT_MS }, (t) =>
      watched(t, '&payment_ms=0&inventory_ms=0', async ({ page, witness }) => {
        const created = () => [...new Set(witness.messages.filter((m) => m.topic === 'orders/created').map((m) => m.json?.orderId))];
        await waitOrdersAccepted(page);
        await page.click('[data-testid="place-ten"]');
        await witness.waitFor(() => created().length >= 3, FLOW_TIMEOUT_MS, 'the burst under way');
        await page.selectOption(select, value);
        await witness.waitFor(() => created().length >= BURST, FLOW_TIMEOUT_MS, `${BURST} orders created`);
        const orders = created();
        await expectOneOutcomeEach(witness, orders);
        // A later burst's decisions are carried out after every earlier one (the database
        // keeps them in order): once it ends, a second charge of the first would be on the wire.
        const later = await placeBurst(page, witness);
        await expectOneOutcomeEach(witness, later);
        for (const id of [...orders, ...later]) {
          for (const topic of ['payments/processed', 'inventory/reserved']) {
            const results = new Set(messagesOf(witness, id).filter((m) => m.topic === topic).map((m) => m.payload));
            assert.equal(results.size, 1, `order ${id}: one ${topic}, not ${[...results].join(' | ')}`);
          }
        }
      }));
  }

  // A newcomer's break-test (34-K F7): PaymentService sent UNSUBSCRIBE before its DISCONNECT
  // whenever the services reconnected for a setting, so its persistent session queued nothing
  // while it reconnected: orders placed just before a change of instances ended "payment timed
  // out" (10 of 30), though the payment takes 300 ms and the deadline is 5 s.
  it('persistent sessions: instances raised right after three bursts of orders: PaymentService\'s kept session queues what comes meanwhile, and every order completes', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=300&inventory_ms=300&saga_timeout_ms=5000', async ({ page, witness }) => {
      const created = () => [...new Set(witness.messages.filter((m) => m.topic === 'orders/created').map((m) => m.json?.orderId))];
      await waitOrdersAccepted(page);
      // The orders go out with the services' new connections: OrderService's may come before
      // PaymentService's subscribes again.
      await page.evaluate(() => {
        for (let i = 0; i < 3; i += 1) document.querySelector('[data-testid="place-ten"]').click();
        const select = document.querySelector('#payment-instances');
        select.value = '2';
        select.dispatchEvent(new Event('change', { bubbles: true }));
      });
      assert.equal(await page.inputValue('#payment-instances'), '2');
      await witness.waitFor(() => created().length >= 3 * BURST, FLOW_TIMEOUT_MS, `${3 * BURST} orders created`);
      const orders = created();
      await expectOneOutcomeEach(witness, orders, 3 * FLOW_TIMEOUT_MS);
      const cancelled = orders.filter((id) => wireOf(witness, id).includes('orders/cancelled'));
      assert.deepEqual(cancelled.map((id) => `${id}: ${wireOf(witness, id).join(', ')}`), [], 'every order completes');
    }));

  it('persistent sessions: a reload into a link with fewer instances ends the sessions the others left, so raising them again charges no order twice', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_instances=2&dedupe=off', async ({ page, ids, witness }) => {
      // A reload leaves without DISCONNECT or UNSUBSCRIBE: the second instance's session keeps
      // its place in the group. The same tab opens the link with one instance.
      const link = (n) => page.url().replace(/payment_instances=\d/, `payment_instances=${n}`);
      await page.goto(link(1));
      await waitReady(page);
      const connected = new RegExp(`New client connected from \\S+ as ${escapeRegExp(ids['payment-2'])} \\(p\\d, c1,`);
      await broker.waitForLog(connected, FLOW_TIMEOUT_MS);
      await page.locator('[data-testid="log-entry"][data-service="payment"][data-topic="session"][data-status="note"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      const lowered = await placeBurst(page, witness);
      await expectOneOutcomeEach(witness, lowered);
      // Back to two: a fresh second instance, with nothing queued for it.
      await page.goto(link(2));
      await waitReady(page);
      await page.locator('[data-testid="status-payment-2"][data-state="connected"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      const raised = await placeBurst(page, witness);
      await expectOneOutcomeEach(witness, raised);
      for (const id of [...lowered, ...raised]) {
        assert.equal(paymentsOf(witness, id).length, 1, `order ${id} charged once; its wire: ${wireOf(witness, id).join(', ')}`);
      }
      // The same tab kept its client ids throughout (its persistent sessions are the point).
      assert.ok(broker.log().includes(`as ${ids.payment} (p2, c0,`), 'PaymentService kept its client id and session');
    }));

  for (const [version, params, how] of [
    [5, '&mqtt=5', "the broker's CONNACK says Shared Subscription Available 0"],
    [4, '', 'the broker refuses $share in its SUBACK (0x80)'],
  ]) {
    it(`a broker that refuses shared subscriptions is named in the page (MQTT ${version === 5 ? '5.0' : '3.1.1'}: ${how})`, { timeout: CASE_TIMEOUT_MS }, async (t) => {
      const proxy = await startTamperingProxy({
        upstream: broker.wsUrl,
        fromBroker: (packet, conn) => (version === 5 ? withoutSharing(packet) : refuseShared(packet, conn)),
      });
      try {
        await withApp(t, `${brokerQuery(proxy.wsUrl)}${params}&payment_instances=2`, async ({ page }) => {
          const error = page.locator('[data-testid="payment-instances-error"]');
          await error.waitFor({ timeout: FLOW_TIMEOUT_MS });
          const text = (await error.textContent()) ?? '';
          assert.match(text, /The broker refused PaymentService( 2)?'s shared subscription \$share\/eda-[0-9a-f]+-payment\/orders\/\w+/);
          assert.match(text, version === 5 ? /Shared Subscriptions not supported \(0x9E\)/ : /Failure \(0x80\)/);
          assert.match(text, /cannot share its work on this broker/);
          // A break-test: the form said the wait for PaymentService to subscribe "goes away",
          // though nothing would subscribe by itself.
          await waitDatabaseRead(page);
          await page.click('[data-testid="place-order"]');
          const refusal = page.locator('[data-testid="form-error"]');
          await waitInPage(page, 'the form names the refused subscriptions', () => /does not ask again/.test(document.querySelector('[data-testid="form-error"]')?.textContent ?? ''));
          const sentence = (await refusal.textContent()) ?? '';
          assert.match(sentence, /OrderService is waiting for PaymentService to subscribe, but the broker refused every subscription of PaymentService( 2)? \(\$share\/eda-[0-9a-f]+-payment\/orders\/\w+ and 2 more: .*\), and PaymentService does not ask again by itself/);
          assert.match(sentence, /run one instance/);
          assert.doesNotMatch(sentence, /goes away once they have/);
          assert.equal(await page.locator('[data-testid="placed-order-id"]').count(), 0, 'nothing placed');
          if (version === 5) {
            // Told it is unsupported, the client never asked: no $share filter reached Mosquitto.
            const payment = ((await page.textContent('[data-testid="status-payment"] [data-testid="client-id"]')) ?? '').trim();
            await broker.waitForLog(new RegExp(`Sending CONNACK to ${escapeRegExp(payment)}-2 `), 5_000);
            for (const id of [payment, `${payment}-2`]) {
              const shared = subscribedFilters(broker.log(), id).filter((f) => f.startsWith('$share/'));
              assert.deepEqual(shared, [], `${id} sent no shared subscription`);
            }
          }
        });
      } finally {
        await proxy.close();
      }
    });
  }
});

/** A 5.0 CONNACK with Shared Subscription Available 0 added to its properties. */
function withoutSharing(packet) {
  if (packet[0] >> 4 !== 2) return packet;
  // Fixed header (1 byte + 1-byte length: a CONNACK is short), flags, reason, properties.
  const propertiesLength = packet[4];
  const properties = Buffer.concat([packet.subarray(5, 5 + propertiesLength), Buffer.from([0x2a, 0])]);
  const body = Buffer.concat([packet.subarray(2, 4), Buffer.from([properties.length]), properties]);
  return Buffer.concat([Buffer.from([0x20, body.length]), body]);
}

/** A 3.1.1 SUBACK whose codes for `$share/…` filters are 0x80, Failure. */
function refuseShared(packet, conn) {
  if (packet[0] >> 4 !== 9) return packet;
  const { packetId, codesAt } = subAckCodes(packet, conn.version);
  const filters = conn.subscribes.get(packetId) ?? [];
  const out = Buffer.from(packet);
  filters.forEach((filter, i) => {
    if (filter.startsWith('$share/')) out[codesAt + i] = 0x80;
  });
  return out;
}
