// Watches fogg's live dashboard (`fogg load --dashboard ADDR`) in headless
// Chromium as a person would, and fails unless:
// - every chart has drawn points after at least MIN_POINTS seconds of the
//   run (the page counts charts whose lines have a non-empty box into
//   data-charts-drawn="DRAWN/ALL");
// - once the run ends, the page turns into the final HTML report and
//   every chart of the report draws (its own data-charts-drawn);
// - nothing is logged to the console (a script error, a blocked request).
// Saves a screenshot of the live page and of the report.
//
//   node tools/dashboard-check.mjs URL SCREENSHOT_DIR [MIN_POINTS]
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { checkLoopback, openBrowser, sleep } from "./cdp.mjs";

const [url, shots, minPoints = "3"] = process.argv.slice(2);
if (!url || !shots) {
  console.error("usage: dashboard-check.mjs URL SCREENSHOT_DIR [MIN_POINTS]");
  process.exit(2);
}
checkLoopback(url);
mkdirSync(shots, { recursive: true });
const problems = [];
const browser = await openBrowser({ width: 1400, height: 2000 });
const { send } = browser;

// Polls `expression` in the page until it is truthy (or `seconds` pass).
async function waitFor(expression, seconds) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    try {
      const { result } = await send("Runtime.evaluate", { expression, returnByValue: true });
      if (result.value) return result.value;
    } catch {
      // The page is navigating: ask again.
    }
    await sleep(250);
  }
  return null;
}

async function screenshot(name) {
  const { data } = await send("Page.captureScreenshot", { format: "png" });
  writeFileSync(join(shots, name), Buffer.from(data, "base64"));
}

try {
  browser.onEvent((method, params) => {
    if (method === "Runtime.consoleAPICalled") {
      problems.push(`console.${params.type}: ${params.args.map((a) => a.value ?? a.description).join(" ")}`);
    } else if (method === "Runtime.exceptionThrown") {
      problems.push(`exception: ${params.exceptionDetails.exception?.description ?? params.exceptionDetails.text}`);
    } else if (method === "Log.entryAdded") {
      problems.push(`${params.entry.level}: ${params.entry.text}`);
    }
  });
  await send("Page.enable");
  await send("Runtime.enable");
  await send("Log.enable");
  await send("Page.navigate", { url });

  const live = await waitFor(
    `(() => { const d = document.documentElement.dataset;
       const [drawn, all] = (d.chartsDrawn || "0/0").split("/").map(Number);
       return location.pathname === "/" && Number(d.points) >= ${Number(minPoints)} && all > 0 && drawn === all
         ? d.chartsDrawn + " charts, " + d.points + " points" : null; })()`,
    120,
  );
  if (live) {
    console.log(`live page: ${live} drawn`);
    await screenshot("dashboard-live.png");
  } else {
    problems.push(`the live page never drew every chart with ${minPoints} points`);
  }
  const report = await waitFor(
    `location.pathname === "/report" && document.readyState === "complete" && document.documentElement.dataset.chartsDrawn || null`,
    180,
  );
  if (!report) {
    problems.push("the page never turned into the final report");
  } else {
    const [drawn, all] = report.split("/").map(Number);
    if (all === 0 || drawn !== all) problems.push(`the final report drew only ${report} charts`);
    console.log(`final report: ${report} charts drawn`);
    await screenshot("dashboard-report.png");
  }
} finally {
  await browser.close();
}
if (problems.length) {
  for (const p of problems) console.error(`FAIL dashboard: ${p}`);
  process.exit(1);
}
console.log(`ok   dashboard: no console output, screenshots in ${shots}`);
