// Records a HAR 1.2 file of headless Chromium browsing a site with
// Playwright's own recorder (`recordHar`), a second recorder beside
// record.mjs: what a user of Playwright would hand to `fogg import har`.
//
//   node tools/har/record-playwright.mjs URL OUT.har [PATH... | STEPS.json]
//
// follows the same steps as record.mjs (see flow.mjs), waiting for the
// network to go quiet after each page, and writes OUT.har with response
// bodies. Only loopback URLs are accepted. Drives the `chromium` Debian
// package (or $CHROMIUM); `npm ci` in tools/har installs playwright-core,
// which downloads no browser of its own.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { checkLoopback } from "../cdp.mjs";
import { readArgs } from "./flow.mjs";

const { base, out, steps } = readArgs("record-playwright.mjs");
// Debian's /usr/bin/chromium is a shell wrapper; Playwright starts the
// browser itself when it can.
const executablePath =
  process.env.CHROMIUM ?? ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].find((p) => existsSync(p));

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({ recordHar: { path: out, content: "embed" } });
  const page = await context.newPage();
  for (const step of steps) {
    if (step.goto) {
      const url = new URL(step.goto, base).href;
      checkLoopback(url);
      await page.goto(url, { waitUntil: "load" });
    } else if (step.fill) {
      for (const [selector, value] of Object.entries(step.fill)) await page.fill(selector, value);
      continue;
    } else {
      await Promise.all([page.waitForEvent("load"), page.click(step.click)]);
    }
    await page.waitForLoadState("networkidle");
  }
  // The HAR is written when its context closes.
  await context.close();
  console.log(`${out}: recorded by Playwright`);
} finally {
  await browser.close();
}
