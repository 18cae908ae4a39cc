// The controls: service delays from the link and from the page (a bad one refused), ten
// orders at once, and Clear.
//
//   node --test e2e/app/controls.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, brokerQuery } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, waitReady, withApp } from '../lib/app-suite.mjs';
import { startWitness } from '../lib/mqtt-witness.mjs';

describeApp('controls', () => {
  it('controls: delays from the link, ten orders at once, clear, a delay changed and a bad one', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      assert.equal(await page.inputValue('#payment-delay'), '0');
      assert.equal(await page.inputValue('#inventory-delay'), '0');
      const witness = await startWitness({ tcpPort: broker.tcpPort });
      try {
        await page.click('[data-testid="place-ten"]');
        const paid = await witness.waitFor(
          () => new Set(witness.messages.filter((m) => m.topic === 'payments/processed').map((m) => m.json?.orderId)).size >= 10,
          FLOW_TIMEOUT_MS,
        ).then(() => new Set(witness.messages.filter((m) => m.topic === 'orders/created').map((m) => m.json?.orderId)));
        assert.equal(paid.size, 10, 'ten distinct orders were created');
        // Every notification of the ten (created, charged, reserved, confirmed: four each), so
        // that none arrives after Clear below (with 30 of them, a loaded clean-clone run had
        // the rest land after Clear, and the list never emptied).
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="notification"]').length >= 40, null, { timeout: FLOW_TIMEOUT_MS });
      } finally {
        await witness.close();
      }
      // A long sequence diagram puts only the rows near its scroll box in the page, and keeps
      // the newest in view. (Off screen it is drawn once a second: look at it.)
      await page.locator('[data-testid="sequence-scroll"]').scrollIntoViewIfNeeded();
      await page.waitForFunction(() => Number(/— (\d+) arrows/.exec(document.querySelector('#sequence-title').textContent)[1]) >= 150);
      const total = Number(/— (\d+) arrows/.exec(await page.textContent('#sequence-title'))[1]);
      const inPage = await page.locator('[data-testid="seq-arrow"]').count();
      assert.ok(total >= 150 && inPage < total, `${inPage} of ${total} arrows in the page`);
      await page.waitForFunction(() => {
        const box = document.querySelector('[data-testid="sequence-scroll"]');
        return box.scrollTop > 0 && box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
      });

      await page.click('[data-testid="clear"]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="notification"]').length === 0);
      assert.equal(await page.locator('[data-testid="seq-arrow"]').count(), 0, 'no arrows after Clear');
      assert.equal(await page.locator('[data-testid="log-entry"]').count(), 0, 'no log entries after Clear');

      // What is typed stays while the page redraws around it (ten more orders), then applies on change.
      await page.click('#payment-delay');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('300');
      await page.evaluate(() => document.querySelector('[data-testid="place-ten"]').click());
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="notification"]').length >= 30, null, { timeout: FLOW_TIMEOUT_MS });
      assert.equal(await page.inputValue('#payment-delay'), '300', 'the typed delay survived the redraws');
      await page.keyboard.press('Tab');
      await page.waitForFunction(() => new URL(location.href).searchParams.get('payment_ms') === '300');
      await page.fill('#inventory-delay', '99999');
      await page.dispatchEvent('#inventory-delay', 'change');
      const error = page.locator('[data-testid="delays-error"]');
      await error.waitFor({ state: 'visible' });
      assert.match((await error.textContent()) ?? '', /Inventory delay .*0 to 10000\. The delay in use is still 0 ms\./, 'the refusal says which delay still runs (0 from the link, not the default 800)');
    }));

  // A newcomer's break-test (36-R F1): a double-click on Place order placed two orders, two
  // charges; on Place 10 orders, twenty. The second click of a double-click is no new order.
  it('a double-click on Place order places one order, on Place 10 orders ten; a click after it places one more', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=0&inventory_ms=0`, async ({ page }) => {
      await waitReady(page);
      const witness = await startWitness({ tcpPort: broker.tcpPort });
      const created = () => new Set(witness.messages.filter((m) => m.topic === 'orders/created').map((m) => m.json?.orderId)).size;
      try {
        await page.dblclick('[data-testid="place-order"]');
        await witness.waitFor(() => created() >= 1, FLOW_TIMEOUT_MS, 'the order');
        await page.click('[data-testid="place-order"]');
        await witness.waitFor(() => created() >= 2, FLOW_TIMEOUT_MS, 'the order of the single click');
        await page.dblclick('[data-testid="place-ten"]');
        await witness.waitFor(() => created() >= 12, FLOW_TIMEOUT_MS, 'ten more');
        await witness.roundTrip();
        assert.equal(created(), 12, 'a double-click counts as one click');
      } finally {
        await witness.close();
      }
    }));
});
