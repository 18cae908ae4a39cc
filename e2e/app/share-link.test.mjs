// Sharing: a copied link opened in a new page restores the settings; unknown parameters are
// reported.
//
//   node --test e2e/app/share-link.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { brokerQuery } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, server, waitReady, withApp } from '../lib/app-suite.mjs';

describeApp('share link', () => {
  it('share: a copied link opened in a new page restores the settings (broker, QoS per topic, delay, MQTT version, speed, view); unknown parameters are reported', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    let link;
    await withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      await waitReady(page);
      await page.selectOption('#flow-qos', '2');
      await page.selectOption('#qos-payments', '0');
      await page.fill('#payment-delay', '250');
      await page.dispatchEvent('#payment-delay', 'change');
      await page.selectOption('#speed', '0.5');
      await page.click('[data-testid="show-sequence"]');
      await page.selectOption('#mqtt-version', '5');
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      await page.click('[data-testid="copy-link"]');
      await page.locator('[data-testid="link-copied"]').waitFor({ state: 'visible' });
      link = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(link, page.url(), 'the copied link is the page with its settings');
    });
    assert.ok(link.startsWith(server.url), link);
    await withApp(t, `${link.slice(server.url.length)}&bogus=1`, async ({ page }) => {
      await waitReady(page);
      assert.equal(await page.inputValue('#flow-qos'), 'mixed', 'QoS per topic restored');
      assert.deepEqual(
        await Promise.all(['orders', 'payments', 'inventory'].map((t) => page.inputValue(`#qos-${t}`))),
        ['2', '0', '2'],
      );
      assert.equal(await page.inputValue('#speed'), '0.5', 'speed restored');
      assert.equal(await page.getAttribute('[data-testid="show-sequence"]', 'aria-pressed'), 'true', 'view restored');
      assert.equal(await page.locator('[data-testid="flow-svg"]').count(), 0, 'only the sequence diagram shown');
      assert.equal(await page.inputValue('#mqtt-version'), '5', 'MQTT version restored');
      assert.equal(await page.inputValue('#payment-delay'), '250', 'payment delay restored');
      assert.equal(await page.inputValue('#broker-url'), broker.wsUrl, 'broker restored');
      const notice = page.locator('[data-testid="link-notice"]');
      await notice.waitFor({ state: 'visible' });
      assert.match((await notice.textContent()) ?? '', /Ignored in the link: bogus/);
    });
  });

  // A teacher's link to one part of the page (a newcomer's break-test: it opened at the top,
  // since the part is drawn after the document loaded).
  it('a link to a part of the page (#sequence-title) opens with that part in view', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}#sequence-title`, async ({ page }) => {
      await waitReady(page);
      await page.waitForFunction(() => {
        const top = document.getElementById('sequence-title')?.getBoundingClientRect().top;
        return top !== undefined && top > -2 && top < innerHeight / 2;
      }, null, { timeout: 5_000 }).catch(async () => {
        const where = await page.evaluate(() => ({ scrollY, top: document.getElementById('sequence-title')?.getBoundingClientRect().top }));
        assert.fail(`the sequence diagram's heading is not at the top of the window: ${JSON.stringify(where)}`);
      });
      // An anchor is no parameter: nothing said of it.
      assert.equal(await page.locator('[data-testid="link-notice"]').count(), 0);
    }));

  // A newcomer's break-test (46-AZ F5): `?ns=bad#value&broker=inpage` ran under namespace `bad`
  // on the default broker, and nothing said what followed the # was dropped.
  it('parameters after a # in the link: the page says it read none of them, and how to write a # in a value', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&ns=bad#value&qos=2`, async ({ page }) => {
      await waitReady(page);
      const notice = page.locator('[data-testid="link-notice"]');
      await notice.waitFor({ state: 'visible' });
      assert.match((await notice.textContent()) ?? '', /Ignored the end of the link after its #, "#value&qos=2": a # ends the address's query, so no parameter after it is read \(the value before it stops there\); inside a value, write # as %23\./);
      assert.equal(await page.inputValue('#qos-orders'), '1', 'qos=2 after the # was not read');
    }));

  it('bad values in the link: each echoed with its invisible characters named, a repeated key named, words fit for the link', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&qos=%E2%80%AE2&mqtt=6&decline_over=&stock=%00:1&speed=2&speed=4&duplicates=${'9'.repeat(3000)}&payment_ms=&ns=%E0%A4%A`, async ({ page }) => {
      await waitReady(page);
      const text = async (testid) => {
        const locator = page.locator(`[data-testid="${testid}"]`);
        await locator.waitFor({ state: 'visible' });
        return ((await locator.textContent()) ?? '').trim();
      };
      const qos = await text('flow-qos-error');
      assert.match(qos, /^Ignored \?qos="⟨U\+202E RLO⟩2" in the link: QoS is 0, 1 or 2\. Using 1\.$/);
      const mqtt = await text('mqtt-version-error');
      assert.match(mqtt, /Using MQTT 3\.1\.1\.$/);
      assert.doesNotMatch(mqtt, /MQTT MQTT/);
      const flow = await text('flow-error');
      assert.match(flow, /Ignored \?decline_over= in the link: "" is not an amount/);
      assert.doesNotMatch(flow, /Price/, 'not the order form\'s words');
      // The stock's, by the Stock field; not repeated under Saga and failures.
      const stock = await text('stock-error');
      assert.match(stock, /^Ignored \?stock= in the link: "⟨U\+0000 NUL⟩:1": Product ID must not contain control characters/);
      assert.doesNotMatch(flow, /\?stock=/);
      assert.equal(await page.locator('[data-testid="stock-level"]').count(), 0, 'the NUL product is not stocked');
      assert.match(await text('link-notice'), /\?speed given twice; using the first, "2"\./);
      assert.equal(await page.inputValue('#speed'), '2');
      // The share published twice, in the Duplicates panel.
      const delivery = await text('delivery-error');
      assert.doesNotMatch(flow, /\?duplicates=/);
      // A delay in the words of every other link refusal (it said `Payment delay "" ignored: …`).
      const delays = await text('delays-error');
      assert.equal(delays, 'Ignored ?payment_ms= in the link: an empty value is not a delay: use whole milliseconds from 0 to 10000.');
      // A cut-short percent-escape echoed as written in the address (it was "\uFFFD%A").
      const ns = await text('namespace-error');
      assert.match(ns, /^Ignored \?ns="%E0%A4%A" in the link: /);
      for (const shown of [qos, mqtt, flow, stock, delivery, delays, ns]) assert.doesNotMatch(shown, /\\u\{|\uFFFD/, 'no Rust escapes, no replacement character');
      // A 3000-digit value is echoed cut, with its length (whole, a 5000-character ?ns= pushed
      // the page 6000 px down), and wraps instead of widening the page.
      assert.ok(delivery.includes(`"${'9'.repeat(80)}…" (3000 characters) is not a percentage`), `the long value echoed cut: ${delivery.slice(0, 300)}`);
      const wider = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(wider <= 0, `the page is ${wider} px wider than the window`);
    }));

  // A teacher copies the address bar rather than Copy link: it kept the refused values, so the
  // link shared was refused again and did not say what the page ran.
  it('refused values are taken out of the address bar once explained (no reload, no new history entry); the values taken are written as the page runs them (%20800 as 800), the rest as written', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, null, async ({ page }) => {
      await page.addInitScript(() => {
        if (window.__historyAtStart === undefined) window.__historyAtStart = history.length;
      });
      const kept = `${brokerQuery(broker.wsUrl)}&qos=2&mqtt=5`;
      // Accepted, but not as the page writes them: a leading space, a leading zero, escapes
      // that spell a plain value (a newcomer's break-test: `%31000` stayed in the address).
      const plain = '&inventory_ms=%20800&retry_ms=0500&projection_ms=%3200';
      await page.goto(`${server.url}${kept}${plain}&payment_ms=-5&stock=P001:abc&speed=fast&ns=bad%2F%23&colour=red&mqtt=6`);
      await waitReady(page);
      const text = async (testid) => {
        const locator = page.locator(`[data-testid="${testid}"]`);
        await locator.waitFor({ state: 'visible' });
        return ((await locator.textContent()) ?? '').trim();
      };
      // Each refusal still quotes what was refused.
      assert.match(await text('delays-error'), /Ignored \?payment_ms= in the link: "-5"/);
      assert.match(await text('stock-error'), /Ignored \?stock= in the link: "P001:abc"/);
      assert.match(await text('playback-error'), /Ignored \?speed= in the link: .*fast/);
      assert.match(await text('namespace-error'), /Ignored \?ns="bad\/#" in the link/);
      assert.match(await text('link-notice'), /\?mqtt given twice; using the first, "5"\..*Ignored in the link: colour/);
      // The address holds what the page runs, the accepted values as Copy link writes them, in
      // one history entry.
      const { search, start, now } = await page.evaluate(() => ({
        search: location.search, start: window.__historyAtStart, now: history.length,
      }));
      assert.equal(search, `${kept.replace(/^\//, '')}&inventory_ms=800&retry_ms=500&projection_ms=200`,
        'the refused parameters left the address, the values taken are in their plain form');
      assert.equal(now, start, 'the address was replaced, not pushed');
      assert.equal(await page.inputValue('#mqtt-version'), '5');
      assert.equal(await page.inputValue('#flow-qos'), '2');
    }));

  it('?mqtt=311, read as MQTT 3.1.1, is written 3.1.1 in the address bar, as Copy link writes it', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&mqtt=311`, async ({ page }) => {
      await waitReady(page);
      assert.equal(await page.inputValue('#mqtt-version'), '3.1.1');
      const search = await page.evaluate(() => location.search);
      assert.equal(new URLSearchParams(search).get('mqtt'), '3.1.1', search);
    }));

  // A newcomer's break-test: `?&&broker=…&&qos=2&` stayed so in the address bar.
  it('empty pairs in the link (&&, a trailing &) are taken out of the address bar, the rest kept', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `/?&&${brokerQuery(broker.wsUrl).slice(2)}&&qos=2&`, async ({ page }) => {
      await waitReady(page);
      const search = await page.evaluate(() => location.search);
      assert.ok(!search.includes('&&') && !search.endsWith('&') && !search.startsWith('?&'), search);
      assert.equal(new URLSearchParams(search).get('qos'), '2', search);
      assert.equal(await page.locator('[data-testid="link-notice"]').count(), 0, 'nothing to say of them');
    }));

  // A shared link whose parameter name is percent-encoded (`sp%65ed` is `speed`) ran, but the
  // address bar kept `sp%65ed=2`.
  it('?sp%65ed=2, read as speed 2, is written speed=2 in the address bar, the name decoded', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&sp%65ed=2`, async ({ page }) => {
      await waitReady(page);
      assert.equal(await page.inputValue('#speed'), '2');
      const search = await page.evaluate(() => location.search);
      assert.ok(search.split(/[?&]/).includes('speed=2'), search);
      assert.ok(!search.includes('sp%65ed'), search);
    }));

  // A newcomer read README's "the values the page took stay as written" and saw ?mqtt=5.0
  // become mqtt=5: README now says accepted values are shown in their canonical form.
  it('?mqtt=5.0, read as MQTT 5, is written 5 in the address bar, its canonical form', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, `${brokerQuery(broker.wsUrl)}&mqtt=5.0`, async ({ page }) => {
      await waitReady(page);
      assert.equal(await page.inputValue('#mqtt-version'), '5');
      const search = await page.evaluate(() => location.search);
      assert.equal(new URLSearchParams(search).get('mqtt'), '5', search);
    }));

  it('a broker URL with a user name and password in the link is refused and taken out of the address: neither a setting written back nor Copy link repeats the secret', { timeout: CASE_TIMEOUT_MS }, (t) => {
    const host = new URL(broker.wsUrl).host;
    const query = `?broker=${encodeURIComponent(`ws://alice:s3cretPW@${host}`)}&broker_payment=${encodeURIComponent(`ws:bob:PaYsEcReT@${host}`)}&qos=2`;
    return withApp(t, query, async ({ page }) => {
      const error = page.locator('[data-testid="broker-error"]');
      await error.waitFor();
      const said = await page.textContent('body');
      for (const secret of ['s3cretPW', 'PaYsEcReT', 'alice', 'bob:']) assert.ok(!said.includes(secret), `the page never shows ${secret}`);
      assert.match(await error.textContent(), /User name and Password fields/);
      assert.ok(!page.url().includes('s3cret') && !page.url().includes('PaYsEcReT'), page.url());
      await page.selectOption('#speed', '2');
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      await page.click('[data-testid="copy-link"]');
      await page.locator('[data-testid="link-copied"]').waitFor({ state: 'visible' });
      const link = new URL(await page.evaluate(() => navigator.clipboard.readText()));
      assert.equal(link.searchParams.get('broker'), null, link.href);
      assert.equal(link.searchParams.get('broker_payment'), null, link.href);
      assert.equal(link.searchParams.get('qos'), '2', 'the other settings stay');
      assert.equal(link.searchParams.get('speed'), '2');
    });
  });

  // A newcomer's break-test: `?broker=` twice, the second with user:password@. The page ran on the
  // first, but the address kept no broker at all, so a reload went to ws://localhost:9001.
  it('a repeated ?broker= carrying a user name and password goes from the address; the first, which the page runs, stays', { timeout: CASE_TIMEOUT_MS }, (t) => {
    const host = new URL(broker.wsUrl).host;
    const query = `?broker=${encodeURIComponent(broker.wsUrl)}&qos=2&broker=${encodeURIComponent(`ws://x:s3cretPW@${host}`)}`;
    return withApp(t, query, async ({ page }) => {
      await page.waitForFunction(() => /\?broker given twice; using the first/.test(document.body.textContent));
      await page.waitForFunction(() => !location.search.includes('s3cret'));
      const address = new URL(page.url());
      assert.deepEqual(address.searchParams.getAll('broker'), [broker.wsUrl], address.href);
      assert.equal(address.searchParams.get('qos'), '2');
      assert.ok(!(await page.textContent('body')).includes('s3cretPW'), 'the page never shows the secret');
      await page.reload();
      assert.equal(await page.inputValue('#broker-url'), broker.wsUrl, 'a reload runs the same broker');
    });
  });
});
