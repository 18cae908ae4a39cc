// The page's quality, checked in Chromium with one order placed against a real Mosquitto:
// every control has a name in the accessibility tree and is reached by Tab, text is readable
// in the light and the dark scheme (WCAG AA contrast), and a phone-width screen needs no
// sideways scrolling.
//
//   node --test e2e/app/quality.test.mjs      (after `trunk build`; EDA_DIST picks another build)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { broker, describeApp, withApp } from '../lib/app-suite.mjs';
import { waitOrdersAccepted } from '../lib/app-page.mjs';

const TIMEOUT_MS = 120_000;
const SERVICES = ['order', 'payment', 'inventory', 'notification'];
const PHONE = { width: 375, height: 812 };

describeApp('page quality: keyboard, screen readers, light and dark, phone width', () => {
  /** A page with one order through all four services, so every part of the page is drawn. */
  function withOrderedPage(t, contextOptions, body) {
    const query = `/?broker=${broker.wsUrl}&payment_ms=0&inventory_ms=0`;
    return withApp(t, query, async ({ page }) => {
      await page.waitForFunction(
        (services) => services.every((s) => document.querySelector(`[data-testid="status-${s}"]`)?.dataset.state === 'connected'),
        SERVICES,
      );
      // Three SUBACKs: the three subscribing services are ready for an order.
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="packet-row"][data-kind="SUBACK"]').length >= 3);
      await waitOrdersAccepted(page);
      await page.click('[data-testid="place-order"]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="notification"]').length >= 3);
      await body(page);
    }, contextOptions);
  }

  it('every control has a name in the accessibility tree, and Tab reaches each one', { timeout: TIMEOUT_MS }, (t) =>
    withOrderedPage(t, { viewport: { width: 1280, height: 900 } }, async (page) => {
      const cdp = await page.context().newCDPSession(page);
      const { nodes } = await cdp.send('Accessibility.getFullAXTree');
      const NAMED = new Set(['button', 'textbox', 'combobox', 'checkbox', 'spinbutton', 'link', 'slider', 'radio', 'tab', 'img', 'table', 'group', 'alert', 'status']);
      const CONTROLS = new Set(['button', 'textbox', 'combobox', 'checkbox', 'spinbutton', 'link', 'slider', 'radio', 'tab']);
      const unnamed = nodes
        .filter((n) => !n.ignored && CONTROLS.has(n.role?.value) && !(n.name?.value ?? '').trim())
        .map((n) => `${n.role.value} #${n.backendDOMNodeId}`);
      assert.deepEqual(unnamed, [], 'controls without an accessible name');
      const controls = nodes.filter((n) => !n.ignored && NAMED.has(n.role?.value));
      assert.ok(controls.filter((n) => n.role.value === 'button').length >= 20, 'the tree holds the page\'s buttons');
      assert.ok(controls.some((n) => n.role.value === 'combobox' && /speed/i.test(n.name?.value)), 'the speed selector is named');
      assert.ok(controls.some((n) => n.role.value === 'status'), 'live regions announce changes');

      // Every focusable element in the page, in document order, then Tab from the top.
      const count = await page.evaluate(() => {
        const selector = 'a[href], button, input, select, textarea, summary, [tabindex]';
        const focusable = [...document.querySelectorAll(selector)].filter((el) => {
          if (el.disabled || el.getAttribute('tabindex') === '-1') return false;
          // The contents of a closed <details> (the sign-in fields until opened) have a box but
          // are not rendered, and Tab rightly skips them.
          const inside = el.tagName === 'SUMMARY' ? el.parentElement?.parentElement : el;
          if (inside?.closest('details:not([open])')) return false;
          const box = el.getBoundingClientRect();
          return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';
        });
        focusable.forEach((el, i) => { el.dataset.qa = String(i); });
        return focusable.length;
      });
      assert.ok(count >= 60, `focusable elements: ${count}`);
      // From the first control, Tab must visit every other one.
      await page.focus('[data-qa="0"]');
      const reached = new Set(['0']);
      // The virtual lists add rows as focus scrolls them, so allow for more stops than counted.
      for (let i = 0; i < 2 * count + 20 && reached.size < count; i++) {
        await page.keyboard.press('Tab');
        const qa = await page.evaluate(() => document.activeElement?.dataset?.qa ?? null);
        if (qa !== null) reached.add(qa);
      }
      const missed = await page.evaluate(
        (reached) => [...document.querySelectorAll('[data-qa]')]
          .filter((el) => !reached.includes(el.dataset.qa))
          .map((el) => el.outerHTML.slice(0, 120)),
        [...reached],
      );
      assert.deepEqual(missed, [], 'elements Tab never reached');

      // A focused control shows it.
      for (const selector of ['[data-testid="place-order"]', '#speed', '#payment-delay', '[data-testid="pause"]']) {
        await page.focus(selector);
        const outline = await page.$eval(selector, (el) => getComputedStyle(el).outlineStyle);
        assert.notEqual(outline, 'none', `${selector} shows its focus`);
      }
    }));

  // The settings fill more than the first screen: above the services and the order form, a
  // newcomer opening the page saw neither. Now the first screen shows the services and the form,
  // and the settings come below the flow diagram, pointed to from the lede (and from the top of
  // the page when a link's value was refused there).
  it('first screen (1280 x 900): the services, whether they are connected, and Place order; the lede\'s "settings" brings them into view', { timeout: TIMEOUT_MS }, (t) =>
    withApp(t, `/?broker=${broker.wsUrl}`, async ({ page }) => {
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.locator('[data-testid="status-query"][data-state="connected"]').waitFor();
      await page.evaluate(() => window.scrollTo(0, 0));
      for (const service of ['order', 'payment', 'inventory', 'notification', 'query']) {
        const box = await page.locator(`[data-testid="status-${service}"]`).boundingBox();
        assert.ok(box && box.y + box.height <= 900, `${service} on the first screen: ${JSON.stringify(box)}`);
      }
      const button = await page.locator('[data-testid="place-order"]').boundingBox();
      assert.ok(button && button.y >= 0 && button.y + button.height <= 900, `Place order on the first screen: ${JSON.stringify(button)}`);
      assert.equal(await page.locator('[data-testid="settings-refused"]').count(), 0, 'nothing refused, nothing pointed to');
      await page.click('[data-testid="lede-settings-link"]');
      await page.waitForFunction(() => document.activeElement?.id === 'the-settings');
      const coordination = await page.locator('#saga-style').boundingBox();
      assert.ok(coordination && coordination.y >= 0 && coordination.y + coordination.height <= 900, `the saga's coordination in view: ${JSON.stringify(coordination)}`);
    }));

  it('a link whose setting is refused says so on the first screen, and its link leads to the refusal beside the field', { timeout: TIMEOUT_MS }, (t) =>
    withApp(t, `/?broker=${broker.wsUrl}&saga=sideways`, async ({ page }) => {
      await page.setViewportSize({ width: 1280, height: 900 });
      const pointer = page.locator('[data-testid="settings-refused"]');
      await pointer.waitFor();
      await page.evaluate(() => window.scrollTo(0, 0));
      const box = await pointer.boundingBox();
      assert.ok(box && box.y + box.height <= 900, `on the first screen: ${JSON.stringify(box)}`);
      await pointer.locator('a').click();
      await page.waitForFunction(() => document.activeElement?.id === 'the-settings');
      const refusal = page.locator('[data-testid="flow-error"]');
      assert.match(await refusal.textContent(), /Ignored \?saga= in the link/);
      const shown = await refusal.boundingBox();
      assert.ok(shown && shown.y >= 0 && shown.y + shown.height <= 900, `the refusal in view: ${JSON.stringify(shown)}`);
    }));

  // A newcomer's break-test: a refused ?retry_ms= or ?projection_ms= (explained in its own panel)
  // was not pointed to from the first screen, as every other refused link value is.
  it('a link whose wait between tries and projection delay are refused points to the Dead letters and Read model panels from the first screen', { timeout: TIMEOUT_MS }, (t) =>
    withApp(t, `/?broker=${broker.wsUrl}&retry_ms=20000&projection_ms=-1`, async ({ page }) => {
      await page.setViewportSize({ width: 1280, height: 900 });
      const pointer = page.locator('[data-testid="settings-refused"]');
      await pointer.waitFor();
      assert.equal(await pointer.textContent(), 'A setting was not taken: the Read model panel and the Dead letters panel say which, and why, beside its field.');
      await page.evaluate(() => window.scrollTo(0, 0));
      const box = await pointer.boundingBox();
      assert.ok(box && box.y + box.height <= 900, `on the first screen: ${JSON.stringify(box)}`);
      await pointer.getByRole('link', { name: 'the Dead letters panel' }).click();
      const refusal = page.locator('[data-testid="retry-error"]');
      assert.match(await refusal.textContent(), /Ignored \?retry_ms= in the link/);
      const shown = await page.locator('#retry-ms').boundingBox();
      assert.ok(shown && shown.y >= 0 && shown.y + shown.height <= 900, `the field in view: ${JSON.stringify(shown)}`);
    }));

  // 42-AK F3: a refused ?speed= or ?view= was said in the animation's bar alone, far below the
  // first screen, and the top said nothing.
  it('a link whose speed and view are refused points to the animation\'s bar from the first screen', { timeout: TIMEOUT_MS }, (t) =>
    withApp(t, `/?broker=${broker.wsUrl}&speed=abc&view=nonsense`, async ({ page }) => {
      await page.setViewportSize({ width: 1280, height: 900 });
      const pointer = page.locator('[data-testid="settings-refused"]');
      await pointer.waitFor();
      assert.equal(await pointer.textContent(), "A setting was not taken: the animation's bar says which, and why, beside its field.");
      await pointer.getByRole('link', { name: "the animation's bar" }).click();
      const refusal = page.locator('[data-testid="playback-error"]');
      assert.match(await refusal.textContent(), /Ignored \?speed= in the link: .*Ignored \?view="nonsense" in the link/);
      const shown = await page.locator('#speed').boundingBox();
      assert.ok(shown && shown.y >= 0 && shown.y + shown.height <= 900, `the field in view: ${JSON.stringify(shown)}`);
    }));

  // A newcomer's break-test counted 96 Tabs from the top to the first packet row.
  it('keyboard: the first Tab shows the skip links; "Skip to the wire" takes the next Tab into the recordings, diagrams and packets; "Skip to the packet inspector" a few Tabs from a packet', { timeout: TIMEOUT_MS }, (t) =>
    withApp(t, `/?broker=${broker.wsUrl}`, async ({ page }) => {
      await page.locator('#the-wire [data-testid="packet-row"]').first().waitFor();
      // Nothing clicked yet: the first Tab starts from the top of the page.
      await page.keyboard.press('Tab');
      const first = page.locator('[data-testid="skip-links"] a').first();
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to the order form');
      const box = await first.boundingBox();
      assert.ok(box && box.width > 20 && box.height > 10, `drawn once focused: ${JSON.stringify(box)}`);
      await page.keyboard.press('Tab');
      assert.match(await page.evaluate(() => document.activeElement?.textContent), /^Skip to the settings/, 'in the page\'s order');
      await page.keyboard.press('Tab');
      assert.match(await page.evaluate(() => document.activeElement?.textContent), /^Skip to the wire/);
      await page.keyboard.press('Enter');
      // The target takes the focus (a screen reader says where the learner landed).
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'the-wire');
      await page.keyboard.press('Tab');
      const inWire = await page.evaluate(() => Boolean(document.activeElement?.closest('#the-wire')));
      assert.ok(inWire, `the focus inside the wire section: ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120))}`);
      // Out of focus, the links take no room on the page.
      const hidden = await first.boundingBox();
      assert.ok(hidden && hidden.width <= 1 && hidden.height <= 1, `hidden again: ${JSON.stringify(hidden)}`);
      // Past the sequence diagram's arrows, each a stop, to the packets (45-AU F3: 54 Tabs).
      await page.locator('[data-testid="skip-links"] a', { hasText: 'Skip to the packet inspector' }).focus();
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'inspector-title');
      let tabs = 0;
      while (!(await page.evaluate(() => Boolean(document.activeElement?.closest('[data-testid="packet-row"]')))) && tabs < 10) {
        await page.keyboard.press('Tab');
        tabs += 1;
      }
      assert.ok(tabs < 10, `a packet row within ${tabs} Tabs: ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120))}`);
    }));

  for (const colorScheme of ['light', 'dark']) {
    it(`${colorScheme} scheme: text contrast is at least 4.5:1 (3:1 for large text)`, { timeout: TIMEOUT_MS }, (t) =>
      withOrderedPage(t, { colorScheme, viewport: { width: 1280, height: 900 } }, async (page) => {
        const failures = await page.evaluate(() => {
          const parse = (c) => {
            const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(c);
            return m ? { r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4] } : null;
          };
          const luminance = ({ r, g, b }) => {
            const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
            return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
          };
          const background = (el) => {
            for (let e = el; e; e = e.parentElement) {
              const bg = parse(getComputedStyle(e).backgroundColor);
              if (bg && bg.a > 0.5) return bg;
            }
            return parse(getComputedStyle(document.body).backgroundColor);
          };
          const seen = new Set();
          const failures = [];
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const text = walker.currentNode.textContent.trim();
            const el = walker.currentNode.parentElement;
            if (!text || !el || seen.has(el)) continue;
            seen.add(el);
            if (el.closest('button:disabled, .overflow, [aria-hidden="true"], option, title')) continue;
            const box = el.getBoundingClientRect();
            const style = getComputedStyle(el);
            if (box.width === 0 || box.height === 0 || style.visibility === 'hidden' || +style.opacity === 0) continue;
            const svg = el instanceof SVGElement;
            const fg = parse(svg ? style.fill : style.color);
            const bg = background(svg ? el.closest('svg').parentElement : el);
            if (!fg || !bg) continue;
            const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
            const ratio = (hi + 0.05) / (lo + 0.05);
            const size = parseFloat(style.fontSize);
            const large = size >= 24 || (size >= 18.66 && +style.fontWeight >= 700);
            if (ratio < (large ? 3 : 4.5)) {
              failures.push(`${ratio.toFixed(2)}:1 "${text.slice(0, 40)}" <${el.tagName.toLowerCase()} class="${el.getAttribute('class') ?? ''}"> ${svg ? style.fill : style.color} on rgb(${bg.r},${bg.g},${bg.b})`);
            }
          }
          return failures;
        });
        assert.deepEqual(failures, [], `text below AA contrast in the ${colorScheme} scheme`);
      }));
  }

  /**
   * Every character of the page's text (and of the stylesheet's `content`) that the fonts of
   * this machine cannot draw: drawn on a canvas in its element's font, it comes out exactly as a
   * private-use character does, the missing-glyph box. Debian's Chromium here has DejaVu and
   * Liberation only, as many a Linux desktop.
   */
  const missingGlyphs = (page) =>
    page.evaluate(() => {
      const chars = new Map();
      const note = (text, font) => {
        for (const c of text) if (c.codePointAt(0) > 0x7f && !/\s/.test(c)) chars.set(`${c}|${font}`, [c, font]);
      };
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const el = walker.currentNode.parentElement;
        if (!el || el.closest('option, title, textarea, script, style')) continue;
        note(walker.currentNode.textContent, getComputedStyle(el).font);
      }
      const bodyFont = getComputedStyle(document.body).font;
      for (const sheet of document.styleSheets) {
        for (const rule of sheet.cssRules) {
          const content = rule.style?.content;
          if (content && content !== 'none' && content !== 'normal') note(content.replace(/^"|"$/g, ''), bodyFont);
        }
      }
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 64;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      const draw = (c, font) => {
        ctx.clearRect(0, 0, 64, 64);
        ctx.font = font.replace(/[\d.]+px/, '40px');
        ctx.fillText(c, 4, 48);
        return ctx.getImageData(0, 0, 64, 64).data.join(',');
      };
      const missing = [];
      for (const [c, font] of chars.values()) {
        const box = draw('\u{10FFFD}', font);
        if (draw(c, font) === box) missing.push(`U+${c.codePointAt(0).toString(16).toUpperCase()} ${c} (${font})`);
      }
      return { checked: chars.size, missing };
    });

  it('every symbol the page shows has a glyph in the fonts at hand (no empty boxes for ⏸ and ⏭)', { timeout: TIMEOUT_MS }, (t) =>
    withOrderedPage(t, { viewport: { width: 1280, height: 900 } }, async (page) => {
      const running = await missingGlyphs(page);
      assert.ok(running.checked >= 5, `characters checked: ${running.checked}`);
      assert.deepEqual(running.missing, [], 'characters drawn as empty boxes');
      await page.click('[data-testid="pause"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="pause"]').getAttribute('aria-pressed') === 'true');
      assert.deepEqual((await missingGlyphs(page)).missing, [], 'characters drawn as empty boxes, paused');
    }));

  /**
   * The page fits a 375 px phone: the document is no wider than 375 px, and no element sticks
   * out past it but inside a box that scrolls on its own (a table, the diagrams). Measured against
   * 375 itself: on a mobile viewport a wider page widens `window.innerWidth` with it.
   */
  async function assertFitsPhone(page) {
    const widths = await page.evaluate((phone) => ({
      page: document.documentElement.scrollWidth,
      screen: window.innerWidth,
      wide: [...document.querySelectorAll('body *')]
        .filter((el) => !el.closest('.table-scroll, [data-testid="packet-list"], .svg-scroll, svg, pre'))
        .filter((el) => el.getBoundingClientRect().right > phone + 1)
        .map((el) => `${el.tagName.toLowerCase()}.${el.getAttribute('class') ?? ''}#${el.id} (right edge at ${Math.round(el.getBoundingClientRect().right)} px)`)
        .slice(0, 10),
    }), PHONE.width);
    assert.deepEqual(widths.wide, [], 'elements wider than the screen');
    assert.ok(widths.page <= PHONE.width, `the page is ${widths.page} px wide on a ${PHONE.width} px screen`);
    assert.ok(widths.screen <= PHONE.width, `the viewport grew to ${widths.screen} px to hold the page`);
  }

  it('phone width (375 px), before any order: document scrollWidth <= the viewport width', { timeout: TIMEOUT_MS }, (t) =>
    withApp(t, `/?broker=${broker.wsUrl}`, async ({ page }) => {
      await page.waitForFunction(
        (services) => services.every((s) => document.querySelector(`[data-testid="status-${s}"]`)?.dataset.state === 'connected'),
        SERVICES,
      );
      await assertFitsPhone(page);
    }, { viewport: PHONE, isMobile: true, hasTouch: true }));

  it('phone width (375 px): no sideways scrolling, and the flow diagram takes its narrow layout', { timeout: TIMEOUT_MS }, (t) =>
    withOrderedPage(t, { viewport: PHONE, isMobile: true, hasTouch: true }, async (page) => {
      await assertFitsPhone(page);
      assert.equal(await page.getAttribute('[data-testid="flow-svg"]', 'data-layout'), 'narrow');
      // The controls are still there to touch.
      for (const selector of ['[data-testid="place-order"]', '[data-testid="pause"]', '#speed', '[data-testid="show-sequence"]']) {
        const box = await page.locator(selector).boundingBox();
        assert.ok(box && box.width >= 24 && box.height >= 24, `${selector} is at least 24 px square: ${JSON.stringify(box)}`);
      }
    }));

  it('phone width (375 px), a few orders: the Orders table and the packet list fit their panels, every order button on screen', { timeout: TIMEOUT_MS }, (t) =>
    withOrderedPage(t, { viewport: PHONE, isMobile: true, hasTouch: true }, async (page) => {
      for (let placed = 1; placed < 3; placed += 1) await page.click('[data-testid="place-order"]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="notification"]').length >= 9);
      // The Orders panel, a part drawn at most once a second out of sight, read in view.
      await page.locator('[data-testid="orders-panel"]').scrollIntoViewIfNeeded();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="order-row"]').length >= 3);
      // Nothing scrolls sideways inside its panel: a box's content is no wider than the box.
      const overflowing = await page.evaluate(() => [...document.querySelectorAll(
        '[data-testid="orders-panel"], [data-testid="orders-panel"] .table-scroll, [data-testid="packet-list"]')]
        .filter((el) => el.scrollWidth > el.clientWidth + 1)
        .map((el) => `${el.getAttribute('data-testid') ?? el.className}: content ${el.scrollWidth} px in ${el.clientWidth} px`));
      assert.deepEqual(overflowing, [], 'panels whose content is wider than they are');
      // Every order's buttons can be touched where they are, without scrolling sideways.
      const buttons = page.locator('[data-testid="order-row"] button');
      assert.ok(await buttons.count() >= 3, 'each order row has its buttons');
      for (const box of await buttons.evaluateAll((all) => all.map((b) => {
        const r = b.getBoundingClientRect();
        return { text: b.textContent, left: r.left, right: r.right, width: r.width };
      }))) {
        assert.ok(box.width > 0 && box.left >= 0 && box.right <= 375 + 1, `"${box.text}" lies within the screen: ${JSON.stringify(box)}`);
      }
    }));
});
