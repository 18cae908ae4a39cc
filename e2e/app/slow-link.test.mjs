// A slow link: a broker that answers PINGREQ late, as Mosquitto's WebSocket listener does when a
// large message is still crossing it (about 40 KB a second). Apart from misbehaving-broker.test.mjs
// because one case runs for over a minute: each file of e2e/app/ must end within the suite's
// per-file timeout.
//
//   node --test e2e/app/slow-link.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, brokerQuery } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, waitReady, withApp } from '../lib/app-suite.mjs';
import { publishTopic, startTamperingProxy, waiter } from '../lib/misbehaving-broker.mjs';
import { placeOrder, watchEveryTopic } from '../lib/saga.mjs';

describeApp('a slow link', () => {
  // A newcomer's break-test (35-M F2): a 10 MB message on Mosquitto's slow WebSocket held
  // every PINGRESP of OrderService back past its 10 s wait; closed at each timeout, the
  // connection was sent the message again on the next and never got past it, every 40 s, for
  // good. Here a proxy holds each PINGRESP to OrderService back 12 s, as a message in front of
  // it would.
  it('PINGRESPs 12 s late: after one timeout OrderService waits 40 s for them, says why in its log, and its next connection lives past the late PINGRESP', { timeout: CASE_TIMEOUT_MS + 60_000 }, async (t) => {
    const held = [];
    const late = waiter(held);
    const proxy = await startTamperingProxy({
      upstream: broker.wsUrl,
      fromBroker: (packet, conn) => {
        if (!conn.clientId?.endsWith('-order') || packet[0] >> 4 !== 13) return packet;
        setTimeout(() => {
          held.push({ clientId: conn.clientId, went: conn.toClient(packet) });
          late.changed();
        }, 12_000);
        return null;
      },
    });
    try {
      await withApp(t, brokerQuery(proxy.wsUrl), async ({ page }) => {
        const ids = await waitReady(page);
        // The first PINGREQ (30 s after the last packet sent) waits 10 s: the connection ends,
        // and the log says the wait is 40 s from now on.
        const line = page.locator('[data-testid="log-entry"][data-service="order"]', { hasText: 'no PINGRESP came in time once' });
        await line.waitFor({ timeout: 60_000 });
        assert.match((await line.textContent()) ?? '', /so from now on the service waits 40 s for it\. A broker answers a PINGREQ after what it is already sending/);
        await proxy.waitForConnects((c) => c.filter((x) => x.clientId === ids.order).length >= 2, 10_000);
        // On the second connection, the PINGRESP held back 12 s reaches an open connection.
        const second = await late.wait((h) => h.filter((x) => x.clientId === ids.order).length >= 2, 60_000, 'a second late PINGRESP');
        const delivered = second.filter((x) => x.clientId === ids.order)[1];
        assert.equal(delivered.went, true, 'the connection was still open when the late PINGRESP came');
        assert.equal(proxy.connects.filter((x) => x.clientId === ids.order).length, 2, 'no third connection');
        await page.locator('[data-testid="status-order"][data-state="connected"]').waitFor({ timeout: 1_000 });
      });
    } finally {
      await proxy.close();
    }
  });

  // A break-test (44-AT F3): orders near 256 KiB timed out although both participants answered
  // at once: their results crossed Mosquitto's slow WebSocket behind the large messages and
  // reached OrderService seconds late, and the row never said so. Here a proxy holds
  // inventory/reserved on its way to OrderService until the deadline has cancelled the order.
  it('a reservation delivered to OrderService after the deadline: the order is cancelled and compensated, and its row says the broker delivered the result late', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    let cancelled;
    const deadline = new Promise((resolve) => {
      cancelled = resolve;
    });
    const proxy = await startTamperingProxy({
      upstream: broker.wsUrl,
      fromBroker: (packet, conn) => {
        if (!conn.clientId?.endsWith('-order') || packet[0] >> 4 !== 3 || publishTopic(packet) !== 'inventory/reserved') return packet;
        deadline.then(() => conn.toClient(packet));
        return null;
      },
    });
    try {
      await withApp(t, `${brokerQuery(proxy.wsUrl)}&saga_timeout_ms=1500&payment_ms=0&inventory_ms=0`, async ({ page }) => {
        await waitReady(page);
        const witness = await watchEveryTopic(broker);
        try {
          const orderId = await placeOrder(page);
          const reserved = await witness.waitFor((m) => m.topic === 'inventory/reserved' && m.json?.orderId === orderId, FLOW_TIMEOUT_MS);
          const cancellation = await witness.waitFor((m) => m.topic === 'orders/cancelled' && m.json?.orderId === orderId, FLOW_TIMEOUT_MS);
          assert.equal(cancellation.json.reason, 'inventory timed out');
          cancelled();
          // The late reservation is released once OrderService gets it.
          await witness.waitFor((m) => m.topic === 'inventory/released' && m.json?.reservationId === reserved.json.reservationId, FLOW_TIMEOUT_MS);
          // While held it is "never received" (true then); once delivered, late. The panel may
          // redraw a second after the release.
          const note = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-unheard-step"]`, { hasText: 'OrderService received this' });
          await note.waitFor({ timeout: FLOW_TIMEOUT_MS });
          assert.match((await note.textContent()) ?? '', /^ \(OrderService received this inventory\/reserved \d+ (ms|s) after InventoryService published it, once the deadline had cancelled the order: the broker delivered it late/);
        } finally {
          await witness.close();
        }
      });
    } finally {
      cancelled();
      await proxy.close();
    }
  });
});
