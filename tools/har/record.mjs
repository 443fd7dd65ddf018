// Records a HAR 1.2 file of headless Chromium browsing a site, as DevTools
// would: Chromium's own network events (Chrome DevTools Protocol), turned
// into HAR by chrome-har (the converter of sitespeed.io), response bodies
// included.
//
//   node --experimental-websocket tools/har/record.mjs URL OUT.har [PATH...]
//
// visits URL + each PATH in turn (default: / /product/7 /basket, the demo
// shop's browse → cart → checkout flow), waits until the network has been
// quiet for a second after each page, and writes OUT.har. Only loopback
// URLs are accepted. Needs Node 20+ and the `chromium` Debian package;
// `npm ci` in tools/har installs chrome-har.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { harFromMessages } from "chrome-har";

const [base, out, ...given] = process.argv.slice(2);
if (!base || !out) {
  console.error("usage: record.mjs URL OUT.har [PATH...]");
  process.exit(2);
}
const host = new URL(base).hostname;
if (!["127.0.0.1", "localhost", "[::1]"].includes(host)) {
  console.error(`refusing ${base}: only loopback targets are recorded`);
  process.exit(2);
}
const paths = given.length ? given : ["/", "/product/7", "/basket"];
const profile = mkdtempSync(join(tmpdir(), "fogg-har-"));
const chromium = spawn(
  process.env.CHROMIUM || "chromium",
  ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
   `--user-data-dir=${profile}`, "about:blank"],
  { stdio: ["ignore", "ignore", "pipe"] },
);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

try {
  // Chromium prints its DevTools address on stderr once it listens.
  const browserUrl = await new Promise((resolve, reject) => {
    let text = "";
    chromium.stderr.on("data", (d) => {
      text += d;
      const m = text.match(/DevTools listening on (ws:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    chromium.on("exit", (code) => reject(new Error(`chromium exited (${code}): ${text}`)));
  });
  const port = new URL(browserUrl).port;
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const page = targets.find((t) => t.type === "page");
  const ws = new WebSocket(page.webSocketDebuggerUrl);
  await new Promise((r) => ws.addEventListener("open", r, { once: true }));

  let nextId = 1;
  const pending = new Map();
  const messages = [];
  const responses = new Map(); // requestId → Network.responseReceived params
  const bodies = [];
  let lastActivity = Date.now();
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  ws.addEventListener("message", (event) => {
    const msg = JSON.parse(event.data);
    if (msg.id) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(JSON.stringify(msg.error)));
      else p.resolve(msg.result);
      return;
    }
    if (!msg.method.startsWith("Network.") && !msg.method.startsWith("Page.")) return;
    lastActivity = Date.now();
    messages.push({ method: msg.method, params: msg.params });
    if (msg.method === "Network.responseReceived") responses.set(msg.params.requestId, msg.params);
    if (msg.method === "Network.loadingFinished") {
      const received = responses.get(msg.params.requestId);
      if (received) {
        bodies.push(
          send("Network.getResponseBody", { requestId: msg.params.requestId })
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

  for (const path of paths) {
    const loaded = new Promise((resolve) => {
      const onLoad = (event) => {
        if (JSON.parse(event.data).method === "Page.loadEventFired") {
          ws.removeEventListener("message", onLoad);
          resolve();
        }
      };
      ws.addEventListener("message", onLoad);
    });
    await send("Page.navigate", { url: new URL(path, base).href });
    await loaded;
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
  ws.close();
} finally {
  const exited = new Promise((r) => (chromium.exitCode === null ? chromium.once("exit", r) : r()));
  chromium.kill();
  await exited;
  try {
    // Chromium's helpers may still be writing to the profile as it exits.
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch (e) {
    console.error(`left the browser profile ${profile}: ${e.message}`);
  }
}
