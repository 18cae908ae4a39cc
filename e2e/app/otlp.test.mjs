// OpenTelemetry export: an order's saga from its Orders panel row, and every order of the
// session from the recording bar, downloaded as OTLP/JSON and read back by an implementation
// that is not ours (e2e/lib/otlp.mjs: the OpenTelemetry JS project's protobufjs classes for
// opentelemetry-proto). The spans must be the saga's, under its root, with the right statuses,
// the topics an independent MQTT witness saw, and times on today's Unix clock; a replayed
// recording exports the same spans, dated by its messages' own timestamps.
//
//   node --test e2e/app/otlp.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, brokerQuery, notificationTexts, outboxEmpty, waitForNotifications, waitForStates } from '../lib/app-page.mjs';
import { freePort } from '../lib/broker.mjs';
import { ARTIFACTS, CASE_TIMEOUT_MS, broker, describeApp, waitReady, withApp } from '../lib/app-suite.mjs';
import { parseOtlpJson } from '../lib/otlp.mjs';
import { placeOrder, waitForRow, watchEveryTopic, wireOf } from '../lib/saga.mjs';

const hex = (orderId) => orderId.replaceAll('-', '');

/** Clicks `selector` and resolves with the downloaded file's name and text. */
async function download(page, selector, name) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  await mkdir(ARTIFACTS, { recursive: true });
  const saved = path.join(ARTIFACTS, name);
  await file.saveAs(saved);
  return { name: file.suggestedFilename(), text: await readFile(saved, 'utf8') };
}

/** `service` `name` among `spans`, failing with what there is. */
function spanOf(spans, service, name) {
  const span = spans.find((s) => s.service === service && s.name === name);
  assert.ok(span, `${service} "${name}" among: ${spans.map((s) => `${s.service} ${s.name}`).join(' | ')}`);
  return span;
}

/** Asserts the spans of one order's trace: one root, parent of all, times in order. */
function assertOneSaga(spans, orderId, { from, to }) {
  const traceIds = new Set(spans.map((s) => s.traceId));
  assert.deepEqual([...traceIds], [hex(orderId)], 'one trace, whose id is the order id');
  const roots = spans.filter((s) => s.parentSpanId === undefined);
  assert.equal(roots.length, 1, 'one root');
  const [root] = roots;
  assert.equal(root.name, 'order saga');
  assert.equal(root.service, 'OrderService');
  assert.equal(root.attr('eda.order.id'), orderId);
  for (const span of spans) {
    if (span !== root) assert.equal(span.parentSpanId, root.spanId, `${span.service} ${span.name} is under the saga`);
    const [start, end] = [BigInt(span.startTimeUnixNano), BigInt(span.endTimeUnixNano)];
    assert.ok(start <= end, `${span.name}: start ≤ end`);
    assert.ok(BigInt(root.startTimeUnixNano) <= start && end <= BigInt(root.endTimeUnixNano), `${span.name} within the saga`);
    // On the Unix clock, while this test ran (a second either side).
    assert.ok(start >= BigInt(from - 1000) * 1_000_000n && end <= BigInt(to + 1000) * 1_000_000n,
      `${span.name} at ${new Date(Number(start / 1_000_000n)).toISOString()}, between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`);
    const times = (span.events ?? []).map((e) => BigInt(e.timeUnixNano));
    assert.ok(times.every((t, i) => i === 0 || times[i - 1] <= t), `${span.name}: events in time order`);
  }
  return root;
}

/** The topics the page's clients published for the order, from the export's events. */
const publishedTopics = (spans) =>
  new Set(
    spans.flatMap((s) => (s.events ?? []).filter((e) => e.name === 'PUBLISH sent'))
      .map((e) => e.attributes.find((a) => a.key === 'messaging.destination.name').value.stringValue),
  );

describeApp('otlp export', () => {
  it('otlp: a declined order exported from its row parses as OTLP; its spans are the saga\'s, the decline and the cancellation ERROR', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment=decline`, async ({ page }) => {
      const ids = await waitReady(page);
      const witness = await watchEveryTopic(broker);
      try {
        const from = Date.now();
        const orderId = await placeOrder(page);
        await witness.waitForOrder('inventory/released', orderId, FLOW_TIMEOUT_MS);
        await waitForRow(page, orderId, 'Cancelled', { compensations: 1 });
        await witness.roundTrip();

        const row = `[data-testid="order-row"][data-order-id="${orderId}"]`;
        const file = await download(page, `${row} [data-testid="order-export-otlp"]`, `saga-${orderId}.otlp.json`);
        const to = Date.now();
        assert.equal(file.name, `saga-${orderId}.otlp.json`);
        const { spans } = parseOtlpJson(file.text);

        const root = assertOneSaga(spans, orderId, { from, to });
        assert.deepEqual(root.status, { code: 2, message: 'payment declined' }, 'the cancelled saga is an ERROR');
        assert.equal(root.attr('eda.order.status'), 'Cancelled');

        const created = spanOf(spans, 'OrderService', 'publish orders/created');
        assert.equal(created.kind, 4, 'PRODUCER');
        const charge = spanOf(spans, 'PaymentService', 'process orders/created');
        assert.equal(charge.kind, 5, 'CONSUMER');
        assert.equal(charge.client, ids.payment, "the resource is PaymentService's client");
        assert.equal(charge.attr('messaging.system'), 'mqtt');
        assert.equal(charge.attr('messaging.destination.name'), 'orders/created');
        assert.deepEqual(charge.status, { code: 2, message: 'payment declined' });
        assert.deepEqual(charge.links.map((l) => l.spanId), [created.spanId], 'linked to the publish it handled');
        const names = charge.events.map((e) => e.name);
        assert.deepEqual(names.filter((n) => n.startsWith('PUBLISH')), ['PUBLISH received', 'PUBLISH sent'], names.join(', '));
        assert.ok(names.includes('PUBACK sent') && names.includes('PUBACK received'), `QoS 1 acks as events: ${names.join(', ')}`);

        const stored = `eventstore/orders/${orderId}`;
        const published = (span) => (span.attr('eda.published')?.values ?? []).map((v) => v.stringValue);
        const cancel = spanOf(spans, 'OrderService', 'process payments/processed');
        // The cancellation, and the copies of the events it appended in the event store.
        assert.deepEqual(new Set(published(cancel)), new Set(['orders/cancelled', stored]), published(cancel).join(', '));
        assert.equal(cancel.status?.code, 2);
        assert.deepEqual(cancel.links.map((l) => l.spanId), [charge.spanId]);
        const release = spanOf(spans, 'InventoryService', 'process orders/cancelled');
        assert.deepEqual(release.attr('eda.published'), { values: [{ stringValue: 'inventory/released' }] });
        assert.equal(release.attr('eda.saga.compensation'), true);
        assert.equal(release.status, undefined, 'a compensation is no error');
        for (const service of ['OrderService', 'PaymentService', 'InventoryService', 'NotificationService', 'QueryService']) {
          assert.ok(spans.some((s) => s.service === service && s.kind === 5), `${service} handled a message of the order`);
        }
        // QueryService's projection: a span for each of the order's events it consumed (the
        // export had none, nor any of the event store's messages).
        const storedEvents = witness.messages.filter((m) => m.topic === stored);
        assert.ok(storedEvents.length >= 3, `created, payment failed, cancelled in the store: ${storedEvents.length}`);
        const projections = spans.filter((s) => s.service === 'QueryService' && s.name === `process ${stored}`);
        assert.equal(projections.length, storedEvents.length, 'one projection span per event-store message');
        assert.deepEqual(projections.map((s) => Number(s.attr('eda.store.position'))).sort((a, b) => a - b),
          storedEvents.map((m) => m.json.position).sort((a, b) => a - b));
        // What went over the broker for this order, as the witness saw it (its event-store
        // messages included), is what the page's clients published in the export.
        assert.deepEqual(publishedTopics(spans), new Set([...wireOf(witness, orderId), stored]));
        assert.equal(await page.locator('[data-testid="otlp-error"]').count(), 0);
      } finally {
        await witness.close();
      }
    }));

  // A newcomer's break-test: the exported saga of a poison order read "Pending" with an unset
  // status, where the Orders panel says it was dead-lettered and no order exists.
  it('otlp: a dead-lettered (poison) order exports a root that says so, as an ERROR', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&retry_ms=0`, async ({ page }) => {
      await waitReady(page);
      const witness = await watchEveryTopic(broker);
      try {
        await page.click('[data-testid="send-poison"]');
        const poison = await witness.waitFor((m) => m.topic === 'orders/created' && m.json?.customerId === 'POISON', FLOW_TIMEOUT_MS);
        const orderId = poison.json.orderId;
        await witness.waitFor((m) => m.topic === 'deadletter/order', FLOW_TIMEOUT_MS, "OrderService's dead letter");
        const row = `[data-testid="order-row"][data-order-id="${orderId}"]`;
        await page.waitForFunction((r) => /Dead-lettered/.test(document.querySelector(r)?.textContent ?? ''), row, { timeout: FLOW_TIMEOUT_MS });
        const file = await download(page, `${row} [data-testid="order-export-otlp"]`, `saga-${orderId}-poison.otlp.json`);
        const { spans } = parseOtlpJson(file.text);
        const root = spans.find((s) => s.parentSpanId === undefined);
        assert.equal(root.attr('eda.order.status'), 'DeadLettered');
        assert.equal(root.status?.code, 2, 'an ERROR');
        assert.match(root.status.message, /^dead-lettered: OrderService could not process its orders\/created \(.*poison.*\), so no order exists$/);
      } finally {
        await witness.close();
      }
    }));

  // A newcomer's break-test (46-AX F1): a deadline's cancellation after a successful
  // reservation went into OrderService's "process inventory/reserved" span, which turned ERROR
  // and lasted until the deadline, pointing Jaeger's red at the reservation.
  it('otlp: a deadline\'s cancellation is a span of its own, "publish orders/cancelled", and the reservation before it no error', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=3000&inventory_ms=100&saga_timeout_ms=1500`, async ({ page }) => {
      await waitReady(page);
      const witness = await watchEveryTopic(broker);
      try {
        const orderId = await placeOrder(page);
        const stored = `eventstore/orders/${orderId}`;
        await witness.waitFor((m) => m.topic === stored && m.json?.type === 'InventoryConfirmed', FLOW_TIMEOUT_MS, 'the reservation stored');
        await witness.waitForOrder('orders/cancelled', orderId, FLOW_TIMEOUT_MS);
        await witness.roundTrip();
        const row = `[data-testid="order-row"][data-order-id="${orderId}"]`;
        const file = await download(page, `${row} [data-testid="order-export-otlp"]`, `saga-${orderId}-deadline.otlp.json`);
        const { spans } = parseOtlpJson(file.text);
        const published = (span) => (span.attr('eda.published')?.values ?? []).map((v) => v.stringValue);
        const reserved = spanOf(spans, 'OrderService', 'process inventory/reserved');
        assert.equal(reserved.status, undefined, 'the reservation succeeded: no error');
        assert.deepEqual(published(reserved), [stored], 'it stored the reservation, and published nothing else');
        const deadline = spanOf(spans, 'OrderService', 'publish orders/cancelled');
        assert.equal(deadline.kind, 4, 'PRODUCER: no delivery caused it');
        assert.deepEqual(deadline.status, { code: 2, message: 'payment timed out' });
        assert.deepEqual(new Set(published(deadline)), new Set([stored, 'orders/cancelled']));
      } finally {
        await witness.close();
      }
    }));

  it('otlp: the whole session exports one trace per order, each under its own root', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=100&inventory_ms=100`, async ({ page }) => {
      await waitReady(page);
      const from = Date.now();
      const orders = [];
      for (let i = 0; i < 2; i += 1) {
        const orderId = await placeOrder(page);
        await waitForRow(page, orderId, 'Completed');
        orders.push(orderId);
      }
      // Every order of the panel has its own export button.
      assert.equal(
        await page.locator('[data-testid="order-row"] [data-testid="order-export-otlp"]').count(),
        await page.locator('[data-testid="order-row"]').count(),
      );
      const file = await download(page, '[data-testid="export-otlp-session"]', 'playground-session.otlp.json');
      const to = Date.now();
      assert.equal(file.name, 'playground-session.otlp.json');
      const { spans, json } = parseOtlpJson(file.text);
      assert.deepEqual(new Set(spans.map((s) => s.traceId)), new Set(orders.map(hex)), 'one trace per order');
      for (const orderId of orders) {
        const ofOrder = spans.filter((s) => s.traceId === hex(orderId));
        const root = assertOneSaga(ofOrder, orderId, { from, to });
        assert.equal(root.status, undefined, 'a completed saga is no error');
        assert.equal(root.attr('eda.order.status'), 'Completed');
        const join = spanOf(ofOrder, 'OrderService', 'process payments/processed');
        const reserved = spanOf(ofOrder, 'OrderService', 'process inventory/reserved');
        // Whichever result came second confirmed the order; each appended its event to the
        // store, whose copy on eventstore/orders/<orderId> it published.
        const published = (span) => (span.attr('eda.published')?.values ?? []).map((v) => v.stringValue);
        const confirmed = [join, reserved].filter((s) => published(s).includes('orders/confirmed'));
        assert.equal(confirmed.length, 1, 'one handling confirmed it');
        assert.deepEqual(new Set(published(confirmed[0])), new Set(['orders/confirmed', `eventstore/orders/${orderId}`]));
        assert.ok(ofOrder.some((s) => s.service === 'QueryService' && s.name === `process eventstore/orders/${orderId}`), 'QueryService\'s projection of the order');
      }
      const services = json.resourceSpans.map((r) => r.resource.attributes.find((a) => a.key === 'service.name').value.stringValue);
      assert.deepEqual(services, ['OrderService', 'PaymentService', 'InventoryService', 'NotificationService', 'QueryService']);
    }));

  // A newcomer's break-test: 51 orders, a session file of 50 traces, ten of them without their
  // start, and no word on the page. The page keeps the newest 2000 packets: the note says so.
  it('otlp: a session past the packets kept says what the file lacks', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      const completed = () => page.$eval('[data-testid="orders-count"]', (e) => Number(e.dataset.completed));
      for (let burst = 1; burst <= 7; burst += 1) {
        await page.click('[data-testid="place-ten"]');
        await page.waitForFunction((n) => Number(document.querySelector('[data-testid="orders-count"]')?.dataset.completed) >= n, burst * 10, { timeout: FLOW_TIMEOUT_MS });
      }
      const file = await download(page, '[data-testid="export-otlp-session"]', 'past-kept.otlp.json');
      const { spans } = parseOtlpJson(file.text);
      const traces = new Set(spans.map((s) => s.traceId)).size;
      assert.ok(traces < await completed(), `${traces} traces for ${await completed()} orders: the oldest are past the packets kept`);
      const note = (await page.textContent('[data-testid="otlp-note"]')).trim();
      assert.match(note, /^Trace exported; it holds the newest 2000 packets, \d+ older ones? dropped: (\d+ of its orders? begins? after (its|their) orders\/created; )?orders whose every packet is older are not in it\.$/);
    }));

  // It waited a 50 ms timer after drawing the words; now, once the words are rendered, it asks
  // for the next animation frame and, from it, a zero-delay task: the work starts once the frame
  // that shows the words is drawn, never before it, and on no timer of its own. Every frame the
  // page asks for from the click until the export ends is watched, with the timers its callback
  // starts and the tasks they run. (Asking for the frame from the click itself once let the
  // frame come before the words: Yew's scheduler, busy, rendered them in a later task.)
  it('otlp: the session export starts right after the frame that paints "Exporting the trace (OTLP)…" (an animation frame asked for once the words are in the page, then a zero-delay task), not on a 50 ms timer', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      await waitReady(page);
      await page.evaluate(() => {
        // `events` in order: words, request N, frame N, timer N <delay>, task N, done.
        const probe = { armed: false, ended: false, frames: 0, inFrame: null, events: [] };
        window.__otlpProbe = probe;
        const { setTimeout: timeout, requestAnimationFrame: frame } = window;
        const look = () => {
          const seen = (what, testid) => !probe.events.includes(what) && document.querySelector(`[data-testid="${testid}"]`);
          if (seen('words', 'otlp-working')) probe.events.push('words');
          if (seen('done', 'otlp-error')) { probe.events.push('done'); probe.ended = true; }
        };
        window.setTimeout = function (callback, delay, ...rest) {
          const n = probe.inFrame;
          if (n === null || typeof callback !== 'function') return timeout.call(window, callback, delay, ...rest);
          probe.events.push(`timer ${n} ${Number(delay) || 0}`);
          return timeout.call(window, (...args) => {
            probe.events.push(`task ${n}`);
            callback(...args);
          }, delay, ...rest);
        };
        window.requestAnimationFrame = function (callback) {
          if (!probe.armed || probe.ended) return frame.call(window, callback);
          look();
          const n = ++probe.frames;
          probe.events.push(`request ${n}`);
          return frame.call(window, (at) => {
            probe.events.push(`frame ${n}`);
            probe.inFrame = n;
            try { callback(at); } finally { probe.inFrame = null; }
          });
        };
        // Capture on the document: before the page's handlers.
        document.addEventListener('click', () => { probe.armed = true; }, true);
        // Looked for on every change to the page, and before each frame is asked for (the
        // observer hears of a change only once the script that made it has finished).
        new MutationObserver(look).observe(document.body, { childList: true, subtree: true, characterData: true });
      });
      await page.click('[data-testid="export-otlp-session"]');
      // No order yet: the export's work ends in its refusal, which replaces the words.
      const error = page.locator('[data-testid="otlp-error"]');
      await error.waitFor();
      assert.match(await error.textContent(), /no order in the trace to export yet/);
      const { events } = await page.evaluate(() => window.__otlpProbe);
      const at = (event) => events.indexOf(event);
      const said = `events: ${events.join(', ')}`;
      assert.ok(at('words') >= 0 && at('done') > at('words'), `the words, then the export's end: ${said}`);
      // The frame whose callback queued the zero-delay task that ran just before the end.
      const work = events.slice(0, at('done')).filter((e) => /^task \d+$/.test(e)).at(-1);
      assert.ok(work, `the export ran in a task queued from a frame: ${said}`);
      const n = work.split(' ')[1];
      assert.ok(events.includes(`timer ${n} 0`), `the frame queues the work with no delay: ${said}`);
      assert.ok(at('words') < at(`request ${n}`), `the frame is asked for once the words are in the page: ${said}`);
      assert.ok(at(`request ${n}`) < at(`frame ${n}`) && at(`frame ${n}`) < at(work), `the frame, then the work: ${said}`);
      assert.ok(!events.some((e) => /^timer \d+ [1-9]/.test(e)), `no frame starts a timer with a delay: ${said}`);
    }));

  it('otlp: a replayed recording exports the same spans, dated by the messages\' own timestamps', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    let live;
    let recordingPath;
    let orderId;
    let from;
    let to;
    await withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=100&inventory_ms=100`, async ({ page }) => {
      await waitReady(page);
      const witness = await watchEveryTopic(broker);
      try {
        from = Date.now();
        orderId = await placeOrder(page);
        await waitForRow(page, orderId, 'Completed');
        // The row turns Completed as OrderService decides; the recording, downloaded after the
        // live export, must hold no packet the export missed. So wait for the order's last
        // packets: orders/confirmed on the wire (published only once its outbox row is
        // committed), the broker's PUBACK of it (the outbox row is deleted only then), and
        // NotificationService's three messages handled.
        await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
        await page.waitForFunction(outboxEmpty, null, { timeout: FLOW_TIMEOUT_MS });
        await waitForNotifications(page, notificationTexts(orderId));
      } finally {
        await witness.close();
      }
      live = parseOtlpJson((await download(page, '[data-testid="export-otlp-session"]', 'live-session.otlp.json')).text);
      to = Date.now();
      const [file] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download-recording"]')]);
      recordingPath = path.join(ARTIFACTS, 'otlp-recording.json');
      await file.saveAs(recordingPath);
    });
    const nowhere = `ws://127.0.0.1:${await freePort()}`;
    await withApp(t, brokerQuery(nowhere), async ({ page }) => {
      await waitForStates(page, 'disconnected');
      await page.setInputFiles('[data-testid="load-recording"]', recordingPath);
      await page.locator('[data-testid="replaying"]').waitFor({ state: 'visible' });
      const replayed = parseOtlpJson((await download(page, '[data-testid="export-otlp-session"]', 'replayed-session.otlp.json')).text);
      const shape = (spans) => spans.map((s) => `${s.traceId} ${s.spanId} ${s.parentSpanId} ${s.service} ${s.name} ${(s.events ?? []).length}`).sort();
      assert.deepEqual(shape(replayed.spans), shape(live.spans), 'the same spans as the live export');
      assertOneSaga(replayed.spans.filter((s) => s.traceId === hex(orderId)), orderId, { from, to });
      // This page started after the recording was made: its own clock would date the spans
      // later (by the seconds between the two pages). The messages' stamps date them as the
      // live page did, to within the time between a message's stamp and its packet: a few
      // milliseconds on a quiet machine, 78 ms in a clean-clone run on a loaded VM.
      const start = (spans) => BigInt(spans.find((s) => s.parentSpanId === undefined).startTimeUnixNano);
      const apart = Number(start(replayed.spans) - start(live.spans)) / 1e6;
      assert.ok(Math.abs(apart) < 250, `the replayed saga starts ${apart} ms from the live one`);
    });
  });
});

it('otlp: the independent reader refuses what is not OTLP/JSON (base64 ids, unknown fields, wrong types)', () => {
  const good = {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'PaymentService' } }] },
      scopeSpans: [{
        scope: { name: 'eda-playground', version: '0.1.0' },
        spans: [{
          traceId: '3fa85f6457174562b3fc2c963f66afa6',
          spanId: '0000000000000012',
          name: 'process orders/created',
          kind: 5,
          startTimeUnixNano: '1705314600004000000',
          endTimeUnixNano: '1705314601004000000',
        }],
      }],
    }],
  };
  const { spans } = parseOtlpJson(JSON.stringify(good));
  assert.equal(spans[0].service, 'PaymentService');
  const spoil = (change) => {
    const copy = structuredClone(good);
    change(copy.resourceSpans[0].scopeSpans[0].spans[0]);
    return JSON.stringify(copy);
  };
  const bad = {
    'base64 trace id': spoil((s) => { s.traceId = Buffer.from(s.traceId, 'hex').toString('base64'); }),
    'a 12-byte span id': spoil((s) => { s.spanId = '000000000000000000000012'; }),
    'an all-zero trace id': spoil((s) => { s.traceId = '0'.repeat(32); }),
    'a misspelled field': spoil((s) => { s.startTimeUnixNanos = s.startTimeUnixNano; delete s.startTimeUnixNano; }),
    'a snake_case field': spoil((s) => { s.end_time_unix_nano = s.endTimeUnixNano; delete s.endTimeUnixNano; }),
    'a time as a number': spoil((s) => { s.startTimeUnixNano = 1705314600004000000; }),
    'an attribute value of no known type': spoil((s) => { s.attributes = [{ key: 'k', value: { textValue: 'v' } }]; }),
  };
  for (const [what, text] of Object.entries(bad)) {
    assert.throws(() => parseOtlpJson(text), undefined, what);
  }
});
