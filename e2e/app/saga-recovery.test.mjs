// A saga recovering from what a broker or a crash takes away: an OrderService crash across a
// batch's deadline (the deadline kept acts once OrderService is back), and compensations lost
// with the broker's sessions (OrderService sends them again until it sees them done). An
// independent witness checks the wire.
//
//   node --test e2e/app/saga-recovery.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, describeApp, watched } from '../lib/app-suite.mjs';
import { expectOneOutcome, waitForRow, wireOf } from '../lib/saga.mjs';

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describeApp('saga recovery', () => {
  it('OrderService crashed across a batch\'s deadline: once back, every order of the batch is cancelled as timed out, once', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&payment_ms=3000&saga_timeout_ms=1500', async ({ page, witness }) => {
      await page.click('[data-testid="place-ten"]');
      const created = () => witness.messages.filter((m) => m.topic === 'orders/created').map((m) => m.json?.orderId);
      await witness.waitFor(() => created().length >= 10, FLOW_TIMEOUT_MS, '10 orders created');
      const orders = created();
      // The crash and the outage are the scenario: after the orders are out, before their
      // deadline (1.5 s); back after the deadline and after the payments (3 s) were made.
      await page.getByRole('button', { name: 'Crash OrderService' }).click();
      await page.locator('[data-testid="status-order"][data-crashed="true"]').waitFor();
      await pause(5_000);
      await page.getByRole('button', { name: 'Restart OrderService' }).click();
      for (const id of orders) {
        const outcome = await witness.waitFor(
          (m) => m.json?.orderId === id && ['orders/confirmed', 'orders/cancelled'].includes(m.topic),
          FLOW_TIMEOUT_MS,
          `an outcome for ${id}`,
        );
        assert.equal(outcome.topic, 'orders/cancelled', `the deadline acted; the wire: ${wireOf(witness, id).join(', ')}`);
        assert.match(outcome.json.reason, /timed out$/);
      }
      for (const id of orders) {
        await expectOneOutcome(witness, id, 'orders/cancelled');
        await witness.waitForOrder('payments/refunded', id, FLOW_TIMEOUT_MS);
        await waitForRow(page, id, 'Cancelled');
      }
    }));
});
