// Any broker: whole broker URLs with a path (Mosquitto ignores it, aedes served at /mqtt needs
// it), the advice when nothing answers MQTT at the path given, and what the broker can do as
// its CONNACK says, with a warning for a setting it cannot honour (QoS 2 on Mosquitto with
// max_qos 1: the services publish at QoS 1, and an order still completes).
//
//   node --test e2e/app/broker-capabilities.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import mqtt from 'mqtt';

import {
  CONNECT_TIMEOUT_MS,
  FLOW_TIMEOUT_MS,
  escapeRegExp,
  placeSeedOrderAndExpectFlow,
  waitForStates,
} from '../lib/app-page.mjs';
import { startAedes } from '../lib/aedes.mjs';
import { startBroker } from '../lib/broker.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, setLateBroker, waitReady, withApp } from '../lib/app-suite.mjs';
import { FLOW_TOPICS, startWitness } from '../lib/mqtt-witness.mjs';

const linkTo = (url, params = '') => `/?broker=${encodeURIComponent(url)}${params}`;

/**
 * Runs `body({ page }, own)` on a fresh page (lib/app-suite.mjs's withApp) whose broker is `own`,
 * a private Mosquitto started with `settings` (lib/broker.mjs), opened at `linkTo(own, params)`;
 * `own` is stopped afterwards, and its log is saved with the case's if it fails.
 */
async function onOwnMosquitto(t, settings, params, body) {
  const own = await startBroker({ settings });
  setLateBroker(own);
  try {
    await withApp(t, linkTo(own.wsUrl, params), (app) => body(app, own));
  } finally {
    await own.stop();
    setLateBroker(null);
  }
}

/** The page's capability rows: { 'maximum-qos': { value, stated } … }. */
const capabilities = (page) =>
  page.$$eval('[data-testid="capability"]', (rows) =>
    Object.fromEntries(rows.map((r) => [r.dataset.property, { value: r.firstChild.textContent.trim(), stated: r.dataset.stated === 'true' }])),
  );

const warnings = (page) =>
  page.$$eval('[data-testid="capability-warning"]', (ws) => ws.map((w) => ({ property: w.dataset.property, text: w.textContent })));

/** An independent MQTT.js client of `topic` at QoS 2 over plain TCP: the QoS each message came at. */
async function qosWitness(tcpPort, topic) {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${tcpPort}`, { clientId: `e2e-qos-${Date.now()}`, reconnectPeriod: 0 });
  const seen = [];
  client.on('message', (t, payload, packet) => seen.push({ topic: t, payload: payload.toString(), qos: packet.qos }));
  await client.subscribeAsync(topic, { qos: 2 });
  return {
    waitFor: (text, timeout) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = seen.find((m) => m.payload.includes(text));
          if (!found) return;
          clearTimeout(timer);
          client.off('message', check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          client.off('message', check);
          reject(new Error(`no message on ${topic} holding ${text} within ${timeout} ms`));
        }, timeout);
        client.on('message', check);
        check();
      }),
    close: () => client.endAsync(),
  };
}

describeApp('broker URLs and capabilities', () => {
  it('Mosquitto with max_qos 1, MQTT 5 and ?qos=2: capabilities shown, the QoS warned of, the order completes at QoS 1', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    // max_qos is a listener option in Mosquitto 2.0.11: written after the websockets listener,
    // it limits the page's listener; the TCP listener of the witnesses keeps QoS 2.
    await onOwnMosquitto(t, { max_qos: 1 }, '&mqtt=5&qos=2', async ({ page }, limited) => {
      const ids = await waitReady(page, limited);
      await page.waitForSelector('[data-testid="broker-capabilities"][data-announced="true"]');
      const caps = await capabilities(page);
      assert.deepEqual(caps['maximum-qos'], { value: '1', stated: true }, 'Maximum QoS 1, stated in CONNACK');
      assert.equal(caps['retain-available'].value, 'yes');
      assert.equal(caps['shared-subscription-available'].value, 'yes');
      // Mosquitto states its Receive Maximum (max_inflight_messages 20) and Topic Alias Maximum (10).
      assert.deepEqual(caps['receive-maximum'], { value: '20', stated: true });
      assert.deepEqual(caps['topic-alias-maximum'], { value: '10', stated: true });
      const found = await warnings(page);
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.equal(found[0].property, 'maximum-qos');
      assert.match(found[0].text, /\?qos=2/);
      assert.match(found[0].text, /Maximum QoS 1/);

      const atQos = await qosWitness(limited.tcpPort, 'orders/created');
      const witness = await startWitness({ tcpPort: limited.tcpPort, protocolVersion: 5 });
      try {
        const orderId = await placeSeedOrderAndExpectFlow(page, witness);
        const created = await atQos.waitFor(orderId, FLOW_TIMEOUT_MS);
        assert.equal(created.qos, 1, 'a QoS 2 subscriber gets the order at QoS 1: it was published at 1');
        await limited.waitForLog(
          new RegExp(`Received PUBLISH from ${escapeRegExp(ids.order)} \\(d0, q1, r0, m\\d+, 'orders/created'`),
          5_000,
        );
        assert.doesNotMatch(limited.log(), new RegExp(`Received PUBLISH from eda-\\S+ \\(d\\d, q2`), 'no client published at QoS 2');
      } finally {
        await witness.close();
        await atQos.close();
      }
    });
  });

  it('Mosquitto with max_qos 1, MQTT 3.1.1 and ?qos=2: the SUBACK granting QoS 1 teaches the ceiling, the page says so, the order goes at QoS 1 with no reconnect', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    // Mosquitto 2.0.11 closes a 3.1.1 connection whose PUBLISH is above max_qos ("Too high QoS
    // in PUBLISH … disconnecting"), and a client re-sending it on every connection loops. A
    // 3.1.1 CONNACK cannot state Maximum QoS; the SUBACK's granted QoS (1 for 2) is the sign.
    await onOwnMosquitto(t, { max_qos: 1 }, '&qos=2', async ({ page }, limited) => {
      const ids = await waitReady(page, limited);
      // Every service's SUBSCRIBE asked QoS 2 and was granted 1.
      assert.match(limited.log(), new RegExp(`${escapeRegExp(ids.order)} 1 payments/processed`));
      const warning = page.locator('[data-testid="capability-warning"][data-property="maximum-qos"]');
      await warning.waitFor({ timeout: CONNECT_TIMEOUT_MS });
      const text = await warning.textContent();
      assert.match(text, /^This broker grants at most QoS 1: a SUBACK granted QoS 1 for \S+, asked at QoS 2/);
      assert.match(text, /\?qos=2/);
      assert.match(text, /publish at QoS 1 instead/);
      assert.equal(await warning.getAttribute('data-setting'), '?qos=2');
      await page.waitForSelector('[data-testid="broker-capabilities"][data-announced="false"]');
      const row = page.locator('[data-testid="capability"][data-property="maximum-qos"]');
      assert.equal(await row.getAttribute('data-learned'), 'true');
      assert.equal(await row.getAttribute('data-stated'), 'false');
      assert.deepEqual((await capabilities(page))['maximum-qos'], { value: '1', stated: false });

      const atQos = await qosWitness(limited.tcpPort, 'orders/created');
      const witness = await startWitness({ tcpPort: limited.tcpPort });
      try {
        const orderId = await placeSeedOrderAndExpectFlow(page, witness);
        const created = await atQos.waitFor(orderId, FLOW_TIMEOUT_MS);
        assert.equal(created.qos, 1, 'a QoS 2 subscriber gets the order at QoS 1: it was published at 1');
        await limited.waitForLog(
          new RegExp(`Received PUBLISH from ${escapeRegExp(ids.order)} \\(d0, q1, r0, m\\d+, 'orders/created'`),
          5_000,
        );
      } finally {
        await witness.close();
        await atQos.close();
      }
      const log = limited.log();
      assert.doesNotMatch(log, /Too high QoS in PUBLISH/, 'no PUBLISH above max_qos reached the broker');
      assert.doesNotMatch(log, /Received PUBLISH from eda-\S+ \(d\d, q2/, 'no client published at QoS 2');
      for (const service of ['order', 'payment', 'inventory']) {
        const connects = log.split('\n').filter((l) => l.includes(`New client connected`) && l.endsWith(` as ${ids[service]} (p2, c0, k30).`));
        assert.equal(connects.length, 1, `${service} connected once: no reconnect loop`);
      }
      await waitForStates(page, 'connected');
    });
  });

  // A newcomer's break-test (46-AY F1): Mosquitto with max_inflight_messages 1 took ten QoS 2
  // orders under MQTT 3.1.1 (PUBREC for each) and delivered two; each lost row said only
  // "inventory and payment timed out", and OrderService's log named causes that did not apply.
  it('Mosquitto with max_inflight_messages 1, MQTT 3.1.1 and ?qos=2: the orders it took and delivered to nobody are said so on their rows, and OrderService\'s log names the in-flight limit', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    await onOwnMosquitto(t, { max_inflight_messages: 1 }, '&qos=2&payment_ms=0&inventory_ms=0&saga_timeout_ms=2000', async ({ page }, limited) => {
      await waitReady(page, limited);
      const witness = await startWitness({ tcpPort: limited.tcpPort, topics: ['orders/created'] });
      try {
        await page.click('[data-testid="place-ten"]');
        await page.waitForFunction(() => {
          const rows = [...document.querySelectorAll('[data-testid="order-row"]')];
          return rows.length === 10 && rows.every((r) => ['Completed', 'Cancelled'].includes(r.dataset.status));
        }, null, { timeout: 4 * FLOW_TIMEOUT_MS });
        const rows = await page.$$eval('[data-testid="order-row"]', (els) => els.map((r) => ({
          id: r.dataset.orderId,
          status: r.dataset.status,
          undelivered: r.querySelector('[data-testid="order-undelivered"]')?.textContent ?? null,
        })));
        await witness.roundTrip();
        const onTheWire = new Set(witness.messages.map((m) => m.json?.orderId));
        const lost = rows.filter((r) => !onTheWire.has(r.id));
        assert.ok(lost.length > 0, `the broker discarded some orders (the case needs it): ${JSON.stringify(rows)}`);
        for (const row of rows) {
          if (onTheWire.has(row.id)) {
            assert.equal(row.undelivered, null, `${row.id} reached the witness: no note`);
          } else {
            assert.equal(row.status, 'Cancelled', `${row.id}, delivered to nobody, ends at its deadline`);
            assert.equal(row.undelivered, "the broker took its orders/created and delivered it to no client of this page, so no participant heard of the order (OrderService's log names the likely causes)");
          }
        }
        const logged = page.locator('[data-testid="log-entry"][data-service="order"]', { hasText: 'max_inflight_messages' }).first();
        await logged.waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.match(await logged.textContent(), /never came back from the broker, which acknowledged it\. At QoS 2 under MQTT 3\.1\.1 the likeliest cause is the broker's limit of QoS 2 messages in flight from one client \(Mosquitto's max_inflight_messages\)/);
      } finally {
        await witness.close();
      }
    });
  });

  it('Mosquitto with max_qos 1, MQTT 3.1.1 and ?qos=2: to another broker in the broker bar and back, the learned QoS 1 holds (the session is present, no SUBACK teaches it again), no PUBLISH above it, the order goes at QoS 1', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const limited = await startBroker({ settings: { max_qos: 1 } });
    setLateBroker(limited);
    const moveTo = async (page, url, onBroker) => {
      await page.fill('#broker-url', url);
      await page.click('[data-testid="apply-broker"]');
      return waitReady(page, onBroker);
    };
    const maximumQos = (page) => page.locator('[data-testid="capability-warning"][data-property="maximum-qos"]');
    try {
      await withApp(t, linkTo(limited.wsUrl, '&qos=2'), async ({ page }) => {
        const ids = await waitReady(page, limited);
        await maximumQos(page).waitFor({ timeout: CONNECT_TIMEOUT_MS });

        // Another broker starts from the default: QoS 2, nothing to warn of.
        await moveTo(page, broker.wsUrl, broker);
        await page.waitForFunction(() => document.querySelector('[data-testid="capability"][data-property="maximum-qos"]')?.firstChild?.textContent.trim() === '2');
        assert.equal(await maximumQos(page).count(), 0, 'no QoS warning on a broker without max_qos');

        await moveTo(page, limited.wsUrl, limited);
        await maximumQos(page).waitFor({ timeout: CONNECT_TIMEOUT_MS });
        assert.match(await maximumQos(page).textContent(), /^This broker grants at most QoS 1/);
        assert.deepEqual((await capabilities(page))['maximum-qos'], { value: '1', stated: false });

        const atQos = await qosWitness(limited.tcpPort, 'orders/created');
        const witness = await startWitness({ tcpPort: limited.tcpPort });
        try {
          const orderId = await placeSeedOrderAndExpectFlow(page, witness);
          const created = await atQos.waitFor(orderId, FLOW_TIMEOUT_MS);
          assert.equal(created.qos, 1, 'published at QoS 1 after coming back');
        } finally {
          await witness.close();
          await atQos.close();
        }
        const log = limited.log();
        assert.doesNotMatch(log, /Too high QoS in PUBLISH/, 'no PUBLISH above max_qos reached the broker');
        const connects = log.split('\n').filter((l) => l.includes('New client connected') && l.endsWith(` as ${ids.order} (p2, c0, k30).`));
        assert.equal(connects.length, 2, 'OrderService connected once per visit: never dropped');
      });
    } finally {
      await limited.stop();
      setLateBroker(null);
    }
  });

  it('Mosquitto with max_qos 0, MQTT 5: the Wills, the flow and the event store go at QoS 0 (none dropped), the warning says they are at most once, an order completes', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    await onOwnMosquitto(t, { max_qos: 0 }, '&mqtt=5', async ({ page }, zero) => {
      await waitReady(page, zero);
      const warning = page.locator('[data-testid="capability-warning"][data-property="maximum-qos"]');
      await warning.waitFor({ timeout: CONNECT_TIMEOUT_MS });
      const text = await warning.textContent();
      assert.match(text, /publish at QoS 0 instead/);
      // QoS 1 is the default here: no `?qos=1` the link does not hold is named (break-test 32-E).
      assert.match(text, /^QoS 1 is the default \(\?qos= changes it\), but the broker's CONNACK says Maximum QoS 0/);
      assert.match(text, /the event store \(eventstore\/orders\/…\), the dead letters and, under MQTT 5, the Last Wills go at most once/);
      const stored = await qosWitness(zero.tcpPort, 'eventstore/orders/+');
      const witness = await startWitness({ tcpPort: zero.tcpPort, protocolVersion: 5 });
      try {
        const orderId = await placeSeedOrderAndExpectFlow(page, witness);
        const event = await stored.waitFor(orderId, FLOW_TIMEOUT_MS);
        assert.equal(event.qos, 0, 'the event store reaches a subscriber, at QoS 0');
      } finally {
        await witness.close();
        await stored.close();
      }
      const logs = await page.$$eval('[data-testid="log-entry"]', (es) => es.map((e) => e.textContent));
      assert.deepEqual(logs.filter((l) => /accepts messages up to QoS 0 only/.test(l)), [], 'no publish dropped for its QoS');
      assert.doesNotMatch(zero.log(), /Received PUBLISH from eda-\S+ \(d\d, q[12]/, 'nothing above QoS 0 reached the broker');
    });
  });

  it('Mosquitto with max_qos 0, MQTT 3.1.1: it closes each CONNECT (QoS 1 Will) before a CONNACK, and the help says a QoS 0 broker does this and to choose MQTT 5', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    await onOwnMosquitto(t, { max_qos: 0 }, '', async ({ page }, zero) => {
      const help = page.locator('[data-testid="broker-help"][data-diagnosis="closed-before-connack"]');
      await help.waitFor({ timeout: CONNECT_TIMEOUT_MS });
      assert.match(await help.textContent(), /the connection opened, then closed before the broker answered CONNECT/);
      const advice = await page.textContent('[data-testid="broker-closed-help"]');
      assert.match(advice, /max_qos 0 closes a CONNECT whose Last Will is QoS 1/);
      // The other setting that closes the same CONNECT is named too (a newcomer's break-test:
      // a teacher with retain_available false was pointed at a max_qos never set).
      assert.match(advice, /retain_available false closes a CONNECT whose Last Will is retained/);
      assert.match(advice, /choose MQTT 5 under Protocol/);
      // The form does not promise a reconnection that every try ends the same way (break-test
      // 32-E F6: "It reconnects by itself").
      await page.waitForFunction(() => /closed before the broker answered CONNECT/.test(document.querySelector('[data-testid="status-order"]')?.title ?? ''), null, { timeout: CONNECT_TIMEOUT_MS });
      // Said once the broker has ended two tries in a row (after one, the next may work:
      // break-test 34-J F9).
      await page.waitForFunction(() => {
        const tries = /attempt (\d+)/.exec(document.querySelector('[data-testid="broker-help"][data-service="order"]')?.textContent ?? '');
        return tries !== null && Number(tries[1]) >= 3;
      }, null, { timeout: 3 * CONNECT_TIMEOUT_MS });
      await page.click('[data-testid="place-order"]');
      const formError = page.locator('[data-testid="form-error"]');
      await formError.waitFor({ timeout: 5_000 });
      const refused = (await formError.textContent()) ?? '';
      assert.match(refused, /It tries again by itself, but the broker has ended its connection each time so far: the help under the status strip says what to check/);
      assert.doesNotMatch(refused, /reconnects by itself/);
      // Mosquitto's side: the CONNECTs were dropped unanswered, no service got in (the page's
      // status monitor, which has no Will, may: it is no service).
      await zero.waitForLog(/Client <unknown> closed its connection/, 5_000);
      assert.doesNotMatch(zero.log(), /New client connected .* as eda-\w+-(order|payment|inventory|notification|query)\b/);
      // The advice works: under MQTT 5 the same Will is refused with CONNACK 0x9B (155, QoS
      // not supported), and each service connects again with its Will at QoS 0.
      await page.selectOption('#mqtt-version', '5');
      await waitReady(page, zero);
      await zero.waitForLog(/Sending CONNACK to \S+ \(0, 155\)/, 5_000);
      assert.match(zero.log(), /Will message specified \(\d+ bytes\) \(r1, q0\)/);
    });
  });

  it('Mosquitto with retain_available false, MQTT 5: the retained Wills are refused (0x9A), each service tries again without retaining it, says online without the retain flag (heard), the warning shows, an order completes', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    await onOwnMosquitto(t, { retain_available: 'false' }, '&mqtt=5&stock=P001:10', async ({ page }, noRetain) => {
      await waitForStates(page, 'connected');
      // Each service's first CONNECT (retained Will) was refused with 0x9A (154; Mosquitto names
      // the address, not yet the client), then accepted.
      await noRetain.waitForLog(/Sending CONNACK to \S+ \(0, 154\)/, CONNECT_TIMEOUT_MS);
      await noRetain.waitForLog(/Sending CONNACK to eda-\S+-order \(0, 0\)/, CONNECT_TIMEOUT_MS);
      await page.waitForSelector('[data-testid="broker-capabilities"][data-announced="true"]');
      const caps = await capabilities(page);
      assert.deepEqual(caps['retain-available'], { value: 'no', stated: true });
      const found = await warnings(page);
      assert.ok(found.some((w) => w.property === 'retain-available'), JSON.stringify(found));
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="log-entry"]')].some((e) => /no longer retained/.test(e.textContent)));
      // The statuses go out without the retain flag: the page's own monitor hears them (and a
      // second page online would too: a newcomer's break-test saw them not sent at all, every
      // badge "status not heard yet", and two pages charging each order twice unwarned).
      for (const service of ['order', 'payment', 'inventory', 'notification']) {
        await page.waitForFunction((s) => /broker: online/.test(document.querySelector(`[data-testid="status-${s}"]`)?.textContent ?? ''), service);
      }
      // Retain As Published: the witness sees the retain flag each message was published with.
      const witness = await startWitness({ tcpPort: noRetain.tcpPort, protocolVersion: 5, retainAsPublished: true, topics: [...FLOW_TOPICS, 'inventory/stock/+'] });
      try {
        await placeSeedOrderAndExpectFlow(page, witness);
        // InventoryService's stock level goes out without the retain flag (a retained PUBLISH
        // there is a protocol error: before, every level was refused by our own client and
        // logged as a failure), and the stock panel says the broker keeps none.
        const level = await witness.waitFor((m) => m.topic === 'inventory/stock/P001' && m.json?.units === 8, FLOW_TIMEOUT_MS, 'the level after the order');
        assert.equal(level.retain, false);
        await page.locator('[data-testid="stock-retained"][data-retained="false"]').waitFor();
        assert.match(await page.textContent('[data-testid="stock-retained"]'), /without the retain flag: the broker keeps no retained messages/);
        const failures = await page.$$eval('[data-testid="log-entry"][data-service="inventory"][data-status="failed"][data-topic^="inventory/stock"]', (els) => els.map((e) => e.textContent));
        assert.deepEqual(failures, [], 'no stock level failed in InventoryService\'s log');
      } finally {
        await witness.close();
      }
    });
  });

  it('MQTT 3.1.1: the CONNACK carries no capabilities, the defaults are assumed, and ?qos=2 is not warned of', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, linkTo(broker.wsUrl, '&qos=2'), async ({ page }) => {
      await waitReady(page);
      await page.waitForSelector('[data-testid="broker-capabilities"][data-announced="false"]');
      assert.match(await page.textContent('[data-testid="capabilities-note"]'), /3\.1\.1.*carries none/s);
      const caps = await capabilities(page);
      assert.deepEqual(caps['maximum-qos'], { value: '2', stated: false });
      assert.deepEqual(await warnings(page), []);
    }));

  it('Mosquitto at a URL with a path and a query string (it ignores both): connects, keeps the URL in the link, an order completes', { timeout: CASE_TIMEOUT_MS }, (t) => {
    const url = `${broker.wsUrl}/mqtt?tenant=a&x=1`;
    return withApp(t, linkTo(url), async ({ page }) => {
      await waitReady(page);
      assert.equal(await page.inputValue('#broker-url'), url, 'the broker field shows the whole URL');
      await page.selectOption('#mqtt-version', '5'); // a setting changed: the address is written again
      await waitReady(page);
      assert.equal(new URL(page.url()).searchParams.get('broker'), url, 'the address keeps the path and query');
      const witness = await startWitness({ tcpPort: broker.tcpPort, protocolVersion: 5 });
      try {
        await placeSeedOrderAndExpectFlow(page, witness);
      } finally {
        await witness.close();
      }
    });
  });

  it('aedes serving MQTT at /mqtt: the page connects with the path, and an order completes; reloaded from its link, it connects again', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const aedes = await startAedes({ wsPath: '/mqtt' });
    setLateBroker(aedes);
    try {
      assert.ok(aedes.wsUrl.endsWith('/mqtt'));
      await withApp(t, linkTo(aedes.wsUrl), async ({ page }) => {
        await waitForStates(page, 'connected');
        await aedes.waitForLog(/^subscribe eda-\S+-payment .*orders\/created@/m, 10_000);
        await aedes.waitForLog(/^subscribe eda-\S+-inventory .*orders\/created@/m, 10_000);
        const witness = await startWitness({ tcpPort: aedes.tcpPort });
        try {
          await placeSeedOrderAndExpectFlow(page, witness);
        } finally {
          await witness.close();
        }
        await page.reload();
        await waitForStates(page, 'connected', CONNECT_TIMEOUT_MS);
        assert.equal(await page.inputValue('#broker-url'), aedes.wsUrl);
        assert.doesNotMatch(aedes.log(), /upgrade refused/, 'every upgrade was at /mqtt');
      });
    } finally {
      await aedes.stop();
      setLateBroker(null);
    }
  });

  it('aedes with MQTT 5 chosen: refused as Unsupported Protocol Version, the help says to choose the other version (not to check passwords), the capabilities panel says the refusal instead of waiting, and 3.1.1 connects', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const aedes = await startAedes({});
    setLateBroker(aedes);
    try {
      await withApp(t, linkTo(aedes.wsUrl, '&mqtt=5'), async ({ page }) => {
        const help = page.locator('[data-testid="broker-help"][data-diagnosis="refused-for-good"]');
        await help.waitFor({ timeout: CONNECT_TIMEOUT_MS });
        const text = await help.textContent();
        assert.match(text, /does not speak this MQTT version: choose the other one under Protocol/);
        assert.doesNotMatch(text, /user name and password/i);
        // The banner by the Try again button gives the same advice, and the sign-in form stays
        // shut: no password can fix this refusal.
        const banner = await page.textContent('[data-testid="refused-for-good"]');
        assert.match(banner, /Unsupported Protocol Version \(0x84\)\. The broker does not speak this MQTT version: choose the other one under Protocol/);
        assert.doesNotMatch(banner, /user names? and passwords?|access rules/i);
        assert.equal(await page.locator('section.credentials details').getAttribute('open'), null, 'the sign-in form stays closed');
        // The capabilities panel does not wait for a CONNACK that will not come: it says what
        // the refusal means for them.
        const panel = page.locator('[data-testid="broker-capabilities"][data-state="refused"]');
        await panel.waitFor({ timeout: 5_000 });
        assert.match(
          await panel.textContent(),
          /^Broker capabilities: refused: Unsupported Protocol Version \(0x84\)\. The broker does not speak MQTT 5\.0, so it states none of its capabilities/,
        );
        await page.selectOption('#mqtt-version', '3.1.1');
        await waitForStates(page, 'connected', CONNECT_TIMEOUT_MS);
        await page.waitForSelector('[data-testid="broker-capabilities"][data-state="known"][data-announced="false"]');
      });
    } finally {
      await aedes.stop();
      setLateBroker(null);
    }
  });

  // A newcomer's break-test (34-J F4): a Will over Mosquitto's message_size_limit under MQTT
  // 5.0 was refused with 0x95 and retried every few seconds for ever, the help saying the
  // service "lost its connection".
  it('Mosquitto with message_size_limit 100 and MQTT 5: each service refused with Packet too large (0x95) once, not retried; the help names the Will and the broker\'s limit, not passwords', { timeout: CASE_TIMEOUT_MS }, (t) =>
    onOwnMosquitto(t, { message_size_limit: 100 }, '&mqtt=5', async ({ page }, own) => {
      const help = page.locator('[data-testid="broker-help"][data-diagnosis="refused-for-good"]');
      await help.waitFor({ timeout: CONNECT_TIMEOUT_MS });
      const banner = page.locator('[data-testid="refused-for-good"]');
      await banner.waitFor();
      const text = await banner.textContent();
      assert.match(text, /Packet too large \(0x95\)\. The CONNECT is larger than the broker takes: the service's Last Will/);
      assert.match(text, /message_size_limit/);
      assert.doesNotMatch(text, /Sign in to the broker/);
      assert.equal(await page.locator('section.credentials details').getAttribute('open'), null, 'the sign-in form stays closed');
      assert.doesNotMatch(await help.textContent(), /lost its connection/);
      // One refused CONNECT per service (Mosquitto names each), then none again.
      const refusedConnects = () => own.log().split('\n').flatMap((l) => l.match(/Client (\S+) connected with too large Will payload/)?.[1] ?? []);
      const SERVICES_WITH_A_WILL = 5;
      for (let waited = 0; new Set(refusedConnects()).size < SERVICES_WITH_A_WILL; waited += 100) {
        assert.ok(waited < CONNECT_TIMEOUT_MS, `every service refused for its Will:\n${own.log()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // Left retrying, each service would have tried again within 4 s (0.5 s, 1 s, 2 s …).
      await new Promise((r) => setTimeout(r, 4000));
      const ids = refusedConnects();
      assert.equal(ids.length, SERVICES_WITH_A_WILL, `no refused CONNECT was sent again: ${ids}`);
      assert.ok(ids.every((id) => /^eda-\S+-(order|payment|inventory|notification|query)$/.test(id)), `${ids}`);
      assert.equal(await page.getAttribute('[data-testid="status-order"]', 'data-state'), 'disconnected');
    }));

  // A newcomer's break-test (34-J F9): typed by hand, the broker URL's own `&x=1` is split off
  // by the browser; the page said only that x was ignored.
  it('a broker URL with a query typed into the link by hand (?broker=…?tenant=a&x=1): the top of the page says x was ignored and how to write it for the broker URL', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `/?broker=${broker.wsUrl}/mqtt?tenant=a&x=1`, async ({ page }) => {
      await waitReady(page);
      const notice = (await page.textContent('[data-testid="link-notice"]')) ?? '';
      assert.match(notice, /Ignored in the link: x \(this page reads/);
      assert.ok(
        notice.includes(`If x belonged to the broker URL, write its & and = as %26 and %3D: ?broker=${broker.wsUrl}/mqtt?tenant=a%26x%3D1.`),
        notice,
      );
      assert.equal(await page.inputValue('#broker-url'), `${broker.wsUrl}/mqtt?tenant=a`, 'the page uses what it was given');
    }));

  it('a wss:// broker that does not answer: besides starting a broker, the help says the browser may not trust its certificate and names the https:// page to accept it', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const aedes = await startAedes({});
    const port = aedes.wsPort;
    await aedes.stop();
    await withApp(t, linkTo(`wss://127.0.0.1:${port}/mqtt`), async ({ page }) => {
      const help = page.locator('[data-testid="broker-help"][data-diagnosis="unreachable"]');
      await help.waitFor({ timeout: CONNECT_TIMEOUT_MS });
      const advice = await page.textContent('[data-testid="broker-certificate-help"]');
      assert.match(advice, new RegExp(`open https://127\\.0\\.0\\.1:${port}/ once`));
      // A newcomer pointed wss:// at the plain-WebSocket Mosquitto: the help names ws:// too.
      assert.match(advice, new RegExp(`plain WebSocket only .*use ws://127\\.0\\.0\\.1:${port}/mqtt\\.`));
      // A newcomer's break-test: it said "the page connects by itself once the broker is up",
      // which a TLS failure never does.
      const whole = await help.textContent();
      assert.doesNotMatch(whole, /; the page connects by itself once the broker is up/);
      assert.match(whole, /if no broker runs there, the page connects by itself once one is up\. If one does, waiting will not help: the browser could not make the TLS connection \(below\)\./);
    });
    await withApp(t, linkTo(`ws://127.0.0.1:${port}`), async ({ page }) => {
      await page.locator('[data-testid="broker-help"][data-diagnosis="unreachable"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
      assert.equal(await page.locator('[data-testid="broker-certificate-help"]').count(), 0, 'no certificate for ws://');
      assert.match(await page.textContent('[data-testid="broker-help"]'), /; the page connects by itself once the broker is up\./, 'over ws://, waiting is the answer');
    });
  });

  it('aedes at /mqtt, the URL without the path: the page says nothing answered MQTT there and names the usual paths', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const aedes = await startAedes({ wsPath: '/mqtt' });
    setLateBroker(aedes);
    const bare = `ws://127.0.0.1:${aedes.wsPort}`;
    try {
      await withApp(t, linkTo(bare), async ({ page }) => {
        const help = page.locator('[data-testid="broker-help"][data-diagnosis="unreachable"]');
        await help.waitFor({ timeout: CONNECT_TIMEOUT_MS });
        await aedes.waitForLog(/^upgrade refused at \/$/m, 5_000);
        const advice = await page.textContent('[data-testid="broker-path-help"]');
        assert.match(advice, /nothing answered MQTT over WebSocket without a path/);
        assert.match(advice, /EMQX, HiveMQ, VerneMQ and NanoMQ use \/mqtt/);
        assert.match(advice, /RabbitMQ \/ws/);
        // A newcomer's break-test: an HTTP server on the port got only "start Mosquitto".
        assert.match(advice, /another kind of server on that port \(the browser cannot tell it from no server at all\)/);
        // The learner adds the path in the broker field: the services connect.
        await page.fill('#broker-url', aedes.wsUrl);
        await page.click('[data-testid="apply-broker"]');
        await waitForStates(page, 'connected');
        assert.equal(await page.locator('[data-testid="broker-help"]').count(), 0);
      });
    } finally {
      await aedes.stop();
      setLateBroker(null);
    }
  });
});
