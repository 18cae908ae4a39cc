// Quality of service: one QoS for the whole flow or one per topic, chosen in the link or in
// the page, checked packet by packet in the broker's log; a bad ?qos= is explained.
//
//   node --test e2e/app/qos.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { brokerQuery, escapeRegExp, expectDownstreamEvents, notificationTexts, placedOrderId, waitForNotifications } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, placeWatchedOrder, waitReady, withApp } from '../lib/app-suite.mjs';
import { startWitness } from '../lib/mqtt-witness.mjs';

describeApp('QoS', () => {
  it('QoS 2 chosen in the link: the four-packet handshake on both legs, in the broker log', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&qos=2`, async ({ page }) => {
      const ids = await waitReady(page);
      assert.equal(await page.inputValue('#flow-qos'), '2', 'the selector shows the QoS from the link');
      await placeWatchedOrder(page);
      const id = (service) => escapeRegExp(ids[service]);
      // Publisher leg: the service's PUBLISH at QoS 2, then PUBREC, PUBREL, PUBCOMP with its mid.
      const publisherLeg = (service, topic) => {
        const publish = new RegExp(`Received PUBLISH from ${id(service)} \\(d0, q2, r0, m(\\d+), '${escapeRegExp(topic)}'`).exec(log);
        assert.ok(publish, `${service} published ${topic} at QoS 2`);
        const mid = publish[1];
        for (const line of [
          `Sending PUBREC to ${id(service)} \\(m${mid}, rc0\\)`,
          `Received PUBREL from ${id(service)} \\(Mid: ${mid}\\)`,
          `Sending PUBCOMP to ${id(service)} \\(m${mid}\\)`,
        ]) {
          assert.match(log, new RegExp(line), `publisher leg of ${topic}: ${line}`);
        }
      };
      // Subscriber leg: the broker's PUBLISH at QoS 2, then PUBREC, PUBREL, PUBCOMP.
      const subscriberLeg = (service, topic) => {
        const publish = new RegExp(`Sending PUBLISH to ${id(service)} \\(d0, q2, r0, m(\\d+), '${escapeRegExp(topic)}'`).exec(log);
        assert.ok(publish, `the broker delivered ${topic} to ${service} at QoS 2`);
        const mid = publish[1];
        for (const line of [
          `Received PUBREC from ${id(service)} \\(Mid: ${mid}\\)`,
          `Sending PUBREL to ${id(service)} \\(m${mid}\\)`,
          `Received PUBCOMP from ${id(service)} \\(Mid: ${mid}, RC:0\\)`,
        ]) {
          assert.match(log, new RegExp(line), `subscriber leg of ${topic} to ${service}: ${line}`);
        }
      };
      // NotificationService receives three messages; the last handshake ends with its PUBCOMP.
      const pubcompsFromNotification = (log) =>
        log.split('\n').filter((l) => l.includes(`Received PUBCOMP from ${ids.notification} `)).length;
      await broker.waitForLog((log) => pubcompsFromNotification(log) >= 3, 5_000);
      const log = broker.log();
      publisherLeg('order', 'orders/created');
      publisherLeg('payment', 'payments/processed');
      publisherLeg('inventory', 'inventory/reserved');
      for (const service of ['payment', 'inventory', 'notification']) subscriberLeg(service, 'orders/created');
      subscriberLeg('notification', 'payments/processed');
      subscriberLeg('notification', 'inventory/reserved');
      // The page shows the QoS each message arrived with.
      const qos = await page.evaluate(() =>
        [...document.querySelectorAll('[data-testid="log-entry"][data-status="accepted"]')].map((e) => e.dataset.qos),
      );
      assert.ok(qos.length >= 5 && qos.every((q) => q === '2'), `accepted entries at QoS 2: ${qos}`);
    }));

  it('QoS changed in the page: subscriptions are made again and the link holds ?qos=', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      const ids = await waitReady(page);
      assert.equal(await page.inputValue('#flow-qos'), '1', 'QoS 1 by default');
      await page.selectOption('#flow-qos', '0');
      await broker.waitForLog(new RegExp(`^\\d+: ${escapeRegExp(ids.payment)} 0 orders/created$`, 'm'), 10_000);
      assert.equal(new URL(page.url()).searchParams.get('qos'), '0', 'the address bar holds qos=0');
      const witness = await startWitness({ tcpPort: broker.tcpPort });
      try {
        const orderId = await (async () => {
          await page.click('[data-testid="place-order"]');
          return placedOrderId(page);
        })();
        await broker.waitForLog(new RegExp(`Received PUBLISH from ${escapeRegExp(ids.order)} \\(d0, q0, r0, m0, 'orders/created'`), 5_000);
        await expectDownstreamEvents(witness, orderId, 59.98);
        await waitForNotifications(page, notificationTexts(orderId));
      } finally {
        await witness.close();
      }
    }));

  it('QoS per topic, from the link and from the page: each topic is published and subscribed at its own QoS', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&qos=0&qos_payments=2`, async ({ page }) => {
      const ids = await waitReady(page);
      assert.equal(await page.inputValue('#flow-qos'), 'mixed', 'the shared selector says the topics differ');
      const levels = async () => Promise.all(['orders', 'payments', 'inventory'].map((t) => page.inputValue(`#qos-${t}`)));
      assert.deepEqual(await levels(), ['0', '2', '0'], 'each topic shows its QoS from the link');
      const subscribed = (client, qos, topic) =>
        broker.waitForLog(new RegExp(`^\\d+: ${escapeRegExp(client)} ${qos} ${escapeRegExp(topic)}$`, 'm'), 10_000);
      await subscribed(ids.notification, 2, 'payments/processed');
      await subscribed(ids.notification, 0, 'inventory/reserved');
      await subscribed(ids.payment, 0, 'orders/created');
      await page.click('[data-testid="place-order"]');
      const orderId = await placedOrderId(page);
      const published = (client, qos, topic) =>
        broker.waitForLog(new RegExp(`Received PUBLISH from ${escapeRegExp(client)} \\(d0, q${qos}, r0, m\\d+, '${escapeRegExp(topic)}'`), 10_000);
      await published(ids.order, 0, 'orders/created');
      await published(ids.payment, 2, 'payments/processed');
      await published(ids.inventory, 0, 'inventory/reserved');
      await waitForNotifications(page, notificationTexts(orderId));

      // One topic changed in the page: its subscription is made again and the link names it alone.
      await page.selectOption('#qos-inventory', '1');
      await subscribed(ids.notification, 1, 'inventory/reserved');
      let params = new URL(page.url()).searchParams;
      assert.deepEqual(
        [params.get('qos'), params.get('qos_orders'), params.get('qos_payments'), params.get('qos_inventory')],
        [null, '0', '2', '1'],
        'the address bar holds one QoS per topic',
      );
      // One QoS for every topic again: one parameter.
      await page.selectOption('#flow-qos', '2');
      await subscribed(ids.notification, 2, 'inventory/reserved');
      await subscribed(ids.notification, 2, 'orders/created');
      assert.deepEqual(await levels(), ['2', '2', '2']);
      params = new URL(page.url()).searchParams;
      assert.deepEqual([params.get('qos'), params.get('qos_orders'), params.get('qos_inventory')], ['2', null, null]);
    }));

  it('bad ?qos= in the link: explained and ignored', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&qos=7`, async ({ page }) => {
      const error = page.locator('[data-testid="flow-qos-error"]');
      await error.waitFor({ state: 'visible' });
      assert.match((await error.textContent()) ?? '', /0, 1 or 2/);
      assert.equal(await page.inputValue('#flow-qos'), '1', 'falls back to QoS 1');
      await waitReady(page);
    }));
});
