// The web console in a real browser: Debian's chromium, headless, driven by playwright-core
// (install-deps puts it in .cache/node). Run by the e2e test ConsoleBrowser.* (console_test.cc)
// against a producer and a worker on the real broker and PostgreSQL; exits 0 when every
// check held, else 1 naming the check that did not. Every wait has a deadline. Screenshots of
// each screen go to SCREENSHOT_DIR (in the build folder, which git ignores).
//
// Environment: CONSOLE_URL (http://127.0.0.1:PORT), CLIENT_ID and CLIENT_SECRET (the client
// who signs in), OTHER_AUTH (an Authorization header of another client), ADMIN_KEY,
// SCREENSHOT_DIR, CHROMIUM (default /usr/bin/chromium), and CHECK: "progress-and-stop" (sign
// in, watch a sleep task's bar move, stop it from the page) or "isolation" (another client's
// task is neither listed nor shown; an admin sees both).
"use strict";

const { chromium } = require("playwright-core");
const path = require("path");

function env(name, fallback) {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

const base = env("CONSOLE_URL");
const shots = env("SCREENSHOT_DIR");
const clientAuth = "Basic " + Buffer.from(env("CLIENT_ID") + ":" + env("CLIENT_SECRET")).toString("base64");

function check(condition, message) {
  if (!condition) throw new Error("check failed: " + message);
}

// A sleep task through the SuperOffice REST route, as `authorization`: its Id.
async function createSleep(authorization, seconds, steps) {
  const res = await fetch(base + "/api/v1/BatchTask", {
    method: "POST",
    headers: { Authorization: authorization, "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ Name: "sleep", ParameterObject: { seconds, steps } }),
  });
  const text = await res.text();
  check(res.ok, `create answered ${res.status}: ${text}`);
  return Number(text);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, name + ".png"), fullPage: true });
}

async function signInAsClient(page) {
  await page.goto(base + "/console/");
  await page.getByLabel("Client id", { exact: true }).fill(env("CLIENT_ID"));
  await page.getByLabel("Secret", { exact: true }).fill(env("CLIENT_SECRET"));
  await shot(page, "01-sign-in");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#view-tasks").waitFor({ state: "visible", timeout: 10000 });
  check((await page.locator("#who").textContent()).includes(env("CLIENT_ID")), "the header names the client");
}

// The percent the list's bar shows for task `id`, once its row is there.
async function listedPercent(page, id) {
  const bar = page.locator(`#task-table tr[data-id="${id}"] progress`);
  await bar.waitFor({ timeout: 15000 });
  return Number(await bar.getAttribute("value") ?? (await bar.evaluate((b) => b.value)));
}

// Polls `read` until `accept` holds for its value or the deadline passes: the last value.
async function until(read, accept, what, ms = 60000) {
  const deadline = Date.now() + ms;
  let value;
  while (Date.now() < deadline) {
    value = await read();
    if (accept(value)) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`check failed: ${what} within ${ms / 1000} s (last seen: ${JSON.stringify(value)})`);
}

async function progressAndStop(page) {
  await signInAsClient(page);
  const id = await createSleep(clientAuth, 60, 60);
  // The bar moves in the list without a reload: two different percents, the second larger.
  const barOf = () => page.locator(`#task-table tr[data-id="${id}"] progress`).evaluate((b) => b.value);
  await listedPercent(page, id);
  const first = await until(barOf, (p) => p > 0, `task ${id}'s bar in the list to move past 0%`);
  const later = await until(barOf, (p) => p > first, `task ${id}'s bar to move on from ${first}%`);
  console.log(`list: task ${id} at ${first}% then ${later}%`);
  await shot(page, "02-tasks");

  // Its page: the bar moves there too; stop it with the confirmation.
  await page.locator(`#task-table a[href="#/tasks/${id}"]`).click();
  await page.locator("#view-task").waitFor({ state: "visible" });
  const detailBar = () => page.locator("#task-progress").evaluate((b) => b.value);
  const before = await until(detailBar, (p) => p > 0, "the task page's bar to show progress");
  await until(detailBar, (p) => p > before, `the task page's bar to move on from ${before}%`);
  await until(() => page.locator("#run-table tbody tr").count(), (n) => n >= 1, "the run history to list the run");
  await shot(page, "03-task");
  await page.getByRole("button", { name: "Stop" }).click();
  await page.locator("#confirm").waitFor({ state: "visible" });
  check((await page.locator("#confirm-text").textContent()).includes(`Stop task ${id}`), "the dialog names the task");
  await shot(page, "04-confirm-stop");
  await page.getByRole("button", { name: "OK" }).click();

  // It ends stopped: Failed, its result saying it was cancelled, and the run's status too.
  const title = () => page.locator("#task-title .state").textContent();
  await until(title, (s) => s === "Failed", `task ${id} to end after the stop`);
  const result = await page.locator("#task-fields").textContent();
  check(/cancelled/i.test(result), `the task's result says it was cancelled: ${result}`);
  await until(() => page.locator("#run-table tbody tr:first-child .state").textContent(),
              (s) => s === "Cancelled", "the run history to show the run cancelled");
  check(await page.locator("#act-stop").isDisabled(), "Stop is disabled once the task ended");
  await shot(page, "05-task-stopped");

  // Stopping it again through the API is refused; the page says why in words.
  await page.evaluate(() => document.getElementById("act-stop").disabled = false);
  await page.getByRole("button", { name: "Stop" }).click();
  await page.getByRole("button", { name: "OK" }).click();
  const error = page.locator("#error");
  await error.waitFor({ state: "visible", timeout: 10000 });
  check(/^Refused: .+/.test(await error.textContent()), `a refused stop explains itself: ${await error.textContent()}`);

  // The overview and the type catalogue.
  await page.locator('#nav a[data-view="overview"]').click();
  await until(() => page.locator("#state-counts .count").count(), (n) => n >= 7, "the overview to count tasks by state");
  await shot(page, "06-overview");
  await page.locator('#nav a[data-view="types"]').click();
  await until(() => page.locator("#type-table tbody").textContent(), (t) => t.includes("sleep"), "the catalogue to list sleep");
  await shot(page, "07-types");
}

async function isolation(page, browser) {
  const mine = await createSleep(clientAuth, 0, 1);
  const theirs = await createSleep(env("OTHER_AUTH"), 0, 1);
  await signInAsClient(page);
  await listedPercent(page, mine);
  check(await page.locator(`#task-table tr[data-id="${theirs}"]`).count() === 0, `another client's task ${theirs} is not listed`);
  await page.goto(`${base}/console/#/tasks/${theirs}`);
  const error = page.locator("#error");
  await error.waitFor({ state: "visible", timeout: 10000 });
  check((await error.textContent()).includes(`no task ${theirs}`), `another client's task page says it is not there: ${await error.textContent()}`);
  await shot(page, "08-not-yours");

  // An admin key sees both, in a separate browser context (its own session storage).
  const admin = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await admin.goto(base + "/console/");
  await admin.getByLabel("an admin key").check();
  await admin.getByLabel("Admin key", { exact: true }).fill(env("ADMIN_KEY"));
  await admin.getByRole("button", { name: "Sign in" }).click();
  await listedPercent(admin, mine);
  await listedPercent(admin, theirs);

  // Narrow screen: the list keeps Id, State and Progress.
  const narrow = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await narrow.goto(base + "/console/");
  await narrow.getByLabel("an admin key").check();
  await narrow.getByLabel("Admin key", { exact: true }).fill(env("ADMIN_KEY"));
  await narrow.getByRole("button", { name: "Sign in" }).click();
  await listedPercent(narrow, mine);
  check(await narrow.locator("#task-table th:nth-child(2)").isHidden(), "the Type column hides on a narrow screen");
  const width = await narrow.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `nothing overflows a 390-pixel screen (scroll width ${width})`);
  await shot(narrow, "09-narrow");
}

async function main() {
  const browser = await chromium.launch({
    executablePath: env("CHROMIUM", "/usr/bin/chromium"),
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(20000);
    const page = await context.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("console", (m) => { if (m.type() === "error") problems.push("console error: " + m.text()); });
    const which = env("CHECK");
    if (which === "progress-and-stop") await progressAndStop(page);
    else if (which === "isolation") await isolation(page, browser);
    else throw new Error("unknown CHECK " + which);
    // A refused request logs a console error in chromium ("Failed to load resource"): those
    // are expected where a check provokes one; script errors never are.
    const scriptErrors = problems.filter((p) => p.startsWith("page error"));
    check(scriptErrors.length === 0, scriptErrors.join("; "));
    console.log(`${which}: every check held`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
