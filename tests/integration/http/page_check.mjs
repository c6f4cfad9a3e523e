// Drives Debian's headless Chromium over its DevTools pipe (--remote-debugging-pipe: JSON
// messages ending in NUL on file descriptors 3 and 4), with nothing but Node's own modules.
//
//   node page_check.mjs URL SCREENSHOT.png [ALIAS]
//
// Opens the status page and prints one line per step, which the GoogleTest test waits for:
//   loaded      the page is live (stream connected), shows this node's state and ALIAS on primary
//   updated     ALIAS switched to secondary and the failover is in the timeline, without a reload
//               (the screenshot is written then)
//   lost        the "connection lost" indicator shows (after the test stopped the node)
//   reconnected the page is live again by itself (after the test restarted the node)
// Exits 0 after "reconnected", 1 with "error: why" on stderr otherwise. CHROMIUM names the
// browser (default: chromium).
//
//   node page_check.mjs --snapshot URL SCREENSHOT.png
//
// only waits for the page to be live, then writes the screenshot (to look at a running node's
// page by hand).

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const args = process.argv.slice(2);
const snapshotOnly = args[0] === "--snapshot";
if (snapshotOnly) args.shift();
const [url, screenshot, alias = "line1"] = args;
if (!url || !screenshot) {
  console.error("usage: node page_check.mjs URL SCREENSHOT.png [ALIAS]");
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), "tandem-chromium-"));
const browser = spawn(process.env.CHROMIUM || "chromium", [
  "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
  "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
  "--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
  "--mute-audio", `--user-data-dir=${profile}`, "about:blank",
], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
let browserErr = "";
browser.stderr.on("data", d => { browserErr = (browserErr + d).slice(-4000); });

function finish(code, why) {
  if (why) console.error("error: " + why + (browserErr ? "\nchromium said:\n" + browserErr : ""));
  try { browser.kill("SIGKILL"); } catch {}
  try { rmSync(profile, { recursive: true, force: true }); } catch {}
  process.exit(code);
}
browser.on("error", e => finish(1, "cannot start chromium: " + e.message));
browser.on("exit", c => finish(1, "chromium exited early (" + c + ")"));
setTimeout(() => finish(1, "timed out"), 60000).unref();

// -- the DevTools protocol over the pipe -----------------------------------------------------
const toBrowser = browser.stdio[3], fromBrowser = browser.stdio[4];
let nextId = 1, inbox = "";
const waiting = new Map();
const listeners = [];
fromBrowser.on("data", chunk => {
  inbox += chunk.toString("utf8");
  let end;
  while ((end = inbox.indexOf("\0")) >= 0) {
    const msg = JSON.parse(inbox.slice(0, end));
    inbox = inbox.slice(end + 1);
    if (msg.id && waiting.has(msg.id)) {
      const { resolve, reject } = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (msg.error) reject(new Error(JSON.stringify(msg.error)));
      else resolve(msg.result);
    } else if (msg.method) {
      for (const l of listeners) l(msg);
    }
  }
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  const msg = { id, method, params };
  if (sessionId) msg.sessionId = sessionId;
  toBrowser.write(JSON.stringify(msg) + "\0");
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
}
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function main() {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const page = (m, p) => send(m, p, sessionId);
  let navigations = 0;
  listeners.push(m => {
    if (m.sessionId === sessionId && m.method === "Page.frameNavigated" && !m.params.frame.parentId)
      ++navigations;
  });
  await page("Page.enable");
  await page("Emulation.setDeviceMetricsOverride",
             { width: 1600, height: 1000, deviceScaleFactor: 1, mobile: false });
  await page("Page.navigate", { url });
  const evaluate = async expr => {
    const r = await page("Runtime.evaluate", { expression: expr, returnByValue: true });
    return r.result ? r.result.value : undefined;
  };
  const view = () => evaluate(`(() => {
    const row = document.querySelector('tr[data-pair="${alias}"]');
    return {
      conn: document.getElementById('conn')?.dataset.state || '',
      node: document.getElementById('node-state')?.textContent || '',
      active: row ? row.querySelector('[data-testid=active]').textContent : '',
      timeline: document.getElementById('timeline')?.textContent || '',
      marker: window.__tandemMarker || null,
    };
  })()`);
  const until = async (what, pred, ms) => {
    const deadline = Date.now() + ms;
    let v;
    while (Date.now() < deadline) {
      v = await view();
      if (v && pred(v)) return v;
      await sleep(100);
    }
    throw new Error(`the page never showed ${what}; last seen: ${JSON.stringify(v)}`);
  };

  if (snapshotOnly) {
    await until("a live connection", v => v.conn === "live", 15000);
    await sleep(1500);
    const shot = await page("Page.captureScreenshot", { format: "png" });
    writeFileSync(screenshot, Buffer.from(shot.data, "base64"));
    return;
  }
  await until("the node and the pair on its primary",
              v => v.conn === "live" && /Running|Standby/.test(v.node) && v.active === "primary",
              15000);
  // Survives only if the page is not reloaded.
  await evaluate("window.__tandemMarker = 'kept'");
  const navigationsAtLoad = navigations;
  console.log("loaded");

  await until("the failover to the secondary",
              v => v.active === "secondary" && /failover/.test(v.timeline), 15000)
    .then(v => {
      if (v.marker !== "kept" || navigations !== navigationsAtLoad)
        throw new Error("the page was reloaded to show the failover");
    });
  await sleep(300); // let the last paint settle
  const shot = await page("Page.captureScreenshot", { format: "png" });
  writeFileSync(screenshot, Buffer.from(shot.data, "base64"));
  console.log("updated");

  await until("the connection lost indicator", v => v.conn === "lost", 15000);
  console.log("lost");
  await until("the page live again", v => v.conn === "live" && v.marker === "kept", 20000);
  console.log("reconnected");
}

main().then(() => finish(0), e => finish(1, e.message));
