// What a recorder does in the browser: a list of steps, shared by
// record.mjs (Chromium over CDP) and record-playwright.mjs (Playwright),
// so both recorders make the same visit.
//
// Steps come from the command line, either paths to visit in turn
// (`/ /product/7 /basket`) or one JSON file of steps:
//
//   [{ "goto": "/admin/login/?next=/admin/" },
//    { "fill": { "#id_username": "admin", "#id_password": "{env.PASSWORD}" } },
//    { "click": "input[type=submit]" }]
//
// `goto` visits a path (or loopback URL), `fill` types into the fields the
// CSS selectors name, `click` clicks an element and waits for the page it
// may load. `{env.NAME}` in a value is read from the environment, so a
// password never sits in a file.
import { readFileSync } from "node:fs";
import { checkLoopback } from "../cdp.mjs";

/** The demo shop's browse → cart → checkout visit, the default steps. */
const DEMO_SHOP = ["/", "/product/7", "/basket"];

/**
 * A recorder's command line, `URL OUT.har [PATH... | STEPS.json]`: the
 * site (loopback only), the file to write and the steps; usage and exit 2
 * when incomplete.
 */
export function readArgs(script) {
  const [base, out, ...given] = process.argv.slice(2);
  if (!base || !out) {
    console.error(`usage: ${script} URL OUT.har [PATH... | STEPS.json]`);
    process.exit(2);
  }
  checkLoopback(base);
  return { base, out, steps: readSteps(given) };
}

/** The steps `args` describe: paths, or a single `.json` file of steps. */
function readSteps(args) {
  if (args.length === 1 && args[0].endsWith(".json")) {
    const steps = JSON.parse(readFileSync(args[0], "utf8"));
    if (!Array.isArray(steps)) throw new Error(`${args[0]}: expected a JSON array of steps`);
    return steps.map((step, n) => checkStep(step, `${args[0]}: step ${n + 1}`));
  }
  return (args.length ? args : DEMO_SHOP).map((path) => ({ goto: path }));
}

function checkStep(step, where) {
  const kinds = ["goto", "fill", "click"].filter((k) => k in step);
  if (kinds.length !== 1 || Object.keys(step).length !== 1) {
    throw new Error(`${where}: a step has exactly one of "goto", "fill" or "click"`);
  }
  if (step.fill) {
    const fill = {};
    for (const [selector, value] of Object.entries(step.fill)) fill[selector] = expand(value, where);
    return { fill };
  }
  return step;
}

/** `value` with each `{env.NAME}` replaced by the environment's NAME. */
function expand(value, where) {
  return String(value).replace(/\{env\.([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name) => {
    if (process.env[name] === undefined) throw new Error(`${where}: ${name} is not set in the environment`);
    return process.env[name];
  });
}
