// End-to-end test of the kmsd web console in a real browser: Debian's
// Chromium driven by playwright-core. scripts/test.sh starts a dev server
// and runs it as
//
//	KMSD_ENDPOINT=http://127.0.0.1:PORT node console.e2e.mjs [SCREENSHOT_DIR]
//
// It signs in as dev-admin, creates a key, disables it, sees the instance
// count change, signs out, and is refused as the read-only dev-reader
// (no write buttons, and the server refuses a forged form anyway). With a
// SCREENSHOT_DIR it saves the main pages as PNGs (docs/console/).
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const base = process.env.KMSD_ENDPOINT;
if (!base) {
  console.error("KMSD_ENDPOINT is not set");
  process.exit(2);
}
const shots = process.argv[2] || "";
const account = process.env.KMSD_DEV_DOMAIN_NAME || "dev";
const project = process.env.KMSD_DEV_PROJECT_NAME || "cn-north-4";
const admin = [process.env.KMSD_DEV_ADMIN_USER || "dev-admin", process.env.KMSD_DEV_ADMIN_PASSWORD || "dev-admin-password"];
const reader = [process.env.KMSD_DEV_READER_USER || "dev-reader", process.env.KMSD_DEV_READER_PASSWORD || "dev-reader-password"];

function check(ok, what) {
  if (!ok) throw new Error("FAIL: " + what);
  console.log("ok   " + what);
}

const userData = mkdtempSync(join(tmpdir(), "kmsd-chromium-"));
const context = await chromium.launchPersistentContext(userData, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
  viewport: { width: 1280, height: 800 },
  timeout: 30000,
});
context.setDefaultTimeout(10000);
const page = context.pages()[0] || (await context.newPage());
// Anything the Content-Security-Policy blocks, or any script error, is a
// failure: the console must work under its own policy.
const problems = [];
page.on("console", (m) => { if (m.type() === "error" && !/403|401/.test(m.text())) problems.push(m.text()); });
page.on("pageerror", (e) => problems.push(String(e)));

async function shot(name) {
  if (shots) await page.screenshot({ path: join(shots, name + ".png"), fullPage: true });
}

async function signIn([user, password], screenshot) {
  await page.goto(base + "/console");
  check(page.url().endsWith("/console/signin"), "the console sends a new visitor to the sign-in page");
  await page.fill("#account", account);
  await page.fill("#user", user);
  await page.fill("#password", password);
  await page.fill("#project", project);
  if (screenshot) await shot("signin");
  await page.click("#signin");
  await page.waitForURL(/\/console\/keys$/);
  check((await page.textContent("#who")).includes(user), "signed in as " + user);
}

async function count() {
  return Number(await page.textContent("#instance-num"));
}

let exit = 0;
try {
  await signIn(admin, true);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "kmsd_console");
  check(session && session.httpOnly && session.sameSite === "Strict", "the session cookie is HttpOnly and SameSite=Strict");
  check((await page.evaluate(() => document.cookie)) === "" && (await page.evaluate(() => localStorage.length)) === 0, "no script can read the token: not in document.cookie, nothing in localStorage");
  const before = await count();

  const alias = "e2e-" + Date.now();
  await page.click("#create-link");
  await page.fill("#alias", alias);
  await page.selectOption("#spec", "AES_256");
  await page.fill("#description", "made by the browser test");
  await shot("create");
  await page.click("#create");
  await page.waitForURL(/\/console\/keys\/[0-9a-f-]{36}$/);
  const keyID = (await page.textContent("#key-id")).trim();
  check((await page.textContent("#key-state")).trim() === "Enabled", "the new key " + keyID + " is enabled");

  await page.click("#disable");
  await page.waitForSelector("#enable");
  check((await page.textContent("#key-state")).trim() === "Disabled", "disable disables it");
  await shot("key");

  await page.goto(base + "/console/keys");
  const after = await count();
  check(after === before + 1, `the instance count went from ${before} to ${after}`);
  check(await page.isVisible(`tr[data-key="${keyID}"]`), "the key list shows the key");
  await page.selectOption("#filter-state", "3");
  await page.click("#filter");
  await page.waitForURL(/state=3/);
  check(await page.isVisible(`tr[data-key="${keyID}"]`), "the Disabled filter shows it");
  await page.goto(base + "/console/keys");
  await shot("keys");
  await page.goto(base + "/console/overview");
  await shot("overview");

  await page.click("#signout");
  await page.waitForURL(/\/console\/signin$/);
  check(!(await context.cookies()).some((c) => c.name === "kmsd_console"), "sign-out removes the session cookie");

  await signIn(reader, false);
  check(!(await page.isVisible("#create-link")), "the read-only user sees no create button");
  await page.goto(base + "/console/keys/" + keyID);
  check(!(await page.isVisible("#enable")) && !(await page.isVisible("#schedule")), "the read-only user sees no action buttons");
  await shot("key-readonly");
  // Draw the button the page left out and press it: the server refuses.
  await page.evaluate((id) => {
    const f = document.createElement("form");
    f.method = "post";
    f.action = "/console/keys/" + id + "/enable";
    const t = document.createElement("input");
    t.type = "hidden";
    t.name = "csrf";
    t.value = document.querySelector('input[name="csrf"]').value;
    f.appendChild(t);
    document.body.appendChild(f);
    f.submit();
  }, keyID);
  await page.waitForSelector("#error");
  check((await page.textContent("#error")).includes("KMS.0307"), "the server refuses the read-only user's enable (KMS.0307)");
  check((await page.textContent("#key-state")).trim() === "Disabled", "and the key stays disabled");
  await page.goto(base + "/console/create");
  check(!(await page.isVisible("#create")), "the read-only user gets no create form");
  check(problems.length === 0, "no script errors or CSP violations" + (problems.length ? ": " + problems.join("; ") : ""));
} catch (e) {
  console.error(String(e && e.stack || e));
  if (shots) await page.screenshot({ path: join(shots, "failure.png") }).catch(() => {});
  exit = 1;
} finally {
  await context.close();
  rmSync(userData, { recursive: true, force: true });
}
process.exit(exit);
