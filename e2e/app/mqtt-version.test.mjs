// MQTT 3.1.1 or 5, chosen in the link or in the page: v5 clients, each event carrying its
// orderId as a user property.
//
//   node --test e2e/app/mqtt-version.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, SERVICES, brokerQuery, escapeRegExp, placeSeedOrderAndExpectFlow, waitForStates } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, waitReady, withApp } from '../lib/app-suite.mjs';
import { startWitness } from '../lib/mqtt-witness.mjs';
import { orderCreatedJson } from '../lib/seed.mjs';

describeApp('MQTT version', () => {
  it('MQTT 5 chosen in the link: four v5 clients, each event carrying its orderId as a user property', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&mqtt=5`, async ({ page }) => {
      const ids = await waitReady(page);
      assert.equal(await page.inputValue('#mqtt-version'), '5', 'the selector shows MQTT 5 from the link');
      for (const service of SERVICES) {
        await broker.waitForLog(new RegExp(`New client connected from \\S+ as ${escapeRegExp(ids[service])} \\(p5,`), 5_000);
      }
      // An independent MQTT 5 client sees the user property on every event of the order.
      const witness = await startWitness({ tcpPort: broker.tcpPort, protocolVersion: 5 });
      try {
        const orderId = await placeSeedOrderAndExpectFlow(page, witness);
        for (const topic of ['orders/created', 'payments/processed', 'inventory/reserved']) {
          const message = await witness.waitForOrder(topic, orderId, FLOW_TIMEOUT_MS);
          assert.equal(message.userProperties.correlationId, orderId, `${topic} carries correlationId`);
        }
        // And the page shows what it received with it.
        const correlations = await page.evaluate(() =>
          [...document.querySelectorAll('[data-testid="log-entry"][data-status="accepted"]')].map((e) => e.dataset.correlation),
        );
        assert.ok(correlations.length >= 5 && correlations.every((c) => c === orderId), `log entries: ${correlations}`);
      } finally {
        await witness.close();
      }
    }));

  // A newcomer's break-test: a correlationId of 20,000 characters published from outside made
  // one event-log entry 7,573 px tall.
  it('a huge correlationId from outside is cut in the event log to its first 64 characters and its length; the whole value stays in the title and data-correlation', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&mqtt=5`, async ({ page }) => {
      await waitReady(page);
      const witness = await startWitness({ tcpPort: broker.tcpPort, protocolVersion: 5 });
      try {
        const huge = 'x'.repeat(20_000);
        const orderId = '77777777-7777-4777-8777-777777777777';
        await witness.publish('orders/created', orderCreatedJson({ orderId }), { qos: 1, properties: { userProperties: { correlationId: huge } } });
        const entry = page.locator('[data-testid="log-entry"][data-service="payment"][data-topic="orders/created"]').filter({ hasText: orderId }).first();
        await entry.waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.equal((await entry.getAttribute('data-correlation'))?.length, 20_000, 'the whole value in data-correlation');
        const shown = ((await entry.locator('.correlation').textContent()) ?? '').trim();
        assert.equal(shown, `correlationId ${'x'.repeat(64)}… (20,000 characters)`);
        assert.equal((await entry.locator('.correlation bdi.cut').getAttribute('title'))?.length, 20_000, 'the whole value as the title');
        const height = await entry.evaluate((e) => e.getBoundingClientRect().height);
        assert.ok(height < 200, `the entry is ${height} px tall`);
      } finally {
        await witness.close();
      }
    }));

  it('MQTT version changed in the page: the services reconnect with it', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      const ids = await waitReady(page);
      await page.selectOption('#mqtt-version', '5');
      await broker.waitForLog(new RegExp(`New client connected from \\S+ as ${escapeRegExp(ids.payment)} \\(p5,`), 10_000);
      assert.equal(new URL(page.url()).searchParams.get('mqtt'), '5', 'the address bar holds mqtt=5');
      await waitForStates(page, 'connected');
      const witness = await startWitness({ tcpPort: broker.tcpPort, protocolVersion: 5 });
      try {
        const orderId = await placeSeedOrderAndExpectFlow(page, witness);
        const created = await witness.waitForOrder('orders/created', orderId, FLOW_TIMEOUT_MS);
        assert.equal(created.userProperties.correlationId, orderId);
      } finally {
        await witness.close();
      }
    }));
});
