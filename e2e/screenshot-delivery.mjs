// Regenerates the README's delivery screenshots from the real app against a private Mosquitto
// (the built app in dist/): the Last Will announced after a crash (docs/last-will.png), the
// catch-up after a restart with a persistent session (docs/catch-up.png), a double charge with
// idempotency off (docs/double-charge.png) and the dead letters of a poison message
// (docs/dead-letters.png).
//
//   trunk build && node e2e/screenshot-delivery.mjs

import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { waitReady } from './lib/app-page.mjs';
import { startBroker } from './lib/broker.mjs';
import { launchBrowser, openPage } from './lib/browser.mjs';
import { serveDir } from './lib/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = path.join(ROOT, 'docs');

const broker = await startBroker({ logAll: true });
const server = await serveDir(path.join(ROOT, process.env.EDA_DIST ?? 'dist'));
const browser = await launchBrowser();

/** A ready page at `query` (after `?broker=…`), tall enough for the panels to be drawn. */
async function open(query) {
  const app = await openPage(browser, null);
  await app.page.setViewportSize({ width: 1280, height: 2400 });
  await app.page.goto(`${server.url}/?broker=${broker.wsUrl}${query}`);
  await waitReady(app.page, broker);
  return app;
}

/** A picture of the elements `selectors` pick, together (the box around them all). */
async function shot(page, selectors, name) {
  const all = [selectors].flat();
  await (await page.$(all[0])).scrollIntoViewIfNeeded();
  const boxes = [];
  for (const selector of all) boxes.push(await (await page.$(selector)).boundingBox());
  const x = Math.min(...boxes.map((b) => b.x));
  const y = Math.min(...boxes.map((b) => b.y));
  const width = Math.max(...boxes.map((b) => b.x + b.width)) - x;
  const height = Math.max(...boxes.map((b) => b.y + b.height)) - y;
  const file = path.join(DOCS, name);
  await page.screenshot({ path: file, clip: { x, y, width, height } });
  console.log(`screenshot: ${file}`);
}

try {
  // The Will, then the catch-up: crash PaymentService, place two orders, restart it.
  {
    const { page, close } = await open('&saga_timeout_ms=20000');
    await page.locator('[data-testid="presence-payment"][data-online="true"]').waitFor();
    await page.getByRole('button', { name: 'Crash PaymentService' }).click();
    await page.locator('[data-testid="presence-payment"][data-online="false"]').waitFor();
    await shot(page, '.status-strip', 'last-will.png');
    await page.click('[data-testid="place-order"]');
    await page.click('[data-testid="place-order"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="order-row"]').length >= 2);
    await page.getByRole('button', { name: 'Restart PaymentService' }).click();
    await page.locator('[data-testid="outage"][data-service="payment"][data-restarted="true"]').waitFor({ timeout: 20_000 });
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid="order-row"]')].every((r) => r.dataset.status === 'Completed'),
      null,
      { timeout: 20_000 },
    );
    await shot(page, ['.status-strip', '.outages'], 'catch-up.png');
    await close();
  }
  // A double charge: idempotency off, the order delivered again.
  {
    const { page, close } = await open('&dedupe=off');
    await page.click('[data-testid="place-order"]');
    await page.locator('[data-testid="order-row"][data-status="Completed"]').waitFor({ timeout: 20_000 });
    await page.click('[data-testid="order-deliver-again"]');
    await page.locator('[data-testid="order-double-charge"]').waitFor({ timeout: 20_000 });
    await shot(page, '[data-testid="orders-panel"]', 'double-charge.png');
    await close();
  }
  // A poison message: every consumer of orders/created gives up on it after three tries.
  {
    const { page, close } = await open('');
    await page.click('[data-testid="send-poison"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="dead-letter"]').length >= 3, null, { timeout: 20_000 });
    await shot(page, '[data-testid="dead-letters-panel"]', 'dead-letters.png');
    await close();
  }
} finally {
  await browser.close();
  await server.close();
  await broker.stop();
}
