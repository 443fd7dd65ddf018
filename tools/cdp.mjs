// Headless Chromium driven over the Chrome DevTools Protocol, with
// nothing but Node (20+, WebSocket built in or behind
// --experimental-websocket): what tools/har/record.mjs and
// tools/dashboard-check.mjs share.
//
//   const browser = await openBrowser();
//   browser.onEvent((method, params) => …);
//   await browser.send("Page.enable");
//   …
//   await browser.close();
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Only loopback pages are opened: tests and examples stay on this machine.
export function checkLoopback(url) {
  const host = new URL(url).hostname;
  if (!["127.0.0.1", "localhost", "[::1]"].includes(host)) {
    console.error(`refusing ${url}: only loopback URLs are opened`);
    process.exit(2);
  }
}

// Starts Chromium with a throwaway profile and connects to its first page.
export async function openBrowser({ width = 1280, height = 1600 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "fogg-chromium-"));
  const chromium = spawn(
    process.env.CHROMIUM || "chromium",
    ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
     `--window-size=${width},${height}`, `--user-data-dir=${profile}`, "about:blank"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const close = async () => {
    const exited = new Promise((r) => (chromium.exitCode === null ? chromium.once("exit", r) : r()));
    chromium.kill();
    await exited;
    try {
      // Chromium's helpers may still be writing to the profile as it exits.
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (e) {
      console.error(`left the browser profile ${profile}: ${e.message}`);
    }
  };
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
    const listeners = [];
    ws.addEventListener("message", (event) => {
      const msg = JSON.parse(event.data);
      if (msg.id) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p.reject(new Error(JSON.stringify(msg.error)));
        else p.resolve(msg.result);
        return;
      }
      for (const listener of listeners) listener(msg.method, msg.params);
    });
    const send = (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      });
    return {
      send,
      onEvent: (listener) => listeners.push(listener),
      close: async () => {
        ws.close();
        await close();
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}
