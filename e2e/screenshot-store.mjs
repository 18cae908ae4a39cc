// Regenerates the README's event sourcing and CQRS screenshots from the real app against a
// private Mosquitto (the built app in dist/): the Event store panel with an order rewound to an
// earlier version (docs/event-store.png), and the read model with the analytics charts after a
// few orders, some declined (docs/read-model-analytics.png).
//
//   trunk build && node e2e/screenshot-store.mjs

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

/** A picture of the element `selector` picks. */
async function shot(page, selector, name) {
  const element = await page.$(selector);
  await element.scrollIntoViewIfNeeded();
  const file = path.join(DOCS, name);
  await element.screenshot({ path: file });
  console.log(`screenshot: ${file}`);
}

try {
  const app = await openPage(browser, null);
  const { page } = app;
  await page.setViewportSize({ width: 1280, height: 2400 });
  // Orders over 50.00 are declined: the seed's order (59.98) is, a cheaper one is not.
  await page.goto(`${server.url}/?broker=${broker.wsUrl}&decline_over=50&payment_ms=300&inventory_ms=200`);
  await waitReady(page, broker);
  const place = async (price) => {
    await page.fill('#price-0', price);
    await page.click('[data-testid="place-order"]');
  };
  for (const price of ['9.99', '29.99', '12.50', '19.99', '24.00']) await place(price);
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="store-stream"]')].filter((s) => ['Completed', 'Cancelled'].includes(s.dataset.status)).length >= 5,
    null,
    { timeout: 20_000 },
  );
  // The declined one (2 × 29.99), rewound to its second version.
  const declined = page.locator('[data-testid="store-stream"][data-status="Cancelled"]').first();
  await declined.click();
  await page.locator('[data-testid="store-rewind"]').fill('2');
  await page.locator('[data-testid="store-rewound"][data-version="2"]').waitFor();
  await shot(page, '[data-testid="event-store"]', 'event-store.png');
  await page.fill('#query-customer', 'C123');
  await shot(page, '[data-testid="read-model"]', 'read-model.png');
  await shot(page, '[data-testid="analytics-panel"]', 'analytics.png');
  await app.close();
} finally {
  await browser.close();
  await server.close();
  await broker.stop();
}
