// Regenerates the README's screenshots from the real app: a private Mosquitto, the built app
// (dist/), one order placed at QoS 1, and pictures once its three notifications are shown: the
// page (docs/screenshot.png), the sequence diagram filtered to that order
// (docs/sequence-diagram.png), the packet inspector with one packet open
// (docs/packet-inspector.png), and the flow diagram while payment and inventory are still
// working (docs/flow-diagram.png); then, in a second page with the payment declined, the
// Orders panel and the sequence diagram of the cancelled order (docs/saga-cancelled.png).
//
//   trunk build && node e2e/screenshot.mjs [docs/screenshot.png]

import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startBroker } from './lib/broker.mjs';
import { launchBrowser, openPage } from './lib/browser.mjs';
import { serveDir } from './lib/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs', 'screenshot.png'));

const broker = await startBroker({ logAll: true });
const server = await serveDir(path.join(ROOT, process.env.EDA_DIST ?? 'dist'));
const browser = await launchBrowser();
try {
  const app = await openPage(browser, null);
  // Tall enough for the form and the diagrams to be on screen together: a part scrolled off
  // screen is drawn only once a second, and the shots want the dots mid-flight.
  await app.page.setViewportSize({ width: 1280, height: 2400 });
  await app.page.goto(`${server.url}/?broker=${broker.wsUrl}`);
  await app.page.waitForFunction(() =>
    ['order', 'payment', 'inventory', 'notification'].every(
      (s) => document.querySelector(`[data-testid="status-${s}"]`)?.dataset.state === 'connected',
    ),
  );
  // The subscriptions go out right after CONNACK; wait for the broker to have granted them.
  await broker.waitForLog(/Sending SUBACK to eda-[0-9a-f]+-notification/, 10_000);
  await app.page.click('[data-testid="place-order"]');
  // Mid-order: the dots are on their way and payment is counting down.
  await app.page.locator('[data-testid="flow-node-payment"][data-activity="working"]').waitFor();
  const flow = path.join(path.dirname(out), 'flow-diagram.png');
  await (await app.page.$('.flow-diagram')).screenshot({ path: flow });
  console.log(`screenshot: ${flow}`);
  await app.page.waitForFunction(
    () => document.querySelectorAll('[data-testid="notification"]').length >= 3,
    null,
    { timeout: 20_000 },
  );
  // The page shot: the page's first screen and a little more, from its title to the end of the
  // order form and the logs (the services' badges between). Page coordinates, whatever the scroll.
  const region = await app.page.evaluate(() => {
    const y = (e) => e.getBoundingClientRect().top + window.scrollY;
    const header = document.querySelector('.page-header');
    const main = document.querySelector('main.layout');
    return { top: y(header), bottom: y(main) + main.getBoundingClientRect().height };
  });
  await app.page.screenshot({
    path: out,
    fullPage: true,
    clip: { x: 0, y: Math.max(0, region.top - 8), width: 1280, height: Math.min(region.bottom - region.top, 1400) + 16 },
  });
  console.log(`screenshot: ${out}`);

  const docs = path.dirname(out);
  const orderId = (await app.page.textContent('[data-testid="placed-order-id"]')).trim();
  await app.page.selectOption('#sequence-order', orderId);
  // One order at QoS 1: its 13 PUBLISH legs have been drawn (the diagram draws the rows in view).
  await app.page.waitForFunction(() => Number(/(\d+) arrows/.exec(document.querySelector('#sequence-title .muted')?.textContent ?? '')?.[1] ?? 0) >= 28);
  const diagram = path.join(docs, 'sequence-diagram.png');
  await (await app.page.$('.sequence-diagram')).screenshot({ path: diagram });
  console.log(`screenshot: ${diagram}`);

  await app.page.click('[data-testid="seq-arrow"][data-from="PaymentService"][data-label^="PUBLISH"]');
  await app.page.locator('[data-testid="packet-detail"]').waitFor();
  const inspector = path.join(docs, 'packet-inspector.png');
  await (await app.page.$('.packet-inspector')).screenshot({ path: inspector });
  console.log(`screenshot: ${inspector}`);
  await app.close();

  // A declined payment: the saga cancels the order and releases the stock.
  const saga = await openPage(browser, null);
  await saga.page.setViewportSize({ width: 1280, height: 2400 });
  await saga.page.goto(`${server.url}/?broker=${broker.wsUrl}&payment=decline&view=sequence`);
  await saga.page.waitForFunction(() =>
    ['order', 'payment', 'inventory', 'notification'].every(
      (s) => document.querySelector(`[data-testid="status-${s}"]`)?.dataset.state === 'connected',
    ),
  );
  await broker.waitForLog(/Sending SUBACK to eda-[0-9a-f]+-notification/, 10_000);
  await saga.page.click('[data-testid="place-order"]');
  await saga.page.locator('[data-testid="order-row"][data-status="Cancelled"][data-compensations="1"]').waitFor({ timeout: 20_000 });
  const cancelled = (await saga.page.getAttribute('[data-testid="order-row"]', 'data-order-id')).trim();
  await saga.page.selectOption('#sequence-order', cancelled);
  // Zoomed out a step, at the end of the order's saga: the failure and what followed it.
  await saga.page.click('[aria-label="Zoom out"]');
  await saga.page.locator('[data-testid="sequence-scroll"]').evaluate((e) => { e.scrollTop = e.scrollHeight; });
  await saga.page.waitForTimeout(300);
  // Page coordinates (a bounding box is the viewport's).
  const box = (selector) => saga.page.locator(selector).evaluate((e) => {
    const r = e.getBoundingClientRect();
    return { y: r.top + window.scrollY, height: r.height };
  });
  // The two parts in whichever order the page has them, at most 1400 px.
  const parts = [await box('[data-testid="orders-panel"]'), await box('.sequence-diagram')];
  const top = Math.min(...parts.map((p) => p.y));
  const bottom = Math.max(...parts.map((p) => p.y + p.height));
  const sagaShot = path.join(docs, 'saga-cancelled.png');
  await saga.page.screenshot({
    path: sagaShot,
    fullPage: true,
    clip: { x: 0, y: top - 8, width: 1280, height: Math.min(bottom - top, 1400) + 16 },
  });
  console.log(`screenshot: ${sagaShot}`);
  await saga.close();
} finally {
  await browser.close();
  await server.close();
  await broker.stop();
}
