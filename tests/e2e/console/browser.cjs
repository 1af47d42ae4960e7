// The web console in a real browser: Debian's chromium, headless, driven by playwright-core
// (install-deps puts it in .cache/node). Run by the e2e tests ConsoleBrowser.* (console_test.cc)
// against a producer and a worker on the real broker and PostgreSQL; exits 0 when every
// check held, else 1 naming the check that did not. Every wait has a deadline. Screenshots of
// each screen go to SCREENSHOT_DIR (in the build folder, which git ignores).
//
// Environment: CONSOLE_URL (http://127.0.0.1:PORT), CLIENT_ID and CLIENT_SECRET (the client
// who signs in), OTHER_AUTH and OTHER_CLIENT_ID (another client's Authorization header and id),
// ADMIN_KEY,
// SCREENSHOT_DIR, CHROMIUM (default /usr/bin/chromium), and CHECK, one of:
//   progress-and-stop  sign in, watch a sleep task's bar move, stop it from the page, disable,
//                      enable and delete it;
//   isolation          another client's task is neither listed nor shown; run a task again;
//                      an admin sees both; the narrow layout;
//   dead-letters       an admin sees the queue on the overview and replays the dead letter
//                      DEAD_LETTER ("partition:offset") from the page.
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

// Script errors and Content-Security-Policy violations of every page, which fail the run. (A
// refused request also logs a console error in chromium; the checks provoke some on purpose.)
const problems = [];
async function newPage(browser, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(20000);
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content.Security.Policy/i.test(m.text())) problems.push("CSP: " + m.text());
  });
  return page;
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

async function signInAsAdmin(page) {
  await page.goto(base + "/console/");
  await page.getByLabel("an admin key").check();
  await page.getByLabel("Admin key", { exact: true }).fill(env("ADMIN_KEY"));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#view-tasks").waitFor({ state: "visible", timeout: 10000 });
}

// Waits for task `id`'s row in the list.
async function listed(page, id) {
  await page.locator(`#task-table tr[data-id="${id}"] progress`).waitFor({ timeout: 15000 });
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

const fieldOf = (page, name) => () => page.locator(`#task-fields dd[data-field="${name}"]`).textContent();

// Clicks an action and OK in the confirmation, which must name `about`.
async function confirmed(page, action, about) {
  await page.getByRole("button", { name: action, exact: true }).click();
  await page.locator("#confirm").waitFor({ state: "visible" });
  const question = await page.locator("#confirm-text").textContent();
  check(question.includes(about), `the dialog names ${about}: ${question}`);
  await page.getByRole("button", { name: "OK" }).click();
}

async function progressAndStop(browser) {
  const page = await newPage(browser);
  await signInAsClient(page);
  const id = await createSleep(clientAuth, 60, 60);
  // The bar moves in the list without a reload: two different percents, the second larger.
  const barOf = () => page.locator(`#task-table tr[data-id="${id}"] progress`).evaluate((b) => b.value);
  await listed(page, id);
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
  await until(() => page.locator("#run-log").textContent(), (t) => t === "(the run wrote no log)", "the latest run's log panel (sleep writes none)");
  await shot(page, "03-task");
  await page.getByRole("button", { name: "Stop", exact: true }).click();
  await page.locator("#confirm").waitFor({ state: "visible" });
  check((await page.locator("#confirm-text").textContent()).includes(`Stop task ${id}`), "the dialog names the task");
  await shot(page, "04-confirm-stop");
  await page.getByRole("button", { name: "OK" }).click();

  // It ends stopped: Failed, its Result saying it was cancelled, and the run Cancelled.
  await until(() => page.locator("#task-title .state").textContent(), (s) => s === "Failed", `task ${id} to end after the stop`);
  const result = await fieldOf(page, "Result")();
  check(/^cancelled: /.test(result), `the task's Result says it was cancelled: ${result}`);
  await until(() => page.locator("#run-table tbody tr:first-child .state").textContent(),
              (s) => s === "Cancelled", "the run history to show the run cancelled");
  check(await page.locator("#act-stop").isDisabled(), "Stop is disabled once the task ended");
  await shot(page, "05-task-stopped");

  // Stopping it once more (the button forced on and clicked at once, before the next poll
  // disables it again) is refused, and the page says why.
  await page.evaluate(() => { const b = document.getElementById("act-stop"); b.disabled = false; b.click(); });
  await page.getByRole("button", { name: "OK" }).click();
  const error = page.locator("#error");
  await error.waitFor({ state: "visible", timeout: 10000 });
  const refusal = await error.textContent();
  check(refusal === `Refused: task ${id} was not stopped: its run is over`, `a refused stop says why: ${refusal}`);

  // Disable and enable it (the TwoSms update, the task's own values sent back), then delete it.
  await confirmed(page, "Disable", `Disable task ${id}`);
  await until(fieldOf(page, "Enabled"), (t) => t === "no", `task ${id} to show disabled`);
  check(await page.locator("#error").isHidden(), "disabling was not refused");
  await confirmed(page, "Enable", `Enable task ${id}`);
  await until(fieldOf(page, "Enabled"), (t) => t === "yes", `task ${id} to show enabled`);
  await confirmed(page, "Delete", `Delete task ${id}`);
  await page.locator("#view-tasks").waitFor({ state: "visible" });
  await until(() => page.locator(`#task-table tr[data-id="${id}"]`).count(), (n) => n === 0, `deleted task ${id} to leave the list`);

  // The overview counts it no more; the catalogue lists the sleep type with its handler.
  await page.locator('#nav a[data-view="overview"]').click();
  await until(() => page.locator('#state-counts a[data-key="Failed"] .n').textContent(), (n) => n === "0", "the overview to count no Failed task");
  await shot(page, "06-overview");
  await page.locator('#nav a[data-view="types"]').click();
  await page.locator("#view-types").waitFor({ state: "visible" });
  await until(() => page.locator("#type-table tbody tr").filter({ hasText: "sleep" }).count(), (n) => n === 1, "the catalogue to list sleep");
  await shot(page, "07-types");
}

async function isolation(browser) {
  const mine = await createSleep(clientAuth, 0, 1);
  const theirs = await createSleep(env("OTHER_AUTH"), 0, 1);
  const page = await newPage(browser);
  await signInAsClient(page);
  await listed(page, mine);
  check(await page.locator(`#task-table tr[data-id="${theirs}"]`).count() === 0, `another client's task ${theirs} is not listed`);
  await page.goto(`${base}/console/#/tasks/${theirs}`);
  const error = page.locator("#error");
  await error.waitFor({ state: "visible", timeout: 10000 });
  check((await error.textContent()).includes(`no task ${theirs}`), `another client's task page says it is not there: ${await error.textContent()}`);
  check(await page.locator("#act-delete").isDisabled(), "no action is offered on a task that is not there");
  await shot(page, "08-not-yours");

  // Run my finished task again from its page: a second run.
  await page.goto(`${base}/console/#/tasks/${mine}`);
  await until(() => page.locator("#task-title .state").textContent(), (s) => s === "Succeeded", `task ${mine} to succeed`);
  await confirmed(page, "Run again", `Run task ${mine}`);
  await until(() => page.locator("#run-table tbody tr").count(), (n) => n === 2, `task ${mine} to have run twice`);

  // An admin key sees both, in a browser context of its own (its own session storage).
  const admin = await newPage(browser);
  await signInAsAdmin(admin);
  await listed(admin, mine);
  await listed(admin, theirs);
  // The admin's filters go to the producer: by client, and a search by Id.
  await admin.locator("#filter-client").selectOption(env("OTHER_CLIENT_ID"));
  const rows = () => admin.locator("#task-table tbody tr").evaluateAll((trs) => trs.map((t) => t.dataset.id));
  await until(rows, (ids) => ids.length === 1 && ids[0] === String(theirs), `only the other client's task ${theirs} to be listed`);
  await admin.locator("#filter-client").selectOption("");
  await admin.locator("#filter-text").fill(String(mine));
  await until(rows, (ids) => ids.length === 1 && ids[0] === String(mine), `the search for ${mine} to list only it`);
  check((await admin.locator("#page-info").textContent()).endsWith("· 1 task"), "the page counts what matched");
  await shot(admin, "09-admin-filtered");

  // Narrow screen: the list keeps Id, State and Progress.
  const narrow = await newPage(browser, { width: 390, height: 844 });
  await signInAsAdmin(narrow);
  await listed(narrow, mine);
  const shown = await narrow.locator("#task-table thead th").evaluateAll((ths) => ths.filter((t) => t.offsetParent !== null).map((t) => t.textContent));
  check(JSON.stringify(shown) === JSON.stringify(["Id", "State", "Progress"]), `a narrow screen shows Id, State and Progress: ${shown}`);
  const width = await narrow.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `nothing overflows a 390-pixel screen (scroll width ${width})`);
  await shot(narrow, "10-narrow");
}

async function deadLetters(browser) {
  const [partition, offset] = env("DEAD_LETTER").split(":");
  const page = await newPage(browser);
  await signInAsAdmin(page);
  await page.locator('#nav a[data-view="overview"]').click();
  await until(() => page.locator('#state-counts a[data-key="dead letters"] .n').count(), (n) => n === 1, "the overview to show the dead letters");
  check(Number(await page.locator('#state-counts a[data-key="dead letters"] .n').textContent()) >= 1, "the overview counts the dead letter");
  check(await page.locator('#state-counts div.count').filter({ hasText: "commands not yet done by the workers" }).count() === 1, "the overview shows the workers' lag");
  await shot(page, "11-overview-admin");

  await page.locator('#nav a[data-view="deadletters"]').click();
  const row = page.locator(`#dead-table tr[data-where="${partition}:${offset}"]`);
  await row.waitFor({ timeout: 15000 });
  const text = await row.textContent();
  check(text.includes("held back by the test") && text.includes("conveyor.task.create"), `the dead letter shows its event and why: ${text}`);
  await shot(page, "12-dead-letters");
  await row.getByRole("button", { name: "Replay" }).click();
  await page.locator("#confirm").waitFor({ state: "visible" });
  check((await page.locator("#confirm-text").textContent()).includes(`${partition}:${offset}`), "the dialog names the message");
  await page.getByRole("button", { name: "OK" }).click();
  await until(() => page.locator("#dead-done").textContent(), (t) => t.startsWith(`Replayed ${partition}:${offset} to `), "the page to say where it went");
  await shot(page, "13-replayed");
}

async function main() {
  const browser = await chromium.launch({
    executablePath: env("CHROMIUM", "/usr/bin/chromium"),
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const which = env("CHECK");
    if (which === "progress-and-stop") await progressAndStop(browser);
    else if (which === "isolation") await isolation(browser);
    else if (which === "dead-letters") await deadLetters(browser);
    else throw new Error("unknown CHECK " + which);
    check(problems.length === 0, problems.join("; "));
    console.log(`${which}: every check held`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  if (problems.length) console.error(problems.join("\n"));
  process.exit(1);
});
