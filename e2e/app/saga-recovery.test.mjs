// A saga recovering from what a broker or a crash takes away: an OrderService crash across a
// batch's deadline (the deadline kept acts once OrderService is back), and compensations lost
// with the broker's sessions (OrderService sends them again until it sees them done). An
// independent witness checks the wire.
//
//   node --test e2e/app/saga-recovery.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import mqtt from 'mqtt';

import { FLOW_TIMEOUT_MS, brokerQuery, crashService } from '../lib/app-page.mjs';
import { startBroker } from '../lib/broker.mjs';
import { CASE_TIMEOUT_MS, describeApp, setLateBroker, waitReady, watched, withApp } from '../lib/app-suite.mjs';
import { expectOneOutcome, placeOrder, waitForRow, wireOf } from '../lib/saga.mjs';

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** The id of a compensation before the step: nothing was charged or reserved. */
const NIL = '00000000-0000-0000-0000-000000000000';

describeApp('saga recovery', () => {
  it('OrderService crashed across a batch\'s deadline: once back, every order of the batch is cancelled as timed out, once', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=3000&saga_timeout_ms=1500', async ({ page, witness }) => {
      await page.click('[data-testid="place-ten"]');
      const created = () => witness.messages.filter((m) => m.topic === 'orders/created').map((m) => m.json?.orderId);
      await witness.waitFor(() => created().length >= 10, FLOW_TIMEOUT_MS, '10 orders created');
      const orders = created();
      // The crash and the outage are the scenario: after the orders are out, before their
      // deadline (1.5 s); back after the deadline and after the payments (3 s) were made.
      await crashService(page, 'order');
      await pause(5_000);
      await page.getByRole('button', { name: 'Restart OrderService' }).click();
      for (const id of orders) {
        const outcome = await witness.waitFor(
          (m) => m.json?.orderId === id && ['orders/confirmed', 'orders/cancelled'].includes(m.topic),
          FLOW_TIMEOUT_MS,
          `an outcome for ${id}`,
        );
        assert.equal(outcome.topic, 'orders/cancelled', `the deadline acted; the wire: ${wireOf(witness, id).join(', ')}`);
        assert.match(outcome.json.reason, /timed out$/);
      }
      for (const id of orders) {
        await expectOneOutcome(witness, id, 'orders/cancelled');
        await witness.waitForOrder('payments/refunded', id, FLOW_TIMEOUT_MS);
        await waitForRow(page, id, 'Cancelled');
      }
    }));

  // A newcomer's break-test (35-N F4): an orchestrated saga cancelled and compensated, then the
  // page reloaded into the default (parallel) style: the restored saga was judged by the new
  // style, OrderService asked for a refund nobody owed (orders/cancelled again), and the ended
  // order's stream grew.
  it('an orchestrated saga ended, then a reload into the default style: it resumes under orchestration, and nothing is asked again', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&saga=orchestration&saga_timeout_ms=1500', async ({ page, witness }) => {
      await crashService(page, 'inventory');
      const orderId = await placeOrder(page);
      const cancelled = await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
      assert.equal(cancelled.json.reason, 'inventory timed out');
      await page.getByRole('button', { name: 'Restart InventoryService' }).click();
      // Its kept session delivers the reserve and release commands: reserved late, released.
      await witness.waitForOrder('inventory/released', orderId, FLOW_TIMEOUT_MS);
      await waitForRow(page, orderId, 'Cancelled', { compensations: 1 });
      const asked = () => witness.messages.filter((m) => m.json?.orderId === orderId && ['orders/cancelled', 'payments/refunded', 'commands/payment/refund'].includes(m.topic)).length;
      const before = asked();
      await page.goto(page.url().replace('&saga=orchestration', ''));
      await waitReady(page);
      assert.equal(new URL(page.url()).searchParams.get('saga'), null, 'the default style');
      // A restored check would be due within the deadline (1.5 s) of the reload; nothing marks
      // the moment it finds nothing to do, so this waits past it.
      await page.waitForTimeout(4_000);
      assert.equal(asked(), before, `nothing asked again: ${wireOf(witness, orderId).join(', ')}`);
    }));

  it('a compensation never seen: OrderService sends orders/cancelled 4 times, then gives up, and the row and its log say so', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&session=clean&payment=decline&payment_ms=1500&saga_timeout_ms=2000', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      await witness.waitForOrder('inventory/reserved', orderId, FLOW_TIMEOUT_MS);
      // InventoryService, holding the stock, goes down with a clean session before the decline
      // (1.5 s): it will never hear orders/cancelled, however often it is sent.
      await crashService(page, 'inventory');
      const row = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-compensating"]`);
      await page.waitForFunction(
        (id) => /compensating: release not seen yet/.test(document.querySelector(`[data-testid="order-row"][data-order-id="${id}"] [data-testid="order-compensating"]`)?.textContent ?? ''),
        orderId,
        { timeout: FLOW_TIMEOUT_MS },
      );
      const gaveUp = page.locator('[data-testid="log-entry"][data-service="order"][data-topic="compensation"]', { hasText: 'release not confirmed after 4 tries' });
      await gaveUp.waitFor({ timeout: 2 * FLOW_TIMEOUT_MS });
      // InventoryService, crashed, received none of the tries: the row says so, and that under
      // its clean session a Restart brings none of them (45-AW F2: it named ACLs first).
      assert.equal(await row.textContent(), 'release not confirmed after 4 tries: InventoryService is crashed, so it received none of them, and its session is clean: the broker keeps none of them for it, so a Restart does not bring them, and the reservation is left to release by hand');
      await witness.roundTrip();
      const copies = witness.messages.filter((m) => m.topic === 'orders/cancelled' && m.json?.orderId === orderId);
      assert.equal(copies.length, 4, 'sent 4 times in all');
      assert.equal(new Set(copies.map((m) => String(m.payload))).size, 1, 'the same message each time');
      assert.equal(wireOf(witness, orderId).filter((tp) => tp === 'inventory/released').length, 0);
      const sentAgain = page.locator('[data-testid="log-entry"][data-service="order"][data-topic="compensation"]', { hasText: 'sent again' });
      assert.equal(await sentAgain.count(), 3);
    }));

  it('the broker killed mid-batch, clean sessions: every cancelled order\'s charge is refunded and its stock released, OrderService sending the compensation again', { timeout: CASE_TIMEOUT_MS * 2 }, (t) =>
    // The newcomer's steps A (with a deadline, 2 s, that passes during the outage).
    brokerOutage(t, { params: '&session=clean&saga_timeout_ms=2000', batches: 1, outageMs: 3_000 }));

  it('OrderService away with a clean session while its charges are made (orchestration): their results are lost with its session, and once back it cancels each order at its deadline and has its charge refunded', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&saga=orchestration&session=clean&payment_ms=3000&saga_timeout_ms=2500', async ({ page, witness }) => {
      await page.click('[data-testid="place-ten"]');
      const ofTopic = (topic, pick = () => true) => witness.messages.filter((m) => m.topic === topic && pick(m));
      // OrderService asked for the ten charges (the stock reserved at 0.8 s); it crashes before
      // their results (3 s later). With a clean session the broker keeps nothing for it.
      await witness.waitFor(() => ofTopic('commands/payment/charge').length >= 10, FLOW_TIMEOUT_MS, '10 charges asked');
      await crashService(page, 'order');
      const orders = ofTopic('commands/payment/charge').map((m) => m.json.orderId);
      const charged = (id) => ofTopic('payments/processed', (m) => m.json?.orderId === id && m.json.success);
      await witness.waitFor(() => orders.every((id) => charged(id).length === 1), FLOW_TIMEOUT_MS, 'the ten charges made');
      await page.getByRole('button', { name: 'Restart OrderService' }).click();
      for (const id of orders) {
        const refund = await witness.waitFor(
          (m) => m.topic === 'payments/refunded' && m.json?.orderId === id && m.json.paymentId !== NIL,
          FLOW_TIMEOUT_MS,
          `the refund of ${id}; its wire: ${wireOf(witness, id).join(', ')}`,
        );
        assert.equal(refund.json.paymentId, charged(id)[0].json.paymentId, 'the charge made is the one refunded');
        assert.equal(refund.json.amount, charged(id)[0].json.amount);
        await expectOneOutcome(witness, id, 'orders/cancelled');
        assert.equal(ofTopic('orders/cancelled', (m) => m.json?.orderId === id)[0].json.reason, 'payment timed out');
        await waitForRow(page, id, 'Cancelled', { compensations: 2 });
      }
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="order-compensating"]').length === 0, null, { timeout: FLOW_TIMEOUT_MS });
    }));

  it('compensation before the step (parallel): PaymentService away with a clean session never saw the order; asked to refund it, it answers that nothing was charged, and the page lists that', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&session=clean&saga_timeout_ms=1500', async ({ page, witness }) => {
      await crashService(page, 'payment');
      const orderId = await placeOrder(page);
      const cancelled = await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
      assert.equal(cancelled.json.reason, 'payment timed out');
      await page.getByRole('button', { name: 'Restart PaymentService' }).click();
      // OrderService sends orders/cancelled again (the charge's outcome unknown to it), and
      // PaymentService, back, answers it: nothing was charged.
      const answer = await witness.waitForOrder('payments/refunded', orderId, 2 * FLOW_TIMEOUT_MS);
      assert.deepEqual([answer.json.paymentId, answer.json.amount], [NIL, 0]);
      assert.ok(!wireOf(witness, orderId).includes('payments/processed'), `never charged: ${wireOf(witness, orderId).join(', ')}`);
      await expectOneOutcome(witness, orderId, 'orders/cancelled');
      const row = await waitForRow(page, orderId, 'Cancelled', { compensations: 2 });
      assert.deepEqual([...row.compensations].sort(), ['↺ nothing to refund: never charged', '↺ stock released']);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="order-compensating"]').length === 0, null, { timeout: FLOW_TIMEOUT_MS });
      const gaveUp = page.locator('[data-testid="log-entry"][data-service="order"]', { hasText: 'gives up' });
      assert.equal(await gaveUp.count(), 0, 'OrderService saw the compensation end');
    }));

  it('the answer lost, not the request: OrderService away with a clean session while the refund and the release are published; once back it asks again, and each participant answers again with the same message', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&session=clean&payment_ms=3500&inventory_ms=3000&saga_timeout_ms=1500', async ({ page, witness }) => {
      const orderId = await placeOrder(page);
      // The deadline (1.5 s) cancels the order with both steps under way; OrderService crashes
      // before they complete (3 s, 3.5 s) and are undone at once: their answers go to nobody.
      const cancelled = await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
      assert.equal(cancelled.json.reason, 'inventory and payment timed out');
      await crashService(page, 'order');
      const refund = await witness.waitForOrder('payments/refunded', orderId, FLOW_TIMEOUT_MS);
      const release = await witness.waitForOrder('inventory/released', orderId, FLOW_TIMEOUT_MS);
      assert.notEqual(refund.json.paymentId, NIL, 'a real charge, refunded');
      // While it is crashed, the row names the crash as the cause (40-AD F4: it named a broker
      // that stopped answering, one restarted, an ACL).
      const unheardNow = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-unheard-step"]`);
      await page.waitForFunction((id) => document.querySelectorAll(`[data-testid="order-row"][data-order-id="${id}"] [data-testid="order-unheard-step"]`).length === 2, orderId, { timeout: FLOW_TIMEOUT_MS });
      for (const note of await unheardNow.allTextContents()) {
        assert.match(note, /^ \(OrderService has not received this (payments\/processed|inventory\/reserved): it is crashed\./);
        assert.doesNotMatch(note, /ACL/);
      }
      await page.getByRole('button', { name: 'Restart OrderService' }).click();
      // Back, OrderService has heard neither: it sends orders/cancelled again (the same bytes);
      // PaymentService and InventoryService, which took the copy for a duplicate, answer again.
      const answers = (topic) => witness.messages.filter((m) => m.topic === topic && m.json?.orderId === orderId);
      await witness.waitFor(() => answers('payments/refunded').length >= 2 && answers('inventory/released').length >= 2,
        2 * FLOW_TIMEOUT_MS, `the answers again; the wire: ${wireOf(witness, orderId).join(', ')}`);
      const copies = answers('orders/cancelled');
      assert.equal(new Set(copies.map((m) => String(m.payload))).size, 1, 'the same orders/cancelled each time');
      for (const [first, topic] of [[refund, 'payments/refunded'], [release, 'inventory/released']]) {
        assert.ok(answers(topic).every((m) => String(m.payload) === String(first.payload)), `${topic} again, byte for byte`);
      }
      // OrderService heard each answer (the second copies: it was away for the first), and
      // the participants' logs say they answered again.
      for (const topic of ['payments/refunded', 'inventory/released']) {
        await page.locator(`[data-testid="log-entry"][data-service="order"][data-topic="${topic}"][data-status="accepted"]`).first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      }
      for (const service of ['payment', 'inventory']) {
        await page.locator(`[data-testid="log-entry"][data-service="${service}"][data-status="duplicate"]`, { hasText: 'its answer is sent again' }).first().waitFor({ timeout: FLOW_TIMEOUT_MS });
      }
      const row = await waitForRow(page, orderId, 'Cancelled', { compensations: 2 });
      assert.equal(row.compensations.length, 2, JSON.stringify(row));
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="order-compensating"]').length === 0, null, { timeout: FLOW_TIMEOUT_MS });
      const gaveUp = page.locator('[data-testid="log-entry"][data-service="order"]', { hasText: 'gives up' });
      assert.equal(await gaveUp.count(), 0, 'OrderService saw both compensations end');
      // Why OrderService never received the charge and the reservation: the lesson (it was
      // away, and came back with a clean session), not a broker fault (37-V F6: the row sent
      // the learner to the broker's log).
      // (The Orders panel is a part drawn at most once a second out of sight: read in view, once
      // it is drawn after the restart.)
      const unheardNotes = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-unheard-step"]`);
      await unheardNotes.first().scrollIntoViewIfNeeded();
      await page
        .waitForFunction(
          (id) => {
            const notes = [...document.querySelectorAll(`[data-testid="order-row"][data-order-id="${id}"] [data-testid="order-unheard-step"]`)];
            return notes.length === 2 && notes.every((n) => /connected again with a clean session/.test(n.textContent));
          },
          orderId,
          { timeout: 5_000 },
        )
        .catch(() => {}); // the assertions below say what was drawn instead
      const unheard = await unheardNotes.allTextContents();
      assert.equal(unheard.length, 2, `both steps unheard: ${unheard}`);
      for (const note of unheard) {
        assert.match(note, /went out while OrderService was away, and OrderService connected again with a clean session/);
        assert.doesNotMatch(note, /broker's log/);
      }
      await expectOneOutcome(witness, orderId, 'orders/cancelled');
    }));

  it('the broker killed mid-batch, orchestration, clean sessions: a charge whose payments/processed never reached OrderService is refunded too', { timeout: CASE_TIMEOUT_MS * 2 }, (t) =>
    // The newcomer's issue 17 steps: killed after the charge commands went out (the stock is
    // reserved at 0.8 s), before their results (1 s later), back 3 s later; the deadline (3 s)
    // passes during the outage and cancels every order. A result PaymentService publishes
    // before OrderService's new clean session has subscribed is lost to it.
    // OrderService, crashed meanwhile, comes back once the charges are out: the race its
    // new subscription lost by chance in the newcomer's runs (3 of 3) is lost every time.
    // Killed once PaymentService's log in the page shows every charge command received: at a
    // fixed 1.3 s, and then once the witness had seen every command, two clean-clone runs in a
    // row found PaymentService with 2 of the 10 (the rest still on their way to the browser
    // when the broker died; with OrderService away they never came again). The charges take
    // 2 s, so their results still come during the outage (the log in the page, drawn once a
    // second while out of sight, may say so up to a second late).
    brokerOutage(t, { params: '&saga=orchestration&session=clean&saga_timeout_ms=3000&payment_ms=2000', batches: 1, outageMs: 3_000, killOnPage: '[data-testid="log-entry"][data-service="payment"][data-topic="commands/payment/charge"]', allCancelled: true, orderBackLast: true }));

  it('the broker killed before it saved its sessions, persistent sessions: the same', { timeout: CASE_TIMEOUT_MS * 2 }, (t) =>
    // The newcomer's steps B: 30 orders, payment 2 s, the broker killed -9 within its autosave
    // interval (10 s), so the sessions it comes back with are not the ones it lost; 12 s away.
    brokerOutage(t, { params: '&payment_ms=2000', batches: 3, outageMs: 12_000, persist: true }));
});

/**
 * Places `batches` × 10 orders on a broker of the case's own with the page's `params`, kills it
 * (-9) `killAfterMs` later (0.5 s), or once the page shows as many elements matching
 * `killOnPage` as orders, starts it again on the same ports `outageMs` later, and checks on the wire
 * (an independent witness) and on the page that every order ends with one outcome and nothing
 * charged or held for a cancelled one. With `persist`, the broker keeps sessions on disk but
 * autosaves only every 10 s, so the kill loses them.
 */
async function brokerOutage(t, { params, batches, outageMs, persist = false, killAfterMs = 500, killOnPage = null, allCancelled = false, orderBackLast = false }) {
  const store = persist ? await mkdtemp(path.join(os.tmpdir(), 'eda-saga-persist-')) : null;
  if (store) await chmod(store, 0o777); // started as root, Mosquitto writes as the mosquitto user
  const settings = store ? { persistence: 'true', persistence_location: `${store}/`, autosave_interval: 10 } : {};
  let restartable = await startBroker({ settings });
  setLateBroker(restartable);
  // A witness that reconnects and subscribes again by itself (MQTT.js resubscribes).
  const seen = [];
  const witness = mqtt.connect(`mqtt://127.0.0.1:${restartable.tcpPort}`, {
    clientId: 'e2e-saga-recovery-witness', clean: true, reconnectPeriod: 100, protocolVersion: 4,
  });
  witness.on('error', () => {});
  const waiters = new Set();
  witness.on('message', (topic, payload) => {
    let json = null;
    try { json = JSON.parse(payload.toString()); } catch { json = null; }
    seen.push({ topic, json, text: payload.toString() });
    for (const waiter of waiters) waiter();
  });
  /** Resolves once `done()` holds, checked on each message; false after `ms`. */
  const until = (done, ms) =>
    new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        resolve(false);
      }, ms);
      waiters.add(check);
      check();
    });
  await new Promise((resolve) => witness.once('connect', resolve));
  await witness.subscribeAsync('#', { qos: 1 });
  const of = (id, topic, pick = () => true) => seen.filter((m) => m.topic === topic && m.json?.orderId === id && pick(m));
  try {
    await withApp(t, `${brokerQuery(restartable.wsUrl)}${params}`, async ({ page }) => {
      await waitReady(page, restartable);
      for (let i = 0; i < batches; i++) await page.click('[data-testid="place-ten"]');
      const count = batches * 10;
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="order-row"]').length >= n, count, { timeout: FLOW_TIMEOUT_MS });
      const orders = await page.locator('[data-testid="order-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.orderId));
      // The outage is the scenario: killed 0.5 s after the orders went out (before the
      // services answered them), back `outageMs` later.
      if (killOnPage === null) {
        await pause(killAfterMs);
      } else {
        await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length >= n, [killOnPage, count], { timeout: FLOW_TIMEOUT_MS });
      }
      const { tcpPort, wsPort } = restartable;
      process.kill(restartable.pid, 'SIGKILL');
      await restartable.stop();
      if (orderBackLast) {
        await crashService(page, 'order');
      }
      await pause(outageMs);
      restartable = await startBroker({ settings, tcpPort, wsPort });
      setLateBroker(restartable);
      if (orderBackLast) {
        // PaymentService publishes the results it made during the outage once connected
        // again: the witness sees them, OrderService (away, its session clean) never will.
        const paid = await until(() => orders.every((id) => of(id, 'payments/processed').length > 0), FLOW_TIMEOUT_MS);
        assert.ok(paid, `every charge made during the outage: ${orders.filter((id) => of(id, 'payments/processed').length === 0).join(', ')}`);
        await page.getByRole('button', { name: 'Restart OrderService' }).click();
      }
      // Every order ends cancelled or confirmed, and nothing stays charged or held for a
      // cancelled one, as the witness saw the wire.
      const settled = () => orders.every((id) => {
        const outcome = [...of(id, 'orders/confirmed'), ...of(id, 'orders/cancelled')];
        if (outcome.length === 0) return false;
        if (outcome[0].topic === 'orders/confirmed') return true;
        const charged = of(id, 'payments/processed', (m) => m.json.success).length;
        const held = of(id, 'inventory/reserved', (m) => m.json.success).length;
        // A compensation before the step (nil id: nothing was charged or reserved) undoes none.
        const refunded = new Set(of(id, 'payments/refunded', (m) => m.json.paymentId !== NIL).map((m) => m.json.paymentId)).size;
        const released = new Set(of(id, 'inventory/released', (m) => m.json.reservationId !== NIL).map((m) => m.json.reservationId)).size;
        return refunded >= charged && released >= held;
      });
      // Settled can turn false again: a charge made during the outage and published after it
      // (PaymentService's result, in the same burst as the cancellation that made the order
      // look settled) waits for its refund. Wait again then, within the same 60 s (CI, stop 45).
      const deadline = Date.now() + 3 * FLOW_TIMEOUT_MS;
      for (;;) {
        const held = await until(settled, Math.max(0, deadline - Date.now()));
        if (!held || settled()) break;
      }
      const state = orders.map((id) => `${id.slice(0, 8)}: ${seen.filter((m) => m.json?.orderId === id).map((m) => m.topic).join(', ')}`);
      assert.ok(settled(), `every cancelled order compensated on the wire:\n${state.join('\n')}`);
      for (const id of orders) {
        // One outcome: a copy of orders/cancelled sent again is the same message.
        const outcomes = new Set([...of(id, 'orders/confirmed'), ...of(id, 'orders/cancelled')].map((m) => m.text));
        assert.equal(outcomes.size, 1, `one outcome for ${id}: ${[...outcomes].join(' | ')}`);
      }
      // The page agrees: no row is left compensating, each shows its compensations.
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="order-compensating"]').length === 0, null, { timeout: FLOW_TIMEOUT_MS });
      const cancelled = orders.filter((id) => of(id, 'orders/cancelled').length > 0);
      if (allCancelled) assert.equal(cancelled.length, count, 'the deadline passed during the outage: every order cancelled');
      for (const id of cancelled) {
        const charged = of(id, 'payments/processed', (m) => m.json.success).length;
        const held = of(id, 'inventory/reserved', (m) => m.json.success).length;
        await waitForRow(page, id, 'Cancelled', { compensations: charged + held });
      }
      const again = page.locator('[data-testid="log-entry"][data-service="order"][data-topic="compensation"]');
      const gaveUp = await again.filter({ hasText: 'gives up' }).count();
      assert.equal(gaveUp, 0, 'OrderService saw every compensation end');
      const early = seen.filter((m) => ['payments/refunded', 'inventory/released'].includes(m.topic) && [m.json?.paymentId, m.json?.reservationId].includes(NIL)).length;
      const refused = seen.filter((m) => m.json?.reason === 'order already cancelled').length;
      t.diagnostic(`${cancelled.length} of ${count} cancelled; OrderService sent a compensation again ${await again.count()} times; ${early} compensations before the step, ${refused} steps refused after one`);
    });
  } finally {
    witness.end(true);
    await restartable.stop();
    setLateBroker(null);
    if (store) await rm(store, { recursive: true, force: true });
  }
}
