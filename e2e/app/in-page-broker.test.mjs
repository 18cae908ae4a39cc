// The in-page broker (?broker=inpage): the services talk MQTT to a broker running in the page's
// own Web Worker, with no Mosquitto anywhere: this file starts none. The order flow completes,
// QoS 2 shows its four-packet handshake, a crashed service's Will arrives, and a page whose
// broker cannot be reached offers the in-page broker with one click. The wire's witness is the
// page's MessagePorts, parsed by mqtt-packet (lib/in-page-wire.mjs): nothing outside the page
// can connect to this broker.
//
//   node --test e2e/app/in-page-broker.test.mjs      (after `trunk build`)

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { FLOW_TIMEOUT_MS, SERVICES, waitForStates } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, DIST } from '../lib/app-suite.mjs';
import { assertNoPanics, launchBrowser, openPage } from '../lib/browser.mjs';
import { tapMessagePorts, waitForWire } from '../lib/in-page-wire.mjs';
import { placeOrder, waitForRow } from '../lib/saga.mjs';
import { serveDir } from '../lib/serve.mjs';

let server = null;
let browser = null;

/**
 * A page with the port tap installed, opened at `query` on `base` (the suite's server unless
 * given), `before` run on it first; closed afterwards.
 */
async function withPage(query, body, { base = server.url, before } = {}) {
  const app = await openPage(browser, null);
  try {
    await tapMessagePorts(app.page);
    // The broker's worker logs to its own console: kept with the page's.
    app.page.on('worker', (worker) => worker.on('console', (message) => app.console.push(`worker ${message.type()}: ${message.text()}`)));
    await before?.(app.page);
    await app.page.goto(`${base}${query}`);
    await body(app);
    assertNoPanics(app);
  } catch (error) {
    const tail = app.console.slice(-30).join('\n') || '(empty)';
    throw new Error(`${error.message}\n--- page console (last 30) ---\n${tail}`, { cause: error });
  } finally {
    await app.close();
  }
}

/** The five clients connected, and each has its SUBACK: ready for an order. */
async function waitReadyInPage(page, protocolVersion = 4) {
  await page.locator(`#mqtt-version`).waitFor();
  assert.equal(await page.inputValue('#mqtt-version'), protocolVersion === 5 ? '5' : '3.1.1');
  await waitForStates(page, 'connected');
  return waitForWire(
    page,
    (wire) => SERVICES.every((s) => wire.some((p) => p.dir === 'in' && p.packet?.cmd === 'suback' && p.protocolVersion === protocolVersion && p.clientId?.endsWith(`-${s}`))),
    { what: `a SUBACK for each service in MQTT ${protocolVersion === 5 ? '5.0' : '3.1.1'}` },
  );
}

/** A TCP port nothing listens on (taken, then released). */
async function closedPort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('in-page broker: the app in Chromium with no Mosquitto at all', () => {
  before(async () => {
    assert.ok(existsSync(path.join(DIST, 'inpage-broker_loader.js')), `${DIST} holds the in-page broker's worker: run trunk build`);
    server = await serveDir(DIST);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('?broker=inpage (with other parameters): the page says what it is, an order completes, the link keeps broker=inpage', { timeout: CASE_TIMEOUT_MS }, () =>
    withPage('/?qos=1&broker=inpage&payment_ms=200', async (app) => {
      const { page } = app;
      const note = page.locator('[data-testid="in-page-broker"]');
      await note.waitFor();
      const text = await note.textContent();
      for (const limit of [/in memory/, /vanish when the page reloads/, /only this tab/, /mosquitto_sub/]) assert.match(text, limit);
      assert.equal(await page.inputValue('#broker-url'), 'inpage');
      const wire = await waitReadyInPage(page);
      // Each service is its own MQTT 3.1.1 client of the broker, accepted (CONNACK return code 0).
      for (const service of SERVICES) {
        const connect = wire.find((p) => p.dir === 'out' && p.packet?.cmd === 'connect' && p.clientId?.endsWith(`-${service}`));
        assert.ok(connect, `${service} sent CONNECT`);
        assert.equal(connect.packet.protocolVersion, 4);
        assert.ok(wire.some((p) => p.port === connect.port && p.packet?.cmd === 'connack' && p.packet.returnCode === 0), `${service} accepted`);
      }
      const orderId = await placeOrder(page);
      await waitForRow(page, orderId, 'Completed');
      // On the wire: each result published by the service that owns it.
      const published = await waitForWire(page, (w) => ['orders/created', 'payments/processed', 'inventory/reserved', 'orders/confirmed'].every((topic) =>
        w.some((p) => p.dir === 'out' && p.packet?.cmd === 'publish' && p.packet.topic === topic && p.packet.payload.toString().includes(orderId))), { what: 'the order\'s four events' });
      const owner = (topic) => published.find((p) => p.dir === 'out' && p.packet?.topic === topic && p.packet.payload.toString().includes(orderId)).clientId;
      assert.match(owner('payments/processed'), /-payment$/);
      assert.match(owner('inventory/reserved'), /-inventory$/);
      assert.match(owner('orders/confirmed'), /-order$/);
      // Copy link keeps the in-page broker (and the other parameters).
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      await page.click('[data-testid="copy-link"]');
      await page.locator('[data-testid="link-copied"]').waitFor({ state: 'visible' });
      const link = new URL(await page.evaluate(() => navigator.clipboard.readText()));
      assert.equal(link.searchParams.get('broker'), 'inpage', link.href);
      assert.equal(link.searchParams.get('payment_ms'), '200', link.href);
      // A newcomer's break-test: the worker's start printed wasm-bindgen's "using deprecated
      // parameters for the initialization function; pass a single object instead".
      assert.ok(page.workers().length > 0, 'the broker runs in a worker, whose console is watched');
      assert.deepEqual(app.console.filter((line) => /deprecated/i.test(line)), [], 'no deprecation warning in the console');
    }));

  it('a teacher\'s link to the page hosted at a subpath, with ?broker=inpage: nothing installed, every asset and the worker load from the subpath, and an order completes', { timeout: CASE_TIMEOUT_MS }, async () => {
    const hosted = await serveDir(DIST, { prefix: '/eda-playground' });
    const requests = [];
    try {
      // hosted.url ends with the subpath.
      await withPage('/?broker=inpage&qos=2', async ({ page }) => {
        await waitReadyInPage(page);
        const orderId = await placeOrder(page);
        await waitForRow(page, orderId, 'Completed');
      }, {
        base: hosted.url,
        before: (page) => page.on('response', (response) => requests.push({ url: new URL(response.url()), status: response.status() })),
      });
      const local = requests.filter((r) => r.url.origin === new URL(hosted.url).origin);
      assert.deepEqual(local.filter((r) => r.status >= 400).map((r) => `${r.status} ${r.url.pathname}`), [], 'no asset missing');
      assert.deepEqual(local.filter((r) => !r.url.pathname.startsWith('/eda-playground/')).map((r) => r.url.pathname), [], 'every request stays under the subpath');
      assert.ok(local.some((r) => r.url.pathname === '/eda-playground/inpage-broker_bg.wasm'), 'the broker\'s worker came from the subpath');
    } finally {
      await hosted.close();
    }
  });

  // A newcomer's break-test (34-I F2): a static copy missing inpage-broker_bg.wasm. The page
  // said "inpage did not answer the WebSocket handshake within 10 s … a firewall" and sent the
  // visitor to check a port; the 404 was only in the console.
  it('a static copy missing the in-page broker\'s .wasm: the help says the broker did not load, and why, not a handshake or a port', { timeout: CASE_TIMEOUT_MS }, async () => {
    const copy = await mkdtemp(path.join(os.tmpdir(), 'eda-no-broker-wasm-'));
    await cp(DIST, copy, { recursive: true });
    await rm(path.join(copy, 'inpage-broker_bg.wasm'));
    const hosted = await serveDir(copy);
    try {
      await withPage('/?broker=inpage', async ({ page }) => {
        const help = page.locator('[data-testid="broker-help"][data-service="order"]');
        await page.waitForFunction(() => /The in-page broker is not running/.test(document.querySelector('[data-testid="broker-help"][data-service="order"]')?.textContent ?? ''), null, { timeout: 15_000 });
        const text = (await help.textContent()) ?? '';
        assert.match(text, /its broker did not load: .*404/, text);
        assert.doesNotMatch(await page.textContent('body'), /WebSocket handshake|firewall/);
      }, { base: hosted.url });
    } finally {
      await hosted.close();
      await rm(copy, { recursive: true, force: true });
    }
  });

  it('services split between the in-page broker and a network one: the page warns that they cannot hear each other', { timeout: CASE_TIMEOUT_MS }, async () => {
    const port = await closedPort();
    await withPage(`/?broker=inpage&broker_payment=${encodeURIComponent(`ws://127.0.0.1:${port}`)}`, async ({ page }) => {
      const split = page.locator('[data-testid="service-brokers-split"]');
      await split.waitFor();
      assert.match(await split.textContent(), /QueryService are on the in-page broker and the others are not/);
      // Back on one broker: the warning goes.
      await page.click('[data-testid="service-brokers-reset"]');
      await split.waitFor({ state: 'detached' });
    });
    // The other way round: PaymentService's badge and the list name the in-page broker in
    // words (44-AR F4: "via inpage").
    await withPage(`/?broker=${encodeURIComponent(`ws://127.0.0.1:${port}`)}&broker_payment=inpage`, async ({ page }) => {
      const badge = page.locator('[data-testid="own-broker-payment"]');
      await badge.waitFor();
      assert.equal(((await badge.textContent()) ?? '').trim(), 'via the in-page broker');
      const listed = ((await page.locator('[data-testid="service-broker-payment"]').textContent()) ?? '').trim();
      assert.equal(listed, 'PaymentService → inpage (the in-page broker, its own, from ?broker_payment=)');
    });
  });

  it('?qos=2: the packet inspector and the wire show PUBLISH, PUBREC, PUBREL, PUBCOMP', { timeout: CASE_TIMEOUT_MS }, () =>
    withPage('/?broker=inpage&qos=2', async ({ page }) => {
      await waitReadyInPage(page);
      const orderId = await placeOrder(page);
      await waitForRow(page, orderId, 'Completed');
      // OrderService's orders/created at QoS 2, and its handshake with the broker.
      const wire = await waitForWire(page, (w) => {
        const publish = w.find((p) => p.dir === 'out' && p.packet?.cmd === 'publish' && p.packet.topic === 'orders/created' && p.packet.payload.toString().includes(orderId));
        return publish && w.some((p) => p.port === publish.port && p.dir === 'in' && p.packet?.cmd === 'pubcomp' && p.packet.messageId === publish.packet.messageId);
      }, { what: 'the orders/created handshake' });
      const publish = wire.find((p) => p.dir === 'out' && p.packet?.cmd === 'publish' && p.packet.topic === 'orders/created' && p.packet.payload.toString().includes(orderId));
      assert.equal(publish.packet.qos, 2);
      const leg = wire.filter((p) => p.port === publish.port && ['publish', 'pubrec', 'pubrel', 'pubcomp'].includes(p.packet?.cmd) && p.packet.messageId === publish.packet.messageId);
      assert.deepEqual(leg.slice(0, 4).map((p) => `${p.dir} ${p.packet.cmd}`), ['out publish', 'in pubrec', 'out pubrel', 'in pubcomp']);
      // The packet inspector lists a whole handshake for some client and packet id (its newest rows).
      const kinds = await page.$$eval('[data-testid="packet-row"]', (rows) => rows.map((r) => ({ key: `${r.dataset.service} ${r.dataset.packetId}`, kind: r.dataset.kind, qos: r.dataset.qos })));
      const byKey = new Map();
      for (const { key, kind } of kinds) byKey.set(key, [...(byKey.get(key) ?? []), kind]);
      const whole = [...byKey.entries()].filter(([, k]) => ['PUBLISH', 'PUBREC', 'PUBREL', 'PUBCOMP'].every((x) => k.includes(x)));
      assert.ok(whole.length > 0, `a whole QoS 2 handshake in the inspector's rows: ${JSON.stringify([...byKey.entries()])}`);
      assert.ok(kinds.some((k) => k.kind === 'PUBLISH' && k.qos === '2'), 'a PUBLISH at QoS 2 in the inspector');
    }));

  it('?broker=inpage&ns=cls: the namespace line gives no mosquitto_sub advice (nothing outside the page reaches this broker) and says where to watch', { timeout: CASE_TIMEOUT_MS }, () =>
    withPage('/?broker=inpage&ns=cls', async ({ page }) => {
      const note = page.locator('[data-testid="namespace"]');
      await note.waitFor();
      assert.equal(await note.getAttribute('data-namespace'), 'cls');
      const text = await note.textContent();
      assert.doesNotMatch(text, /Watch them: mosquitto_sub/, text);
      assert.equal(await page.locator('[data-testid="namespace-watch"]').count(), 0, 'no command to copy');
      assert.match(text, /Watch them in the packet inspector: the broker runs in this page, so mosquitto_sub cannot reach it/);
    }));

  // 41-AI F2: signed in there for the least-privilege lesson, every service was refused (0x86)
  // and the page pointed at Mosquitto's log and message_size_limit.
  it('a password on the in-page broker: refused, and the page says it has no users and to clear the passwords; cleared, the services connect', { timeout: CASE_TIMEOUT_MS }, () =>
    withPage('/?broker=inpage&mqtt=5', async ({ page }) => {
      await waitReadyInPage(page, 5);
      assert.match(await page.textContent('[data-testid="in-page-broker"]'), /it has no users or access rules \(it refuses any password\)/);
      await page.$eval('.credentials details', (d) => { d.open = true; });
      await page.fill('#user-payment', 'PaymentService');
      await page.fill('#password-payment', 'secret');
      await page.click('[data-testid="apply-credentials"]');
      const refused = page.locator('[data-testid="refused-for-good"]');
      await refused.waitFor({ timeout: FLOW_TIMEOUT_MS });
      const text = await refused.innerText();
      assert.match(text, /Not retrying PaymentService: the broker refused the connection: .*0x86/, text);
      assert.match(text, /The in-page broker has no users or access rules, and refuses any password: clear the passwords under Sign in to the broker and press Sign in/, text);
      assert.doesNotMatch(text, /Mosquitto's log|message_size_limit/, text);
      await page.fill('#password-payment', '');
      await page.click('[data-testid="apply-credentials"]');
      await waitForStates(page, 'connected', FLOW_TIMEOUT_MS, ['payment']);
      await refused.waitFor({ state: 'detached', timeout: FLOW_TIMEOUT_MS });
    }));

  // 41-AJ F3 and F6: the whole page's password on the in-page broker (MQTT 3.1.1). The status
  // monitor's refusal told to "fix that user and password", where the broker has no users; and
  // the packet inspector named the 3.1.1 CONNACK's return code 4 with 5.0's reason code 0x86.
  it('the whole page\'s password on the in-page broker (3.1.1): the monitor\'s refusal says to clear it, the inspector names return code 4; cleared, Signed in, and PaymentService\'s publish on orders/created is said delivered, not dropped', { timeout: CASE_TIMEOUT_MS }, () =>
    withPage('/?broker=inpage', async ({ page }) => {
      await waitReadyInPage(page);
      await page.$eval('.credentials details', (d) => { d.open = true; });
      await page.fill('#user-page', 'alice');
      await page.fill('#password-page', 'secret');
      await page.click('[data-testid="apply-credentials"]');
      const notes = page.locator('[data-testid="notification"]');
      const refused = notes.filter({ hasText: /The page's status monitor .* was refused/ });
      await refused.waitFor({ timeout: FLOW_TIMEOUT_MS });
      const said = (await refused.textContent()) ?? '';
      assert.match(said, /The in-page broker has no users or access rules, and refuses any password: clear the passwords under Sign in to the broker/, said);
      assert.doesNotMatch(said, /fix that user and password/, said);
      // The monitor's CONNACK, as 3.1.1 carries it.
      const connack = page.locator('[data-testid="packet-row"][data-service="monitor"][data-kind="CONNACK"]').last();
      await connack.waitFor({ state: 'attached', timeout: FLOW_TIMEOUT_MS });
      const reason = ((await connack.locator('.reason').textContent()) ?? '').trim();
      assert.equal(reason, 'Connection Refused, bad user name or password (4)');
      await page.fill('#password-page', '');
      await page.click('[data-testid="apply-credentials"]');
      await notes.filter({ hasText: /^Signed in: the broker accepted the page's status monitor/ }).waitFor({ timeout: FLOW_TIMEOUT_MS });
      // 44-AR F1: the least-privilege demonstration on a broker with no ACL, 3.1.1: the page
      // said the broker "dropped it silently: nobody subscribed to orders/created received it"
      // while its own services received it. The wire shows the delivery; the page says it.
      await page.click('[data-testid="publish-outside-acl"]');
      await waitForWire(page, (wire) => wire.some((p) => p.dir === 'in' && p.packet?.cmd === 'publish' && p.packet.topic === 'orders/created' && String(p.packet.payload).includes('least privilege')), { what: 'the probe delivered to a service' });
      const probe = page.locator('[data-testid="acl-probe"]');
      await page.waitForFunction(() => /^Delivered: /.test(document.querySelector('[data-testid="acl-probe"]')?.textContent?.trim() ?? ''), null, { timeout: FLOW_TIMEOUT_MS });
      const answer = ((await probe.textContent()) ?? '').trim();
      assert.match(answer, /^Delivered: this broker let PaymentService publish on orders\/created, and the page's services subscribed to it received it/, answer);
      assert.doesNotMatch(answer, /dropped/, answer);
    }));

  it('Crash: the in-page broker publishes the Will, and the page shows it', { timeout: CASE_TIMEOUT_MS }, () =>
    withPage('/?broker=inpage', async ({ page }) => {
      await waitReadyInPage(page);
      await page.locator('[data-testid="presence-payment"][data-online="true"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      await page.getByRole('button', { name: 'Crash PaymentService' }).click();
      const presence = page.locator('[data-testid="presence-payment"][data-online="false"]');
      await presence.waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.match((await presence.textContent()) ?? '', /broker: offline \(Last Will, \d+ ms after the crash\)/);
      // The broker delivered the Will (retained "offline") to the status monitor; PaymentService
      // sent no DISCONNECT.
      const wire = await waitForWire(page, (w) => w.some((p) => p.dir === 'in' && p.packet?.cmd === 'publish' && p.packet.topic === 'services/payment/status' && /"offline"/.test(p.packet.payload.toString())), { what: 'the Will' });
      const will = wire.find((p) => p.dir === 'in' && p.packet?.topic === 'services/payment/status' && /"offline"/.test(p.packet.payload.toString()));
      assert.match(will.clientId, /-monitor$/);
      assert.match(JSON.parse(will.packet.payload.toString()).reason, /Last Will/);
      assert.ok(!wire.some((p) => p.clientId?.endsWith('-payment') && p.packet?.cmd === 'disconnect'), 'no DISCONNECT from PaymentService');
      // A persistent session (the default, clean session off): an order placed while
      // PaymentService is down is queued by the broker and delivered on Restart.
      const orderId = await placeOrder(page);
      await waitForWire(page, (w) => w.some((p) => p.packet?.topic === 'inventory/reserved' && p.packet.payload.toString().includes(orderId)), { what: 'inventory/reserved' });
      await page.getByRole('button', { name: 'Restart PaymentService' }).click();
      await page.locator('[data-testid="presence-payment"][data-online="true"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      await waitForRow(page, orderId, 'Completed');
      const after = await waitForWire(page, (w) => w.some((p) => p.dir === 'in' && p.clientId?.endsWith('-payment') && p.packet?.cmd === 'connack' && p.packet.sessionPresent), { what: 'a CONNACK with session present for the restarted PaymentService' });
      const caughtUp = after.filter((p) => p.dir === 'in' && p.clientId?.endsWith('-payment') && p.packet?.topic === 'orders/created' && p.packet.payload.toString().includes(orderId));
      assert.equal(caughtUp.length, 1, 'the broker delivered the order queued for PaymentService once');
    }));

  // A newcomer's break-test: the Competing consumers note described Mosquitto's queueing of a
  // crashed member's share, while the in-page broker gave every order to the live instance.
  it('two instances, PaymentService 2 crashed: the in-page broker gives its share to the live instance, and the note says so', { timeout: CASE_TIMEOUT_MS }, () =>
    withPage('/?broker=inpage&payment_instances=2', async ({ page }) => {
      await waitReadyInPage(page);
      const note = page.locator('[data-testid="payment-instances"] .trade-off');
      assert.match(await note.textContent(), /the in-page broker does not keep a crashed instance in the group: it gives the next messages to the instances still running/);
      assert.doesNotMatch(await note.textContent(), /Sessions are persistent: Mosquitto keeps/);
      await page.locator('[data-testid="status-payment-2"][data-state="connected"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      await page.getByRole('button', { name: 'Crash PaymentService 2' }).click();
      await page.locator('[data-testid="status-payment-2"][data-crashed="true"]').waitFor();
      const orders = [await placeOrder(page), await placeOrder(page), await placeOrder(page), await placeOrder(page)];
      for (const id of orders) await waitForRow(page, id, 'Completed');
      const wire = await waitForWire(page, (w) => orders.every((id) => w.some((p) => p.dir === 'in' && p.packet?.topic === 'orders/created' && p.packet.payload.toString().includes(id) && p.clientId?.endsWith('-payment'))), { what: 'every order delivered to PaymentService (instance 1)' });
      assert.ok(!wire.some((p) => p.dir === 'in' && p.clientId?.endsWith('-payment-2') && p.packet?.topic === 'orders/created'), 'none delivered to the crashed instance');
    }));

  // A newcomer's break-test: after a reload on the in-page broker the store's note promised that
  // what the broker kept meanwhile would be delivered; the broker had ended with the page.
  it('a reload on the in-page broker: the restored store\'s note says the broker kept nothing across it, and the open order ends by its deadline', { timeout: CASE_TIMEOUT_MS }, () =>
    withPage('/?broker=inpage&payment_ms=10000&inventory_ms=0&saga_timeout_ms=3000', async ({ page }) => {
      await waitReadyInPage(page);
      const orderId = await placeOrder(page);
      await waitForWire(page, (w) => w.some((p) => p.packet?.topic === 'inventory/reserved' && p.packet.payload.toString().includes(orderId)), { what: 'inventory/reserved' });
      await page.reload();
      const note = page.locator('[data-testid="store-note"][data-kind="restored"]');
      await note.waitFor({ timeout: FLOW_TIMEOUT_MS });
      const text = (await note.textContent()) ?? '';
      // 41-AI F3: the charge under way (10 s, the longest a link may set) died with the page:
      // the note says so, not only that the broker kept nothing.
      assert.match(text, /the in-page broker kept nothing across the reload \(it ran in the page\), so a message it had not delivered yet is gone; and work a service had under way \(a charge or a reservation that takes its time\) died with the page, as in a crash: an open order waiting for either ends by its deadline\./);
      assert.doesNotMatch(text, /is delivered after this/);
      await waitForRow(page, orderId, 'Cancelled');
    }));

  it('MQTT 5.0: switching the protocol connects every service anew; retained statuses reach the new monitor; an order completes', { timeout: CASE_TIMEOUT_MS }, () =>
    withPage('/?broker=inpage', async ({ page }) => {
      await waitReadyInPage(page);
      await page.selectOption('#mqtt-version', '5');
      const wire = await waitReadyInPage(page, 5);
      const connack = wire.find((p) => p.protocolVersion === 5 && p.packet?.cmd === 'connack' && p.clientId?.endsWith('-order'));
      assert.equal(connack.packet.reasonCode, 0, 'the broker accepted the 5.0 CONNECT');
      // The new status monitor subscribed after the first clients' retained "online": the broker
      // hands them over with the retain flag set.
      await waitForWire(page, (w) => w.some((p) => p.protocolVersion === 5 && p.dir === 'in' && p.clientId?.endsWith('-monitor') && p.packet?.cmd === 'publish' && p.packet.retain && p.packet.topic.startsWith('services/')), { what: 'a retained status delivered to the 5.0 monitor' });
      const orderId = await placeOrder(page);
      await waitForRow(page, orderId, 'Completed');
      assert.match(new URL(page.url()).search, /broker=inpage/);
    }));

  // A newcomer's break-test: at an address that takes the connection and never answers (a
  // firewall, another program), the offer never came; at a refusing one, it vanished for a
  // moment at every retry, under the learner's pointer.
  it('a silent address: the offer comes once the handshake times out; a refusing one: the offer stays through the retries', { timeout: CASE_TIMEOUT_MS }, async () => {
    const held = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      await withPage(`/?broker=ws://127.0.0.1:${silent.address().port}`, async ({ page }) => {
        await page.locator('[data-testid="in-page-offer"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.ok(held.length > 0, 'the page reached the silent address');
      });
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
    await withPage(`/?broker=ws://127.0.0.1:${await closedPort()}`, async ({ page }) => {
      await page.locator('[data-testid="in-page-offer"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      await page.evaluate(() => {
        window.__offerGone = 0;
        new MutationObserver(() => {
          if (!document.querySelector('[data-testid="in-page-offer"]')) window.__offerGone += 1;
        }).observe(document.body, { childList: true, subtree: true });
      });
      // Two more tries of every client's (each opens a WebSocket), the offer watched throughout.
      let sockets = 0;
      page.on('websocket', () => { sockets += 1; });
      while (sockets < 2 * SERVICES.length) await page.waitForEvent('websocket', { timeout: FLOW_TIMEOUT_MS });
      assert.equal(await page.evaluate(() => window.__offerGone), 0, 'the offer never left during the retries');
    });
  });

  it('an unreachable broker: the page offers the in-page broker, and one click connects the services', { timeout: CASE_TIMEOUT_MS }, async () => {
    const url = `ws://127.0.0.1:${await closedPort()}`;
    await withPage(`/?broker=${url}`, async ({ page }) => {
      const fetched = [];
      page.on('request', (request) => fetched.push(request.url()));
      await page.locator('[data-testid="broker-help"][data-diagnosis="unreachable"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      assert.equal(await page.locator('[data-testid="in-page-broker"]').count(), 0, 'not in use yet');
      assert.deepEqual(fetched.filter((u) => u.includes('inpage-broker')), [], 'the in-page broker is not loaded until chosen');
      await page.getByRole('button', { name: 'Use the in-page broker' }).click();
      await waitReadyInPage(page);
      await page.locator('[data-testid="in-page-broker"]').waitFor();
      assert.equal(await page.locator('[data-testid="in-page-offer"]').count(), 0, 'the offer is gone');
      assert.equal(await page.inputValue('#broker-url'), 'inpage');
      assert.match(await page.evaluate(() => window.location.search), /[?&]broker=inpage(&|$)/);
      assert.ok(fetched.some((u) => u.endsWith('/inpage-broker_bg.wasm')), 'the broker was loaded once chosen');
    });
  });
});
