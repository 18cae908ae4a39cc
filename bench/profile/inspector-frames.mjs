// What the packet inspector shows under a reader's pointer, frame by frame, while ten orders
// arrive above the row they scrolled to: the e2e suite checks the row is back once the orders
// are done; this counts the frames in between that showed another row or none.
//
//   node bench/profile/inspector-frames.mjs [--runs 5] [--app-dir dist]
//
// Each run: a fresh page (Mosquitto of its own, the app served from --app-dir, default dist/,
// after `trunk build`), twenty orders placed, the inspector scrolled two wheel steps down (120
// px) with the pointer in the middle of the list, then "Place 10 orders" clicked without
// moving the pointer. A probe samples the row at the pointer once per frame, after layout and
// before paint (a ResizeObserver on an element resized every animation frame: what the next
// painted frame shows), for 4 s. Prints, per run, the frames sampled and those without the
// reader's row, and the trail of (row @ scrollTop) changes. Speed is not measured here: a
// frame "wrong" is a blank list or another row painted under the pointer.
import { startBroker } from '../../e2e/lib/broker.mjs';
import { launchBrowser, openPage } from '../../e2e/lib/browser.mjs';
import { serveDir } from '../../e2e/lib/serve.mjs';
import { waitReady } from '../../e2e/lib/app-page.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => {
  if (a.startsWith('--')) pairs.push([a.slice(2), all[i + 1] ?? '']);
  return pairs;
}, []));
const RUNS = Number(args.runs ?? 5);
const APP_DIR = args['app-dir'] ?? 'dist';
const LIST = '[data-testid="packet-list"]';

const broker = await startBroker();
const server = await serveDir(APP_DIR);
const browser = await launchBrowser();
let runsWithWrongFrames = 0;
try {
  for (let run = 1; run <= RUNS; run += 1) {
    const app = await openPage(
      browser,
      `${server.url}/?broker=${broker.wsUrl}&payment_ms=0&inventory_ms=0&view=packets`,
      { timeoutMs: 60_000, contextOptions: { viewport: { width: 1280, height: 900 } } },
    );
    const { page } = app;
    await waitReady(page, broker);
    for (let i = 0; i < 2; i += 1) await page.click('[data-testid="place-ten"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="orders-count"]')?.dataset.completed === '20', null, { timeout: 60_000 });
    await page.evaluate((sel) => document.querySelector(sel).scrollIntoView({ block: 'center' }), LIST);
    const box = await page.locator(LIST).boundingBox();
    const [x, y] = [Math.round(box.x + box.width / 2), Math.round(box.y + box.height / 2)];
    await page.mouse.move(x, y);
    for (let i = 0; i < 2; i += 1) {
      await page.mouse.wheel(0, 60);
      await page.waitForFunction((sel) => document.querySelector(sel).scrollTop > 0, LIST);
    }
    // Settled: the same row under the pointer for ten frames.
    const reader = await page.evaluate(([x, y]) => new Promise((done) => {
      let seen = null; let same = 0;
      const look = () => {
        const seq = document.elementFromPoint(x, y)?.closest('tr.packet-row')?.dataset.seq ?? null;
        same = seq !== null && seq === seen ? same + 1 : 0;
        seen = seq;
        if (same >= 10) done(seq); else requestAnimationFrame(look);
      };
      requestAnimationFrame(look);
    }), [x, y]);
    await page.evaluate(([sel, x, y]) => {
      window.__samples = [];
      const probe = document.createElement('div');
      probe.style.cssText = 'position:fixed;left:0;top:0;height:1px;pointer-events:none;opacity:0';
      document.body.append(probe);
      const list = document.querySelector(sel);
      new ResizeObserver(() => {
        const seq = document.elementFromPoint(x, y)?.closest('tr.packet-row')?.dataset.seq ?? null;
        window.__samples.push({ seq, top: list.scrollTop });
      }).observe(probe);
      const tick = () => { probe.style.width = probe.style.width === '1px' ? '2px' : '1px'; requestAnimationFrame(tick); };
      tick();
      document.querySelector('[data-testid="place-ten"]').click();
    }, [LIST, x, y]);
    await page.waitForTimeout(4000);
    const samples = await page.evaluate(() => window.__samples);
    const wrong = samples.filter((s) => s.seq !== reader).length;
    if (wrong > 0) runsWithWrongFrames += 1;
    let trail = ''; let last = '';
    for (const s of samples) {
      const at = `${s.seq}@${s.top}`;
      if (at !== last) trail += ` ${at}`;
      last = at;
    }
    console.log(`run ${run}: row ${reader} under the pointer; ${samples.length} frames, ${wrong} without it;${trail}`);
    await app.close();
  }
  console.log(`runs with a frame without the reader's row: ${runsWithWrongFrames} of ${RUNS}`);
} finally {
  await browser.close();
  await server.close();
  await broker.stop();
}
