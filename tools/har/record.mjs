// Records a HAR 1.2 file of headless Chromium browsing a site, as DevTools
// would: Chromium's own network events (Chrome DevTools Protocol), turned
// into HAR by chrome-har (the converter of sitespeed.io), response bodies
// included.
//
//   node --experimental-websocket tools/har/record.mjs URL OUT.har [PATH... | STEPS.json]
//
// visits URL + each PATH in turn (default: / /product/7 /basket, the demo
// shop's browse → cart → checkout flow), or follows the steps of a JSON
// file (visit, fill in, click: see flow.mjs), waits until the network has
// been quiet for a second after each page, and writes OUT.har. Only
// loopback URLs are accepted. Needs Node 20+ and the `chromium` Debian
// package; `npm ci` in tools/har installs chrome-har.
import { writeFileSync } from "node:fs";
import { harFromMessages } from "chrome-har";
import { checkLoopback, openBrowser, sleep } from "../cdp.mjs";
import { readArgs } from "./flow.mjs";

const { base, out, steps } = readArgs("record.mjs");
const browser = await openBrowser();
const { send } = browser;

try {
  const responses = new Map(); // requestId → Network.responseReceived params
  const messages = [];
  const bodies = [];
  let lastActivity = Date.now();
  let loadFired = () => {};
  browser.onEvent((method, params) => {
    if (method === "Page.loadEventFired") loadFired();
    if (!method.startsWith("Network.") && !method.startsWith("Page.")) return;
    lastActivity = Date.now();
    messages.push({ method, params });
    if (method === "Network.responseReceived") responses.set(params.requestId, params);
    if (method === "Network.loadingFinished") {
      const received = responses.get(params.requestId);
      if (received) {
        bodies.push(
          send("Network.getResponseBody", { requestId: params.requestId })
            .then((b) => {
              received.response.body = b.body;
              if (b.base64Encoded) received.response.encoding = "base64";
            })
            .catch(() => {}),
        );
      }
    }
  });
  await send("Page.enable");
  await send("Network.enable");
  await send("Network.setCacheDisabled", { cacheDisabled: true });

  // Runs a function of one selector (and a value) in the page; fails
  // when the selector finds nothing.
  const inPage = async (body, selector, value) => {
    const expression = `(() => { const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) throw new Error("nothing on the page matches " + ${JSON.stringify(selector)});
      const value = ${JSON.stringify(value ?? null)}; ${body} })()`;
    const result = await send("Runtime.evaluate", { expression });
    if (result.exceptionDetails) throw new Error(result.exceptionDetails.exception?.description ?? selector);
  };
  for (const step of steps) {
    if (step.fill) {
      for (const [selector, value] of Object.entries(step.fill)) {
        await inPage(`el.value = value; el.dispatchEvent(new Event("input", { bubbles: true }));`, selector, value);
      }
      continue;
    }
    let timer;
    const loaded = new Promise((resolve, reject) => {
      loadFired = resolve;
      timer = setTimeout(() => reject(new Error(`no page loaded after ${JSON.stringify(step)}`)), 20000);
    });
    if (step.goto) {
      const url = new URL(step.goto, base).href;
      checkLoopback(url);
      await send("Page.navigate", { url });
    } else {
      await inPage("el.click();", step.click);
    }
    await loaded;
    clearTimeout(timer);
    // Quiet for a second: the page's scripts have made their calls.
    while (Date.now() - lastActivity < 1000) await sleep(100);
  }
  await Promise.all(bodies);
  const har = harFromMessages(messages, { includeTextFromResponseBody: true });
  // chrome-har turns a JSON or form body into `params` only; DevTools
  // exports keep the text too, and so does this recorder.
  const sentBodies = new Map(
    messages
      .filter((m) => m.method === "Network.requestWillBeSent" && m.params.request.postData !== undefined)
      .map((m) => [m.params.requestId, m.params.request.postData]),
  );
  for (const entry of har.log.entries) {
    const text = sentBodies.get(entry._requestId);
    if (text !== undefined && entry.request.postData) entry.request.postData.text = text;
  }
  writeFileSync(out, JSON.stringify(har, null, 2) + "\n");
  console.log(`${out}: ${har.log.pages.length} pages, ${har.log.entries.length} entries`);
} finally {
  await browser.close();
}
