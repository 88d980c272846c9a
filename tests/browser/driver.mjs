// A browser that a test program drives through pipes: headless Debian Chromium
// (/usr/bin/chromium, or $TKA_CHROMIUM) under puppeteer-core, which never downloads a
// browser of its own. One JSON command per line on stdin, one JSON answer per line on
// stdout, in order; everything else (Chromium's output, the page's console errors) goes to
// stderr, which the test keeps in a log file. tests/support/browser.hpp is the C++ side.
//
// Commands ({"cmd": NAME, ...}) and their answers ({"ok": true, ...} or {"error": "..."}):
//   goto {url}                  -> {status, url}   (status of the main document)
//   fill {selector, value}      -> {}              (clears the field, then types the value)
//   click {selector}            -> {navigated, status?, url}
//                                  waits for the navigation when the click follows a link
//                                  or submits a form
//   press {key}                 -> {navigated, status?, url}   (keyboard, on the focused
//                                  element; Enter in a form field submits it)
//   text {selector}             -> {value: the element's visible text, trimmed}
//   exists {selector}           -> {value: bool}   (now, without waiting)
//   wait {selector}             -> {}              (until an element matches)
//   visible {selector}          -> {value: bool}   (present, displayed, with a size)
//   attr {selector, name}       -> {value: string or null}
//   count {selector}            -> {value: number}
//   focused                     -> {value: "tag#id.class[name]" of document.activeElement}
//   screenshot {path, fullPage} -> {path}
//   url                         -> {value}
//   cookies                     -> {value: [{name, httpOnly, secure, sameSite, path}]}
//                                  (never the values: a session id is a secret)
//   page_errors                 -> {value: [uncaught exceptions seen so far]}
//   quit                        -> {} and the process ends
// The first line written is {"ready": true, "browser": VERSION} once Chromium runs.
// Every command gives up after TKA_BROWSER_TIMEOUT_MS (default 10000) with an error that
// names the command and its selector. End of stdin closes the browser as quit does.
import { createInterface } from 'node:readline';
import puppeteer from 'puppeteer-core';

const executablePath = process.env.TKA_CHROMIUM || '/usr/bin/chromium';
const timeoutMs = Number(process.env.TKA_BROWSER_TIMEOUT_MS || 10000);

const args = [
  '--disable-dev-shm-usage',
  '--disable-gpu',
  // A closed network: no background fetches to Google's hosts, no QUIC probing.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];
if (typeof process.getuid === 'function' && process.getuid() === 0) {
  args.push('--no-sandbox');
}

function log(...parts) {
  process.stderr.write(`driver: ${parts.join(' ')}\n`);
}

function answer(object) {
  process.stdout.write(`${JSON.stringify(object)}\n`);
}

function withTimeout(promise) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

const browser = await puppeteer.launch({
  executablePath,
  headless: true,
  args,
  pipe: true,
  dumpio: false,  // Chromium's stdout must never mix with the answers: see forward() below
  defaultViewport: { width: 1280, height: 800 },
  timeout: 30000,
});
// Chromium's own output goes to stderr, without its complaints about the missing D-Bus (a
// headless machine has none; they are noise in a failure report).
function forward(stream) {
  if (!stream) {
    return;
  }
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    if (!/dbus\/|D-?Bus/i.test(line)) {
      process.stderr.write(`chromium: ${line}\n`);
    }
  });
}
forward(browser.process()?.stdout);
forward(browser.process()?.stderr);

const page = (await browser.pages())[0] ?? (await browser.newPage());
page.setDefaultTimeout(timeoutMs);
page.setDefaultNavigationTimeout(timeoutMs);
const pageErrors = [];
page.on('pageerror', (error) => {
  pageErrors.push(String(error.message ?? error));
  log('page error:', error.message ?? error);
});
// A confirm() or alert() would stop the page until answered: accept it and say so.
page.on('dialog', async (dialog) => {
  log(`dialog ${dialog.type()}:`, dialog.message());
  await dialog.accept();
});
page.on('console', (message) => {
  if (message.type() === 'error' || message.type() === 'warn') {
    log(`console ${message.type()}:`, message.text());
  }
});

async function element(selector) {
  // A little less than the command's own limit, so that this more precise error wins.
  const waitMs = Math.max(timeoutMs - 1000, 500);
  const handle = await page.waitForSelector(selector, { timeout: waitMs }).catch(() => null);
  if (!handle) {
    throw new Error(`no element matches after ${waitMs} ms`);
  }
  return handle;
}

// Whether activating `el` (a click, or Enter/Space when focused) loads another document:
// a link with an href, a submit button of a form, or (for Enter) a field of a form, unless
// the browser's own validation stops that form (a field below its min, say).
function navigates(el, key) {
  if (!el) {
    return false;
  }
  if (el.closest('a[href]')) {
    return key === undefined || key === 'Enter';
  }
  const tag = el.tagName.toLowerCase();
  const type = (el.getAttribute('type') || '').toLowerCase();
  const submits = (form) => Boolean(form) && (form.noValidate || form.checkValidity());
  const isSubmit =
    (tag === 'button' && (type === '' || type === 'submit')) ||
    (tag === 'input' && (type === 'submit' || type === 'image'));
  if (isSubmit) {
    return (key === undefined || key === 'Enter' || key === ' ') &&
      (el.formNoValidate ? Boolean(el.form) : submits(el.form));
  }
  if (key === 'Enter' && tag === 'input' && el.form) {
    return !['button', 'checkbox', 'radio', 'reset', 'file'].includes(type) && submits(el.form);
  }
  return false;
}

// Runs `action` and, when `expectNavigation`, waits for the document it loads.
async function act(expectNavigation, action) {
  if (!expectNavigation) {
    await action();
    return { navigated: false, url: page.url() };
  }
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load', timeout: timeoutMs }),
    action(),
  ]);
  return { navigated: true, status: response ? response.status() : 0, url: page.url() };
}

function describeActive() {
  const el = document.activeElement;
  if (!el) {
    return '';
  }
  let s = el.tagName.toLowerCase();
  if (el.id) {
    s += `#${el.id}`;
  }
  for (const c of el.classList) {
    s += `.${c}`;
  }
  if (el.getAttribute('name')) {
    s += `[name=${el.getAttribute('name')}]`;
  }
  return s;
}

const commands = {
  async goto({ url }) {
    const response = await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
    return { status: response ? response.status() : 0, url: page.url() };
  },
  async fill({ selector, value }) {
    const el = await element(selector);
    await el.evaluate((node) => {
      node.value = '';
    });
    await el.type(String(value));
    return {};
  },
  async click({ selector }) {
    const el = await element(selector);
    const expect = await el.evaluate(navigates);
    return act(expect, () => el.click());
  },
  async press({ key }) {
    const active = await page.evaluateHandle(() => document.activeElement);
    const expect = await active.evaluate(navigates, key);
    await active.dispose();
    return act(expect, () => page.keyboard.press(key));
  },
  async text({ selector }) {
    const el = await element(selector);
    return { value: (await el.evaluate((node) => node.innerText ?? node.textContent)).trim() };
  },
  async wait({ selector }) {
    await element(selector);
    return {};
  },
  async exists({ selector }) {
    return { value: (await page.$(selector)) !== null };
  },
  async visible({ selector }) {
    const el = await page.$(selector);
    if (!el) {
      return { value: false };
    }
    return {
      value: await el.evaluate((node) => {
        const style = window.getComputedStyle(node);
        const box = node.getBoundingClientRect();
        return style.display !== 'none' && style.visibility !== 'hidden' && box.width > 0 &&
          box.height > 0;
      }),
    };
  },
  async attr({ selector, name }) {
    const el = await element(selector);
    return { value: await el.evaluate((node, n) => node.getAttribute(n), name) };
  },
  async count({ selector }) {
    return { value: (await page.$$(selector)).length };
  },
  async focused() {
    return { value: await page.evaluate(describeActive) };
  },
  async screenshot({ path, fullPage }) {
    await page.screenshot({ path, fullPage: Boolean(fullPage), type: 'png' });
    return { path };
  },
  async url() {
    return { value: page.url() };
  },
  async cookies() {
    const cookies = await page.cookies();
    return {
      value: cookies.map((c) => ({
        name: c.name,
        httpOnly: Boolean(c.httpOnly),
        secure: Boolean(c.secure),
        sameSite: c.sameSite ?? '',
        path: c.path,
      })),
    };
  },
  async page_errors() {
    return { value: pageErrors };
  },
};

async function quit() {
  try {
    await browser.close();
  } catch (error) {
    log('close:', error.message);
  }
}

function describe(command) {
  const parts = [command.cmd];
  if (command.selector !== undefined) {
    parts.push(command.selector);
  }
  if (command.url !== undefined) {
    parts.push(command.url);
  }
  if (command.key !== undefined) {
    parts.push(command.key);
  }
  return parts.join(' ');
}

process.on('SIGTERM', async () => {
  await quit();
  process.exit(143);
});

answer({ ready: true, browser: await browser.version() });

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === '') {
    continue;
  }
  let command;
  try {
    command = JSON.parse(line);
  } catch (error) {
    answer({ error: `not a JSON command: ${error.message}` });
    continue;
  }
  if (command.cmd === 'quit') {
    await quit();
    answer({ ok: true });
    process.exit(0);
  }
  const handler = commands[command.cmd];
  if (!handler) {
    answer({ error: `unknown command ${JSON.stringify(command.cmd)}` });
    continue;
  }
  try {
    const result = await withTimeout(handler(command));
    answer({ ok: true, ...result });
  } catch (error) {
    // The message names the command and selector, never a filled-in value.
    answer({ error: `${describe(command)}: ${String(error.message ?? error).split('\n')[0]}` });
  }
}
await quit();
process.exit(0);
