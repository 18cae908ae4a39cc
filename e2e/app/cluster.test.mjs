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

import { startCluster } from '../lib/aedes-cluster.mjs';
import { CONNECT_TIMEOUT_MS, escapeRegExp, notificationTexts, waitForNotifications, waitForStates } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, DIST } from '../lib/app-suite.mjs';
import { assertNoPanics, launchBrowser, openPage } from '../lib/browser.mjs';
import { startWitness } from '../lib/mqtt-witness.mjs';
import { placeOrder } from '../lib/saga.mjs';
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

      // Every service on the page's broker: the overrides leave the link and the page.
      await page.click('[data-testid="service-brokers-reset"]');
      await page.locator('[data-testid="service-broker-order"]').waitFor({ state: 'detached' });
      link = new URL(page.url());
      assert.equal(link.searchParams.get('broker_order'), null, 'no override left in the link');
    });
  });

  it('shared subscriptions are refused by the aedes nodes, and the page says so', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const { a } = cluster.nodes;
    await withPage(t, `/?broker=${a.wsUrl}&payment_instances=2`, async ({ page }) => {
      const error = page.locator('[data-testid="payment-instances-error"]');
      await error.waitFor({ state: 'visible', timeout: CONNECT_TIMEOUT_MS });
      assert.match(await error.textContent(), /refused .*shared subscription \$share\//);
      await a.waitForLog(/^refused shared subscription eda-[0-9a-f]+-payment(-2)? \$share\//m, 5_000);
    });
  });
});
