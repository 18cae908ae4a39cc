// The frame of every end-to-end file in e2e/app/: the built app (Trunk's dist/) in Debian's
// Chromium, its four services talking to a private Mosquitto, watched by an independent MQTT.js
// client and by the broker's own log.
//
//   trunk build && npm test            (EDA_DIST=<dir> to test another build)
//
// Each file of e2e/app/ is one describeApp block, run by node --test in its own process: its
// own Mosquitto on free ports, its own static server for dist/, its own Chromium.
//
//   import { CASE_TIMEOUT_MS, broker, describeApp, waitReady, withApp } from '../lib/app-suite.mjs';
//   describeApp('sequence diagram', () => {
//     it('…', { timeout: CASE_TIMEOUT_MS }, (t) =>
//       withApp(t, brokerQuery(broker.wsUrl), async ({ page }) => { await waitReady(page); }));
//   });
//
// `broker`, `server` and `browser` are live bindings: null while the cases are registered, set
// by the block's before() and so in every case. A case that starts a broker of its own hands it
// to setLateBroker, so that its log is saved too on failure.
// Selectors: docs/dom-contract.md. Payloads: the seed's "Data Flow" (e2e/lib/seed.mjs).
// On failure, a screenshot, the page console and the broker logs go to e2e/artifacts/.

import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import * as appPage from './app-page.mjs';
import { startBroker } from './broker.mjs';
import { assertNoPanics, launchBrowser, openPage } from './browser.mjs';
import { watchEveryTopic } from './saga.mjs';
import { serveDir } from './serve.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST = path.resolve(ROOT, process.env.EDA_DIST ?? 'dist');
export const ARTIFACTS = path.join(ROOT, 'e2e', 'artifacts');

export const CASE_TIMEOUT_MS = 120_000;

export let broker = null;
export let server = null;
export let browser = null;
let lateBroker = null; // the broker a case starts itself (e.g. "broker down, then up"), or null

export function setLateBroker(value) {
  lateBroker = value;
}

/**
 * A describe block named after `topic`: the broker, server and browser started before its cases
 * and stopped after them; `register()` adds the cases. One at a time in a process.
 * `serve.prefix` (e.g. '/eda-playground') serves the app under that subpath instead of at '/'
 * (lib/serve.mjs); `server.url` then ends with it.
 */
export function describeApp(topic, register, serve = {}) {
  describe(`${topic}: the app in Chromium against a real Mosquitto`, () => {
    if (!existsSync(path.join(DIST, 'index.html'))) {
      it('needs the built app', () => {
        throw new Error(
          `${path.join(DIST, 'index.html')} missing: build the app first (\`trunk build\` at the ` +
            'repository root), or set EDA_DIST to a directory holding a built app',
        );
      });
      return;
    }

    before(async () => {
      if (broker || server || browser) throw new Error(`${topic}: another describeApp block is running`);
      broker = await startBroker({ logAll: true });
      server = await serveDir(DIST, serve);
      browser = await launchBrowser();
    });

    after(async () => {
      await browser?.close();
      await server?.close();
      await broker?.stop();
      [broker, server, browser] = [null, null, null];
    });

    register();
  });
}

/**
 * Runs one case on its own page (fresh browser context). Afterwards the console must hold no
 * Rust panic. On failure, saves a screenshot, the console and the broker log.
 */
export async function withApp(t, query, body, contextOptions = {}) {
  const app = await openPage(browser, null, { contextOptions });
  try {
    if (query !== null) await app.page.goto(`${server.url}${query}`);
    await body(app);
    assertNoPanics(app);
  } catch (error) {
    const saved = await saveArtifacts(t.name, app).catch((e) => `(could not save: ${e.message})`);
    const tail = app.console.slice(-30).join('\n') || '(empty)';
    throw new Error(
      `${error.message}\n--- page console (last 30) ---\n${tail}\n--- artifacts: ${saved}`,
      { cause: error },
    );
  } finally {
    await app.close();
  }
}

// The broker logs are named after the case: the files of e2e/app/ may run at the same time.
async function saveArtifacts(name, app) {
  // At most 120 characters: a long case name made a file name the system refused.
  const slug = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 120);
  await mkdir(ARTIFACTS, { recursive: true });
  const base = path.join(ARTIFACTS, slug);
  await writeFile(`${base}.console.txt`, app.console.join('\n'));
  await writeFile(`${base}.mosquitto.log`, broker.log());
  if (lateBroker) await writeFile(`${base}.mosquitto-late.log`, lateBroker.log());
  await app.page.screenshot({ path: `${base}.png`, fullPage: true }).catch(() => {});
  return `${base}.{png,console.txt,mosquitto.log}`;
}

/** All four services connected and subscribed (lib/app-page.mjs), on the suite's broker by default. */
export function waitReady(page, onBroker = broker) {
  return appPage.waitReady(page, onBroker);
}

/** The form's order followed through (lib/app-page.mjs), on the suite's broker by default. */
export function placeWatchedOrder(page, { onBroker = broker, protocolVersion = 4 } = {}) {
  return appPage.placeWatchedOrder(page, { onBroker, protocolVersion });
}

/**
 * Runs `body({ page, ids, witness })` on a ready page opened with `params` (after
 * `?broker=…`): `ids` its clients' ids, `witness` an independent MQTT client of `#` on the
 * suite's broker, closed afterwards.
 */
export const watched = (t, params, body, contextOptions = {}) =>
  withApp(t, `${appPage.brokerQuery(broker.wsUrl)}${params}`, async ({ page }) => {
    const ids = await waitReady(page);
    const witness = await watchEveryTopic(broker);
    try {
      await body({ page, ids, witness });
    } finally {
      await witness.close();
    }
  }, contextOptions);
