// Headless Chromium for the browser tests: find the binary, load a URL until the page reports its
// outcome over HTTP, and always take the browser down (its whole process group) when it is done or
// over time.
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

/** Load `url` headless until `until` settles, then close the browser; resolves or rejects as
 * `until` does. The pages report over HTTP (the test server's /result) rather than through
 * --dump-dom, whose virtual time waits neither for WebCrypto nor for workers. */
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
