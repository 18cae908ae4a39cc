// Regenerates the README's "any broker" screenshot from the real app (the built app in dist/):
// the broker area with the in-page broker in use, the sign-in fields, and what the broker's
// CONNACK says (docs/in-page-broker.png; no Mosquitto needed).
//
//   trunk build && node e2e/screenshot-brokers.mjs

import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { waitForStates } from './lib/app-page.mjs';
import { launchBrowser, openPage } from './lib/browser.mjs';
import { serveDir } from './lib/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = path.join(ROOT, 'docs');

const server = await serveDir(path.join(ROOT, process.env.EDA_DIST ?? 'dist'));
const browser = await launchBrowser();

try {
  const app = await openPage(browser, null);
  const { page } = app;
  await page.setViewportSize({ width: 1280, height: 1600 });
  await page.goto(`${server.url}/?broker=inpage&mqtt=5&qos=2`);
  await waitForStates(page, 'connected');
  await page.locator('[data-testid="broker-capabilities"][data-state="known"]').waitFor();
  await page.$eval('[data-testid="broker-capabilities"] details', (d) => { d.open = true; });
  // From the broker field down to the end of the capabilities list.
  const top = await page.$eval('section.broker', (e) => e.getBoundingClientRect());
  const bottom = await page.$eval('[data-testid="broker-capabilities"]', (e) => e.getBoundingClientRect());
  const file = path.join(DOCS, 'in-page-broker.png');
  await page.screenshot({
    path: file,
    clip: { x: top.x, y: top.y + (await page.evaluate(() => window.scrollY)), width: top.width, height: bottom.bottom - top.top + 8 },
    fullPage: true,
  });
  console.log(`screenshot: ${file}`);
  await app.close();
} finally {
  await browser.close();
  await server.close();
}
