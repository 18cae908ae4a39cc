// The flow diagram: one dot per PUBLISH packet on its edge, timed by the packets, nodes
// counting down their work; with the broker down, every node says so; keyboard and phone width.
// Outside the order flow: a poison message's dead letters, a crashed service's Last Will
// delivered to the status monitor, and a retained stock level under a topic namespace, each dot
// the packet an independent MQTT witness saw on the wire.
//
//   node --test e2e/app/flow-diagram.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';

import { CONNECT_TIMEOUT_MS, FLOW_TIMEOUT_MS, SERVICES, brokerQuery, orderArrows, placeSeedOrderAndExpectFlow, waitForStates } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, broker, describeApp, waitReady, watched, withApp } from '../lib/app-suite.mjs';
import { freePort } from '../lib/broker.mjs';
import { startWitness } from '../lib/mqtt-witness.mjs';

describeApp('flow diagram', () => {
  /**
   * Every edge of the flow diagram under the default saga (parallel), as data-edge:
   * `<from>-<to>-<topic>`.
   */
  const FLOW_EDGES = [
    'client-order-place-order',
    'broker-order-orders/created',
    'broker-order-inventory/reserved',
    'broker-order-payments/processed',
    'broker-order-inventory/released',
    'broker-order-payments/refunded',
    'order-broker-orders/created',
    'order-broker-orders/confirmed',
    'order-broker-orders/cancelled',
    'order-broker-eventstore/orders/+',
    'broker-payment-orders/created',
    'broker-payment-orders/confirmed',
    'broker-payment-orders/cancelled',
    'payment-broker-payments/processed',
    'payment-broker-payments/refunded',
    'broker-inventory-orders/created',
    'broker-inventory-orders/confirmed',
    'broker-inventory-orders/cancelled',
    'inventory-broker-inventory/reserved',
    'inventory-broker-inventory/released',
    'broker-notification-orders/created',
    'broker-notification-payments/processed',
    'broker-notification-inventory/reserved',
    'broker-notification-orders/confirmed',
    'broker-notification-orders/cancelled',
    'broker-notification-payments/refunded',
    'broker-query-eventstore/orders/+',
    // Outside the order flow, in every style: each service's retained status and dead letters,
    // InventoryService's retained stock levels, and what the status monitor is delivered.
    'order-broker-services/order/status',
    'order-broker-deadletter/order',
    'payment-broker-services/payment/status',
    'payment-broker-deadletter/payment',
    'inventory-broker-inventory/stock/+',
    'inventory-broker-services/inventory/status',
    'inventory-broker-deadletter/inventory',
    'notification-broker-services/notification/status',
    'notification-broker-deadletter/notification',
    'query-broker-services/query/status',
    'query-broker-deadletter/query',
    'broker-monitor-services/+/status',
    'broker-monitor-inventory/stock/+',
  ];
  /** The dots of one order that succeeds: one per PUBLISH packet, on its edge. */
  const ORDER_DOTS = {
    'client-order-place-order': 1,
    'order-broker-orders/created': 1,
    'broker-payment-orders/created': 1,
    'broker-inventory-orders/created': 1,
    'broker-notification-orders/created': 1,
    'broker-order-orders/created': 1,
    'payment-broker-payments/processed': 1,
    'inventory-broker-inventory/reserved': 1,
    'broker-notification-payments/processed': 1,
    'broker-notification-inventory/reserved': 1,
    'broker-order-payments/processed': 1,
    'broker-order-inventory/reserved': 1,
    'order-broker-orders/confirmed': 1,
    'broker-notification-orders/confirmed': 1,
    'broker-payment-orders/confirmed': 1,
    'broker-inventory-orders/confirmed': 1,
    // The order's four events (created, the two results, completed), each published by
    // OrderService on eventstore/orders/<orderId> and delivered to QueryService: the order's
    // too (they had no data-order, their payload naming the order as `stream`).
    'order-broker-eventstore/orders/+': 4,
    'broker-query-eventstore/orders/+': 4,
  };
  const ORDER_DOT_COUNT = Object.values(ORDER_DOTS).reduce((a, b) => a + b, 0);

  /**
   * Records in the page, from now on, every flow-pulse element added (dots are removed once
   * their trip is over, so they are counted as they appear) and every change of a flow node's
   * state, activity or text. Read with `flowRecord(page)`.
   */
  const recordFlow = async (page) => {
    // Off screen the diagram is drawn once a second at most: watch it where it is seen.
    await page.locator('[data-testid="flow-svg"]').scrollIntoViewIfNeeded();
    await page.evaluate(() => {
      const record = { pulses: [], nodes: [] };
      window.__flowRecord = record;
      const seen = new WeakSet();
      const takePulse = (el) => {
        if (seen.has(el)) return;
        seen.add(el);
        record.pulses.push({
          seq: el.getAttribute('data-seq'),
          edge: el.getAttribute('data-edge'),
          order: el.getAttribute('data-order'),
          motion: el.getAttribute('data-motion'),
          t: performance.now(),
        });
      };
      const last = {};
      const sampleNodes = () => {
        for (const node of document.querySelectorAll('[data-testid^="flow-node-"]')) {
          const slug = node.getAttribute('data-testid').slice('flow-node-'.length);
          const sample = {
            slug,
            state: node.getAttribute('data-state'),
            activity: node.getAttribute('data-activity'),
            text: node.querySelector('.activity')?.textContent ?? '',
            label: node.getAttribute('aria-label'),
          };
          const key = `${sample.state}|${sample.activity}|${sample.text}`;
          if (last[slug] === key) continue;
          last[slug] = key;
          record.nodes.push({ ...sample, t: performance.now() });
        }
      };
      new MutationObserver((mutations) => {
        for (const mutation of mutations) {
          for (const added of mutation.addedNodes) {
            if (added.nodeType !== Node.ELEMENT_NODE) continue;
            if (added.matches('[data-testid="flow-pulse"]')) takePulse(added);
            added.querySelectorAll('[data-testid="flow-pulse"]').forEach(takePulse);
          }
        }
        sampleNodes();
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      sampleNodes();
    });
  };

  const flowRecord = (page) => page.evaluate(() => window.__flowRecord);

  /** Waits until `count` dots of `orderId` were recorded, then a little longer for strays. */
  async function flowPulsesOf(page, orderId, count) {
    try {
      await page.waitForFunction(
        ({ orderId, count }) => window.__flowRecord.pulses.filter((p) => p.order === orderId).length >= count,
        { orderId, count },
        { timeout: FLOW_TIMEOUT_MS },
      );
    } catch (error) {
      const { pulses } = await flowRecord(page);
      throw new Error(`expected ${count} flow dots for ${orderId}, saw: ${JSON.stringify(pulses)}`, { cause: error });
    }
    await page.waitForTimeout(400);
    return (await flowRecord(page)).pulses.filter((p) => p.order === orderId);
  }

  /**
   * Scrolls the sequence diagram's box down from the top until the arrow of packet `seq` is
   * drawn: the diagram draws only the arrows near its scroll box (an order's 48 do not fit).
   */
  const scrollToArrow = (page, seq) =>
    page.$eval('[data-testid="sequence-scroll"]', async (box, seq) => {
      const frame = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      for (let top = 0; top <= box.scrollHeight; top += Math.max(1, box.clientHeight / 2)) {
        box.scrollTop = top;
        await frame();
        if (box.querySelector(`[data-testid="seq-arrow"][data-seq="${seq}"]`)) return;
      }
    }, seq);

  /**
   * Opens packet `seq` in the packet inspector by clicking its arrow (drawn: `scrollToArrow`);
   * returns its row's data attributes (`kind`, `service`, `direction`, `topic`, `qos` …).
   */
  async function openPacket(page, seq) {
    // The inspector draws only the rows in view: selecting the packet (its arrow) brings its row in.
    // The click goes to the arrow itself, not to a point of the screen: on a loaded machine
    // the diagram could redraw between Playwright's aim and its click, and another arrow's
    // packet opened (seen once in a clean-clone run).
    await page.locator(`[data-testid="seq-arrow"][data-seq="${seq}"]`).dispatchEvent('click');
    return page
      .locator(`[data-testid="packet-row"][data-seq="${seq}"].open`)
      .evaluate((r) => ({ ...r.dataset }))
      .catch(async (e) => assert.fail(`${e.message}; open instead: ${await page.$$eval('[data-testid="packet-row"].open', (rows) => rows.map((r) => r.dataset.seq))}`));
  }

  /**
   * The packet behind a dot, as the packet inspector shows it: its row's data attributes and its
   * payload read as JSON (the inspector indents it).
   */
  async function packetOfDot(page, pulse) {
    assert.match(pulse.seq ?? '', /^\d+$/, `dot on ${pulse.edge} names its packet`);
    await scrollToArrow(page, pulse.seq);
    const row = await openPacket(page, pulse.seq);
    await page.locator(`[data-testid="packet-detail"][data-seq="${pulse.seq}"]`).waitFor();
    const payload = await page.locator('[data-testid="packet-payload"]').textContent();
    return { ...row, json: JSON.parse(payload) };
  }

  /** Waits until a dot on each of `edges` was recorded after `since` (performance.now()); returns all of them since. */
  async function dotsOn(page, edges, since) {
    try {
      await page.waitForFunction(
        ({ edges, since }) => edges.every((edge) => window.__flowRecord.pulses.some((p) => p.edge === edge && p.t >= since)),
        { edges, since },
        { timeout: FLOW_TIMEOUT_MS },
      );
    } catch (error) {
      const { pulses } = await flowRecord(page);
      throw new Error(`expected a dot on each of ${edges.join(', ')}; saw: ${JSON.stringify(pulses.filter((p) => p.t >= since))}`, { cause: error });
    }
    await page.waitForTimeout(400);
    return (await flowRecord(page)).pulses.filter((p) => p.t >= since);
  }

  const countByEdge = (pulses) => {
    const counts = Object.fromEntries(FLOW_EDGES.map((e) => [e, 0]));
    for (const p of pulses) counts[p.edge] = (counts[p.edge] ?? 0) + 1;
    return counts;
  };

  it('flow diagram: one order is one dot per PUBLISH packet on its edge, and payment counts down to done', { timeout: CASE_TIMEOUT_MS }, (t) =>
    withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      await waitReady(page);
      const edges = await page.$$eval('[data-testid="flow-edge"]', (els) =>
        els.map((e) => `${e.dataset.from}-${e.dataset.to}-${e.dataset.topic ?? 'place-order'}`),
      );
      assert.deepEqual(edges, FLOW_EDGES, 'one edge per topic published or subscribed, and the form\'s request');
      await recordFlow(page);

      const witness = await startWitness({ tcpPort: broker.tcpPort });
      let orderId;
      try {
        orderId = await placeSeedOrderAndExpectFlow(page, witness);
      } finally {
        await witness.close();
      }

      // Fan-out: one PUBLISH into the broker, four deliveries out; then each answer in and
      // out to NotificationService and OrderService, which confirms the order. Nothing else,
      // nothing twice.
      const pulses = await flowPulsesOf(page, orderId, ORDER_DOT_COUNT);
      const expected = Object.fromEntries(FLOW_EDGES.map((e) => [e, ORDER_DOTS[e] ?? 0]));
      assert.deepEqual(countByEdge(pulses), expected);

      // Each dot is a traced PUBLISH packet (its seq opens it in the packet inspector), on the
      // leg that packet crossed. The sequence diagram shows this order's arrows only (other
      // orders' packets would push the first ones out of its view).
      // All of them drawn first (the click and its answer, a PUBLISH and its PUBACK per dot),
      // so that none moves while they are clicked.
      await orderArrows(page, orderId, 2 + 2 * (ORDER_DOT_COUNT - 1));
      for (const pulse of pulses.filter((p) => p.edge !== 'client-order-place-order')) {
        assert.match(pulse.seq ?? '', /^\d+$/, `dot on ${pulse.edge} names its packet`);
        const [from, to, ...topic] = pulse.edge.split('-');
        await scrollToArrow(page, pulse.seq);
        if (topic.join('-') === 'eventstore/orders/+') {
          // The order's events, the last of them still arriving: read off the arrow itself.
          const arrow = await page.locator(`[data-testid="seq-arrow"][data-seq="${pulse.seq}"]`).evaluate((a) => ({ ...a.dataset }));
          const lane = { broker: 'Broker', order: 'OrderService', query: 'QueryService' };
          assert.deepEqual([arrow.from, arrow.to], [lane[from], lane[to]], `arrow ${pulse.seq} behind the dot on ${pulse.edge}`);
          assert.ok(arrow.label.startsWith(`PUBLISH eventstore/orders/${orderId} (QoS 1`), arrow.label);
          continue;
        }
        const row = await openPacket(page, pulse.seq);
        const service = from === 'broker' ? to : from;
        assert.deepEqual(
          [row.kind, row.service, row.direction, row.topic, row.qos],
          ['PUBLISH', service, from === 'broker' ? 'in' : 'out', topic.join('-'), '1'],
          `packet ${pulse.seq} behind the dot on ${pulse.edge}`,
        );
      }

      await page.selectOption('#sequence-order', '');

      // Dots start with their packets, not on a guessed schedule: the answers left ~1 s and
      // ~0.8 s after the order, when payment's and inventory's work was over.
      const at = Object.fromEntries(pulses.map((p) => [p.edge, p.t]));
      const sent = at['order-broker-orders/created'];
      assert.ok(at['payment-broker-payments/processed'] - sent >= 800, `payments/processed dot ${at['payment-broker-payments/processed'] - sent} ms after the order`);
      assert.ok(at['inventory-broker-inventory/reserved'] - sent >= 600, `inventory/reserved dot ${at['inventory-broker-inventory/reserved'] - sent} ms after the order`);
      assert.ok(at['broker-payment-orders/created'] - sent < 600, 'the deliveries follow the PUBLISH at once');

      // PaymentService worked, counting its second down, then was done.
      const payment = (await flowRecord(page)).nodes.filter((n) => n.slug === 'payment');
      const working = payment.filter((n) => n.activity === 'working');
      assert.ok(working.length >= 3, `payment showed its countdown: ${JSON.stringify(payment)}`);
      const left = working.map((n) => {
        const match = /working (\d+\.\d) s/.exec(n.text);
        assert.ok(match, `countdown text: "${n.text}"`);
        assert.match(n.label, /working on 1 order, next done in \d+\.\d s/);
        return Number(match[1]);
      });
      assert.ok(left[0] <= 1.0 && left[0] >= 0.5, `starts near 1 s: ${left}`);
      assert.ok(left.every((s, i) => i === 0 || s <= left[i - 1]), `counts down: ${left}`);
      assert.ok(left.at(-1) < left[0], `and moves: ${left}`);
      const done = payment.findIndex((n) => n.activity === 'done');
      assert.ok(done > payment.indexOf(working.at(-1)), `done after working: ${JSON.stringify(payment)}`);
      assert.ok(payment[done].t - working[0].t >= 800, 'done once the simulated second is over');
      assert.equal(payment[done].state, 'connected');
      assert.equal(await page.getAttribute('[data-testid="flow-node-payment"]', 'data-activity'), 'done');
      assert.equal(await page.getAttribute('[data-testid="flow-node-client"]', 'data-activity'), 'done');

      // A second order, with reduced motion: new dots with new keys, shown at their edge's head.
      await page.emulateMedia({ reducedMotion: 'reduce' });
      await page.locator('[data-testid="flow-svg"]').scrollIntoViewIfNeeded();
      const witness2 = await startWitness({ tcpPort: broker.tcpPort });
      let second;
      try {
        second = await placeSeedOrderAndExpectFlow(page, witness2);
      } finally {
        await witness2.close();
      }
      const again = await flowPulsesOf(page, second, ORDER_DOT_COUNT);
      assert.deepEqual(countByEdge(again), countByEdge(pulses), 'the same dots for the second order');
      const firstSeqs = new Set(pulses.map((p) => p.seq).filter(Boolean));
      assert.ok(again.every((p) => !firstSeqs.has(p.seq)), 'each dot is keyed by its own packet');
      assert.ok(again.every((p) => p.motion === 'arrive'), `reduced motion: ${again.map((p) => p.motion)}`);
      assert.ok(pulses.every((p) => p.motion === 'travel'), `motion: ${pulses.map((p) => p.motion)}`);
      // Their trips over, the dots are gone from the page.
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="flow-pulse"]').length === 0, null, { timeout: 5_000 });
      // A tall window: the form clicked and the diagram watched are on screen together (off
      // screen the diagram is drawn once a second, and a 600 ms dot could be missed).
    }, { viewport: { width: 1280, height: 2400 } }));

  it('flow diagram: with the broker down every node says so, and it is readable by keyboard and at phone width', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const nowhere = `ws://127.0.0.1:${await freePort()}`;
    await withApp(t, brokerQuery(nowhere), async ({ page }) => {
      await waitForStates(page, 'disconnected');
      // The nodes read in one look taken while every service is between two tries (each try
      // is refused at once and says *connecting* for a moment: reading them one after the other
      // caught one mid-try on a clean-clone run).
      const snapshot = await page.waitForFunction((services) => {
        const nodes = Object.fromEntries([...document.querySelectorAll('[data-testid^="flow-node-"]')].map((e) => [e.dataset.testid.slice('flow-node-'.length), {
          state: e.dataset.state ?? null,
          classes: e.getAttribute('class'),
          text: e.textContent,
          tabindex: e.getAttribute('tabindex'),
          label: e.getAttribute('aria-label'),
          title: e.querySelector('title')?.textContent,
        }]));
        const down = [...services, 'broker'].every((name) => nodes[name]?.state === 'disconnected');
        return down ? nodes : null;
      }, SERVICES, { timeout: CONNECT_TIMEOUT_MS });
      const nodes = await snapshot.jsonValue();
      assert.deepEqual(Object.keys(nodes), ['client', 'order', 'broker', 'payment', 'inventory', 'notification', 'query', 'monitor']);
      for (const service of SERVICES) {
        const node = nodes[service];
        assert.equal(node.state, 'disconnected', `${service}: ${JSON.stringify(node)}`);
        assert.match(node.classes, /\bdisconnected\b/, `${service} is drawn as disconnected`);
        assert.ok(node.text.includes('✕ disconnected'), `${service} says so with a symbol: ${node.text}`);
      }
      assert.equal(nodes.broker.state, 'disconnected');
      assert.ok(nodes.broker.text.includes('✕ unreachable') && nodes.broker.text.includes(nowhere.slice('ws://'.length)), nodes.broker.text);

      // Every node and edge has words for screen readers; the diagram is one Tab stop (45-AU
      // F3: its 45 nodes and edges were 45 stops between the form and the packet inspector),
      // and the arrow keys move across its items.
      const edges = await page.$$eval('[data-testid="flow-edge"]', (els) =>
        els.map((e) => ({ tabindex: e.getAttribute('tabindex'), label: e.getAttribute('aria-label') })),
      );
      const items = [...Object.values(nodes), ...edges];
      for (const item of items) {
        assert.ok(item.label && item.label.length > 10, `aria-label: ${item.label}`);
      }
      assert.deepEqual(items.map((i) => i.tabindex), items.map((_, i) => (i === 0 ? '0' : '-1')), 'the first node is the one Tab stop');
      assert.match(nodes.payment.label, /^PaymentService, disconnected: idle$/);
      assert.equal(nodes.payment.title, nodes.payment.label);
      const focused = () => page.evaluate(() => {
        const el = document.activeElement;
        return el?.dataset.testid === 'flow-edge' ? `edge ${el.dataset.from}→${el.dataset.to} ${el.dataset.topic ?? ''}` : el?.dataset.testid;
      });
      await page.focus('[data-testid="flow-node-payment"]');
      assert.equal(await focused(), 'flow-node-payment');
      await page.keyboard.press('ArrowRight');
      assert.equal(await focused(), 'flow-node-inventory', 'an arrow moves to the next node');
      await page.keyboard.press('End');
      const lastEdge = await focused();
      assert.match(lastEdge, /^edge /, 'End moves to the last edge');
      await page.keyboard.press('ArrowLeft');
      assert.notEqual(await focused(), lastEdge, 'an arrow moves back');
      await page.keyboard.press('ArrowRight');
      assert.equal(await focused(), lastEdge);
      // Tab leaves the diagram at once, and Shift+Tab comes back to the item it left.
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.closest('[data-testid="flow-svg"]') === null), true, 'Tab leaves the diagram');
      await page.keyboard.press('Shift+Tab');
      assert.equal(await focused(), lastEdge, 'Shift+Tab returns to the item last focused');
      assert.equal(await page.$$eval('[data-testid="flow-svg"] [tabindex="0"]', (els) => els.length), 1, 'still one Tab stop');
      // The focused edge leaves the diagram with a switch of saga style (orchestration has no
      // orders/created to PaymentService): the item now holding the focus is the Tab stop
      // (46-AZ F1: the focus stayed on an element of tabindex -1, and the stop went back to the
      // first node).
      const gone = '[data-roving="edge-broker-payment-orders/created"]';
      await page.focus(gone);
      await page.selectOption('#saga-style', 'orchestration');
      await page.waitForFunction((gone) => !document.querySelector(gone), gone);
      const holder = await page.evaluate(() => ({
        inside: document.activeElement?.closest('[data-testid="flow-svg"]') !== null,
        tabindex: document.activeElement?.getAttribute('tabindex'),
        stops: document.querySelectorAll('[data-testid="flow-svg"] [tabindex="0"]').length,
      }));
      assert.deepEqual(holder, { inside: true, tabindex: '0', stops: 1 });
      await page.selectOption('#saga-style', 'parallel');

      // A refused order shows on the form's node.
      await page.click('[data-testid="place-order"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="flow-node-client"]')?.dataset.activity === 'failed');
      assert.match((await page.textContent('[data-testid="flow-node-client"]')) ?? '', /⚠ refused/);

      // Phone width: one column beside the broker, within the screen.
      await page.setViewportSize({ width: 390, height: 800 });
      await page.waitForFunction(() => document.querySelector('[data-testid="flow-svg"]')?.dataset.layout === 'narrow');
      const box = await page.locator('[data-testid="flow-svg"]').boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= 390, `the diagram fits: ${JSON.stringify(box)}`);
      // The phone held sideways (44-AR F2): side by side, not the one column scaled up to 4
      // screens tall, so the fan-out of one PUBLISH fits on about one.
      await page.setViewportSize({ width: 667, height: 375 });
      await page.waitForFunction(() => document.querySelector('[data-testid="flow-svg"]')?.dataset.layout === 'wide');
      const sideways = await page.locator('[data-testid="flow-svg"]').boundingBox();
      assert.ok(sideways.x >= 0 && sideways.x + sideways.width <= 667, `the diagram fits: ${JSON.stringify(sideways)}`);
      assert.ok(sideways.height <= 1.5 * 375, `at most 1.5 screens tall: ${JSON.stringify(sideways)}`);
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.waitForFunction(() => document.querySelector('[data-testid="flow-svg"]')?.dataset.layout === 'wide');
    });
  });
  /** Dots are counted as they appear: the page is tall enough for the diagram to stay on screen. */
  const TALL = { viewport: { width: 1280, height: 2400 } };
  /** The page's clock, to keep the dots recorded from now on. */
  const pageNow = (page) => page.evaluate(() => performance.now());

  it('flow diagram: a poison message\'s dead letters are one dot on each service\'s deadletter/<service> edge, the packets the witness saw', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, witness }) => {
      await recordFlow(page);
      const since = await pageNow(page);
      // Clicked where it is, without scrolling the diagram out of view.
      await page.locator('[data-testid="send-poison"]').dispatchEvent('click');
      const consumers = ['order', 'payment', 'inventory', 'notification'];
      const letters = {};
      for (const service of consumers) {
        letters[service] = await witness.waitFor((m) => m.topic === `deadletter/${service}`, FLOW_TIMEOUT_MS, `a dead letter of ${service}`);
      }
      const edges = consumers.map((service) => `${service}-broker-deadletter/${service}`);
      const pulses = await dotsOn(page, edges, since);
      const counts = countByEdge(pulses);
      for (const edge of edges) assert.equal(counts[edge], 1, `one dead letter on ${edge}: ${JSON.stringify(counts)}`);
      assert.equal(counts['query-broker-deadletter/query'], 0, 'QueryService had nothing to give up on');
      for (const service of consumers) {
        const pulse = pulses.find((p) => p.edge === `${service}-broker-deadletter/${service}`);
        const packet = await packetOfDot(page, pulse);
        assert.deepEqual(
          [packet.kind, packet.service, packet.direction, packet.topic],
          ['PUBLISH', service, 'out', `deadletter/${service}`],
          `packet ${pulse.seq} behind the dot on ${pulse.edge}`,
        );
        assert.deepEqual(packet.json, letters[service].json, `the dead letter on the wire, ${service}`);
      }
    }, TALL));

  it('flow diagram: Crash PaymentService moves the broker\'s Last Will along broker → Status monitor, the packet the witness saw; PaymentService sends nothing', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '', async ({ page, witness }) => {
      const monitor = await page.locator('[data-testid="flow-node-monitor"]').evaluate((e) => ({ text: e.textContent, label: e.getAttribute('aria-label') }));
      assert.ok(monitor.text.includes('Status monitor'), `the box says its name: ${monitor.text}`);
      assert.match(monitor.label, /^Status monitor: .*services\/\+\/status/);
      await page.locator('[data-testid="presence-payment"][data-online="true"]').waitFor({ timeout: FLOW_TIMEOUT_MS });
      await recordFlow(page);
      const since = await pageNow(page);
      await page.getByRole('button', { name: 'Crash PaymentService' }).dispatchEvent('click');
      const will = await witness.waitFor((m) => m.topic === 'services/payment/status' && m.json?.status === 'offline', FLOW_TIMEOUT_MS, 'the Will');
      const pulses = await dotsOn(page, ['broker-monitor-services/+/status'], since);
      const delivered = [];
      for (const pulse of pulses.filter((p) => p.edge === 'broker-monitor-services/+/status')) {
        const packet = await packetOfDot(page, pulse);
        assert.deepEqual([packet.kind, packet.service, packet.direction], ['PUBLISH', 'monitor', 'in'], `packet ${pulse.seq}`);
        delivered.push(packet);
      }
      assert.ok(
        delivered.some((p) => p.topic === 'services/payment/status' && isDeepStrictEqual(p.json, will.json)),
        `a dot on broker → Status monitor is the Will the witness saw (${JSON.stringify(will.json)}); the dots' packets: ${JSON.stringify(delivered)}`,
      );
      // The broker published the Will: PaymentService's own status edge carried nothing.
      assert.equal(countByEdge(pulses)['payment-broker-services/payment/status'], 0);
    }, TALL));

  it('flow diagram: a stock level set under ?ns= moves along InventoryService → broker and broker → Status monitor on inventory/stock/+, the retained packet the witness saw', { timeout: CASE_TIMEOUT_MS }, (t) =>
    watched(t, '&ns=class-7&stock=P001:10', async ({ page, witness }) => {
      await witness.waitFor((m) => m.topic === 'class-7/inventory/stock/P001' && m.json?.units === 10, FLOW_TIMEOUT_MS, 'P001 at 10, retained');
      await recordFlow(page);
      const since = await pageNow(page);
      // Set where it is, without scrolling the diagram out of view.
      await page.$eval('#stock-levels', (input) => {
        input.value = 'P001:7';
        input.dispatchEvent(new Event('change', { bubbles: true }));
      });
      const level = await witness.waitFor((m) => m.topic === 'class-7/inventory/stock/P001' && m.json?.units === 7, FLOW_TIMEOUT_MS, 'P001 at 7');
      const edges = ['inventory-broker-inventory/stock/+', 'broker-monitor-inventory/stock/+'];
      const pulses = await dotsOn(page, edges, since);
      const expected = { 'inventory-broker-inventory/stock/+': ['inventory', 'out'], 'broker-monitor-inventory/stock/+': ['monitor', 'in'] };
      for (const edge of edges) {
        const packets = [];
        for (const pulse of pulses.filter((p) => p.edge === edge)) packets.push(await packetOfDot(page, pulse));
        // The inspector shows the wire's topic, namespace and all.
        assert.ok(
          packets.some((p) => p.kind === 'PUBLISH' && p.service === expected[edge][0] && p.direction === expected[edge][1]
            && p.topic === 'class-7/inventory/stock/P001' && isDeepStrictEqual(p.json, level.json)),
          `a dot on ${edge} is the level the witness saw (${JSON.stringify(level.json)}): ${JSON.stringify(packets)}`,
        );
      }
    }, TALL));
});
