// The event store: OrderService keeps each order as a stream of events, each appended at the
// next version and global position and published on eventstore/orders/<orderId>; the Event
// store panel lists the streams, shows one stream's events, rewinds the order to any version,
// and exports the store as JSON lines, byte for byte what went out on the wire. An independent
// witness subscribed to `#` checks the wire.
//
//   node --test e2e/app/event-store.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, brokerQuery } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, waitReady, withApp } from '../lib/app-suite.mjs';
import { placeOrder, waitForRow, watchEveryTopic } from '../lib/saga.mjs';

const storeEventsOf = (witness, orderId) => witness.messages.filter((m) => m.topic === `eventstore/orders/${orderId}`);

describeApp('event store', () => {
  it('a completed order is a stream of four events on eventstore/orders/<id>; the panel shows them, rewinds the order version by version, and exports them', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=200&inventory_ms=600`, async ({ page }) => {
      await waitReady(page);
      const witness = await watchEveryTopic(broker);
      try {
        const orderId = await placeOrder(page);
        await witness.waitFor(() => storeEventsOf(witness, orderId).some((m) => m.json?.type === 'OrderCompleted'), FLOW_TIMEOUT_MS, 'OrderCompleted in the store');
        await witness.roundTrip();
        const events = storeEventsOf(witness, orderId).map((m) => m.json);
        // The payment (200 ms) comes before the stock (600 ms): the order's life, in order.
        assert.deepEqual(events.map((e) => e.type), ['OrderCreated', 'PaymentConfirmed', 'InventoryConfirmed', 'OrderCompleted']);
        assert.deepEqual(events.map((e) => e.version), [1, 2, 3, 4], 'versions within the stream');
        const positions = events.map((e) => e.position);
        assert.deepEqual(positions, [...positions].sort((a, b) => a - b), 'global positions ascend');
        for (const e of events) {
          assert.equal(e.stream, orderId);
          assert.equal(e.schema, 2);
          assert.match(e.recordedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        }
        assert.deepEqual(events[0].data, { customerId: 'C123', items: [{ productId: 'P001', quantity: 2, price: 29.99 }], totalAmount: 59.98 });
        assert.equal(storeEventsOf(witness, orderId).every((m) => !m.retain), true, 'not retained');
        await waitForRow(page, orderId, 'Completed');

        // The panel: the stream, its events, and the rewind.
        const stream = page.locator(`[data-testid="store-stream"][data-stream="${orderId}"]`);
        await stream.waitFor();
        assert.equal(await stream.getAttribute('data-version'), '4');
        assert.equal(await stream.getAttribute('data-status'), 'Completed');
        await stream.click();
        const rows = page.locator('[data-testid="store-event"]');
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="store-event"]').length === 4);
        assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.dataset.type)), events.map((e) => e.type));
        assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => Number(e.dataset.position))), positions);
        const rewound = page.locator('[data-testid="store-rewound"]');
        const statusAt = async (version) => {
          await page.locator('[data-testid="store-rewind"]').fill(String(version));
          await page.waitForFunction((v) => document.querySelector('[data-testid="store-rewound"]')?.dataset.version === String(v), version);
          return rewound.getAttribute('data-status');
        };
        assert.equal(await statusAt(4), 'Completed');
        assert.equal(await statusAt(1), 'Pending', 'version 1: only created');
        assert.equal(await statusAt(2), 'PaymentConfirmed');
        // Version 3: both steps done, not yet completed (the next event completes it).
        assert.equal(await statusAt(3), 'PaymentConfirmed');
        assert.match(await rewound.textContent(), /Inventory\s*done/);
        assert.match(await rewound.textContent(), /Payment\s*done/);

        // Export: JSON lines, one event per line by position, byte for byte as published.
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="store-export"]')]);
        assert.equal(download.suggestedFilename(), 'event-store.jsonl');
        const lines = (await readFile(await download.path(), 'utf8')).split('\n').filter((l) => l !== '');
        const published = witness.messages.filter((m) => m.topic.startsWith('eventstore/orders/')).sort((a, b) => a.json.position - b.json.position);
        assert.deepEqual(lines, published.map((m) => m.payload));
      } finally {
        await witness.close();
      }
    }));
});
