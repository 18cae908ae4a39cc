// Brokers and peers that misbehave (issue 13), each as a user would meet it: a broker that
// accepts and then closes, another client taking a service's client id, an order too large for
// the page, a Session Present nobody asked for, text from outside that would turn a sentence
// around, and a subscription the broker refuses. Small WebSocket brokers written for the test
// (lib/misbehaving-broker.mjs) stand in for the misbehaviour Mosquitto never shows.
//
//   node --test e2e/app/misbehaving-broker.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';

import mqtt from 'mqtt';

import { brokerQuery, escapeRegExp, waitForNotifications, waitForRejected } from '../lib/app-page.mjs';
import {
  CASE_TIMEOUT_MS,
  broker,
  describeApp,
  placeWatchedOrder,
  setLateBroker,
  waitReady,
  withApp,
} from '../lib/app-suite.mjs';
import { startBroker } from '../lib/broker.mjs';
import {
  bodyStart,
  publishTopic,
  startAcceptThenClose,
  startSilent,
  startTamperingProxy,
  subAckCodes,
} from '../lib/misbehaving-broker.mjs';
import { startWitness } from '../lib/mqtt-witness.mjs';
import { expectOneOutcome, placeOrder, waitForRow, watchEveryTopic } from '../lib/saga.mjs';

const SEED_ORDER = {
  customerId: 'C123',
  items: [{ productId: 'P001', quantity: 2, price: 29.99 }],
  totalAmount: 59.98,
};
const order = (fields = {}) => ({
  orderId: randomUUID(),
  ...SEED_ORDER,
  createdAt: new Date().toISOString(),
  ...fields,
});

/** The milliseconds between one client's successive CONNECTs. */
const gapsOf = (connects, clientId) => {
  const times = connects.filter((c) => c.clientId === clientId).map((c) => c.at);
  return times.slice(1).map((at, i) => at - times[i]);
};

const clientIdOf = async (page, service) =>
  ((await page.locator(`[data-testid="status-${service}"] [data-testid="client-id"]`).textContent()) ?? '').trim();

/** The help banner once it says `diagnosis`; resolves with its text and attempt. */
async function helpSaying(page, diagnosis, { service, timeout = 30_000 } = {}) {
  const selector =
    `[data-testid="broker-help"][data-diagnosis="${diagnosis}"]` +
    (service ? `[data-service="${service}"]` : '');
  try {
    const help = page.locator(selector);
    await help.waitFor({ state: 'attached', timeout });
    return {
      text: ((await help.textContent()) ?? '').replace(/\s+/g, ' ').trim(),
      attempt: Number(await help.getAttribute('data-attempt')),
    };
  } catch (error) {
    const shown = await page.locator('[data-testid="broker-help"]').allTextContents().catch(() => []);
    throw new Error(`no help saying ${diagnosis} within ${timeout} ms; shown: ${JSON.stringify(shown)}`, {
      cause: error,
    });
  }
}

/** Waits for a log entry of `service` on `topic` with `status` whose text matches `reason`. */
async function waitForEntry(page, { service, topic, status, reason }, timeout = 20_000) {
  const selector =
    `[data-testid="log-entry"][data-service="${service}"][data-topic="${topic}"]` +
    `[data-status="${status}"]`;
  try {
    const found = await page.waitForFunction(
      ({ selector, source }) =>
        [...document.querySelectorAll(selector)].map((e) => e.textContent).find((t) => new RegExp(source).test(t)) ??
        null,
      { selector, source: reason.source },
      { timeout },
    );
    return found.jsonValue();
  } catch (error) {
    const entries = await page
      .locator(`[data-testid="log-entry"][data-service="${service}"]`)
      .allTextContents()
      .catch(() => []);
    throw new Error(
      `no ${status} entry of ${service} on ${topic} matching ${reason} within ${timeout} ms; ` +
        `its log: ${JSON.stringify(entries)}`,
      { cause: error },
    );
  }
}

describeApp('misbehaving brokers and peers', () => {
  it('1. a broker that accepts, then closes 50 ms later: the delays grow and the page says what happened', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const fake = await startAcceptThenClose({ closeAfterMs: 50 });
    try {
      await withApp(t, brokerQuery(fake.wsUrl), async ({ page }) => {
        const payment = await clientIdOf(page, 'payment');
        const seen = await fake.waitForConnects(
          (connects) => connects.filter((c) => c.clientId === payment).length >= 5,
          40_000,
        );
        // Before the fix every CONNACK started the delays over: a CONNECT every ~0.55 s.
        const gaps = gapsOf(seen, payment);
        assert.ok(
          gaps[2] >= 1.5 * gaps[0] && gaps[3] >= 1.5 * gaps[1],
          `the delays between PaymentService's connections keep growing: ${JSON.stringify(gaps)} ms`,
        );

        const { text, attempt } = await helpSaying(page, 'closed-after-accept');
        const after = /accepted, then closed by the broker after (\d+) ms/.exec(text);
        assert.ok(after, `the help says the broker accepted, then closed: "${text}"`);
        // The page measures from the CONNACK it read to the close it saw: about the broker's 50 ms
        // on a quiet machine, less or more when a busy main thread reads one of them late (39 ms
        // was seen on a loaded machine), never the seconds of the reconnect delays.
        assert.ok(Number(after[1]) < 2000, `after ~50 ms: "${text}"`);
        assert.ok(attempt >= 3, `the attempts are counted, not started over: attempt ${attempt}`);
        assert.doesNotMatch(text, /Start Mosquitto|Cannot reach/, 'the broker answers: no advice to start it');
      });
    } finally {
      await fake.close();
    }
  });

  // A newcomer's break-test: `node -e "require('net').createServer(s=>{}).listen(19556)"`, open
  // ?broker=ws://127.0.0.1:19556, wait 35 s: every badge still "connecting", no help, and the
  // form said to wait until connected, for ever. Nothing bounded the WebSocket handshake (and a
  // WebSocket server that is no MQTT broker got a bare "lost its connection" after 10 s).
  for (const [kind, said] of [
    ['tcp', /did not answer the WebSocket handshake within 10 s/],
    ['websocket', /accepted the connection but did not answer the MQTT handshake \(no CONNACK to the CONNECT\) within 10 s/],
  ]) {
    it(`1b. a ${kind} server that accepts and never answers: the connect timeout ends each try, the help says so and the form agrees`, { timeout: CASE_TIMEOUT_MS }, async (t) => {
      const silent = await startSilent(kind);
      try {
        await withApp(t, brokerQuery(silent.url), async ({ page }) => {
          const { text } = await helpSaying(page, 'unanswered', { timeout: 25_000 });
          assert.ok(text.includes(silent.url), `the help names ${silent.url}: "${text}"`);
          assert.match(text, said);
          assert.match(text, /Is it an MQTT broker's WebSocket listener\?/);
          assert.doesNotMatch(text, /Start Mosquitto|Cannot reach/, 'something listens there: no advice to start a broker');

          await page.click('[data-testid="place-order"]');
          const formError = page.locator('[data-testid="form-error"]');
          await formError.waitFor({ state: 'visible' });
          const refused = ((await formError.textContent()) ?? '').replace(/\s+/g, ' ');
          assert.doesNotMatch(refused, /still connecting|Wait until it shows connected/, `the form agrees with the help: "${refused}"`);
          assert.match(refused, /not connected to the broker/, `the form says why: "${refused}"`);
          // And the page tries again, after its back-off, with the help still there.
          await page.waitForFunction(
            () => Number(document.querySelector('[data-testid="broker-help"][data-diagnosis="unanswered"]')?.getAttribute('data-attempt')) >= 2,
            null,
            { timeout: 30_000 },
          );
          // (The server sees fewer connections than tries: a browser opens one WebSocket to a
          // host at a time, RFC 6455 §4.1, so the others wait behind a silent one.)
          assert.ok(silent.opened() >= 1, `the server took connections: ${silent.opened()}`);
        });
      } finally {
        await silent.close();
      }
    });
  }

  it('2. another client takes PaymentService\'s client id: the page says so and backs off', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const proxy = await startTamperingProxy({ upstream: broker.wsUrl }); // only to time the CONNECTs
    let peer = null;
    try {
      await withApp(t, brokerQuery(proxy.wsUrl), async ({ page }) => {
        const { payment } = await waitReady(page);
        const before = proxy.connects.filter((c) => c.clientId === payment).length;
        // An ordinary client with auto-reconnect (1 s) using the same client id.
        peer = mqtt.connect(`mqtt://127.0.0.1:${broker.tcpPort}`, { clientId: payment, reconnectPeriod: 1000 });
        peer.on('error', () => {});

        const seen = await proxy.waitForConnects(
          (connects) => connects.filter((c) => c.clientId === payment).length >= before + 4,
          60_000,
        );
        // Before the fix: 0.5 s after every takeover, forever (13 connections in 20 s).
        const gaps = gapsOf(seen, payment).slice(before);
        assert.ok(gaps[2] >= 1.5 * gaps[0], `PaymentService waits longer each time: ${JSON.stringify(gaps)} ms`);

        const { text } = await helpSaying(page, 'taken-over', { service: 'payment' });
        assert.match(text, /taken over by another client using this client id/);
        assert.ok(text.includes(payment), `the help names the client id ${payment}: "${text}"`);
        assert.doesNotMatch(text, /Start Mosquitto|Cannot reach/, 'the broker is running: no advice to start it');
        // A reload keeps the tab's client ids (a break-test: the help said to reload, and the
        // reloaded page was taken over again); a new tab picks new ones.
        assert.match(text, /open the page in a new tab: a new tab picks new client ids \(a reload keeps them\)/);
      });
    } finally {
      peer?.end(true);
      await proxy.close();
    }
  });

  it('3. an order of 348 KB, retained, on MQTT 3.1.1: skipped and logged, the connections kept, the next order completes', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    // A broker of its own: the retained message would reach every later case.
    const late = await startBroker({ logAll: true });
    setLateBroker(late);
    const witness = await startWitness({ tcpPort: late.tcpPort });
    try {
      await withApp(t, brokerQuery(late.wsUrl), async ({ page }) => {
        const ids = await waitReady(page, late);
        const connected = (id) =>
          (late.log().match(new RegExp(`New client connected from \\S+ as ${escapeRegExp(id)} `, 'g')) ?? []).length;
        const before = Object.fromEntries(Object.values(ids).map((id) => [id, connected(id)]));

        const big = order({ note: '' });
        const padding = 348_000 - Buffer.byteLength(JSON.stringify(big));
        big.note = 'x'.repeat(padding);
        const payload = JSON.stringify(big);
        assert.equal(Buffer.byteLength(payload), 348_000);
        await witness.publish('orders/created', payload, { qos: 1, retain: true });

        const reason = /a message of 348 KB on orders\/created exceeds this page's 256 KiB limit; skipped unread, and acknowledged/;
        for (const service of ['payment', 'inventory', 'notification']) {
          await waitForEntry(page, { service, topic: 'orders/created', status: 'rejected', reason });
          // Acknowledged, so the broker does not send it again.
          await late.waitForLog(new RegExp(`Received PUBACK from ${escapeRegExp(ids[service])} `), 10_000);
        }
        // The packet inspector lists what came, a PUBLISH skipped unread, before the PUBACK that
        // answered it (42-AK F1: a PUBACK of nothing).
        const row = (kind, direction) => page.locator(`[data-testid="packet-row"][data-service="payment"][data-kind="${kind}"][data-direction="${direction}"]`).last();
        const skipped = row('PUBLISH', 'in');
        await skipped.waitFor({ state: 'attached', timeout: 5_000 });
        assert.equal(await skipped.getAttribute('data-topic'), 'orders/created');
        assert.equal(((await skipped.locator('.reason').textContent()) ?? '').trim(), "skipped unread: 348 KB, more than this page's 256 KiB limit");
        assert.ok(Number(await skipped.locator('.size').textContent()) > 348_000, 'its whole size');
        assert.ok(Number(await skipped.getAttribute('data-seq')) < Number(await row('PUBACK', 'out').getAttribute('data-seq')), 'the PUBLISH before its PUBACK');

        await placeWatchedOrder(page, { onBroker: late });
        for (const [id, count] of Object.entries(before)) {
          assert.equal(connected(id), count, `${id} kept its connection (no reconnect)`);
        }
        // Clean up: an empty retained message clears it.
        await witness.publish('orders/created', '', { qos: 1, retain: true });
      });
    } finally {
      await witness.close();
      setLateBroker(null);
      await late.stop();
    }
  });

  // Cases 4a and 4b ask for a clean session (?session=clean): the page keeps persistent ones by
  // default, and a broker may rightly answer those with Session Present.
  it('4a. Session Present = 1 in answer to a clean session (3.1.1): the services subscribe anyway, say so, and the order completes', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const proxy = await startTamperingProxy({
      upstream: broker.wsUrl,
      fromBroker: (packet) => {
        if (packet[0] >> 4 === 2) packet[bodyStart(packet)] |= 1; // CONNACK: Session Present
        return packet;
      },
    });
    try {
      await withApp(t, `${brokerQuery(proxy.wsUrl)}&session=clean`, async ({ page }) => {
        // waitReady also checks, in the broker's log, that every SUBSCRIBE was made.
        await waitReady(page);
        await waitForEntry(page, {
          service: 'payment',
          topic: 'connect',
          status: 'failed',
          reason: /the broker claimed a session this client never had/,
        });
        await placeWatchedOrder(page);
      });
    } finally {
      await proxy.close();
    }
  });

  // A newcomer's break-test (Mosquitto killed and restored from an older save): a new QoS 2
  // message under a packet id whose PUBREL never came was answered PUBREC and dropped as a
  // repeat, and an order, charged and reserved, never completed. The proxy plays the broker that
  // forgot: it keeps the PUBREL of OrderService's first QoS 2 message from it (and answers the
  // broker's PUBREL itself), then sends the next QoS 2 message under that same id, DUP 0.
  it('4c. QoS 2: a new message under a packet id still awaiting its PUBREL (a broker that forgot) is delivered, said, and the order completes', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const id = (packet, at) => packet.readUInt16BE(at);
    const ack = (type, packetId) => Buffer.from([type, 2, packetId >> 8, packetId & 0xff]);
    const publishIdAt = (packet) => {
      const start = bodyStart(packet);
      return start + 2 + packet.readUInt16BE(start);
    };
    // OrderService's connection: the id held (its PUBREL kept back), and the later message
    // sent under it (its own id at the broker).
    const state = { held: null, reused: null };
    const isOrder = (conn) => conn.clientId?.endsWith('-order');
    const proxy = await startTamperingProxy({
      upstream: broker.wsUrl,
      fromBroker: (packet, conn) => {
        if (!isOrder(conn)) return packet;
        const type = packet[0] >> 4;
        const qos2 = type === 3 && ((packet[0] >> 1) & 3) === 2;
        if (qos2 && state.held === null) {
          state.held = id(packet, publishIdAt(packet));
        } else if (qos2 && state.reused === null) {
          const at = publishIdAt(packet);
          state.reused = id(packet, at);
          packet[0] &= ~0x08; // DUP 0: a new message
          packet.writeUInt16BE(state.held, at);
        } else if (type === 6 && state.held !== null && id(packet, 2) === state.held && state.reused === null) {
          return null; // the PUBREL the broker "forgot" (its exchange stays open at the broker)
        } else if (type === 6 && state.reused !== null && id(packet, 2) === state.reused) {
          return ack(0x62, state.held);
        }
        return packet;
      },
      toBroker: (packet, conn) => {
        if (!isOrder(conn)) return packet;
        const type = packet[0] >> 4;
        if (type === 5 && state.reused !== null && id(packet, 2) === state.held) return ack(0x50, state.reused);
        if (type === 7 && state.reused !== null && id(packet, 2) === state.held) return ack(0x70, state.reused);
        return packet;
      },
    });
    try {
      await withApp(t, `${brokerQuery(proxy.wsUrl)}&qos=2&payment_ms=0&inventory_ms=0`, async ({ page }) => {
        await waitReady(page);
        const orderId = await placeWatchedOrder(page);
        assert.notEqual(state.reused, null, 'the proxy reused a packet id');
        // Before the fix, the message dropped was payments/processed: cancelled, "payment timed out".
        await waitForRow(page, orderId, 'Completed');
        await waitForEntry(page, {
          service: 'order',
          topic: 'connect',
          status: 'failed',
          reason: /the broker sent a new QoS 2 message on \S+ under packet id \d+, whose earlier message still awaited its PUBREL/,
        });
      });
    } finally {
      await proxy.close();
    }
  });

  // A newcomer's break-test: Mosquitto, killed after its PUBREC of QoS 2 orders and restarted
  // from an older save, completed the PUBREL of messages it no longer had: the orders never
  // reached anyone, and their rows stayed Pending for good. Here a proxy moves OrderService's
  // orders/created to a topic nobody follows (same length): the broker acknowledges it and
  // delivers it to no one, as that broker did.
  it('4d. an order the broker acknowledged and never delivered: OrderService says so, starts the saga from what it published, and the deadline cancels it', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const lost = Buffer.from('lost00/created');
    const proxy = await startTamperingProxy({
      upstream: broker.wsUrl,
      toBroker: (packet, conn) => {
        if (conn.clientId?.endsWith('-order') && packet[0] >> 4 === 3 && publishTopic(packet) === 'orders/created') {
          lost.copy(packet, bodyStart(packet) + 2);
        }
        return packet;
      },
    });
    const witness = await watchEveryTopic(broker);
    try {
      await withApp(t, `${brokerQuery(proxy.wsUrl)}&saga_timeout_ms=1500`, async ({ page }) => {
        await waitReady(page);
        const orderId = await placeOrder(page);
        await waitForEntry(page, {
          service: 'order',
          topic: 'order',
          status: 'note',
          reason: new RegExp(`its orders/created for order ${orderId} never came back from the broker, which acknowledged it`),
        });
        const cancelled = await witness.waitForOrder('orders/cancelled', orderId, 20_000);
        assert.match(cancelled.json.reason, /timed out/);
        const row = await waitForRow(page, orderId, 'Cancelled');
        assert.match(row.reason, /timed out/);
        assert.ok(!witness.messages.some((m) => m.topic === 'orders/created' && m.json?.orderId === orderId), 'the broker never delivered it');
        assert.ok(!witness.messages.some((m) => ['payments/processed', 'inventory/reserved'].includes(m.topic) && m.json?.orderId === orderId), 'no participant heard of it');
      });
    } finally {
      await witness.close();
      await proxy.close();
    }
  });

  /** A proxy to the suite's broker that keeps every `orders/created` from OrderService's client. */
  const keepOrderServiceCopy = () =>
    startTamperingProxy({
      upstream: broker.wsUrl,
      fromBroker: (packet, conn) =>
        conn.clientId?.endsWith('-order') && packet[0] >> 4 === 3 && publishTopic(packet) === 'orders/created' ? null : packet,
    });

  // A newcomer's break-test (QoS 1, persistent sessions): Mosquitto killed just after the
  // orders went out came back with Session Present 0; the participants had their copies and
  // charged and reserved, OrderService's copy died with the broker, and the orders stayed
  // charged and reserved with no outcome. Here a proxy keeps OrderService's copy from it.
  it('4e. an order delivered to the participants but never to OrderService: OrderService starts the saga from what it published, and the order completes on the results it kept', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const proxy = await keepOrderServiceCopy();
    const witness = await watchEveryTopic(broker);
    try {
      await withApp(t, `${brokerQuery(proxy.wsUrl)}&saga_timeout_ms=1500`, async ({ page }) => {
        await waitReady(page);
        const orderId = await placeOrder(page);
        await witness.waitForOrder('payments/processed', orderId, 20_000);
        await witness.waitForOrder('inventory/reserved', orderId, 20_000);
        await waitForEntry(page, {
          service: 'order',
          topic: 'order',
          status: 'note',
          reason: new RegExp(`its orders/created for order ${orderId} never came back from the broker, which acknowledged it`),
        });
        await witness.waitForOrder('orders/confirmed', orderId, 20_000);
        await waitForRow(page, orderId, 'Completed');
      });
    } finally {
      await witness.close();
      await proxy.close();
    }
  });

  // A newcomer's break-test (34-J F3): Mosquitto with max_queued_messages 2 dropped what it
  // queued for OrderService past the limit, its PUBACK and its own copy of the order included;
  // the connection stayed alive, so nothing was sent again, and orders charged and reserved
  // stayed open for good. Here a proxy drops both for one order.
  it('4j. an orders/created never acknowledged on a live connection, its copy never delivered: after 30 s OrderService starts the saga from what it published, and the order completes', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const state = { dropped: null };
    const isOrder = (conn) => conn.clientId?.endsWith('-order');
    const proxy = await startTamperingProxy({
      upstream: broker.wsUrl,
      toBroker: (packet, conn) => {
        if (isOrder(conn) && state.dropped === null && packet[0] >> 4 === 3 && publishTopic(packet) === 'orders/created') {
          const start = bodyStart(packet);
          state.dropped = packet.readUInt16BE(start + 2 + packet.readUInt16BE(start));
        }
        return packet;
      },
      fromBroker: (packet, conn) => {
        if (!isOrder(conn)) return packet;
        if (packet[0] >> 4 === 4 && state.dropped !== null && packet.readUInt16BE(bodyStart(packet)) === state.dropped) return null;
        return packet[0] >> 4 === 3 && publishTopic(packet) === 'orders/created' ? null : packet;
      },
    });
    const witness = await watchEveryTopic(broker);
    try {
      await withApp(t, `${brokerQuery(proxy.wsUrl)}&saga_timeout_ms=1500`, async ({ page }) => {
        await waitReady(page);
        const orderId = await placeOrder(page);
        await witness.waitForOrder('payments/processed', orderId, 20_000);
        await waitForEntry(page, {
          service: 'order',
          topic: 'order',
          status: 'note',
          reason: new RegExp(`its orders/created for order ${orderId} has had no acknowledgement from the broker for 30 s while OrderService was connected`),
        }, 60_000);
        await witness.waitForOrder('orders/confirmed', orderId, 20_000);
        await waitForRow(page, orderId, 'Completed');
      });
    } finally {
      await witness.close();
      await proxy.close();
    }
  });

  // A newcomer's break-test (the in-page broker, a reload 60–150 ms after Place 10 orders): the
  // participants had processed orders OrderService had not stored yet (it stores an order when
  // its own copy comes back), and after the reload those orders had no row and no deadline: the
  // in-page broker had nothing to deliver again. Here a proxy keeps OrderService's copy from it
  // (as in 4e) and the page reloads before OrderService's check of its copy: the order placed
  // was kept in the tab's database before it went out, and after the reload OrderService
  // starts its saga from it.
  it('4f. an order placed, processed by the participants, and the page reloaded before OrderService stored it: the saga starts from the order kept in the tab\'s database and ends once', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const proxy = await keepOrderServiceCopy();
    const witness = await watchEveryTopic(broker);
    try {
      await withApp(t, `${brokerQuery(proxy.wsUrl)}&saga_timeout_ms=3000&payment_ms=0&inventory_ms=0`, async ({ page }) => {
        await waitReady(page);
        const orderId = await placeOrder(page);
        await witness.waitForOrder('payments/processed', orderId, 20_000);
        await witness.waitForOrder('inventory/reserved', orderId, 20_000);
        // Before OrderService's own check (5 s): it has not stored the order.
        await page.reload();
        await waitReady(page);
        await waitForEntry(page, {
          service: 'order',
          topic: 'order',
          status: 'note',
          reason: new RegExp(`order ${orderId} was placed before the page reloaded and its orders/created had not come back to be stored`),
        });
        const outcome = await witness.waitFor(
          (m) => ['orders/confirmed', 'orders/cancelled'].includes(m.topic) && m.json?.orderId === orderId,
          20_000,
          'an outcome',
        );
        if (outcome.topic === 'orders/cancelled') {
          // Its charge and reservation undone.
          await witness.waitForOrder('payments/refunded', orderId, 20_000);
          await witness.waitForOrder('inventory/released', orderId, 20_000);
        }
        await witness.roundTrip();
        await expectOneOutcome(witness, orderId, outcome.topic);
        const row = outcome.topic === 'orders/confirmed'
          ? await waitForRow(page, orderId, 'Completed')
          : await waitForRow(page, orderId, 'Cancelled', { compensations: 2 });
        const customer = await page.textContent(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-customer"]`);
        assert.equal(customer?.trim(), 'C123', `the row takes the order kept: ${row.text}`);
      });
    } finally {
      await witness.close();
      await proxy.close();
    }
  });

  // A newcomer's break-test (33-H F1): Place 10 orders and a reload 30 ms later. Nine orders
  // were kept in the tab's database but their PUBLISH never left the page; after the reload
  // OrderService started their sagas from what it kept, nobody else had heard of them, and each
  // was cancelled at its deadline with no orders/created on the wire. Here a proxy drops
  // OrderService's PUBLISH of the order until the reload: no participant hears of it, so the
  // outbox's relay publishes it after the reload, and the order completes, once.
  it('4g. an order kept in the tab\'s database whose PUBLISH never left the page before a reload: OrderService publishes it after the reload and it completes once', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    let dropping = true;
    let dropped;
    const droppedOnce = new Promise((resolve) => { dropped = resolve; });
    const proxy = await startTamperingProxy({
      upstream: broker.wsUrl,
      toBroker: (packet, conn) => {
        if (dropping && conn.clientId?.endsWith('-order') && packet[0] >> 4 === 3 && publishTopic(packet) === 'orders/created') {
          dropped();
          return null;
        }
        return packet;
      },
    });
    const witness = await watchEveryTopic(broker);
    try {
      await withApp(t, `${brokerQuery(proxy.wsUrl)}&saga_timeout_ms=3000&payment_ms=0&inventory_ms=0`, async ({ page }) => {
        await waitReady(page);
        const orderId = await placeOrder(page);
        await droppedOnce;
        dropping = false;
        await page.reload();
        await waitReady(page);
        await waitForEntry(page, {
          service: 'order',
          topic: 'order',
          status: 'note',
          reason: new RegExp(`order ${orderId} was placed before the page reloaded, and its orders/created neither came back nor reached PaymentService or InventoryService: it most likely never left the page\\. OrderService publishes it now`),
        });
        await witness.waitForOrder('orders/created', orderId, 20_000);
        await witness.waitForOrder('orders/confirmed', orderId, 20_000);
        await witness.roundTrip();
        await expectOneOutcome(witness, orderId, 'orders/confirmed');
        const created = witness.messages.filter((m) => m.topic === 'orders/created' && m.json?.orderId === orderId);
        assert.equal(created.length, 1, 'published once, after the reload');
        assert.equal(witness.messages.filter((m) => m.topic === 'payments/processed' && m.json?.orderId === orderId).length, 1, 'charged once');
        await waitForRow(page, orderId, 'Completed');
      });
    } finally {
      await witness.close();
      await proxy.close();
    }
  });

  // A newcomer's break-test (33-G F1): MQTT 5.0 → 3.1.1 while PaymentService's result was not
  // yet acknowledged. The new 3.1.1 client refused to publish it again ("message properties does
  // not exist in MQTT 3.1.1"), the result never reached the wire, and an order that had
  // succeeded was cancelled. Here a proxy holds back the broker's PUBACKs to PaymentService, so
  // its result is unacknowledged when the version changes.
  it('4h. MQTT 5.0 switched to 3.1.1 with a result not yet acknowledged: the 3.1.1 client publishes it again, without its 5.0 properties', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    // Held on PaymentService's 5.0 connection only: its 3.1.1 one gets them.
    const proxy = await startTamperingProxy({
      upstream: broker.wsUrl,
      fromBroker: (packet, conn) => (conn.version === 5 && conn.clientId?.endsWith('-payment') && packet[0] >> 4 === 4 ? null : packet),
    });
    const witness = await watchEveryTopic(broker);
    try {
      await withApp(t, `${brokerQuery(proxy.wsUrl)}&mqtt=5&payment_ms=0&inventory_ms=0`, async ({ page }) => {
        await waitReady(page);
        const orderId = await placeOrder(page);
        const first = await witness.waitForOrder('payments/processed', orderId, 20_000);
        await page.selectOption('#mqtt-version', '3.1.1');
        await waitForEntry(page, {
          service: 'payment',
          topic: 'restart',
          status: 'note',
          reason: /published again \d+ messages? its previous connection \(the page started the services anew\) had not got acknowledged \([^)]*payments\/processed/,
        });
        // The copy on the wire, byte for byte the first: the same result, at least once.
        await witness.waitFor((m) => m.topic === 'payments/processed' && m.json?.orderId === orderId && m !== first, 20_000, 'the result published again');
        const copies = witness.messages.filter((m) => m.topic === 'payments/processed' && m.json?.orderId === orderId);
        assert.deepEqual(new Set(copies.map((m) => m.payload)).size, 1, 'the same result');
        const refused = await page.$$eval('[data-testid="log-entry"][data-service="payment"]', (es) => es.map((e) => e.textContent).filter((text) => /needs MQTT 5\.0/.test(text)));
        assert.deepEqual(refused, [], 'nothing refused for its 5.0 properties');
        await witness.waitForOrder('orders/confirmed', orderId, 20_000);
      });
    } finally {
      await witness.close();
      await proxy.close();
    }
  });

  // Newcomers' break-tests: Mosquitto 2.0 answers a PUBLISH over its message_size_limit with
  // PUBACK 0x95 (Packet too large), a code MQTT 5.0 does not list for PUBACK (34-J F5): the page
  // took it for a malformed packet, reconnected and sent the same PUBLISH again, for ever, and
  // OrderService never came back. And an orders/created the broker refused (PUBREC 0x97, 34-K
  // F5) left its order "Pending …" for ever. Here a proxy answers OrderService's first
  // orders/created with PUBACK 0x95.
  it('4i. the broker refuses an orders/created with PUBACK 0x95 (5.0): read as the refusal it is, the row says the broker refused it, and the next order completes', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const state = { refused: null };
    const isOrder = (conn) => conn.version === 5 && conn.clientId?.endsWith('-order');
    const proxy = await startTamperingProxy({
      upstream: broker.wsUrl,
      toBroker: (packet, conn) => {
        if (isOrder(conn) && state.refused === null && packet[0] >> 4 === 3 && publishTopic(packet) === 'orders/created') {
          const start = bodyStart(packet);
          state.refused = packet.readUInt16BE(start + 2 + packet.readUInt16BE(start));
          // As a broker that refuses it publishes nothing: renamed in place (same length) to a
          // topic nobody subscribes to.
          packet.write('zzzzzz', start + 2, 'latin1');
        }
        return packet;
      },
      fromBroker: (packet, conn) => {
        if (isOrder(conn) && packet[0] >> 4 === 4 && state.refused !== null && packet.readUInt16BE(bodyStart(packet)) === state.refused) {
          return Buffer.from([0x40, 3, state.refused >> 8, state.refused & 0xff, 0x95]);
        }
        return packet;
      },
    });
    try {
      await withApp(t, `${brokerQuery(proxy.wsUrl)}&mqtt=5`, async ({ page }) => {
        await waitReady(page);
        const refusedId = await placeOrder(page);
        const row = page.locator(`[data-testid="order-row"][data-order-id="${refusedId}"][data-status="Refused"]`);
        await row.waitFor({ timeout: 20_000 });
        assert.match((await row.locator('[data-testid="order-refused"]').textContent()) ?? '', /the broker answered its orders\/created with Packet too large \(0x95\): it published nothing.*Place a smaller order \(fewer lines\), or raise the broker's limit \(Mosquitto's message_size_limit\): the same order is refused again$/);
        // The same bytes would be refused again (46-AY F3: the row offered Deliver again).
        assert.equal(await row.locator('[data-testid="order-deliver-again"]').count(), 0, 'no Deliver again');
        assert.equal(await page.getAttribute('[data-testid="orders-count"]', 'data-refused'), '1');
        assert.equal(await page.getAttribute('[data-testid="orders-count"]', 'data-open'), '0');
        // The connection stays: no malformed-packet loop, and the next order goes through.
        await page.locator('[data-testid="status-order"][data-state="connected"]').waitFor({ timeout: 5_000 });
        const next = await placeOrder(page);
        await waitForRow(page, next, 'Completed');
        // No saga starts from an order the broker refused: past the time OrderService waits for
        // its own copy (the saga's deadline, at least 5 s), the row is still refused and nothing
        // went out for it. Nothing on the page marks the moment a check finds nothing to do, so
        // this waits that long.
        await page.waitForTimeout(6_000);
        assert.equal(await row.count(), 1, 'still refused');
        const told = await page.$$eval('[data-testid="log-entry"][data-service="order"]', (es, id) => es.map((e) => e.textContent).filter((text) => text.includes(id)), refusedId);
        assert.ok(told.every((text) => !/starts the saga/.test(text)), told.join(' | '));
      });
    } finally {
      await proxy.close();
    }
  });

  // A newcomer's break-test (34-K F6, F5, F9): at QoS 2 a switch of MQTT version with messages
  // in flight made the new clients publish them anew, under new packet ids: subscribers got each
  // twice, and the broker kept each old exchange open for good, until its receive quota ran out.
  // Here a proxy drops the PUBCOMP of OrderService's order on its 3.1.1 connection, so the
  // message is still in flight (PUBREL sent) when the version changes.
  it('4k. QoS 2, MQTT 3.1.1 switched to 5.0 with an order in flight: the new client sends its PUBREL again under the same packet id, and the order is delivered once', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const proxy = await startTamperingProxy({
      upstream: broker.wsUrl,
      fromBroker: (packet, conn) => (conn.version === 4 && conn.clientId?.endsWith('-order') && packet[0] >> 4 === 7 ? null : packet),
    });
    const witness = await watchEveryTopic(broker);
    try {
      await withApp(t, `${brokerQuery(proxy.wsUrl)}&qos=2&mqtt=3.1.1`, async ({ page }) => {
        await waitReady(page);
        const orderId = await placeOrder(page);
        await witness.waitForOrder('orders/confirmed', orderId, 20_000);
        const created = () => witness.messages.filter((m) => m.topic === 'orders/created' && m.json?.orderId === orderId).length;
        assert.equal(created(), 1);
        const order = await clientIdOf(page, 'order');
        const releases = () => [...broker.log().matchAll(new RegExp(`Received PUBREL from ${escapeRegExp(order)}`, 'g'))].length;
        const before = releases();
        await page.selectOption('#mqtt-version', '5');
        await waitForEntry(page, {
          service: 'order',
          topic: 'restart',
          status: 'note',
          reason: /published again \d+ messages? its previous connection \(the page started the services anew\) had not got acknowledged \([^)]*orders\/created[^)]*\) \((\d+ of them )?under the same packet ids/,
        });
        await broker.waitForLog(() => releases() > before, 20_000);
        await witness.roundTrip();
        assert.equal(created(), 1, 'delivered once');
      });
    } finally {
      await witness.close();
      await proxy.close();
    }
  });

  it('4b. Session Present = 1 in answer to Clean Start (5.0): the page closes the connection and says why', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const proxy = await startTamperingProxy({
      upstream: broker.wsUrl,
      fromBroker: (packet) => {
        if (packet[0] >> 4 === 2) packet[bodyStart(packet)] |= 1;
        return packet;
      },
    });
    try {
      await withApp(t, `${brokerQuery(proxy.wsUrl)}&mqtt=5&session=clean`, async ({ page }) => {
        const { text } = await helpSaying(page, 'lost');
        assert.match(text, /the broker claimed a session this client never had \(Session Present in answer to Clean Start\)/);
        assert.doesNotMatch(text, /Start Mosquitto/);
      });
    } finally {
      await proxy.close();
    }
  });

  it('5. text from outside is shown as it is: an RLO, a NUL and Hebrew in a customer id, a BOM before an order', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      await waitReady(page);
      const witness = await startWitness({ tcpPort: broker.tcpPort });
      try {
        for (const customerId of ['C\u202E123', 'C\u0000123', 'שלום']) {
          await witness.publish('orders/created', JSON.stringify(order({ customerId })), { qos: 1 });
        }
        const bom = order();
        await witness.publish('orders/created', `\uFEFF${JSON.stringify(bom)}`, { qos: 1 });

        await waitForNotifications(page, [
          'Order confirmation email sent to C⟨U+202E RLO⟩123',
          'Order confirmation email sent to C⟨U+0000 NUL⟩123',
          'Order confirmation email sent to שלום',
        ]);
        const hebrew = page.locator('[data-testid="notification"] bdi', { hasText: 'שלום' });
        assert.equal(await hebrew.count(), 1, 'the Hebrew customer id sits in its own <bdi>');
        const raw = await page.evaluate(() =>
          [...document.querySelectorAll('[data-testid="notification"], [data-testid="log-entry"]')].some((e) =>
            /[\u0000\u202E\uFEFF]/.test(e.textContent),
          ),
        );
        assert.equal(raw, false, 'no RLO, NUL or BOM acts anywhere in the notifications and logs');

        const text = await waitForRejected(page, {
          service: 'payment',
          topic: 'orders/created',
          payload: bom.orderId,
          reason: /payload is not JSON: expected value at line 1 column 1, where the payload has U\+FEFF BYTE ORDER MARK \(BOM\), which does not show/,
        });
        assert.ok(text.includes('⟨U+FEFF BOM⟩{'), `the payload shows its BOM: ${text}`);
      } finally {
        await witness.close();
      }
    }));

  it('6. a subscription the broker refuses is marked refused in the header and the flow diagram', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const refused = 'payments/processed';
    const proxy = await startTamperingProxy({
      upstream: broker.wsUrl,
      fromBroker: (packet, conn) => {
        if (!conn.clientId?.endsWith('-notification')) return packet;
        const type = packet[0] >> 4;
        if (type === 9) {
          const { packetId, codesAt } = subAckCodes(packet, conn.version);
          const index = (conn.subscribes.get(packetId) ?? []).indexOf(refused);
          if (index >= 0) packet[codesAt + index] = 0x80;
        }
        // A refused subscription delivers nothing.
        if (type === 3 && publishTopic(packet) === refused) return null;
        return packet;
      },
    });
    try {
      await withApp(t, brokerQuery(proxy.wsUrl), async ({ page }) => {
        await waitReady(page);
        const log = page.locator('section[aria-label="NotificationService event log"]');
        await log
          .locator(`[data-testid="subscription"][data-filter="${refused}"][data-state="refused"]`)
          .waitFor({ state: 'attached', timeout: 10_000 });
        const header = ((await log.locator('[data-testid="subscriptions"]').textContent()) ?? '').trim();
        assert.equal(
          header,
          'Subscribes to orders/created, inventory/reserved, orders/confirmed, orders/cancelled, payments/refunded; the broker refused ✕ payments/processed (Failure (0x80)).',
        );
        // The diagram is redrawn at most once a second out of sight: bring it in, then read it.
        await page.locator('[data-testid="flow-svg"]').scrollIntoViewIfNeeded();
        const edges = { [refused]: 'refused', 'orders/created': 'granted', 'inventory/reserved': 'granted' };
        await page
          .waitForFunction(
            (edges) =>
              Object.entries(edges).every(
                ([topic, state]) =>
                  document
                    .querySelector(`[data-testid="flow-edge"][data-to="notification"][data-topic="${topic}"]`)
                    ?.getAttribute('data-subscription') === state,
              ),
            edges,
            { timeout: 10_000 },
          )
          .catch(async (error) => {
            const shown = await page.evaluate(() =>
              [...document.querySelectorAll('[data-testid="flow-edge"][data-to="notification"]')].map(
                (e) => `${e.getAttribute('data-topic')}: ${e.getAttribute('data-subscription')}`,
              ),
            );
            throw new Error(`the flow diagram's edges to NotificationService: ${JSON.stringify(shown)}`, {
              cause: error,
            });
          });
      });
    } finally {
      await proxy.close();
    }
  });
});
