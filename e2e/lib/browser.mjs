// Debian's Chromium driven by playwright-core (no browser download).
//
//   const browser = await launchBrowser();
//   const app = await openPage(browser, url);    // app.page, app.console, app.errors
//   assertNoPanics(app);
//   await app.close();

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.EDA_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchBrowser() {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install the Debian package "chromium" or set EDA_CHROMIUM`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/**
 * A fresh context (no storage shared with other cases) and page, with the page's console
 * recorded: `console` holds every message as "type: text", `errors` the console errors and
 * uncaught exceptions (a Rust panic in wasm is a console error containing "panicked at").
 * `contextOptions` go to Playwright's `browser.newContext` (viewport, colorScheme …).
 */
export async function openPage(browser, url, { timeoutMs = 30_000, contextOptions = {} } = {}) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  const consoleLines = [];
  const errors = [];
  page.on('console', (message) => {
    const line = `${message.type()}: ${message.text()}`;
    consoleLines.push(line);
    if (message.type() === 'error') errors.push(line);
  });
  page.on('pageerror', (error) => {
    const line = `pageerror: ${error.stack ?? error.message}`;
    consoleLines.push(line);
    errors.push(line);
  });
  page.on('crash', () => errors.push('crash: the page crashed'));
  if (url) await page.goto(url);
  return {
    page,
    context,
    console: consoleLines,
    errors,
    close: () => context.close(),
  };
}

/** Every console message and page error containing "panicked at" (Rust panics). */
export function panics(app) {
  return [...app.console, ...app.errors].filter((line) => line.includes('panicked at'));
}

export function assertNoPanics(app) {
  const found = panics(app);
  assert.deepEqual(found, [], `the page panicked:\n${found.join('\n')}`);
}
