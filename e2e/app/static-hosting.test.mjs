// Static hosting from a subpath: the same dist/ the other files serve at "/", served here at
// /eda-playground/ as GitHub Pages serves a project (Trunk.toml's public_url = "./" makes every
// asset URL relative to the page). The page loads with nothing fetched outside the subpath, its
// services connect to the test Mosquitto, an order completes on the wire, and the copied link
// keeps the subpath and opens the page again. README "Publish the page".
//
//   node --test e2e/app/static-hosting.test.mjs      (this topic alone, after `trunk build`)

import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';

import { FLOW_TIMEOUT_MS, brokerQuery, placeSeedOrderAndExpectFlow, placedOrderId } from '../lib/app-page.mjs';
import { CASE_TIMEOUT_MS, DIST, broker, describeApp, server, waitReady, withApp } from '../lib/app-suite.mjs';
import { serveDir } from '../lib/serve.mjs';
import { waitForRow, watchEveryTopic } from '../lib/saga.mjs';

const SUBPATH = '/eda-playground';

// Every request the page makes to the static server (not the broker's WebSocket), as
// "<status> <pathname>", recorded from the first navigation on.
function recordServerRequests(page) {
  const seen = [];
  const origin = new URL(server.url).origin;
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (url.origin === origin) seen.push(`${response.status()} ${url.pathname}`);
  });
  page.on('requestfailed', (request) => {
    const url = new URL(request.url());
    if (url.origin === origin) seen.push(`failed ${url.pathname}`);
  });
  return seen;
}

describeApp('static hosting', () => {
  it('from a subpath: the page loads its assets there, its services connect, an order completes, and the copied link keeps the subpath', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    assert.ok(server.url.endsWith(SUBPATH), `served at ${server.url}`);
    const origin = new URL(server.url).origin;
    let link;
    await withApp(t, null, async ({ page }) => {
      const requests = recordServerRequests(page);
      await page.goto(`${server.url}${brokerQuery(broker.wsUrl)}`);
      // By the load event the stylesheet and the module graph are fetched: a miss shows here.
      const missed = () => requests.filter((r) => !/^(200|301|304) /.test(r));
      assert.deepEqual(missed(), [], `every asset found: ${requests.join(', ')}`);
      await waitReady(page);

      // html, js, wasm and css all came from the subpath, and none was refused.
      const kinds = ['.js', '_bg.wasm', '.css'];
      for (const kind of kinds) {
        assert.ok(
          requests.some((r) => r.startsWith(`200 ${SUBPATH}/`) && r.endsWith(kind)),
          `a ${kind} loaded from ${SUBPATH}/: ${requests.join(', ')}`,
        );
      }
      const outside = requests.filter((r) => !/^(200|301|304) /.test(r) || !r.split(' ')[1].startsWith(`${SUBPATH}/`));
      assert.deepEqual(outside, [], 'every request to the server stays inside the subpath and succeeds');

      // An order completes: the saga's outcome on the wire (independent MQTT.js client) and in the page.
      const witness = await watchEveryTopic(broker);
      try {
        const orderId = await placeSeedOrderAndExpectFlow(page, witness);
        assert.equal(orderId, await placedOrderId(page));
        await witness.waitForOrder('orders/confirmed', orderId, FLOW_TIMEOUT_MS);
        await waitForRow(page, orderId, 'Completed');
      } finally {
        await witness.close();
      }

      // A setting changed in the page goes into the address, which keeps the subpath.
      await page.selectOption('#flow-qos', '2');
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      await page.click('[data-testid="copy-link"]');
      await page.locator('[data-testid="link-copied"]').waitFor({ state: 'visible' });
      link = await page.evaluate(() => navigator.clipboard.readText());
    });

    const copied = new URL(link);
    assert.equal(copied.origin, origin, link);
    assert.equal(copied.pathname, `${SUBPATH}/`, `the copied link keeps the subpath: ${link}`);
    assert.equal(copied.searchParams.get('broker'), broker.wsUrl, link);
    assert.equal(copied.searchParams.get('qos'), '2', link);

    // The link, opened as a visitor would (without the trailing slash: the server redirects
    // to the folder, as GitHub Pages does), opens the page set up the same way.
    const withoutSlash = `${origin}${SUBPATH}${copied.search}`;
    await withApp(t, null, async ({ page }) => {
      const requests = recordServerRequests(page);
      await page.goto(withoutSlash);
      await waitReady(page);
      assert.equal(new URL(page.url()).pathname, `${SUBPATH}/`, page.url());
      assert.equal(await page.inputValue('#flow-qos'), '2', 'QoS restored from the link');
      assert.equal(await page.inputValue('#broker-url'), broker.wsUrl, 'broker restored from the link');
      assert.deepEqual(requests.filter((r) => !/^(200|301|304) /.test(r)), [], 'every asset found');
    });
  });

  // A newcomer's break-test (34-I F3): a copy of dist/ without the app's .wasm (or a truncated
  // one) gave a blank white page, the reason only in the console.
  it('a copy missing the app\'s .wasm: the page says it could not start, and why, instead of staying blank; a whole copy says nothing of the kind once started', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const copy = await mkdtemp(path.join(os.tmpdir(), 'eda-no-app-wasm-'));
    await cp(DIST, copy, { recursive: true });
    const wasm = (await readdir(copy)).find((f) => f.startsWith('eda-playground-') && f.endsWith('_bg.wasm'));
    assert.ok(wasm, 'the app\'s .wasm in dist/');
    await rm(path.join(copy, wasm));
    const hosted = await serveDir(copy);
    try {
      await withApp(t, null, async ({ page }) => {
        await page.goto(`${hosted.url}${brokerQuery(broker.wsUrl)}`);
        const note = page.locator('#eda-starting.failed[role="alert"]');
        await note.waitFor({ timeout: FLOW_TIMEOUT_MS }).catch(async (error) => {
          throw new Error(`no failure said: ${await page.evaluate(() => document.getElementById('eda-starting')?.outerHTML ?? document.body.innerHTML.slice(0, 500))}`, { cause: error });
        });
        assert.match((await note.textContent()) ?? '', /^The playground could not start: .*404.*Reload the page\. If this copy was published from dist\//);
      });
    } finally {
      await hosted.close();
      await rm(copy, { recursive: true, force: true });
    }
    await withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => {
      await waitReady(page);
      assert.equal(await page.locator('#eda-starting').count(), 0, 'the starting note is gone once the app runs');
    });
  });
}, { prefix: SUBPATH });
