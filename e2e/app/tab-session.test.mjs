// The tab's session (the `<tag>` of the client ids `eda-<tag>-<service>`): kept across a reload
// of the same tab, so a persistent broker session can deliver what was published meanwhile; a
// new tab, and a window the page opens (which gets a copy of its sessionStorage), draw their own.
//
//   node --test e2e/app/tab-session.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, brokerQuery } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, server, waitReady, withApp } from '../lib/app-suite.mjs';
import { watchEveryTopic } from '../lib/saga.mjs';
import { orderCreatedJson } from '../lib/seed.mjs';

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

  // A newcomer's break-test (F3): a tab duplicated after visiting ?ns=da holds a copy of da's
  // tag in its sessionStorage (the browser copies it); both tabs then opening ?ns=da ran the
  // same client ids and threw each other off the broker, for good.
  it('a duplicated tab holding a copy of a namespace\'s tag draws its own when the original tab runs that namespace', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&ns=da`, async ({ page, context }) => {
      const first = await waitReady(page, broker);
      await page.goto(`${server.url}${brokerQuery(broker.wsUrl)}&ns=db`);
      await waitReady(page, broker);
      // The duplicate: a copy of the tab's sessionStorage (da's tag among it).
      const copy = await page.evaluate(() => JSON.stringify(Object.fromEntries(Object.entries(sessionStorage))));
      assert.match(copy, new RegExp(tagOf(first)), `da's tag is stored while the tab runs db: ${copy}`);
      await page.goto(`${server.url}${brokerQuery(broker.wsUrl)}&ns=da`);
      assert.deepEqual(await waitReady(page, broker), first, 'the original tab has da\'s client ids again');

      const duplicate = await context.newPage();
      await duplicate.addInitScript((stored) => {
        for (const [key, value] of Object.entries(JSON.parse(stored))) sessionStorage.setItem(key, value);
      }, copy);
      await duplicate.goto(`${server.url}${brokerQuery(broker.wsUrl)}&ns=da`);
      const duplicated = await waitReady(duplicate, broker);
      assert.notEqual(tagOf(duplicated), tagOf(first), 'the duplicate draws its own tag');
      // Neither throws the other off: the original keeps its ids and its connections.
      assert.deepEqual(await waitReady(page, broker), first);
      assert.doesNotMatch(broker.log(), new RegExp(`Client ${first.order} .*already connected, closing old connection`), 'no takeover');
      await duplicate.close();
    }));

  // Noticed in a review: the tag was one per tab whatever `?ns=`, so a tab that opened ?ns=tb
  // after ?ns=ta took over ta's persistent sessions, and what the broker had queued for ta was
  // handed to tb's services, which ignored it: lost for ta.
  it('a tab keeps a tag per namespace: under ?ns=tb it draws its own client ids, and back under ?ns=ta it has ta\'s again, with the order published for ta meanwhile', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&ns=ta`, async ({ page }) => {
      const first = await waitReady(page, broker);
      await page.goto(`${server.url}${brokerQuery(broker.wsUrl)}&ns=tb`);
      const underTb = await waitReady(page, broker);
      assert.notEqual(tagOf(underTb), tagOf(first), 'tb\'s client ids are not ta\'s');

      const witness = await watchEveryTopic(broker);
      try {
        // An outsider's order for ta while the tab is under tb: ta's sessions keep it.
        const orderId = randomUUID();
        await witness.publish('ta/orders/created', orderCreatedJson({ orderId }), { qos: 1 });
        await witness.roundTrip();
        assert.equal(witness.messages.filter((m) => m.json?.orderId === orderId).length, 1, 'nothing answered it under tb');

        await page.goto(`${server.url}${brokerQuery(broker.wsUrl)}&ns=ta`);
        assert.deepEqual(await waitReady(page, broker), first, 'ta\'s client ids again');
        await witness.waitForOrder('ta/inventory/reserved', orderId, FLOW_TIMEOUT_MS);
        await witness.waitForOrder('ta/payments/processed', orderId, FLOW_TIMEOUT_MS);
      } finally {
        await witness.close();
      }
    }));
});
