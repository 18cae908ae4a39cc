// The page's sixth client, the status monitor (`eda-<session>-monitor`), on the wire views: the
// services' Last Wills and the retained stock levels reach the page through it, so its packets
// are traced on a lifeline of its own (a break-test, 37-U F1 and F15, found a Last Will never
// drawn as a packet, and a forged stock level shown nowhere but in InventoryService's log).
// Mosquitto's log and an independent MQTT.js witness check what the page draws.
//
//   node --test e2e/app/status-monitor.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, escapeRegExp } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, watched } from '../lib/app-suite.mjs';
import { startWitness } from '../lib/mqtt-witness.mjs';
import { waitInPage } from '../lib/saga.mjs';

/** The sequence diagram's Mermaid text (every arrow of the view), the export opened if closed. */
async function mermaid(page) {
  const toggle = page.locator('[data-testid="show-mermaid"]');
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  return page.inputValue('[data-testid="mermaid-text"]');
}

/**
 * Waits for the packet inspector's rows of the monitor receiving a PUBLISH on `topic` until one
 * shows a payload `wanted` accepts; returns what the page says of it: its client column and the
 * payload shown (each row opened in turn).
 */
async function monitorRow(page, topic, wanted = () => true) {
  const rows = `[data-testid="packet-row"][data-service="monitor"][data-direction="in"][data-kind="PUBLISH"][data-topic="${topic}"]`;
  const seen = [];
  const deadline = Date.now() + FLOW_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await page.locator(rows).first().waitFor({ timeout: FLOW_TIMEOUT_MS });
    for (const seq of await page.$$eval(rows, (els) => els.map((e) => e.dataset.seq))) {
      if (seen.some((s) => s.seq === seq)) continue;
      const row = page.locator(`[data-testid="packet-row"][data-seq="${seq}"]`);
      const client = await row.locator('td.client').textContent();
      await row.locator('button').click();
      await page.locator(`[data-testid="packet-detail"][data-seq="${seq}"]`).waitFor();
      const payload = await page.locator('[data-testid="packet-payload"]').textContent();
      seen.push({ seq, client, payload });
      if (wanted(payload)) return { client, payload };
    }
    // A row still to come: the next packet event redraws the list.
    await page.waitForFunction((n) => document.querySelectorAll(n.sel).length > n.had, { sel: rows, had: seen.length }, { timeout: Math.max(1, deadline - Date.now()) }).catch(() => {});
  }
  throw new Error(`no row of the monitor on ${topic} with the payload wanted; seen: ${JSON.stringify(seen)}`);
}

describeApp('the status monitor on the wire views', () => {
  it('Crash PaymentService: the broker\'s PUBLISH of its Last Will to the status monitor is an arrow to the monitor\'s lifeline and a row of the packet inspector, as Mosquitto\'s log and a witness see it', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, ids, witness }) => {
      const heads = await page.$$eval('[data-testid="sequence-head"]', (els) => els.map((e) => e.dataset.lifeline));
      assert.deepEqual(heads.slice(-2), ['QueryService', 'StatusMonitor'], 'a lifeline of its own, after the read side');
      await page.locator('[data-testid="presence-payment"][data-online="true"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      await page.getByRole('button', { name: 'Crash PaymentService' }).click();
      const will = await witness.waitFor((m) => m.topic === 'services/payment/status' && m.json?.status === 'offline', FLOW_TIMEOUT_MS);
      // Mosquitto delivered the Will to the monitor's client: the page draws that PUBLISH.
      const monitorId = ids.payment.replace(/-payment$/, '-monitor');
      await broker.waitForLog(new RegExp(`Sending PUBLISH to ${escapeRegExp(monitorId)} \\(d0, q\\d, r\\d, m\\d+, 'services/payment/status'`), 5_000);
      await mermaid(page);
      await waitInPage(page, 'the Mermaid export holds the Will\'s arrow from the broker to the status monitor', () => {
        const text = document.querySelector('[data-testid="mermaid-text"]')?.value ?? '';
        return /^\s+Broker->>StatusMonitor: \[\+\d+ ms\] PUBLISH services\/payment\/status /m.test(text);
      });
      const text = await mermaid(page);
      assert.match(text, /^\s+participant StatusMonitor as Status monitor$/m);
      assert.match(text, /^\s+Broker->>StatusMonitor: \[\+\d+ ms\] PUBLISH services\/payment\/status /m);
      // The packet inspector lists it as the monitor's, with the payload the witness got.
      const row = await monitorRow(page, 'services/payment/status', (text) => text.includes('offline'));
      assert.equal(row.client, 'Status monitor');
      assert.deepEqual(JSON.parse(row.payload), will.json, 'the payload on the wire');
      // No Deliver again: the monitor publishes nothing, and no service handles what it hears.
      assert.equal(await page.locator('[data-testid="deliver-again"]').count(), 0);
    }));

  it('a stock level published by an outside client: the page shows it arriving at the status monitor, not at InventoryService', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&stock=P001:10', async ({ page, ids }) => {
      const outsider = await startWitness({ tcpPort: broker.tcpPort, topics: [] });
      try {
        await outsider.publish('inventory/stock/P001', JSON.stringify({ productId: 'P001', units: 999 }), { qos: 1, retain: true });
        const monitorId = ids.payment.replace(/-payment$/, '-monitor');
        await broker.waitForLog(new RegExp(`Sending PUBLISH to ${escapeRegExp(monitorId)} \\(d0, q\\d, r\\d, m\\d+, 'inventory/stock/P001'`), 5_000);
        const row = await monitorRow(page, 'inventory/stock/P001', (text) => text.includes('999'));
        assert.equal(row.client, 'Status monitor');
        assert.deepEqual(JSON.parse(row.payload), { productId: 'P001', units: 999 });
        // InventoryService subscribes to no stock level: none of its rows carries it.
        assert.equal(await page.locator('[data-testid="packet-row"][data-service="inventory"][data-direction="in"][data-topic="inventory/stock/P001"]').count(), 0);
        assert.match(await mermaid(page), /^\s+Broker->>StatusMonitor: \[\+\d+ ms\] PUBLISH inventory\/stock\/P001 /m);
      } finally {
        await outsider.close();
      }
    }));
});
