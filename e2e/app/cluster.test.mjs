// A cluster: the page's services spread over two broker nodes that share one Redis (aedes with
// mqemitter-redis and aedes-persistence-redis, e2e/lib/aedes-cluster.mjs), so that an order's
// events cross from node to node. Independent MQTT.js clients, one on each node, see every
// event; each node's log says which client published where.
//
// Not the suite's Mosquitto: this file starts its own Redis and nodes on free ports, and stops
// them afterwards.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import mqtt from 'mqtt';

import { startCluster, startClusterNode } from '../lib/aedes-cluster.mjs';
import { CONNECT_TIMEOUT_MS, escapeRegExp, notificationTexts, waitForNotifications, waitForStates } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, DIST } from '../lib/app-suite.mjs';
import { assertNoPanics, launchBrowser, openPage } from '../lib/browser.mjs';
import { startWitness } from '../lib/mqtt-witness.mjs';
import { placeOrder, waitForRow } from '../lib/saga.mjs';
import { serveDir } from '../lib/serve.mjs';

const ON_A = ['order', 'notification', 'query'];
const ON_B = ['payment', 'inventory'];
// Who publishes each event of the happy path (the parallel saga), and so on which node it enters.
const PUBLISHED_BY = {
  'orders/created': 'order',
  'payments/processed': 'payment',
  'inventory/reserved': 'inventory',
  'orders/confirmed': 'order',
};

let cluster = null;
let server = null;
let browser = null;

const clientId = (page, service) =>
  page.locator(`[data-testid="status-${service}"] [data-testid="client-id"]`).textContent().then((t) => t.trim());
const brokerOf = (page, service) => page.getAttribute(`[data-testid="status-${service}"]`, 'data-broker');

/** Each of `services` connected to `node` (its badge, and the node's own log) and subscribed. */
async function onNode(page, node, services) {
  for (const service of services) {
    assert.equal(await brokerOf(page, service), node.wsUrl, `${service}'s badge names its broker`);
    const id = await clientId(page, service);
    await node.waitForLog(new RegExp(`^subscribe ${escapeRegExp(id)} `, 'm'), 10_000);
  }
}

async function withPage(t, query, body) {
  const app = await openPage(browser, `${server.url}${query}`);
  try {
    await body(app);
    assertNoPanics(app);
  } catch (error) {
    const logs = Object.values(cluster.nodes).map((n) => `--- node ${n.name} ---\n${n.log().slice(-3000)}`);
    throw new Error(`${error.message}\n--- page console ---\n${app.console.slice(-30).join('\n')}\n${logs.join('\n')}`, {
      cause: error,
    });
  } finally {
    await app.close();
  }
}

describe('a cluster: services spread over two aedes nodes sharing Redis, in Chromium', () => {
  if (!existsSync(path.join(DIST, 'index.html'))) {
    it('needs the built app', () => {
      throw new Error(`${path.join(DIST, 'index.html')} missing: run \`trunk build\` first`);
    });
    return;
  }

  before(async () => {
    cluster = await startCluster(['a', 'b']);
    server = await serveDir(DIST);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await cluster?.stop();
  });

  it('an order placed on node A is paid and reserved on node B, and both nodes carry every event', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const { a, b } = cluster.nodes;
    const witnessA = await startWitness({ tcpPort: a.tcpPort, topics: ['#'] });
    const witnessB = await startWitness({ tcpPort: b.tcpPort, topics: ['#'] });
    try {
      const query = `/?broker=${a.wsUrl}&broker_payment=${b.wsUrl}&broker_inventory=${b.wsUrl}`;
      await withPage(t, query, async ({ page }) => {
        await waitForStates(page, 'connected', CONNECT_TIMEOUT_MS);
        await onNode(page, a, ON_A);
        await onNode(page, b, ON_B);
        // The page says which service talks to which node.
        for (const [service, node, own] of [['order', a, 'false'], ['payment', b, 'true'], ['inventory', b, 'true'], ['notification', a, 'false']]) {
          const row = page.locator(`[data-testid="service-broker-${service}"]`);
          assert.equal(await row.getAttribute('data-broker'), node.wsUrl, `${service}'s row`);
          assert.equal(await row.getAttribute('data-own'), own, `${service}'s row says whether it is its own`);
        }
        assert.equal(await page.locator('[data-testid="own-broker-payment"]').count(), 1, "PaymentService's badge names node B");
        assert.equal(await page.locator('[data-testid="own-broker-order"]').count(), 0, 'OrderService is on the page broker');

        const orderId = await placeOrder(page);
        await waitForNotifications(page, notificationTexts(orderId));
        for (const witness of [witnessA, witnessB]) {
          await witness.waitFor((m) => m.topic === 'orders/confirmed' && m.json?.orderId === orderId, 20_000);
        }
        // Each event entered the cluster at its publisher's node and reached the other's client.
        const ids = Object.fromEntries(await Promise.all(Object.values(PUBLISHED_BY).map(async (s) => [s, await clientId(page, s)])));
        for (const [topic, service] of Object.entries(PUBLISHED_BY)) {
          const [home, other] = ON_A.includes(service) ? [a, b] : [b, a];
          const line = `publish from ${ids[service]} ${topic} `;
          assert.ok(home.log().includes(line), `node ${home.name} took ${topic} from ${service}`);
          assert.ok(!other.log().includes(line), `node ${other.name} did not take ${topic} from ${service}`);
          for (const witness of [witnessA, witnessB]) {
            assert.ok(
              witness.messages.some((m) => m.topic === topic && m.json?.orderId === orderId),
              `${topic} of ${orderId} reached a client of each node`,
            );
          }
        }
      });
    } finally {
      await witnessA.close();
      await witnessB.close();
    }
  });

  it('a subscriber on each node receives every message of a burst, whether persistent sessions subscribe to its topic or not', { timeout: CASE_TIMEOUT_MS }, async () => {
    // aedes 1.2.0 numbers messages as they arrive but hands a QoS 1 message to the other nodes
    // only after storing it for each persistent session subscribed to it (in Redis), so a later
    // message with no such session overtook it, and aedes then dropped the earlier one for every
    // client as a duplicate (the node's dedupeByPacket says how). Seen: 0 of 10 arrived.
    const { a, b } = cluster.nodes;
    const connect = (node, options) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${node.tcpPort}`, { reconnectPeriod: 0, ...options });
    const clients = [];
    try {
      // Persistent sessions on node B subscribed to orders/cancelled, as PaymentService's and
      // InventoryService's are; one stays connected, one has gone (a crashed service).
      for (const [clientId, stays] of [['e2e-cluster-sub-1', true], ['e2e-cluster-sub-2', false]]) {
        const session = await connect(b, { clientId, clean: false });
        await session.subscribeAsync('orders/cancelled', { qos: 1 });
        if (stays) clients.push(session);
        else await session.endAsync();
      }
      const witnessA = await startWitness({ tcpPort: a.tcpPort, topics: ['#'] });
      const witnessB = await startWitness({ tcpPort: b.tcpPort, topics: ['#'] });
      clients.push(witnessA, witnessB);
      const publisher = await connect(a, { clientId: 'e2e-cluster-publisher', clean: true });
      clients.push(publisher);
      // Without awaiting each PUBACK, as a service publishes a burst.
      const sent = [];
      for (let i = 0; i < 10; i++) {
        const orderId = `ORD-BURST-${i}`;
        sent.push(publisher.publishAsync('orders/cancelled', JSON.stringify({ orderId }), { qos: 1 }));
        sent.push(publisher.publishAsync('eventstore/order', JSON.stringify({ orderId }), { qos: 1 }));
      }
      await Promise.all(sent);
      for (const [node, witness] of [['A', witnessA], ['B', witnessB]]) {
        for (const topic of ['eventstore/order', 'orders/cancelled']) {
          const count = () => witness.messages.filter((m) => m.topic === topic).length;
          await witness.waitFor(() => count() === 10, 10_000, `10 ${topic} on node ${node} (had ${count()})`);
        }
      }
    } finally {
      await Promise.all(clients.map((client) => (client.close ? client.close() : client.endAsync())));
    }
  });

  it('node B killed mid-burst and started again: a client of node A still sees every order cancelled, and the page says how to start node B', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    // A newcomer's break-test: PaymentService (3 s of work) and InventoryService on node B, 10
    // orders, node B killed while they wait. Every order is cancelled ("inventory and payment
    // timed out"); an MQTT.js client of node A saw 3 of the 10 orders/cancelled.
    const { a } = cluster.nodes;
    let b = cluster.nodes.b;
    const witness = await startWitness({ tcpPort: a.tcpPort, topics: ['#'] });
    try {
      const query = `/?broker=${a.wsUrl}&broker_payment=${b.wsUrl}&broker_inventory=${b.wsUrl}&payment_ms=3000&saga_timeout_ms=2000`;
      await withPage(t, query, async ({ page }) => {
        await waitForStates(page, 'connected', CONNECT_TIMEOUT_MS);
        await onNode(page, a, ON_A);
        await onNode(page, b, ON_B);
        const created = () => witness.messages.filter((m) => m.topic === 'orders/created');
        await page.click('[data-testid="place-ten"]');
        await witness.waitFor(() => created().length >= 10, 20_000, '10 orders/created');
        const orders = created().map((m) => m.json.orderId);

        await b.stop();
        // A node stopped cleanly ends its clients' connections without their DISCONNECT: it
        // publishes their Wills first (they had been lost, deleted with the node's close).
        for (const service of ON_B) {
          await witness.waitFor(
            () => witness.messages.some((m) => m.topic === `services/${service}/status` && m.json?.status === 'offline'),
            5_000,
            `the Will of ${service}, published as node B stopped`,
          );
        }
        // While node B is down, the help for its services says how to start it, not Mosquitto.
        const help = page.locator('[data-testid="broker-help"][data-diagnosis="unreachable"]');
        await help.first().waitFor({ state: 'visible', timeout: CONNECT_TIMEOUT_MS });
        const advice = await help.first().textContent();
        assert.match(advice, new RegExp(`Start the MQTT broker that should answer at 127\\.0\\.0\\.1:${b.wsPort}, or check its address`));
        assert.doesNotMatch(advice, /Start Mosquitto/, 'node B is no Mosquitto');

        for (const orderId of orders) await waitForRow(page, orderId, 'Cancelled');
        b = cluster.nodes.b = await startClusterNode({ name: 'b', redisPort: cluster.redis.port, tcpPort: b.tcpPort, wsPort: b.wsPort });
        await waitForStates(page, 'connected', CONNECT_TIMEOUT_MS);

        // Every cancellation reached the client of node A, and the compensations followed.
        const each = (topic) => orders.filter((id) => witness.messages.some((m) => m.topic === topic && m.json?.orderId === id));
        for (const topic of ['orders/cancelled', 'payments/refunded', 'inventory/released']) {
          await witness.waitFor(() => each(topic).length === orders.length, 20_000, `${topic} for each of the 10 orders (had ${each(topic).length})`);
        }
        // OrderService sends a cancellation again while its compensations go unanswered (every
        // saga deadline, here 2 s, while node B is down or its services reconnect), so the wire
        // carries at least one per order, and on a loaded machine more. Whatever node A took
        // from OrderService (its log has a line per PUBLISH), the client of node A received:
        // none lost by the cluster, none doubled.
        const orderClient = await clientId(page, 'order');
        const published = () => a.log().split('\n').filter((line) => line.startsWith(`publish from ${orderClient} orders/cancelled `)).length;
        const cancelled = () => witness.messages.filter((m) => m.topic === 'orders/cancelled' && orders.includes(m.json?.orderId)).length;
        // Node A's log and the client's messages come by two routes: wait on whichever comes.
        const equal = () => cancelled() === published();
        await Promise.any([witness.waitFor(equal, 10_000), a.waitForLog(equal, 10_000)]).catch(() =>
          assert.fail(`the client of node A received ${cancelled()} orders/cancelled; node A took ${published()} from OrderService`),
        );
        assert.ok(published() >= orders.length, `node A took ${published()} orders/cancelled for ${orders.length} orders`);
      });
    } finally {
      await witness.close();
    }
  });

  it('node B killed outright: node A publishes the Wills of its clients, so a late joiner on node A reads PaymentService and InventoryService offline', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    // A newcomer's break-test: node B killed, and 30 s later node A still served the retained
    // "online" of both services (aedes publishes a dead node's Wills only once another node has
    // missed its heartbeat: 3 to 7 min at aedes' default interval, 3 to 7 s at the nodes' 1 s).
    const { a } = cluster.nodes;
    let b = cluster.nodes.b;
    // Topics of this case's own (`?ns=`): the case before closes its page just before, and its
    // Wills, stored retained on the same topics across the two nodes, raced this page's
    // "online" in a clean-clone run (the status monitor on node A never read PaymentService
    // online).
    const ns = `kill-${Date.now()}`;
    const witness = await startWitness({ tcpPort: a.tcpPort, topics: [`${ns}/services/+/status`] });
    const offline = (service) => (m) => m.topic === `${ns}/services/${service}/status` && m.json?.status === 'offline';
    try {
      const query = `/?broker=${a.wsUrl}&broker_payment=${b.wsUrl}&broker_inventory=${b.wsUrl}&ns=${ns}`;
      await withPage(t, query, async ({ page }) => {
        await waitForStates(page, 'connected', CONNECT_TIMEOUT_MS);
        await onNode(page, b, ON_B);
        await page.locator('[data-testid="presence-payment"][data-online="true"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
        const before = witness.messages.length;
        await b.kill();
        for (const service of ON_B) {
          await witness.waitFor(() => witness.messages.slice(before).some(offline(service)), 15_000, `the Will of ${service}, published by node A`);
        }
        // The page's status monitor, on node A, hears it too.
        await page.locator('[data-testid="presence-payment"][data-online="false"]').waitFor({ timeout: 5_000 });
        // A client that joins node A now reads them retained.
        const late = await startWitness({ tcpPort: a.tcpPort, topics: [`${ns}/services/+/status`] });
        try {
          for (const service of ON_B) {
            await late.waitFor(() => late.messages.some((m) => offline(service)(m) && m.retain), 5_000, `${service} offline, retained`);
          }
        } finally {
          await late.close();
        }
        b = cluster.nodes.b = await startClusterNode({ name: 'b', redisPort: cluster.redis.port, tcpPort: b.tcpPort, wsPort: b.wsPort });
        await waitForStates(page, 'connected', CONNECT_TIMEOUT_MS);
      });
    } finally {
      await witness.close();
    }
  });

  it('the page\'s broker (node B) killed while every service is on node A: the page says its status monitor is down and how to start node B, the badges give their status as last heard, and orders still complete', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    // A newcomer's break-test (35-L F8): nothing said the status monitor's node was down, and
    // every badge kept "broker: online" as if heard now.
    const { a } = cluster.nodes;
    let b = cluster.nodes.b;
    const own = ['order', 'payment', 'inventory', 'notification', 'query'].map((s) => `&broker_${s}=${a.wsUrl}`).join('');
    await withPage(t, `/?broker=${b.wsUrl}${own}`, async ({ page }) => {
      await waitForStates(page, 'connected', CONNECT_TIMEOUT_MS);
      const presence = page.locator('[data-testid="presence-payment"]');
      await page.locator('[data-testid="presence-payment"][data-online="true"][data-stale="false"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
      assert.equal(await page.locator('[data-testid="monitor-down"]').count(), 0, 'no note while the monitor is connected');
      await b.kill();
      const note = page.locator('[data-testid="monitor-down"]');
      await note.waitFor({ timeout: CONNECT_TIMEOUT_MS });
      const text = (await note.textContent()).trim();
      assert.match(text, new RegExp(`^The page's status monitor \\(its own client on the page's broker, ${escapeRegExp(b.wsUrl)}, which reads services/\\+/status and the retained stock levels\\) is not connected: `));
      assert.match(text, /a crash's Last Will or a new stock level will not show until it is back/);
      await page.locator('[data-testid="presence-payment"][data-stale="true"]').waitFor({ timeout: 5_000 });
      assert.equal((await presence.textContent()).trim(), 'broker: last heard online (the status monitor is not connected)');
      // The services, all on node A, carry on.
      const orderId = await placeOrder(page);
      await waitForRow(page, orderId, 'Completed');
      b = cluster.nodes.b = await startClusterNode({ name: 'b', redisPort: cluster.redis.port, tcpPort: b.tcpPort, wsPort: b.wsPort });
      await note.waitFor({ state: 'detached', timeout: CONNECT_TIMEOUT_MS });
      await page.locator('[data-testid="presence-payment"][data-online="true"][data-stale="false"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
    });
  });

  it('Redis stopped and started again: both nodes live on, say so in their logs, and an order placed afterwards crosses them', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    // A newcomer's break-test: Redis killed, and both nodes ended on an unhandled ioredis error,
    // for good: the page stayed disconnected after Redis was back.
    const { a, b } = cluster.nodes;
    const query = `/?broker=${a.wsUrl}&broker_payment=${b.wsUrl}&broker_inventory=${b.wsUrl}`;
    await withPage(t, query, async ({ page }) => {
      await waitForStates(page, 'connected', CONNECT_TIMEOUT_MS);
      await onNode(page, b, ON_B);
      await cluster.redis.kill();
      for (const node of [a, b]) await node.waitForLog(/^redis unreachable at 127\.0\.0\.1:\d+ .*start it again: redis-server/m, 10_000);
      await cluster.restartRedis();
      for (const node of [a, b]) await node.waitForLog(/^redis back$/m, 10_000);
      assert.ok(!a.exited && !b.exited, 'both nodes still run');
      await waitForStates(page, 'connected', CONNECT_TIMEOUT_MS);
      const orderId = await placeOrder(page);
      await waitForRow(page, orderId, 'Completed');
    });
  });

  it('a bad per-service URL is explained and that service uses the page broker; the others keep theirs', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const { a, b } = cluster.nodes;
    const query = `/?broker=${b.wsUrl}&broker_payment=http://node-b:9102&broker_order=${a.wsUrl}`;
    await withPage(t, query, async ({ page }) => {
      const error = page.locator('[data-testid="service-brokers-error"]');
      await error.waitFor({ state: 'visible' });
      const text = await error.textContent();
      assert.match(text, /Ignored \?broker_payment= in the link: "http:\/\/node-b:9102"/);
      assert.match(text, /PaymentService uses the page's broker\./);
      await waitForStates(page, 'connected', CONNECT_TIMEOUT_MS);
      await onNode(page, b, ['payment', 'inventory', 'notification', 'query']);
      await onNode(page, a, ['order']);

      // Another page broker: the services without their own follow it; OrderService stays,
      // and the link still says so.
      await page.fill('#broker-url', a.wsUrl);
      await page.click('[data-testid="apply-broker"]');
      await page.waitForFunction(
        (url) => document.querySelector('[data-testid="status-notification"]')?.getAttribute('data-broker') === url,
        a.wsUrl,
      );
      await waitForStates(page, 'connected', CONNECT_TIMEOUT_MS);
      for (const service of ['order', 'payment', 'notification']) {
        assert.equal(await brokerOf(page, service), a.wsUrl, `${service} on node A`);
      }
      let link = new URL(page.url());
      assert.equal(link.searchParams.get('broker'), a.wsUrl);
      assert.equal(link.searchParams.get('broker_order'), a.wsUrl, 'the override stays in the link');
      assert.equal(await page.getAttribute('[data-testid="service-broker-order"]', 'data-own'), 'true');
      // The link names the page's broker for it: one broker, not one of its own (46-AX F3).
      assert.match(await page.textContent('[data-testid="service-broker-order"]'), /\(the page's broker: \?broker_order= names the same one\)$/);

      // Every service on the page's broker: the overrides leave the link and the page.
      await page.click('[data-testid="service-brokers-reset"]');
      await page.locator('[data-testid="service-broker-order"]').waitFor({ state: 'detached' });
      link = new URL(page.url());
      assert.equal(link.searchParams.get('broker_order'), null, 'no override left in the link');
    });
  });

  // A newcomer's break-test (35-L F2): the same tab first with one instance, so the cluster
  // keeps PaymentService's session: with two, its CONNACK said Session Present, which counted it
  // subscribed, and the form let an order through that no instance could receive (it timed out).
  for (const kept of [false, true]) {
    it(`shared subscriptions are refused by the aedes nodes, and the page says so${kept ? ', PaymentService on node B with a session the cluster kept' : ''}; Place order says PaymentService will not subscribe by itself`, { timeout: CASE_TIMEOUT_MS }, async (t) => {
      const { a, b } = cluster.nodes;
      const own = kept ? `&broker_payment=${b.wsUrl}&broker_inventory=${b.wsUrl}` : '';
      const link = `/?broker=${a.wsUrl}&payment_instances=2${own}`;
      await withPage(t, kept ? `/?broker=${a.wsUrl}${own}` : link, async ({ page }) => {
        if (kept) {
          await waitForStates(page, 'connected');
          await page.locator('[data-testid="place-order"][data-ready="true"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
          await page.goto(`${server.url}${link}`);
        }
        const error = page.locator('[data-testid="payment-instances-error"]');
        await error.waitFor({ state: 'visible', timeout: CONNECT_TIMEOUT_MS });
        assert.match(await error.textContent(), /refused .*shared subscription \$share\//);
        await (kept ? b : a).waitForLog(/^refused shared subscription eda-[0-9a-f]+-payment(-2)? \$share\//m, 5_000);
        await page.click('[data-testid="place-order"]');
        await page.waitForFunction(() => /does not ask again/.test(document.querySelector('[data-testid="form-error"]')?.textContent ?? ''), null, { timeout: 10_000 });
        assert.equal(await page.locator('[data-testid="placed-order-id"]').count(), 0, 'nothing placed');
      });
    });
  }
});
