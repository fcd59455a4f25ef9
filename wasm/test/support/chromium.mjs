// Headless Chromium for the browser test: find the binary, run it with --dump-dom on a URL, and
// always take it down (its whole process group) when it is done or over time.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';

/** The Chromium binary: $AUTHSEC_CHROMIUM, $CHROME_BIN, or chromium / chromium-browser /
 * google-chrome on PATH; null when there is none. */
export function findChromium() {
  for (const env of ['AUTHSEC_CHROMIUM', 'CHROME_BIN']) if (process.env[env]) return process.env[env];
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    for (const dir of (process.env.PATH || '').split(delimiter)) {
      if (!dir) continue;
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {}
    }
  }
  return null;
}

/** `chromium --version`, e.g. "Chromium 156.0.8078.79 built on Debian GNU/Linux 12 (bookworm)". */
export function chromiumVersion(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return (r.stdout || '').trim().split('\n').pop() || `unknown (${r.error?.message || r.status})`;
}

/** A quiet headless browser on a fresh profile. */
function headlessArgs(profile) {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    '--disable-default-apps',
    '--no-first-run',
    '--no-default-browser-check',
    '--mute-audio',
    `--user-data-dir=${profile}`,
  ];
}

/** Start headless Chromium on `url` with `extra` flags, in its own process group (so the zygote
 * and renderers go down with it) on a fresh profile; stdout (up to 16 MiB) and stderr (64 KiB)
 * are collected. `dispose()` kills the group and removes the profile; it also runs if this
 * process exits first. */
function launch(bin, extra, url) {
  const profile = mkdtempSync(join(tmpdir(), 'authsec-chromium-'));
  const child = spawn(bin, [...headlessArgs(profile), ...extra, url], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const io = { out: '', err: '' };
  child.stdout.setEncoding('utf8').on('data', (d) => {
    if (io.out.length < 16 * 1024 * 1024) io.out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d) => {
    if (io.err.length < 64 * 1024) io.err += d;
  });
  const killGroup = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  };
  process.once('exit', killGroup);
  const dispose = () => {
    killGroup();
    process.removeListener('exit', killGroup);
    rmSync(profile, { recursive: true, force: true });
  };
  return { child, io, killGroup, dispose };
}

/** Load `url` headless (no --dump-dom) until `until` settles, then close the browser; resolves or
 * rejects as `until` does. For pages whose work runs in a Web Worker: virtual time (which
 * --dump-dom relies on) does not wait for workers, so such a page reports over HTTP instead. */
export async function loadUntil(bin, url, until, { timeoutMs = 120_000 } = {}) {
  const { child, io, killGroup, dispose } = launch(bin, [], url);
  const closed = new Promise((r) => child.once('close', r));
  let timer;
  try {
    return await Promise.race([
      until,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no outcome within ${timeoutMs} ms; stderr:\n${io.err.slice(-4000)}`)), timeoutMs);
      }),
      new Promise((_, reject) => {
        child.on('error', reject);
        closed.then(() => reject(new Error(`chromium exited early (${child.exitCode ?? child.signalCode}); stderr:\n${io.err.slice(-4000)}`)));
      }),
    ]);
  } finally {
    clearTimeout(timer);
    killGroup();
    if (child.exitCode === null && child.signalCode === null) await closed;
    dispose();
  }
}

/** Load `url` headless and resolve to the serialized DOM once the page is idle (or the virtual
 * time budget is spent). Rejects after `timeoutMs` of real time; the browser is killed either way. */
export function dumpDom(bin, url, { timeoutMs = 120_000, virtualTimeBudgetMs = 60_000 } = {}) {
  const { child, io, killGroup, dispose } = launch(bin, [`--virtual-time-budget=${virtualTimeBudgetMs}`, '--dump-dom'], url);
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const finish = (fn) => {
      clearTimeout(timer);
      dispose(); // also the leftovers (renderer, zygote) of a browser that has exited
      fn();
    };
    child.on('error', (e) => finish(() => reject(e)));
    child.on('close', (code, signal) =>
      finish(() => {
        if (timedOut) reject(new Error(`chromium did not finish within ${timeoutMs} ms; stderr:\n${io.err.slice(-4000)}`));
        else if (code !== 0) reject(new Error(`chromium exited with ${code ?? signal}; stderr:\n${io.err.slice(-4000)}`));
        else resolve({ dom: io.out, stderr: io.err });
      }),
    );
  });
}

/** The JSON written into <pre id="result"> by the test page. */
export function readResult(dom) {
  const m = /<pre id="result">([\s\S]*?)<\/pre>/.exec(dom);
  if (!m) throw new Error(`no <pre id="result"> in the page:\n${dom.slice(0, 2000)}`);
  const text = m[1]
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&amp;/g, '&');
  return JSON.parse(text);
}
