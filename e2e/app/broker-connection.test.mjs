// The connection to the broker: a broker that is down at first, one lost mid-session, a
// broker URL changed in the page, and one that is not a WebSocket URL.
//
//   node --test e2e/app/broker-connection.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import net from 'node:net';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, SERVICES, brokerQuery, holdDatabaseAtNextLoad, waitForStates } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, placeWatchedOrder, server, setLateBroker, waitReady, withApp } from '../lib/app-suite.mjs';
import { freePort, startBroker } from '../lib/broker.mjs';
import { startRefusingAllBut } from '../lib/misbehaving-broker.mjs';
import { startWitness } from '../lib/mqtt-witness.mjs';
import { watchEveryTopic } from '../lib/saga.mjs';

describeApp('broker connection', () => {
  // A newcomer's break-test (C8): Connect to a broker that never answered while orders were
  // open, then back. The note said the messages in flight "stay on" the broker that never
  // answered; they had waited in the services' offline queues and went out on the one they came
  // back to.
  it('switching back from a broker that never answered: the note says nothing stays on it, and the messages that waited are published on the broker come back to, where every order completes', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const nobody = `ws://127.0.0.1:${await freePort()}`;
    const witness = await watchEveryTopic(broker);
    try {
      await withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=2000&inventory_ms=1000&saga_timeout_ms=60000`, async ({ page }) => {
        await waitReady(page);
        await page.click('[data-testid="place-ten"]');
        await page.locator('[data-testid="flow-node-payment"][data-activity="working"]').waitFor();
        await page.fill('#broker-url', nobody);
        await page.click('[data-testid="apply-broker"]');
        const note = page.locator('[data-testid="broker-switch-note"]');
        await note.waitFor();
        // The charges and reservations are decided while the services point at nobody: their
        // results wait in the clients' offline queues.
        await page.locator('[data-testid="flow-node-payment"]:not([data-activity="working"])').waitFor({ timeout: 20_000 });
        await page.locator('[data-testid="flow-node-inventory"]:not([data-activity="working"])').waitFor({ timeout: 20_000 });
        const before = witness.messages.filter((m) => m.topic === 'payments/processed').length;
        assert.ok(before < 10, `${before} payment results reached the broker before the services came back`);
        await page.fill('#broker-url', broker.wsUrl);
        await page.click('[data-testid="apply-broker"]');
        await page.waitForFunction((url) => document.querySelector('[data-testid="broker-switch-note"]')?.textContent?.includes(`${url} never accepted`), nobody);
        const text = ((await note.textContent()) ?? '').trim();
        const said = text.match(new RegExp(`^Switched brokers with 10 orders open and (\\d+) messages? not yet acknowledged: ${nobody.replace(/[.]/g, '\\.')} never accepted the services' connection, so nothing of theirs stays on it\\. The \\d+ messages? not yet acknowledged (?:are|is) published again on ${broker.wsUrl.replace(/[.]/g, '\\.')}\\.$`));
        assert.ok(said, text);
        assert.ok(Number(said[1]) >= 10 - before, `${said[1]} waiting, ${10 - before} payment results among them`);
        assert.doesNotMatch(text, /stay on that broker/);
        // What waited goes out on the broker the services came back to: every charge, and every
        // order completes.
        await witness.waitFor(() => witness.messages.filter((m) => m.topic === 'payments/processed').length >= 10, 20_000, '10 payment results on the wire');
        await page.locator('[data-testid="order-row"][data-status="Completed"]').nth(9).waitFor({ timeout: 20_000 });
        // Every order it warned of has ended: the note goes (break-test 34-K F12: it stayed for
        // good).
        await note.waitFor({ state: 'detached', timeout: 5_000 });
      });
    } finally {
      await witness.close();
    }
  });

  // A newcomer's break-test: PaymentService alone on an unreachable broker of its own
  // (?broker_payment=): the help never named it and sent the learner to the Broker field, whose
  // broker worked; and the in-page broker was offered, which would move every service.
  it('a service on an unreachable broker of its own: the help names it and its parameter, and no in-page broker is offered while the others are connected', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const nobody = `ws://127.0.0.1:${await freePort()}`;
    await withApp(t, `${brokerQuery(broker.wsUrl)}&broker_payment=${nobody}`, async ({ page }) => {
      await page.locator('[data-testid="status-order"][data-state="connected"]').waitFor();
      const help = page.locator('[data-testid="broker-help"][data-service="payment"]');
      await help.waitFor();
      const own = (await help.locator('[data-testid="broker-own-help"]').textContent()).trim();
      assert.match(own, /^This is PaymentService's own broker, set by \?broker_payment= in the link/);
      assert.equal(await page.locator('[data-testid="in-page-offer"]').count(), 0, 'the others are connected: no offer to move them');
    });
  });

  it('broker down, then up: the page says so, refuses orders, and reconnects by itself', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const tcpPort = await freePort();
    let wsPort = await freePort();
    while (wsPort === tcpPort) wsPort = await freePort();
    const wsUrl = `ws://127.0.0.1:${wsPort}`;
    let late = null;
    try {
      await withApp(t, brokerQuery(wsUrl), async ({ page }) => {
        await waitForStates(page, 'disconnected');

        const help = page.locator('[data-testid="broker-help"]');
        await help.waitFor({ state: 'visible' });
        const helpText = (await help.textContent()) ?? '';
        assert.ok(helpText.includes(wsUrl), `broker-help names ${wsUrl}: "${helpText.trim()}"`);
        // Not this project's Mosquitto address (9001): the help says to start the broker there,
        // not how to start Mosquitto with this project's config.
        assert.ok(
          helpText.includes(`Start the MQTT broker that should answer at 127.0.0.1:${wsPort}, or check its address`),
          `broker-help says to start the broker at that address: "${helpText.trim()}"`,
        );
        assert.doesNotMatch(helpText, /Start Mosquitto/, 'no Mosquitto instructions for another address');

        await page.click('[data-testid="place-order"]');
        const formError = page.locator('[data-testid="form-error"]');
        await formError.waitFor({ state: 'visible' });
        assert.match((await formError.textContent()) ?? '', /connect.*, so the order was not placed/i, 'form-error says why');
        assert.equal(await page.locator('[data-testid="placed-order-id"]').count(), 0, 'no order id shown');
        await page.click('[data-testid="place-ten"]');
        await page.waitForFunction(() => /so none of the 10 orders was placed/.test(document.querySelector('[data-testid="form-error"]')?.textContent ?? ''));

        // Now the broker appears on that very port; the page must reconnect without a reload.
        late = await startBroker({ logAll: true, tcpPort, wsPort });
        setLateBroker(late);
        await waitReady(page, late);
        assert.equal(
          await page.locator('[data-testid="broker-help"]').count(),
          0,
          'broker-help disappears once every service is connected',
        );

        await placeWatchedOrder(page, { onBroker: late });
      });
    } finally {
      setLateBroker(null);
      await late?.stop();
    }
  });

  it('broker lost mid-session: the services re-subscribe on their own and orders flow again', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    let first = await startBroker({ logAll: true });
    const { tcpPort, wsPort } = first;
    let second = null;
    try {
      await withApp(t, brokerQuery(first.wsUrl), async ({ page }) => {
        await waitReady(page, first);
        // Every badge has heard its service's status from the broker.
        await page.waitForFunction((services) => services.every((s) =>
          document.querySelector(`[data-testid="presence-${s}"]`)?.dataset.online === 'true'), SERVICES);
        await first.stop();
        first = null;
        await waitForStates(page, 'disconnected');
        // The status each badge heard from the broker is the last word heard, not the present
        // (every badge said "broker: online" beside "disconnected": a newcomer's break-test).
        for (const service of SERVICES) {
          const presence = page.locator(`[data-testid="presence-${service}"]`);
          assert.equal(await presence.getAttribute('data-stale'), 'true', service);
          assert.equal((await presence.textContent())?.trim(), 'broker: last heard online (not connected now)', service);
        }
        // The flow diagram's boxes say the same (they said "broker: online": the second look).
        const told = await page.$$eval('[data-testid^="flow-node-"] text.host', (texts) => texts.map((t) => t.textContent));
        assert.deepEqual(told.filter((t) => t.startsWith('broker: ')), Array(5).fill('broker: last heard online'), JSON.stringify(told));

        second = await startBroker({ logAll: true, tcpPort, wsPort });
        setLateBroker(second);
        // waitReady also checks, in the new broker's log, that every subscription was made again.
        await waitReady(page, second);
        await page.waitForFunction((services) => services.every((s) =>
          document.querySelector(`[data-testid="presence-${s}"]`)?.textContent.trim() === 'broker: online'), SERVICES);
        await placeWatchedOrder(page, { onBroker: second });
      });
    } finally {
      setLateBroker(null);
      await first?.stop();
      await second?.stop();
    }
  });

  // A break-test (44-AQ F3): the broker stopped a second or two after the services connected:
  // the help said the broker "answers" and had closed OrderService's connection on purpose
  // ("accepted, then closed by the broker"), sending the learner to its access rules, until the
  // next try found nobody there.
  // And 44-AT F4: the "Cannot reach" help then also suggested a wrong path, another kind of
  // server or a TLS-only listener, for the URL every service had been connected at.
  it('the broker stopped just after the services connected: the help never says the broker closed the connection on purpose, ends "Cannot reach", and says the URL worked instead of suggesting a path or TLS', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    let own = await startBroker();
    try {
      await withApp(t, brokerQuery(own.wsUrl), async ({ page }) => {
        await waitReady(page, own);
        // Every diagnosis the help shows, as it changes.
        await page.evaluate(() => {
          window.__diagnoses = [];
          const note = () => {
            for (const help of document.querySelectorAll('[data-testid="broker-help"]')) {
              const seen = `${help.dataset.service}:${help.dataset.diagnosis}`;
              if (window.__diagnoses.at(-1) !== seen) window.__diagnoses.push(seen);
            }
          };
          new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-diagnosis'] });
        });
        await own.stop();
        own = null;
        await page.locator('[data-testid="broker-help"][data-diagnosis="unreachable"]').first().waitFor({ timeout: FLOW_TIMEOUT_MS });
        const seen = await page.evaluate(() => window.__diagnoses);
        assert.ok(!seen.some((d) => d.endsWith(':closed-after-accept')), `diagnoses shown: ${seen.join(', ')}`);
        const help = page.locator('[data-testid="broker-help"][data-diagnosis="unreachable"]').first();
        const worked = (await help.locator('[data-testid="broker-worked-help"]').textContent()) ?? '';
        assert.match(worked, /was connected to the broker at this URL earlier in this page, so the URL is right/, worked);
        assert.equal(await help.locator('[data-testid="broker-path-help"]').count(), 0, await help.textContent());
        assert.equal(await help.locator('[data-testid="broker-tls-help"]').count(), 0, await help.textContent());
        // Starting the broker is still the advice: it is not running.
        assert.equal(await help.locator('[data-testid="broker-start-help"]').count(), 1);
      });
    } finally {
      await own?.stop();
    }
  });

  it('broker URL changed in the page: reconnects there and the address bar holds the link', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const nowhere = `ws://127.0.0.1:${await freePort()}`;
    await withApp(t, brokerQuery(nowhere), async ({ page }) => {
      await waitForStates(page, 'disconnected');

      // A URL that is not ws:// is refused with a message; nothing else changes.
      await page.fill('#broker-url', 'localhost:9001');
      await page.click('[data-testid="apply-broker"]');
      const error = page.locator('[data-testid="broker-error"]');
      await error.waitFor({ state: 'visible' });
      assert.match((await error.textContent()) ?? '', /ws:\/\//, 'the message shows the expected form');
      assert.equal(new URL(page.url()).searchParams.get('broker'), nowhere, 'address bar unchanged');

      // The real broker's URL: all four reconnect there, without a reload.
      await page.fill('#broker-url', broker.wsUrl);
      await page.click('[data-testid="apply-broker"]');
      await waitReady(page);
      assert.equal(await error.count(), 0, 'the error is gone once a valid URL is used');
      assert.equal(
        new URL(page.url()).searchParams.get('broker'),
        broker.wsUrl,
        'the address bar now links to the broker in use',
      );
      // Written as the README writes links, not URLSearchParams' ws%3A%2F%2F… (a newcomer's
      // break-test, 34-I F5).
      assert.ok(new URL(page.url()).search.includes(`broker=${broker.wsUrl}`), page.url());

      await placeWatchedOrder(page);
    });
  });

  // A break-test: after Connect to another broker, InventoryService, kept on a broker of its own,
  // still showed "broker: online" as the old broker had said: the page reads every status
  // through its own broker, and the new one never carried InventoryService's.
  it('the page moved to another broker: a service kept on its own broker no longer shows the old broker\'s status', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const other = await startBroker();
    setLateBroker(other);
    try {
      await withApp(t, `${brokerQuery(broker.wsUrl)}&broker_inventory=${broker.wsUrl}`, async ({ page }) => {
        await waitReady(page);
        const presence = page.locator('[data-testid="presence-inventory"]');
        await page.locator('[data-testid="presence-inventory"][data-online="true"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
        await page.fill('#broker-url', other.wsUrl);
        await page.click('[data-testid="apply-broker"]');
        await page.locator('[data-testid="status-order"][data-state="connected"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
        // The services that moved say online on the new broker, and the page hears it.
        await page.locator('[data-testid="presence-order"][data-online="true"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.equal(await presence.getAttribute('data-online'), null, `InventoryService's badge keeps no status of the old broker: ${await presence.textContent()}`);
        assert.equal(((await presence.textContent()) ?? '').trim(), 'broker: status not heard yet');
      });
    } finally {
      await other.stop();
      setLateBroker(null);
    }
  });

  it('bad broker URL: an error message, no panic, the form still renders', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, '/?broker=http://nope', async ({ page }) => {
      await page.locator('[data-testid="broker-error"]').waitFor({ state: 'visible' });
      await page.locator('#customer-id').waitFor({ state: 'visible' });
      await page.locator('[data-testid="place-order"]').waitFor({ state: 'visible' });
    }));

  it('a broker URL the browser would refuse (?broker=ws://%3Cscript%3E:9001): explained, and the default used instead of retrying it forever', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, null, async ({ page }) => {
      // The fallback is ws://localhost:9001: keep the page off whatever broker listens there.
      await page.routeWebSocket(/^ws:\/\/localhost:9001/, (ws) => ws.close());
      await page.goto(`${server.url}/?broker=ws://%3Cscript%3E:9001`);
      const error = page.locator('[data-testid="broker-error"]');
      await error.waitFor({ state: 'visible' });
      assert.match(
        (await error.textContent()) ?? '',
        /^Ignored \?broker= in the link: "ws:\/\/<script>:9001": its host is not a host name or an IP address.*Using ws:\/\/localhost:9001 instead\.$/,
      );
      assert.equal(await page.inputValue('#broker-url'), 'ws://localhost:9001');
      await waitForStates(page, 'disconnected');
      await page.waitForTimeout(1500);
      assert.doesNotMatch(await page.textContent('body'), /Failed to construct|<script>:9001 \(/, 'the browser never got the bad URL');
      // Typed in the page, the same URL is refused the same way.
      await page.fill('#broker-url', 'ws://a b');
      await page.click('[data-testid="apply-broker"]');
      await page.waitForFunction(() => /"ws:\/\/a b": it contains spaces/.test(document.querySelector('[data-testid="broker-error"]')?.textContent ?? ''));
    }));

  // A newcomer's break-test (34-I F1): PaymentService crashed, ten orders placed, the page moved
  // to the in-page broker and PaymentService restarted there (Session Present 0: "10 lost"),
  // then *Connect* back to the Mosquitto that had kept its session, which sent the ten. The line
  // turned into "10 caught up on restart, 0 lost", for orders long cancelled.
  it('what a broker met again later sends from the session is said to have come late, not caught up on restart', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const witness = await watchEveryTopic(broker);
    try {
      await withApp(t, `${brokerQuery(broker.wsUrl)}&saga_timeout_ms=2000`, async ({ page }) => {
        await waitReady(page);
        await page.getByRole('button', { name: 'Crash PaymentService' }).click();
        await page.click('[data-testid="place-ten"]');
        const created = () => witness.messages.filter((m) => m.topic === 'orders/created').length;
        await witness.waitFor(() => created() >= 10, FLOW_TIMEOUT_MS, 'the ten orders on the broker');
        await page.fill('#broker-url', 'inpage');
        await page.click('[data-testid="apply-broker"]');
        await page.locator('[data-testid="status-order"][data-state="connected"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
        await page.getByRole('button', { name: 'Restart PaymentService' }).click();
        const line = page.locator('[data-testid="outage"][data-service="payment"][data-restarted="true"][data-settled="true"]');
        await line.waitFor({ timeout: FLOW_TIMEOUT_MS });
        assert.equal(await line.getAttribute('data-lost'), '10', (await line.textContent()) ?? '');
        await page.fill('#broker-url', broker.wsUrl);
        await page.click('[data-testid="apply-broker"]');
        await page.waitForFunction(() => /10 of those lost came later/.test(document.querySelector('[data-testid="outage"][data-service="payment"]')?.textContent ?? ''), null, { timeout: FLOW_TIMEOUT_MS });
        const text = (await line.textContent()) ?? '';
        assert.match(text, /0 caught up on restart, 10 lost\. 10 of those lost came later, from a broker that had kept them/);
        assert.equal(await line.getAttribute('data-caught-up'), '0');
        assert.equal(await line.getAttribute('data-lost'), '10');
      });
    } finally {
      await witness.close();
    }
  });

  // A newcomer's break-test (32-E F6): a link whose broker URL is 5,000 characters long, at a
  // port where nothing listens. The help under the badges said it whole, in more than one
  // sentence: 10,000 characters to scroll past.
  it('a broker URL 5,000 characters long: the help says its start, not the whole of it, and the page still connects to a broker put in the field', { timeout: CASE_TIMEOUT_MS }, (t) => {
    const long = `/${'p'.repeat(5000)}`;
    return freePort().then((port) => withApp(t, `?broker=${encodeURIComponent(`ws://127.0.0.1:${port}${long}`)}`, async ({ page }) => {
      const help = page.locator('[data-testid="broker-help"][data-service="order"]');
      await help.waitFor({ timeout: FLOW_TIMEOUT_MS });
      await page.waitForFunction(() => /Cannot reach the MQTT broker/.test(document.querySelector('[data-testid="broker-help"]')?.textContent ?? ''));
      const text = (await help.textContent()) ?? '';
      assert.ok(text.length < 2500, `the help is ${text.length} characters: ${text.slice(0, 300)}…`);
      assert.match(text, /Cannot reach the MQTT broker at ws:\/\/127\.0\.0\.1:\d+\/p+…/);
      // Nowhere on the page is the URL said whole (the field holds it, and the titles).
      assert.ok(!(await page.textContent('body')).includes('p'.repeat(200)), 'the whole URL is said on the page');
      await page.fill('#broker-url', broker.wsUrl);
      await page.click('[data-testid="apply-broker"]');
      await waitReady(page);
      await placeWatchedOrder(page);
    }));
  });

  // A newcomer's break-test: ?broker=ws://localhost:9001/%zz, wait, press Place order. The
  // badges said disconnected ("Cannot reach …") but the form said "OrderService is still
  // connecting … Wait until it shows connected", depending on the instant of the click: each
  // retry is "connecting" for a while (Chromium spaces out WebSockets that keep failing), and
  // the form took that for a first try while the help under the badges told the failure.
  it('a broker URL whose every try fails: the form refuses for the failure the help shows, also while it tries again', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    // Nothing listens there. (It was `…/%zz` until such a URL was refused outright: the page
    // then fell back to the default broker, and the case passed or not by whether one ran on
    // this machine.)
    const url = `ws://localhost:${await freePort()}/mqtt`;
    await withApp(t, brokerQuery(url), async ({ page }) => {
      assert.equal(await page.getAttribute('[data-testid="status-order"]', 'data-broker'), url, 'the link\'s broker is tried, not the default');
      const help = page.locator('[data-testid="broker-help"]');
      await help.waitFor({ state: 'visible' });
      // Again, the tab's database read back late: the form said "waiting for the browser's
      // database to be read back" while the help said "Cannot reach the MQTT broker" (CI, stop
      // 45, on a loaded machine). The page opened once has made its database.
      await holdDatabaseAtNextLoad(page, 8000);
      await page.reload();
      await help.waitFor({ state: 'visible' });
      assert.match((await help.textContent()) ?? '', /Cannot reach the MQTT broker/);
      // Pressed in the very turn OrderService's badge shows a new try.
      await page.waitForFunction(
        () => {
          if (document.querySelector('[data-testid="status-order"]')?.getAttribute('data-state') !== 'connecting') return false;
          document.querySelector('[data-testid="place-order"]').click();
          return true;
        },
        null,
        { timeout: 30_000, polling: 10 },
      );
      const formError = page.locator('[data-testid="form-error"]');
      await formError.waitFor({ state: 'visible' });
      const said = ((await formError.textContent()) ?? '').replace(/\s+/g, ' ');
      assert.doesNotMatch(said, /still connecting|Wait until it shows connected/, `the form agrees with the help: "${said}"`);
      assert.match(said, /cannot reach the broker/, `the form says what the help says: "${said}"`);
      assert.match((await help.textContent()) ?? '', /Cannot reach the MQTT broker/, 'the help stays while it tries again');
    });
  });

  // A break-test (42-AM F3): Place order while OrderService's first try was still opening,
  // then that try failed. The form kept "still connecting … Wait until it shows connected" for
  // 4 s beside the help's "Cannot reach the MQTT broker": two opposite instructions.
  it('a click while the first try still opens, then the broker found unreachable: the form says so at once, as the help does', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    // Takes each connection and says nothing for 2 s, then drops it: the WebSocket does not
    // open, after a while long enough to click in.
    const sockets = new Set();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      setTimeout(() => socket.destroy(), 2000);
    });
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    const url = `ws://127.0.0.1:${silent.address().port}/mqtt`;
    await withApp(t, brokerQuery(url), async ({ page }) => {
      await page.waitForFunction(
        () => {
          // The gate says why no order goes: the first try, the database read back.
          const button = document.querySelector('[data-testid="place-order"]');
          if (!/still connecting/.test(button?.dataset.gate ?? '')) return false;
          button.click();
          return true;
        },
        null,
        { timeout: 30_000, polling: 10 },
      );
      const formError = page.locator('[data-testid="form-error"]');
      await formError.waitFor({ state: 'visible' });
      assert.match(((await formError.textContent()) ?? '').replace(/\s+/g, ' '), /OrderService is still connecting to the broker/, 'true when clicked');
      const help = page.locator('[data-testid="broker-help"]');
      await help.filter({ hasText: 'Cannot reach the MQTT broker' }).waitFor({ timeout: 30_000 });
      // Said again with the failure in the same look at the gate; before, only 4 s after the
      // click (the sentence's least time on screen), about 2 s from here.
      await formError.filter({ hasText: 'cannot reach the broker' }).waitFor({ timeout: 1500 });
      const said = ((await formError.textContent()) ?? '').replace(/\s+/g, ' ');
      assert.doesNotMatch(said, /still connecting|Wait until it shows connected/, `the form agrees with the help: "${said}"`);
    });
  });

  // A break-test (43-AP F1): the other services' first tries at the URL failed while
  // OrderService's still opened; the help said "Cannot reach the MQTT broker" and the form
  // "still connecting … Wait until it shows connected" until OrderService's own try failed.
  it('OrderService\'s first try still open while the others were refused at the same broker: the form refuses for what the help shows', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    // OrderService's CONNECT is never answered; every other client's is refused.
    const fake = await startRefusingAllBut((clientId) => clientId.endsWith('-order'));
    t.after(() => fake.close());
    await withApp(t, brokerQuery(fake.wsUrl), async ({ page }) => {
      const help = page.locator('[data-testid="broker-help"]');
      await help.filter({ hasText: /refused/ }).waitFor({ timeout: 30_000 });
      assert.equal(await page.getAttribute('[data-testid="status-order"]', 'data-state'), 'connecting', 'OrderService still waits for its CONNACK');
      await page.click('[data-testid="place-order"]');
      const formError = page.locator('[data-testid="form-error"]');
      await formError.waitFor({ state: 'visible' });
      const said = ((await formError.textContent()) ?? '').replace(/\s+/g, ' ');
      assert.doesNotMatch(said, /still connecting|Wait until it shows connected/, `the form agrees with the help: "${said}"`);
      assert.match(said, /refused/, said);
    });
  });

  // A newcomer's break-test: Place 10 orders, then Connect to a second Mosquitto while they
  // were open. The messages in flight stayed on the first broker and the read model missed
  // events, and nothing near the Broker field said so, beforehand or at the switch.
  it('switching brokers with orders open: a note under the Broker field says their messages in flight stay on the old broker and what to do', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const other = await startBroker({ logAll: false });
    const witness = await watchEveryTopic(broker);
    try {
      await withApp(t, `${brokerQuery(broker.wsUrl)}&payment_ms=5000&inventory_ms=0`, async ({ page }) => {
        await waitReady(page);
        assert.equal(await page.locator('[data-testid="broker-switch-note"]').count(), 0, 'nothing to say before a switch');
        await page.click('[data-testid="place-ten"]');
        await witness.waitFor(() => witness.messages.filter((m) => m.topic === 'orders/created').length >= 10, 10_000, '10 orders created');
        await page.fill('#broker-url', other.wsUrl);
        await page.click('[data-testid="apply-broker"]');
        const note = page.locator('[data-testid="broker-switch-note"]');
        await note.waitFor();
        const text = ((await note.textContent()) ?? '').trim();
        assert.match(text, new RegExp(`^Switched brokers with 10 orders open( and \\d+ messages? not yet acknowledged)?: the messages ${broker.wsUrl.replace(/[.]/g, '\\.')} accepted and had not yet delivered to the services stay on that broker \\(a persistent session lives on one broker, and ${other.wsUrl.replace(/[.]/g, '\\.')}, if it is another broker, has none of these services'\\)`), text);
        assert.match(text, /the read model may miss events: its lag line says so, and Rebuild \(Read model panel\) projects them from the event store\.( The (\d+ messages|message) not yet acknowledged (are|is) published again on \S+\.)?$/);
        assert.equal(await note.getAttribute('role'), 'status', 'said, not asked: a teacher switches on purpose');
        // Under the field, as it says (a newcomer's break-test: the re-made field came back
        // below the notes about it).
        const field = await page.locator('#broker-url').boundingBox();
        const under = await note.boundingBox();
        assert.ok(field && under && under.y >= field.y + field.height, `the note under the field: ${JSON.stringify({ field, under })}`);

        // A newcomer's break-test: the services' retained online statuses stayed on the broker
        // they left (their DISCONNECT discards the Will), and every page that came to it later
        // warned that another page's services processed every order there too.
        await page.locator('[data-testid="status-query"][data-state="connected"]').waitFor({ timeout: 10_000 });
        const late = await startWitness({ tcpPort: broker.tcpPort, topics: ['services/+/status'] });
        try {
          for (const service of ['order', 'payment', 'inventory', 'notification', 'query']) {
            const held = await late.waitFor((m) => m.topic === `services/${service}/status`, 5_000, `the retained status of ${service}`);
            assert.deepEqual([held.json?.status, held.json?.reason], ['offline', 'left for another broker (DISCONNECT)'], held.payload);
          }
        } finally {
          await late.close();
        }

        // Back to the first broker with orders open again (break-test 32-E F6): it keeps the
        // sessions the services left there, and the note no longer says it has none.
        await page.locator('[data-testid="place-ten"][data-ready="true"]').waitFor({ timeout: 10_000 });
        const rows = await page.locator('[data-testid="order-row"]').count();
        await page.click('[data-testid="place-ten"]');
        await page.waitForFunction((n) => document.querySelectorAll('[data-testid="order-row"]').length >= n + 10, rows, { timeout: 10_000 });
        await page.fill('#broker-url', broker.wsUrl);
        await page.click('[data-testid="apply-broker"]');
        await page.waitForFunction((url) => document.querySelector('[data-testid="broker-switch-note"]')?.textContent?.includes(`the messages ${url} accepted`), other.wsUrl);
        const back = ((await note.textContent()) ?? '').trim();
        assert.ok(back.includes(`(a persistent session lives on one broker; ${broker.wsUrl} still holds the sessions these services left on it earlier, and sends what it queued for them since)`), back);
        assert.doesNotMatch(back, /has none of these services'/);
      });
    } finally {
      await witness.close();
      await other.stop();
    }
  });
});
