// The sign-in portal in a real browser: Debian's chromium, driven by
// playwright-core (no browser of its own is ever downloaded).
//
// Usage: node portal.mjs CONFIG.json
//
// CONFIG: {"base": "http://127.0.0.1:PORT", "account": "123456789012",
//          "user": "…", "password": "…", "wrongPassword": "…",
//          "code": "123456", "wrongCode": "654321",
//          "role": "role name that must be listed",
//          "hiddenRole": "role name that must not be listed",
//          "shots": "/dir/for/screenshots"}
//
// Steps, each with a screenshot: the sign-in page; a wrong password refused;
// the MFA page after the right password; a wrong code refused; the right code
// leads to the roles page listing `role` (and not `hiddenRole`); the
// credentials page of `role`; signed out. Prints one line per screenshot
// ("screenshot: PATH") and, last, one JSON line with the credentials the page
// showed. Exits non-zero on the first step that does not look as it should.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

function fail(message) {
  throw new Error(message);
}

function expect(condition, message) {
  if (!condition) fail(message);
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

let step = 0;
async function shot(page, name) {
  step += 1;
  const path = join(config.shots, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

/// Submits a form and returns the HTTP status of the page it leads to
/// (after redirects).
async function submit(page, button) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click(button),
  ]);
  return response ? response.status() : 0;
}

try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15000);

  // Not signed in: the portal sends the browser to the sign-in form.
  await page.goto(`${config.base}/portal/`, { waitUntil: 'load' });
  expect(new URL(page.url()).pathname === '/portal/signin', `expected the sign-in page, got ${page.url()}`);
  expect(await page.isVisible('form#signin'), 'the sign-in form is not shown');
  await shot(page, 'signin');

  // A wrong password is refused, on the same form, with AWS's wording.
  await page.fill('#account', config.account);
  await page.fill('#username', config.user);
  await page.fill('#password', config.wrongPassword);
  let status = await submit(page, '#submit');
  expect(status === 401, `a wrong password answered ${status}, not 401`);
  const refusal = await page.textContent('#error');
  expect(/authentication information is incorrect/.test(refusal ?? ''), `unexpected refusal: ${refusal}`);
  await shot(page, 'wrong-password');

  // The right password leads to the MFA step.
  await page.fill('#account', config.account);
  await page.fill('#username', config.user);
  await page.fill('#password', config.password);
  status = await submit(page, '#submit');
  expect(status === 200, `the password step answered ${status}`);
  expect(new URL(page.url()).pathname === '/portal/mfa', `expected the MFA page, got ${page.url()}`);
  await shot(page, 'mfa');

  // A wrong code is refused.
  await page.fill('#code', config.wrongCode);
  status = await submit(page, '#submit');
  expect(status === 401, `a wrong code answered ${status}, not 401`);
  const codeRefusal = await page.textContent('#error');
  expect(/MFA code is not valid/.test(codeRefusal ?? ''), `unexpected refusal: ${codeRefusal}`);
  await shot(page, 'wrong-code');

  // The right code signs in: the roles page, with the MFA badge.
  await page.fill('#code', config.code);
  status = await submit(page, '#submit');
  expect(status === 200, `the code step answered ${status}`);
  expect(new URL(page.url()).pathname === '/portal/', `expected the roles page, got ${page.url()}`);
  expect(await page.isVisible('#mfa-badge'), 'the session does not show MFA');
  const who = await page.textContent('#who');
  expect(who?.endsWith(`:user/${config.user}`), `signed in as ${who}`);
  const listed = await page.$$eval('tr.role', (rows) => rows.map((r) => r.dataset.role));
  expect(listed.includes(config.role), `the role ${config.role} is not listed: ${listed}`);
  if (config.hiddenRole) {
    expect(!listed.includes(config.hiddenRole), `the role ${config.hiddenRole} is listed but does not trust the user`);
  }
  await shot(page, 'roles');

  // Credentials for the role.
  status = await submit(page, `tr.role[data-role="${config.role}"] button.get-credentials`);
  expect(status === 200, `the credentials page answered ${status}`);
  const env = (await page.textContent('#env')) ?? '';
  const assumedArn = (await page.textContent('#assumed-arn')) ?? '';
  const value = (name) => {
    const m = env.match(new RegExp(`^export ${name}="([^"]+)"$`, 'm'));
    expect(m, `the page shows no ${name}`);
    return m[1];
  };
  const credentials = {
    AccessKeyId: value('AWS_ACCESS_KEY_ID'),
    SecretAccessKey: value('AWS_SECRET_ACCESS_KEY'),
    SessionToken: value('AWS_SESSION_TOKEN'),
  };
  const profile = (await page.textContent('#profile')) ?? '';
  expect(profile.includes(`aws_access_key_id = ${credentials.AccessKeyId}`), 'the profile snippet differs from the variables');
  await shot(page, 'credentials');

  // Sign out: back to the sign-in form, and the portal no longer answers.
  status = await submit(page, '#signout');
  expect(new URL(page.url()).pathname === '/portal/signin', `sign-out led to ${page.url()}`);
  await page.goto(`${config.base}/portal/`, { waitUntil: 'load' });
  expect(new URL(page.url()).pathname === '/portal/signin', 'still signed in after signing out');
  await shot(page, 'signed-out');

  console.log(JSON.stringify({ assumedArn, listed, credentials }));
} catch (error) {
  console.error(`portal.mjs: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
