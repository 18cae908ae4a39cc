// The tab's session (the `<tag>` of the client ids `eda-<tag>-<service>`): kept across a reload
// of the same tab, so a persistent broker session can deliver what was published meanwhile; a
// new tab, and a window the page opens (which gets a copy of its sessionStorage), draw their own.
//
//   node --test e2e/app/tab-session.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { brokerQuery } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, waitReady, withApp } from '../lib/app-suite.mjs';

const tagOf = (ids) => /^eda-([0-9a-f]{6})-order$/.exec(ids.order)?.[1];

describeApp('tab session', () => {
  it('a reload keeps the client ids; a new tab and a window the page opens get others', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page, context }) => {
      const first = await waitReady(page, broker);
      const tag = tagOf(first);
      assert.ok(tag, `a tag in ${first.order}`);

      await page.reload();
      const reloaded = await waitReady(page, broker);
      assert.deepEqual(reloaded, first, 'the same client ids after a reload');
      // The broker saw the same client id connect twice: the session is the same one.
      const connects = broker.log().match(new RegExp(`New client connected from .* as ${first.order} `, 'g')) ?? [];
      assert.ok(connects.length >= 2, `two connections of ${first.order} in the broker's log, got ${connects.length}`);

      const [opened] = await Promise.all([
        context.waitForEvent('page'),
        page.evaluate(() => {
          window.open(location.href);
        }),
      ]);
      const openedIds = await waitReady(opened, broker);
      assert.notEqual(tagOf(openedIds), tag, 'a window opened by the page draws its own tag');

      const newTab = await context.newPage();
      await newTab.goto(page.url());
      const newTabIds = await waitReady(newTab, broker);
      assert.notEqual(tagOf(newTabIds), tag, 'a new tab draws its own tag');
      assert.notEqual(tagOf(newTabIds), tagOf(openedIds));

      // The first page kept its ids and its connections all along.
      assert.deepEqual(await waitReady(page, broker), first);
    }));
});
